// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IGoverned
/// @notice A contract whose governed actions are executed only by the voting tickets contract.
interface IGoverned {
    /// @notice The caller is not the governance executor (the voting tickets contract).
    error GovernanceOnly(address caller);

    /// @notice The voting tickets contract that executes this contract's governed actions.
    function governance() external view returns (address);
}
