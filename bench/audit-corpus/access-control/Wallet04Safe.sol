// SPDX-License-Identifier: MIT
pragma solidity ^0.4.24;

contract Wallet04Safe {
    address public owner;

    constructor() public {
        owner = msg.sender;
    }

    function changeOwner(address newOwner) public {
        require(msg.sender == owner);
        owner = newOwner;
    }

    function withdraw() public {
        require(msg.sender == owner);
        msg.sender.transfer(address(this).balance);
    }
}
