// SPDX-License-Identifier: MIT
pragma solidity ^0.5.17;

contract Router05 {
    uint256 public calls;

    function execute(address target, bytes calldata data) external {
        calls += 1;
        (bool ok, ) = target.call(data); // @bug
        require(ok, "call");
    }
}
