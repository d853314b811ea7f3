// SPDX-License-Identifier: MIT
pragma solidity 0.7.6;

contract Plugin07 {
    address private _plugin;
    address private _owner;

    constructor() {
        _owner = msg.sender;
    }

    function setPlugin(address plugin) external {
        _plugin = plugin;
    }

    function run(bytes calldata data) external {
        (bool ok, ) = _plugin.delegatecall(data); // @bug
        require(ok, "plugin");
    }
}
