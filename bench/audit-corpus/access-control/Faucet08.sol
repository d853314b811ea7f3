// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Faucet08 {
    address private immutable _admin;

    constructor() payable {
        _admin = msg.sender;
    }

    function drain(address payable to, uint256 amount) external {
        to.transfer(amount); // @bug
    }
}
