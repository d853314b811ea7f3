// SPDX-License-Identifier: MIT
pragma solidity 0.6.12;

contract Bank06Safe {
    mapping(address => uint256) private _credit;
    bool private _locked;

    modifier nonReentrant() {
        require(!_locked, "locked");
        _locked = true;
        _;
        _locked = false;
    }

    function deposit() external payable {
        _credit[msg.sender] += msg.value;
    }

    function withdraw(uint256 amount) external nonReentrant {
        require(_credit[msg.sender] >= amount, "balance");
        (bool ok, ) = msg.sender.call{value: amount}("");
        require(ok, "send");
        _credit[msg.sender] -= amount;
    }
}
