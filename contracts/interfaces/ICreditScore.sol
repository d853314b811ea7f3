// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TxId} from "../types/Ids.sol";

/// @title ICreditScore
/// @notice Credit evaluation (信用度评价): verified outcomes move an institution's score. Only reporters allowed
/// by governance (the transaction ledger) may report. Below the restriction threshold the institution's pipes
/// refuse new operations; below the expulsion threshold an expulsion proposal opens automatically.
interface ICreditScore {
    enum Outcome {
        Completed, // a transaction it took part in was confirmed
        Failed, // it caused a failure
        TimedOut, // it did not answer before the deadline
        BadSignature, // it signed a packet the pipe does not allow, or a bad signature
        Replay // it sent a replayed sequence
    }

    /// @notice One outcome of {reportOutcomes}.
    struct OutcomeReport {
        uint32 institution;
        Outcome outcome;
        TxId txId;
    }

    error CreditUnauthorizedReporter(address caller);

    /// @notice The outcomes of one {reportOutcome} or {reportOutcomes} call, in order, packed (see
    /// `OutcomeReports`): a single report is a batch of one, so readers know one shape.
    event OutcomesReported(address indexed reporter, bytes reports);

    /// @notice Reports a verified outcome for an institution. Only allowed reporters.
    function reportOutcome(uint32 institution, Outcome outcome, TxId txId) external;

    /// @notice Reports several outcomes in order, each as {reportOutcome} would, all or none. Only allowed reporters.
    function reportOutcomes(OutcomeReport[] calldata reports) external;

    /// @notice An institution's current score.
    function scoreOf(uint32 institution) external view returns (uint256);

    /// @notice Whether the institution is below the restriction threshold (its pipes refuse new operations).
    function isRestricted(uint32 institution) external view returns (bool);
}
