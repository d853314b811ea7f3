// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";

contract Multicall08 {
    function aggregate(address[] calldata targets, bytes[] calldata data) external {
        for (uint256 i = 0; i < targets.length; i++) {
            address target = targets[i];
            bytes calldata payload = data[i];
            Address.functionCall(target, payload); // @bug
        }
    }
}
