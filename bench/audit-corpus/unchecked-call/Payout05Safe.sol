// SPDX-License-Identifier: MIT
pragma solidity ^0.5.17;

contract Payout05Safe {
    mapping(address => uint256) private _owed;

    function credit() external payable {
        _owed[msg.sender] += msg.value;
    }

    function withdraw() external {
        uint256 amount = _owed[msg.sender];
        _owed[msg.sender] = 0;
        (bool ok, ) = msg.sender.call.value(amount)("");
        require(ok, "send");
    }
}
