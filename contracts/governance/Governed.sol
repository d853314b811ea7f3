// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IGoverned} from "../interfaces/IGoverned.sol";

/// @title Governed
/// @notice Base of every contract whose governed actions only the voting tickets contract may execute.
abstract contract Governed is IGoverned {
    /// @dev Reverts unless the caller is the governance executor.
    modifier onlyGovernance() {
        _checkGovernance();
        _;
    }

    /// @inheritdoc IGoverned
    function governance() public view virtual returns (address);

    function _checkGovernance() internal view {
        if (msg.sender != governance()) revert GovernanceOnly(msg.sender);
    }
}
