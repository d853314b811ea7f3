// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICreditScore} from "./ICreditScore.sol";
import {TxId} from "../types/Ids.sol";

/// @title ICreditRegistry
/// @notice The governed side of the credit score: parameters, reporters, manual adjustment and re-evaluation.
/// @dev score = clamp(initialScore + delta, 0, maxScore), where delta is kept per institution (zero until its first
/// outcome, so no institution needs an initial write). An institution is restricted while its score is below
/// `restrictionThreshold`: its pipes refuse new operations; it is restored as soon as the score is back at or above
/// the threshold. When the score falls below `expulsionThreshold`, one expulsion proposal opens; the next one can
/// only open after the score has climbed back to the threshold and fallen again.
interface ICreditRegistry is ICreditScore {
    /// @notice Thresholds and weights, in one storage slot.
    struct CreditParams {
        uint32 initialScore;
        uint32 maxScore;
        uint32 restrictionThreshold; // restricted while score < this
        uint32 expulsionThreshold; // an expulsion proposal opens when score < this
        int16 completed; // >= 0
        int16 failed; // <= 0
        int16 timedOut; // <= 0
        int16 badSignature; // <= 0
        int16 replay; // <= 0
    }

    /// @notice One institution's credit state, in one storage slot.
    struct CreditRecord {
        int64 delta; // score - initialScore, as last computed
        bool restricted; // stored: what the pipe registry was last told; {creditOf} returns it computed now
        bool expulsionOpened; // an expulsion proposal of the current fall can still pass ({creditOf} computes it now)
        uint40 lastReportAt;
    }

    // ---------------------------------------------------------------- errors

    error CreditZeroAddress();
    error CreditReportersAlreadyBound();
    error CreditUnauthorizedBinder(address caller);
    error CreditInvalidParams(CreditParams params);
    error CreditUnknownInstitution(uint32 institution);
    error CreditZeroTxId();
    /// @notice A refusal outcome (BadSignature, Replay) of this institution and transaction was already reported.
    error CreditOutcomeAlreadyReported(uint32 institution, TxId txId, Outcome outcome);

    // ---------------------------------------------------------------- events

    event CreditParamsChanged(CreditParams params, address indexed by);
    event CreditReporterChanged(address indexed reporter, bool allowed, address indexed by);
    event CreditRestricted(uint32 indexed institution, uint256 score);
    event CreditRestored(uint32 indexed institution, uint256 score);
    event CreditExpulsionProposed(uint32 indexed institution, uint256 indexed proposalId, uint256 score);
    event CreditAdjusted(uint32 indexed institution, address indexed by, int256 delta, uint256 score, string reason);

    // ---------------------------------------------------------------- governed

    /// @notice Allows the first reporter (the transaction ledger, deployed after this contract because it needs its
    /// address). Runs once, by the deployer; every later reporter change is a vote ({setReporter}).
    function bindReporter(address reporter) external;

    /// @notice Governed: sets the thresholds and weights. Requires expulsion < restriction <= initial <= max,
    /// max > 0, a non-negative weight for `completed` and non-positive weights for the rest. Restriction is computed
    /// from the score and the current parameters ({isRestricted}), so a change applies to every institution at once;
    /// the pipe registry's copy follows at the institution's next outcome, adjustment or {refresh}.
    function setParams(CreditParams calldata params) external;

    /// @notice Governed: allows or disallows an outcome reporter (the transaction ledger).
    function setReporter(address reporter, bool allowed) external;

    /// @notice Governed: moves an institution's score by `delta` (a correction, or a restoration by vote).
    function adjustScore(uint32 institution, int32 delta, string calldata reason) external;

    // ---------------------------------------------------------------- anyone

    /// @notice Re-evaluates an institution's restriction and expulsion against the current parameters.
    function refresh(uint32 institution) external;

    // ---------------------------------------------------------------- views

    /// @notice The current parameters.
    function params() external view returns (CreditParams memory);

    /// @notice Whether `reporter` may report outcomes.
    function isReporter(address reporter) external view returns (bool);

    /// @notice An institution's credit record.
    function creditOf(uint32 institution) external view returns (CreditRecord memory);

    /// @notice The weight of an outcome.
    function weightOf(Outcome outcome) external view returns (int256);

    /// @notice Whether a refusal outcome (BadSignature, Replay) was already reported for an institution and a
    /// transaction (each is taken once). Always false for a transaction outcome (Completed, Failed, TimedOut): those
    /// are not recorded here, the ledger's state machine reports each at most once per transaction.
    function isReported(uint32 institution, TxId txId, Outcome outcome) external view returns (bool);
}
