// SPDX-License-Identifier: MIT
pragma solidity ^0.4.24;

contract Wallet04 {
    address public owner;

    constructor() public {
        owner = msg.sender;
    }

    function changeOwner(address newOwner) public { // @bug
        owner = newOwner;
    }

    function withdraw() public {
        require(msg.sender == owner);
        msg.sender.transfer(address(this).balance);
    }
}
