// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Notifier08 {
    mapping(address => uint256) private _balances;

    function deposit() external payable {
        _balances[msg.sender] += msg.value;
    }

    function withdraw() external {
        uint256 amount = _balances[msg.sender];
        _balances[msg.sender] = 0;
        payable(msg.sender).call{value: amount}(""); // @bug
    }
}
