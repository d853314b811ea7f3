// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICreditScore} from "../interfaces/ICreditScore.sol";
import {TxId} from "../types/Ids.sol";

/**
 * @title NullCreditScoreMock
 * @notice Test-only credit contract that accepts every report and does nothing. The gas bench swaps it in to
 * measure what the ledger itself costs, apart from a credit contract's own work.
 */
contract NullCreditScoreMock is ICreditScore {
    /// @inheritdoc ICreditScore
    function reportOutcome(uint32, Outcome, TxId) external {}

    /// @inheritdoc ICreditScore
    function reportOutcomes(OutcomeReport[] calldata) external {}

    /// @inheritdoc ICreditScore
    function scoreOf(uint32) external pure returns (uint256) {
        return 0;
    }

    /// @inheritdoc ICreditScore
    function isRestricted(uint32) external pure returns (bool) {
        return false;
    }
}
