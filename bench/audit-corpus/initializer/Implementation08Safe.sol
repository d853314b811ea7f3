// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";

contract Implementation08Safe is Initializable {
    address private _owner;

    constructor() {
        _disableInitializers();
    }

    function initialize(address owner) external initializer {
        _owner = owner;
    }

    function owner() external view returns (address) {
        return _owner;
    }
}
