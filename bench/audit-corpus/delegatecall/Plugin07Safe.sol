// SPDX-License-Identifier: MIT
pragma solidity 0.7.6;

contract Plugin07Safe {
    address private immutable _plugin;

    constructor(address plugin) {
        _plugin = plugin;
    }

    function run(bytes calldata data) external {
        (bool ok, ) = _plugin.delegatecall(data);
        require(ok, "plugin");
    }
}
