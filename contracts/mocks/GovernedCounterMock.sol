// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Governed} from "../governance/Governed.sol";

/// @dev Test-only governed target: counts executions of three actions that tests give different rules.
contract GovernedCounterMock is Governed {
    address private immutable _governance;
    mapping(bytes4 selector => uint256) public executions;

    constructor(address governance_) {
        _governance = governance_;
    }

    function governance() public view override returns (address) {
        return _governance;
    }

    function actionA() external onlyGovernance {
        ++executions[msg.sig];
    }

    function actionB() external onlyGovernance {
        ++executions[msg.sig];
    }

    function actionC() external onlyGovernance {
        ++executions[msg.sig];
    }
}
