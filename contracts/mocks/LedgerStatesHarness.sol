// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {LedgerStates} from "../libraries/LedgerStates.sol";

/// @title LedgerStatesHarness
/// @notice Test-only: exposes the ledger's transition table.
contract LedgerStatesHarness {
    /// @notice {LedgerStates.allowed}.
    function allowed(uint8 from, uint8 to) external pure returns (bool) {
        return LedgerStates.allowed(from, to);
    }
}
