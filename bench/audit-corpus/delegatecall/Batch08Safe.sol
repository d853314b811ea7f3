// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Batch08Safe {
    uint256 private _count;

    function exec(bytes[] calldata data) external {
        for (uint256 i = 0; i < data.length; i++) {
            (bool ok, ) = address(this).delegatecall(data[i]);
            require(ok, "call");
        }
        _count += 1;
    }

    function bump() external {
        _count += 1;
    }
}
