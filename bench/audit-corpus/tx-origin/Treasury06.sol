// SPDX-License-Identifier: MIT
pragma solidity 0.6.12;

contract Treasury06 {
    address private _owner;
    uint256 private _limit;

    constructor() public {
        _owner = msg.sender;
    }

    function setLimit(uint256 limit) external {
        if (tx.origin != _owner) revert("owner"); // @bug
        _limit = limit;
    }
}
