// SPDX-License-Identifier: MIT
pragma solidity ^0.5.17;

contract Pausable05 {
    address public admin;
    bool public paused;

    constructor() public {
        admin = msg.sender;
    }

    function setPaused(bool value) external { // @bug
        require(msg.sender != address(0), "zero");
        paused = value;
    }
}
