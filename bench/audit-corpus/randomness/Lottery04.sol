// SPDX-License-Identifier: MIT
pragma solidity ^0.4.24;

contract Lottery04 {
    address[] public players;
    address public winner;

    function enter() public payable {
        players.push(msg.sender);
    }

    function draw() public {
        require(players.length > 0);
        uint256 index = uint256(keccak256(abi.encodePacked(block.difficulty, now))) % players.length; // @bug
        winner = players[index];
    }
}
