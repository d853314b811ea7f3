// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICreditRegistry} from "../interfaces/ICreditRegistry.sol";
import {ICreditScore} from "../interfaces/ICreditScore.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IMembershipListener} from "../interfaces/IMembershipListener.sol";
import {IVotingTickets} from "../interfaces/IVotingTickets.sol";
import {Governed} from "./Governed.sol";
import {OutcomeReports} from "../libraries/OutcomeReports.sol";
import {NO_TX, TxId} from "../types/Ids.sol";

/// @title CreditScore
/// @notice Credit evaluation (信用度评价, white paper 3.3). Verified outcomes reported by the transaction ledger move
/// an institution's score by governed weights. A restriction (or its end) is pushed to the pipe registry in the
/// same transaction, so the institution's pipes refuse (or accept again) at once; a fall below the expulsion
/// threshold opens one expulsion proposal.
contract CreditScore is ICreditRegistry, Governed {
    IMembership private immutable _membership;
    IVotingTickets private immutable _voting;
    IMembershipListener private immutable _pipes;
    address private immutable _deployer;
    bool private _reporterBound;

    CreditParams private _params;
    mapping(address reporter => bool) private _reporters;
    mapping(uint32 institution => CreditRecord) private _records;
    mapping(bytes32 key => bool) private _reported;
    /// @dev The last expulsion proposal opened for each institution.
    mapping(uint32 institution => uint256 proposalId) private _expulsions;

    constructor(IMembership membership_, IVotingTickets voting_, IMembershipListener pipes_, CreditParams memory p) {
        if (address(membership_) == address(0) || address(voting_) == address(0) || address(pipes_) == address(0)) {
            revert CreditZeroAddress();
        }
        _membership = membership_;
        _voting = voting_;
        _pipes = pipes_;
        _deployer = msg.sender;
        _setParams(p);
    }

    /// @inheritdoc ICreditRegistry
    function bindReporter(address reporter) external {
        if (msg.sender != _deployer) revert CreditUnauthorizedBinder(msg.sender);
        if (_reporterBound) revert CreditReportersAlreadyBound();
        if (reporter == address(0)) revert CreditZeroAddress();
        _reporterBound = true;
        _reporters[reporter] = true;
        emit CreditReporterChanged(reporter, true, msg.sender);
    }

    // ---------------------------------------------------------------- reporting

    /// @inheritdoc ICreditScore
    /// @dev Only a refusal outcome (BadSignature, Replay) is recorded per (institution, txId, outcome): the ledger
    /// reports each refused packet once, and two packets may name one transaction. A transaction outcome (Completed,
    /// Failed, TimedOut) is reported by the ledger at a transition its state machine makes at most once per
    /// transaction, so a flag here (a new slot, 22,100 gas a report) would only repeat that guarantee; reporters are
    /// allowed by a unanimous vote.
    function reportOutcome(uint32 institution, Outcome outcome, TxId txId) external {
        if (!_reporters[msg.sender]) revert CreditUnauthorizedReporter(msg.sender);
        bytes memory packed = OutcomeReports.alloc(1);
        _reportOutcome(institution, outcome, txId, _params, packed, 0);
        emit OutcomesReported(msg.sender, packed);
    }

    /// @inheritdoc ICreditScore
    /// @dev The reporter is asked and the parameters read once for the lot (only governance changes them); one
    /// event tells the lot, after the reports' own effects (a threshold crossed) and in their order.
    function reportOutcomes(OutcomeReport[] calldata reports) external {
        if (!_reporters[msg.sender]) revert CreditUnauthorizedReporter(msg.sender);
        if (reports.length == 0) return;
        CreditParams memory p = _params;
        bytes memory packed = OutcomeReports.alloc(reports.length);
        for (uint256 i = 0; i < reports.length; ++i) {
            _reportOutcome(reports[i].institution, reports[i].outcome, reports[i].txId, p, packed, i);
        }
        emit OutcomesReported(msg.sender, packed);
    }

    /// @dev Applies one report and writes it at `i` of `packed`, which the caller emits.
    function _reportOutcome(
        uint32 institution,
        Outcome outcome,
        TxId txId,
        CreditParams memory p,
        bytes memory packed,
        uint256 i
    ) private {
        // CHECKS
        if (txId == NO_TX) revert CreditZeroTxId();
        // An institution with a record was known at its first report or adjustment, and a known one stays known.
        if (_records[institution].lastReportAt == 0) _requireKnown(institution);
        bool refusal = _isRefusal(outcome);
        bytes32 key = refusal ? _reportKey(institution, txId, outcome) : bytes32(0);
        if (refusal && _reported[key]) revert CreditOutcomeAlreadyReported(institution, txId, outcome);
        // EFFECTS
        if (refusal) _reported[key] = true;
        (uint256 before, uint256 score) = _move(institution, p, _weight(p, outcome));
        OutcomeReports.put(packed, i, institution, outcome, txId, before, score);
        // EFFECTS and INTERACTIONS of a crossed threshold
        _evaluate(institution, p, score);
    }

    /// @inheritdoc ICreditRegistry
    function adjustScore(uint32 institution, int32 delta, string calldata reason) external onlyGovernance {
        _requireKnown(institution);
        CreditParams memory p = _params;
        (uint256 before, uint256 score) = _move(institution, p, delta);
        emit CreditAdjusted(institution, msg.sender, int256(score) - int256(before), score, reason);
        _evaluate(institution, p, score);
    }

    /// @inheritdoc ICreditRegistry
    function refresh(uint32 institution) external {
        _requireKnown(institution);
        CreditParams memory p = _params;
        _evaluate(institution, p, _score(p, _records[institution].delta));
    }

    /// @dev Moves the score by `change`, kept within [0, maxScore]; writes the record's delta once.
    function _move(
        uint32 institution,
        CreditParams memory p,
        int256 change
    ) private returns (uint256 before, uint256 score) {
        CreditRecord storage r = _records[institution];
        before = _score(p, r.delta);
        int256 next = int256(before) + change;
        if (next < 0) next = 0;
        if (next > int256(uint256(p.maxScore))) next = int256(uint256(p.maxScore));
        score = uint256(next);
        r.delta = int64(next - int256(uint256(p.initialScore)));
        r.lastReportAt = uint40(block.timestamp);
    }

    /// @dev Restriction follows the score both ways; an expulsion proposal opens once per fall below the threshold,
    /// or again while still below once the last one ended without expelling (expired or canceled), so a rejected
    /// vote does not shield the institution until its score climbs back (never for an institution that is already
    /// expelled, or was never approved).
    function _evaluate(uint32 institution, CreditParams memory p, uint256 score) private {
        // CHECKS: `r.restricted` is what the pipe registry was last told; the answer itself is always computed.
        CreditRecord storage r = _records[institution];
        bool restricted = score < p.restrictionThreshold;
        bool restrictionChanged = restricted != r.restricted;
        bool below = score < p.expulsionThreshold;
        bool open = below && !_expulsionPending(institution, r.expulsionOpened) && _expellable(institution);
        // EFFECTS
        if (restrictionChanged) {
            r.restricted = restricted;
            if (restricted) emit CreditRestricted(institution, score);
            else emit CreditRestored(institution, score);
        }
        if (!below && r.expulsionOpened) r.expulsionOpened = false;
        if (open) r.expulsionOpened = true;
        // INTERACTIONS: both are ours; the pipe registry re-reads the restriction from here.
        if (restrictionChanged) _pipes.syncInstitution(institution);
        if (open) {
            uint256 proposalId = _voting.openProposal(
                address(this),
                address(_membership),
                abi.encodeCall(IMembership.expelInstitution, (institution)),
                "credit below the expulsion threshold"
            );
            _expulsions[institution] = proposalId;
            emit CreditExpulsionProposed(institution, proposalId, score);
        }
    }

    /// @dev An expulsion proposal of the current fall can still pass: open, passed, or rejected before its deadline
    /// (votes still count until then).
    function _expulsionPending(uint32 institution, bool opened) private view returns (bool) {
        if (!opened) return false;
        uint256 proposalId = _expulsions[institution];
        if (proposalId == 0) return true;
        IVotingTickets.ProposalState s = _voting.state(proposalId);
        return s != IVotingTickets.ProposalState.Expired && s != IVotingTickets.ProposalState.Canceled;
    }

    function _expellable(uint32 institution) private view returns (bool) {
        IMembership.InstitutionStatus status = _membership.institutionStatus(institution);
        return status == IMembership.InstitutionStatus.Active || status == IMembership.InstitutionStatus.Suspended;
    }

    function _requireKnown(uint32 institution) private view {
        if (_membership.institutionStatus(institution) == IMembership.InstitutionStatus.None) {
            revert CreditUnknownInstitution(institution);
        }
    }

    function _score(CreditParams memory p, int64 delta) private pure returns (uint256) {
        int256 score = int256(uint256(p.initialScore)) + delta;
        if (score < 0) return 0;
        if (score > int256(uint256(p.maxScore))) return p.maxScore;
        return uint256(score);
    }

    function _weight(CreditParams memory p, Outcome outcome) private pure returns (int256) {
        if (outcome == Outcome.Completed) return p.completed;
        if (outcome == Outcome.Failed) return p.failed;
        if (outcome == Outcome.TimedOut) return p.timedOut;
        if (outcome == Outcome.BadSignature) return p.badSignature;
        return p.replay;
    }

    function _isRefusal(Outcome outcome) private pure returns (bool) {
        return outcome == Outcome.BadSignature || outcome == Outcome.Replay;
    }

    function _reportKey(uint32 institution, TxId txId, Outcome outcome) private pure returns (bytes32) {
        return keccak256(abi.encode(institution, txId, outcome));
    }

    // ---------------------------------------------------------------- governed

    /// @inheritdoc ICreditRegistry
    function setParams(CreditParams calldata p) external onlyGovernance {
        _setParams(p);
    }

    /// @inheritdoc ICreditRegistry
    function setReporter(address reporter, bool allowed) external onlyGovernance {
        if (reporter == address(0)) revert CreditZeroAddress();
        _reporters[reporter] = allowed;
        emit CreditReporterChanged(reporter, allowed, msg.sender);
    }

    function _setParams(CreditParams memory p) private {
        bool valid =
            p.maxScore > 0 &&
                p.initialScore <= p.maxScore &&
                p.restrictionThreshold <= p.initialScore &&
                p.expulsionThreshold < p.restrictionThreshold &&
                p.completed >= 0 &&
                p.failed <= 0 &&
                p.timedOut <= 0 &&
                p.badSignature <= 0 &&
                p.replay <= 0;
        if (!valid) revert CreditInvalidParams(p);
        _params = p;
        emit CreditParamsChanged(p, msg.sender);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc Governed
    function governance() public view override returns (address) {
        return address(_voting);
    }

    /// @inheritdoc ICreditScore
    function scoreOf(uint32 institution) external view returns (uint256) {
        return _score(_params, _records[institution].delta);
    }

    /// @inheritdoc ICreditScore
    /// @dev Computed from the score and the current parameters, never from a stored flag: a parameter change applies
    /// to every institution at once, in two slot reads.
    function isRestricted(uint32 institution) external view returns (bool) {
        CreditParams memory p = _params;
        return _score(p, _records[institution].delta) < p.restrictionThreshold;
    }

    /// @inheritdoc ICreditRegistry
    function params() external view returns (CreditParams memory) {
        return _params;
    }

    /// @inheritdoc ICreditRegistry
    function isReporter(address reporter) external view returns (bool) {
        return _reporters[reporter];
    }

    /// @inheritdoc ICreditRegistry
    function creditOf(uint32 institution) external view returns (CreditRecord memory r) {
        r = _records[institution];
        CreditParams memory p = _params;
        r.restricted = _score(p, r.delta) < p.restrictionThreshold;
        r.expulsionOpened = _expulsionPending(institution, r.expulsionOpened);
    }

    /// @inheritdoc ICreditRegistry
    function weightOf(Outcome outcome) external view returns (int256) {
        return _weight(_params, outcome);
    }

    /// @inheritdoc ICreditRegistry
    function isReported(uint32 institution, TxId txId, Outcome outcome) external view returns (bool) {
        return _reported[_reportKey(institution, txId, outcome)];
    }
}
