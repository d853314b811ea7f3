// SPDX-License-Identifier: MIT
pragma solidity 0.6.12;

contract Guess06Safe {
    mapping(address => uint256) private _wins;
    mapping(address => bytes32) private _commits;
    mapping(address => uint256) private _commitBlock;

    function commit(bytes32 hash) external {
        _commits[msg.sender] = hash;
        _commitBlock[msg.sender] = block.number;
    }

    function reveal(uint256 number, uint256 salt) external {
        require(block.number > _commitBlock[msg.sender] + 10, "too early");
        require(keccak256(abi.encode(number, salt)) == _commits[msg.sender], "commit");
        _wins[msg.sender] += 1;
    }
}
