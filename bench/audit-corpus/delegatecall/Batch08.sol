// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Batch08 {
    uint256 private _count;

    function exec(address module, bytes calldata data) external returns (bytes memory) {
        _count += 1;
        (bool ok, bytes memory ret) = module.delegatecall(data); // @bug
        require(ok, "module");
        return ret;
    }
}
