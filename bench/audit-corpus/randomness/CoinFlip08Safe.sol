// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract CoinFlip08Safe {
    mapping(address => uint256) private _streak;
    mapping(address => uint256) private _lastPlayed;

    function flip(bool guess, uint256 oracleResult) external {
        require(block.timestamp > _lastPlayed[msg.sender] + 1 hours, "wait");
        _lastPlayed[msg.sender] = block.timestamp;
        if ((oracleResult == 1) == guess) _streak[msg.sender] += 1;
        else _streak[msg.sender] = 0;
    }
}
