// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title LedgerStates
 * @notice The transition table of a ledger transaction ({ITransactionLedger.TxState}): the only place that says
 * which state may follow which. Row `from` is the 16-bit mask of the states allowed after it.
 */
library LedgerStates {
    uint8 internal constant NONE = 0;
    uint8 internal constant OPEN = 1;
    uint8 internal constant EXECUTING = 2;
    uint8 internal constant EXECUTED = 3;
    uint8 internal constant CONFIRMED = 4;
    uint8 internal constant FAILED = 5;
    uint8 internal constant COMPENSATING = 6;
    uint8 internal constant COMPENSATED = 7;
    uint8 internal constant MANUAL = 8;
    uint8 internal constant RESOLVED = 9;
    uint8 internal constant EXPIRED = 10;
    uint8 internal constant COMMITTING = 11;

    /// @dev Row `from` (the state numbers above), bits [16 * from, 16 * from + 16), is the mask of the states allowed
    /// after `from`, written as a literal so that nothing is computed at run time (the states test checks every pair
    /// against `ALLOWED_TRANSITIONS` in lib/domain/ledger-types.ts):
    /// None 0x0002 (Open); Open 0x0524 (Executing, Failed, Manual, Expired); Executing 0x0d28 (Executed, Failed,
    /// Manual, Expired, Committing); Executed 0x0110 (Confirmed, Manual); Failed 0x0140 (Compensating, Manual);
    /// Compensating 0x0180 (Compensated, Manual); Manual 0x0200 (Resolved); Expired 0x0140 (Compensating, Manual);
    /// Committing 0x0108 (Executed, Manual); final: 0.
    uint256 private constant TABLE = 0x0108_0140_0000_0200_0000_0180_0140_0000_0110_0d28_0524_0002;

    function allowed(uint8 from, uint8 to) internal pure returns (bool) {
        if (from > COMMITTING || to > COMMITTING) return false;
        return (TABLE >> ((uint256(from) << 4) | to)) & 1 == 1;
    }
}
