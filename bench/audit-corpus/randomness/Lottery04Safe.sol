// SPDX-License-Identifier: MIT
pragma solidity ^0.4.24;

contract Lottery04Safe {
    address public owner;
    bytes32 public commitment;
    uint256 public revealed;

    constructor() public {
        owner = msg.sender;
    }

    function commit(bytes32 hash) public {
        require(msg.sender == owner);
        commitment = hash;
    }

    function reveal(uint256 secret) public {
        require(keccak256(abi.encodePacked(secret)) == commitment);
        revealed = secret;
    }
}
