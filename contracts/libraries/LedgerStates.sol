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

    uint256 private constant TABLE =
        (((1 << OPEN)) << (16 * NONE)) |
            (((1 << EXECUTING) | (1 << FAILED) | (1 << EXPIRED) | (1 << MANUAL)) << (16 * OPEN)) |
            (((1 << EXECUTED) | (1 << FAILED) | (1 << EXPIRED) | (1 << MANUAL)) << (16 * EXECUTING)) |
            (((1 << CONFIRMED) | (1 << MANUAL)) << (16 * EXECUTED)) |
            (((1 << COMPENSATING) | (1 << MANUAL)) << (16 * FAILED)) |
            (((1 << COMPENSATED) | (1 << MANUAL)) << (16 * COMPENSATING)) |
            (((1 << RESOLVED)) << (16 * MANUAL)) |
            (((1 << COMPENSATING) | (1 << MANUAL)) << (16 * EXPIRED));

    /// @notice Whether a transaction in state `from` may move to `to`. Confirmed, Compensated and Resolved are final.
    function allowed(uint8 from, uint8 to) internal pure returns (bool) {
        if (from > EXPIRED || to > EXPIRED) return false;
        return (TABLE >> (16 * uint256(from) + to)) & 1 == 1;
    }
}
