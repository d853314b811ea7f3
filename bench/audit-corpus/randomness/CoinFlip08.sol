// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract CoinFlip08 {
    mapping(address => uint256) private _streak;

    function flip(bool guess) external {
        bool side = (block.prevrandao ^ block.timestamp) & 1 == 1; // @bug
        if (side == guess) _streak[msg.sender] += 1;
        else _streak[msg.sender] = 0;
    }
}
