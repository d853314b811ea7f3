// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";

contract Implementation08 is Initializable {
    address private _owner;

    function initialize(address owner) external initializer { // @bug
        _owner = owner;
    }

    function owner() external view returns (address) {
        return _owner;
    }
}
