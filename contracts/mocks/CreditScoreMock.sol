// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICreditScore} from "../interfaces/ICreditScore.sol";
import {TxId} from "../types/Ids.sol";
import {OutcomeReports} from "../libraries/OutcomeReports.sol";

/**
 * @title CreditScoreMock
 * @notice Test-only credit contract with the storage cost of a lean real one: one slot of settings read per report,
 * one slot per institution written (its count of each outcome; the score is derived from them), one event. It
 * accepts only its reporter, can be told to refuse everything, or to spend extra gas like a contract that opens
 * an expulsion proposal.
 */
contract CreditScoreMock is ICreditScore {
    uint256 private constant BASE = 100;

    struct Config {
        address reporter;
        bool refuse;
        uint32 refused; // an institution whose reports alone are refused (0: none)
        uint32 burn;
    }

    Config private _config;
    /// @dev 48 bits per outcome, outcome i at bits [48 i, 48 i + 48).
    mapping(uint32 institution => uint256 counts) private _counts;

    /// @notice Sets the one allowed reporter (the ledger).
    function setReporter(address reporter) external {
        _config.reporter = reporter;
    }

    /// @notice Makes every report revert with {CreditUnauthorizedReporter} (a refusing credit contract).
    function setRefuse(bool refuse) external {
        _config.refuse = refuse;
    }

    /// @notice Makes the reports of `institution` alone revert with {CreditUnauthorizedReporter} (0: none).
    function setRefused(uint32 institution) external {
        _config.refused = institution;
    }

    /// @notice Makes every report spend about `gas` more, like a credit contract that opens an expulsion proposal.
    function setGasBurn(uint32 gas) external {
        _config.burn = gas;
    }

    /// @inheritdoc ICreditScore
    function reportOutcome(uint32 institution, Outcome outcome, TxId txId) external {
        bytes memory packed = OutcomeReports.alloc(1);
        _reportOne(institution, outcome, txId, packed, 0);
        emit OutcomesReported(msg.sender, packed);
    }

    /// @inheritdoc ICreditScore
    function reportOutcomes(OutcomeReport[] calldata reports) external {
        if (reports.length == 0) return;
        bytes memory packed = OutcomeReports.alloc(reports.length);
        for (uint256 i = 0; i < reports.length; ++i) {
            _reportOne(reports[i].institution, reports[i].outcome, reports[i].txId, packed, i);
        }
        emit OutcomesReported(msg.sender, packed);
    }

    function _reportOne(uint32 institution, Outcome outcome, TxId txId, bytes memory packed, uint256 i) private {
        Config memory c = _config;
        bool refused = c.refuse || (c.refused != 0 && c.refused == institution);
        if (refused || msg.sender != c.reporter) revert CreditUnauthorizedReporter(msg.sender);
        if (c.burn != 0) _burn(c.burn);
        uint256 before = _counts[institution];
        uint256 counts = before + (uint256(1) << (48 * uint256(outcome)));
        _counts[institution] = counts;
        OutcomeReports.put(packed, i, institution, outcome, txId, _score(before), _score(counts));
    }

    /// @notice How many times `outcome` was reported for `institution`.
    function countOf(uint32 institution, Outcome outcome) external view returns (uint256) {
        return _count(_counts[institution], outcome);
    }

    /// @inheritdoc ICreditScore
    function scoreOf(uint32 institution) external view returns (uint256) {
        return _score(_counts[institution]);
    }

    /// @inheritdoc ICreditScore
    function isRestricted(uint32) external pure returns (bool) {
        return false;
    }

    /// @dev 100 + completed - 10 per other outcome, floored at 0.
    function _score(uint256 counts) private pure returns (uint256) {
        uint256 bad = 0;
        for (uint256 o = uint256(Outcome.Failed); o <= uint256(Outcome.Replay); ++o) {
            bad += _count(counts, Outcome(o));
        }
        uint256 good = BASE + _count(counts, Outcome.Completed);
        return good > bad * 10 ? good - bad * 10 : 0;
    }

    function _count(uint256 counts, Outcome outcome) private pure returns (uint256) {
        return (counts >> (48 * uint256(outcome))) & type(uint48).max;
    }

    /// @dev Runs out of gas when it was given less than `gas`, as an expensive contract would.
    function _burn(uint256 gas) private view {
        uint256 left = gasleft();
        uint256 stop = left > gas ? left - gas : 0;
        while (gasleft() > stop) {}
    }
}
