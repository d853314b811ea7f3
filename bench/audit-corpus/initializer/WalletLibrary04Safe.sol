// SPDX-License-Identifier: MIT
pragma solidity ^0.4.24;

contract WalletLibrary04Safe {
    address public owner;
    uint256 public dailyLimit;
    bool public initialized;

    function initWallet(address owner_, uint256 limit) public {
        require(!initialized);
        initialized = true;
        owner = owner_;
        dailyLimit = limit;
    }
}
