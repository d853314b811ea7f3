// SPDX-License-Identifier: MIT
pragma solidity ^0.4.24;

contract Token {
    function transfer(address to, uint256 value) public returns (bool);
    function transferFrom(address from, address to, uint256 value) public returns (bool);
}

contract Escrow04Safe {
    Token public token;
    mapping(address => uint256) public deposits;

    constructor(Token token_) public {
        token = token_;
    }

    function deposit(uint256 amount) public {
        require(token.transferFrom(msg.sender, address(this), amount));
        deposits[msg.sender] += amount;
    }
}
