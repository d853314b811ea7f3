// SPDX-License-Identifier: MIT
pragma solidity 0.7.6;

contract Vault07 {
    address private _admin;
    bool private _initialized;

    function initialize(address admin) external { // @bug
        _initialized = true;
        _admin = admin;
    }

    function admin() external view returns (address) {
        return _admin;
    }
}
