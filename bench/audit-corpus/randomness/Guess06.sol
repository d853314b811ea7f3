// SPDX-License-Identifier: MIT
pragma solidity 0.6.12;

contract Guess06 {
    mapping(address => uint256) private _wins;

    function guess(uint256 number) external {
        uint256 answer = uint256(blockhash(block.number - 1)) / 2**200; // @bug
        if (number == answer) _wins[msg.sender] += 1;
    }
}
