// SPDX-License-Identifier: MIT
pragma solidity 0.6.12;

contract Bank06 {
    mapping(address => uint256) private _credit;

    function deposit() external payable {
        _credit[msg.sender] += msg.value;
    }

    function withdraw(uint256 amount) external {
        require(_credit[msg.sender] >= amount, "balance");
        (bool ok, ) = msg.sender.call{value: amount}("");
        require(ok, "send");
        _credit[msg.sender] -= amount; // @bug
    }
}
