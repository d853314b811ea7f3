// SPDX-License-Identifier: MIT
pragma solidity ^0.4.24;

contract WalletLibrary04 {
    address public owner;
    uint256 public dailyLimit;

    function initWallet(address owner_, uint256 limit) public { // @bug
        owner = owner_;
        dailyLimit = limit;
    }

    function withdraw(uint256 amount) public {
        require(msg.sender == owner && amount <= dailyLimit);
        msg.sender.transfer(amount);
    }
}
