// SPDX-License-Identifier: MIT
pragma solidity 0.7.6;

contract Vault07Safe {
    address private _admin;
    bool private _initialized;

    function initialize(address admin) external {
        require(!_initialized, "initialized");
        _initialized = true;
        _admin = admin;
    }

    function admin() external view returns (address) {
        return _admin;
    }
}
