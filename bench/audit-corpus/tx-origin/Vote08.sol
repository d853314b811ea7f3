// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Vote08 {
    mapping(address => bool) private _voters;
    mapping(address => uint256) private _votes;

    constructor() {
        _voters[msg.sender] = true;
    }

    function vote(uint256 option) external {
        require(_voters[tx.origin], "not a voter"); // @bug
        _votes[tx.origin] = option;
    }
}
