// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

contract Allowance08 {
    IERC20 private immutable _token;
    address private immutable _router;

    constructor(IERC20 token, address router) {
        _token = token;
        _router = router;
    }

    function approveRouter(uint256 amount) external {
        require(msg.sender == _router, "router");
        _token.approve(_router, amount); // @bug
    }
}
