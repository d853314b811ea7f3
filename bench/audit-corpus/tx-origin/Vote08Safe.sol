// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Vote08Safe {
    mapping(address => bool) private _voters;
    mapping(address => uint256) private _votes;

    constructor() {
        _voters[msg.sender] = true;
    }

    function vote(uint256 option) external {
        require(_voters[msg.sender], "not a voter");
        _votes[msg.sender] = option;
    }
}
