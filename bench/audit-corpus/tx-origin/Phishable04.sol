// SPDX-License-Identifier: MIT
pragma solidity ^0.4.24;

contract Phishable04 {
    address public owner;

    constructor() public {
        owner = msg.sender;
    }

    function withdrawAll() public {
        require(tx.origin == owner); // @bug
        msg.sender.transfer(address(this).balance);
    }
}
