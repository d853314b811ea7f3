// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICreditScore} from "../interfaces/ICreditScore.sol";

/**
 * @title CreditScoreMock
 * @notice Test-only credit contract: counts the reports of its one allowed reporter per institution and outcome,
 * keeps the last one, and emits {OutcomeReported} with a fixed delta per outcome. It can be told to refuse.
 */
contract CreditScoreMock is ICreditScore {
    struct LastReport {
        uint32 institution;
        Outcome outcome;
        bytes32 txId;
    }

    address private _reporter;
    bool private _refuse;
    uint256 private _burn;
    mapping(uint32 institution => mapping(Outcome outcome => uint256 count)) private _counts;
    mapping(uint32 institution => uint256 score) private _scores;
    LastReport private _last;
    uint256 private _total;

    /// @notice Sets the one allowed reporter (the ledger).
    function setReporter(address reporter) external {
        _reporter = reporter;
    }

    /// @notice Makes every report revert with {CreditUnauthorizedReporter} (a refusing credit contract).
    function setRefuse(bool refuse) external {
        _refuse = refuse;
    }

    /// @notice Makes every report spend about `gas` more, like a credit contract that opens an expulsion proposal.
    function setGasBurn(uint256 gas) external {
        _burn = gas;
    }

    /// @inheritdoc ICreditScore
    function reportOutcome(uint32 institution, Outcome outcome, bytes32 txId) external {
        if (_refuse || msg.sender != _reporter) revert CreditUnauthorizedReporter(msg.sender);
        uint256 left = gasleft();
        uint256 stop = left > _burn ? left - _burn : 0;
        // Runs out of gas when it was given less than the burn, as an expensive contract would.
        while (gasleft() > stop) {}
        ++_counts[institution][outcome];
        ++_total;
        _last = LastReport(institution, outcome, txId);
        int256 delta = outcome == Outcome.Completed ? int256(1) : -int256(10);
        uint256 score = _scores[institution];
        score = delta > 0 ? score + 1 : (score >= 10 ? score - 10 : 0);
        _scores[institution] = score;
        emit OutcomeReported(institution, outcome, txId, delta, score, msg.sender);
    }

    /// @notice How many times `outcome` was reported for `institution`.
    function countOf(uint32 institution, Outcome outcome) external view returns (uint256) {
        return _counts[institution][outcome];
    }

    /// @notice The number of reports received.
    function total() external view returns (uint256) {
        return _total;
    }

    /// @notice The last report received.
    function last() external view returns (LastReport memory) {
        return _last;
    }

    /// @inheritdoc ICreditScore
    function scoreOf(uint32 institution) external view returns (uint256) {
        return _scores[institution];
    }

    /// @inheritdoc ICreditScore
    function isRestricted(uint32) external pure returns (bool) {
        return false;
    }
}
