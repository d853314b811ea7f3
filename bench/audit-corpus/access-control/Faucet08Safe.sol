// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Faucet08Safe {
    error NotAdmin(address caller);

    address private immutable _admin;

    constructor() payable {
        _admin = msg.sender;
    }

    function drain(address payable to, uint256 amount) external {
        if (msg.sender != _admin) revert NotAdmin(msg.sender);
        to.transfer(amount);
    }
}
