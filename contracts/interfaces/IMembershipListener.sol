// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IMembershipListener
/// @notice Told by the membership contract (and by the credit score) that an institution's or an account's state
/// changed, so a cache of "may this party act?" can follow at once, without a loop. Implementations read the new
/// state from its source of truth, never from the caller, so anyone may call them.
interface IMembershipListener {
    /// @notice Re-reads an institution's status (and credit restriction) from their sources.
    function syncInstitution(uint32 id) external;

    /// @notice Re-reads the state of everything that depends on `account` (e.g. the service it signs for).
    function syncAccount(address account) external;
}
