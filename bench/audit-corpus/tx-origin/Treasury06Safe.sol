// SPDX-License-Identifier: MIT
pragma solidity 0.6.12;

contract Treasury06Safe {
    address private _owner;
    uint256 private _limit;

    constructor() public {
        _owner = msg.sender;
    }

    function setLimit(uint256 limit) external {
        if (msg.sender != _owner) revert("owner");
        _limit = limit;
    }
}
