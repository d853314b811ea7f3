// SPDX-License-Identifier: MIT
pragma solidity ^0.4.24;

contract Phishable04Safe {
    address public owner;

    constructor() public {
        owner = msg.sender;
    }

    function withdrawAll() public {
        require(msg.sender == owner);
        msg.sender.transfer(address(this).balance);
    }
}
