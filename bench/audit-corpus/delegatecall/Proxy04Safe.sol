// SPDX-License-Identifier: MIT
pragma solidity ^0.4.24;

contract Proxy04Safe {
    address public owner;

    constructor() public {
        owner = msg.sender;
    }

    function forward(address callee, bytes data) public {
        require(msg.sender == owner);
        require(callee.delegatecall(data));
    }
}
