// SPDX-License-Identifier: MIT
pragma solidity ^0.5.17;

contract Pausable05Safe {
    address public admin;
    bool public paused;

    constructor() public {
        admin = msg.sender;
    }

    function setPaused(bool value) external {
        require(msg.sender == admin, "admin");
        paused = value;
    }
}
