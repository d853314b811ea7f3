// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {LedgerSteps} from "../libraries/LedgerSteps.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {ITransactionLedgerViews} from "../interfaces/ITransactionLedger.sol";
import {OPERATION_READ, OPERATION_TWO_PHASE_WRITE, OPERATION_WRITE} from "../types/Operations.sol";
import {LedgerStorage} from "./LedgerStorage.sol";
import {PipeId, TxId} from "../types/Ids.sol";

/**
 * @title LedgerViews
 * @notice The transaction ledger's detailed views ({ITransactionLedgerViews}). It holds no state of its own: the
 * ledger makes it in its constructor and serves these views by a static call to itself that delegatecalls this
 * module, so they read the ledger's storage, under the ledger's address, and can change nothing.
 * @dev Split from the ledger to keep the ledger's code (the hot path) well under the EIP-170 size limit; only
 * off-chain readers pay the extra calls. Called directly it refuses everything ({LedgerDirectCall}).
 */
contract LedgerViews is ITransactionLedgerViews, LedgerStorage {
    using LedgerSteps for uint256;

    address private immutable _self = address(this);

    /// @dev Only inside the ledger: the module's own storage is never initialised.
    modifier onlyDelegated() {
        if (address(this) == _self) revert LedgerDirectCall();
        _;
    }

    /// @param membership_ the ledger's membership contract
    /// @param voting the ledger's voting tickets contract
    constructor(IMembership membership_, address voting) LedgerStorage(membership_, voting) {}

    /// @inheritdoc ITransactionLedgerViews
    function transaction(TxId txId) external view onlyDelegated returns (TxView memory v) {
        TxRecord memory t = _get(txId);
        v.state = t.state;
        v.reason = t.reason;
        v.stepCount = t.stepCount;
        v.doneMask = t.doneMask;
        v.writeMask = uint8(LedgerSteps.writeMask(t.steps, t.stepCount));
        v.undoneMask = t.undoneMask;
        v.deadline = t.deadline;
        v.pipeId = _pipeIdAt[t.pipeIndex];
        Tally memory y = _tally(t, _settings.verifierSlots, _pipeSides[t.pipeIndex][SOURCE], Standing(0, 0));
        v.endorsedMask = y.endorsed;
        v.weightFor = uint16(y.forWeight);
        v.weightAgainst = uint16(y.againstWeight);
        v.resultSetHash = _resultSetHashes[txId];
    }

    /// @inheritdoc ITransactionLedgerViews
    function stepOf(
        TxId txId,
        uint8 step
    ) external view onlyDelegated returns (Side side, uint8 operation, uint8 dependsOn) {
        TxRecord memory t = _load(txId);
        if (step >= t.stepCount) revert LedgerUnknownStep(txId, step);
        OpenedStep memory s = _stepView(t, step);
        return (s.side, s.operation, s.dependsOn);
    }

    /// @inheritdoc ITransactionLedgerViews
    function openedOf(TxId txId, PipeId pipeId) external view onlyDelegated returns (OpenedTx memory o) {
        TxRecord memory t = _get(txId);
        o.state = t.state;
        o.deadline = t.deadline;
        o.lastSequence = _pipeRefs[pipeId].lastSequence;
        o.steps = new OpenedStep[](t.stepCount);
        for (uint8 k = 0; k < t.stepCount; ++k) o.steps[k] = _stepView(t, k);
    }

    /// @dev Step `step` of `t` (which has it): its side, its operation as opened, its dependency.
    function _stepView(TxRecord memory t, uint8 step) private pure returns (OpenedStep memory s) {
        uint256 steps = t.steps;
        uint256 dep = steps.dependsOn(step);
        s.side = steps.isTarget(step) ? Side.Target : Side.Source;
        s.operation = steps.isWrite(step) ? OPERATION_WRITE : OPERATION_READ;
        if (s.operation == OPERATION_WRITE && LedgerSteps.isTwoPhase(steps, t.stepCount))
            s.operation = OPERATION_TWO_PHASE_WRITE;
        s.dependsOn = dep == LedgerSteps.NONE ? NO_DEPENDENCY : uint8(dep);
    }

    /// @inheritdoc ITransactionLedgerViews
    function readVersionOf(TxId txId, uint8 step) external view onlyDelegated returns (uint64) {
        TxRecord memory t = _get(txId);
        if (step >= t.stepCount || !LedgerSteps.isDepended(t.steps, t.stepCount, step)) return 0;
        return _readVersion(txId, t, step);
    }

    /// @inheritdoc ITransactionLedgerViews
    function attemptsOf(
        TxId txId,
        uint8 step
    ) external view onlyDelegated returns (uint8 retries, uint8 compensations) {
        if (step >= MAX_STEPS) return (0, 0);
        uint64 counts = _attempts[txId];
        return (_nibble(counts, step), _nibble(counts, 8 + step));
    }

    /// @inheritdoc ITransactionLedgerViews
    function hasEndorsed(TxId txId, address account) external view onlyDelegated returns (bool) {
        Verifier memory v = _verifiers[account];
        TxRecord memory t = _get(txId);
        return v.weight != 0 && (t.endorsedMask >> v.index) & 1 == 1 && _verifierSlots[v.index].since <= t.epoch;
    }

    /// @inheritdoc ITransactionLedgerViews
    function unresolvedAmong(TxId[] calldata txIds) external view onlyDelegated returns (Unresolved[] memory items) {
        if (txIds.length == 0 || txIds.length > MAX_PAGE) revert LedgerInvalidPage(txIds.length, MAX_PAGE);
        items = new Unresolved[](txIds.length);
        uint256 found = 0;
        for (uint256 i = 0; i < txIds.length; ++i) {
            TxRecord memory t = _get(txIds[i]);
            Issue issue = _issueOf(t);
            if (issue != Issue.None) items[found++] = Unresolved(txIds[i], t.state, t.reason, issue, t.deadline);
        }
        // Shrink the array to what was found.
        assembly ("memory-safe") {
            mstore(items, found)
        }
    }

    /// @dev The issue a reconciliation lists the transaction under, if any.
    function _issueOf(TxRecord memory t) private view returns (Issue) {
        TxState s = t.state;
        if (s == TxState.Open || s == TxState.Executing || s == TxState.Executed || s == TxState.Committing) {
            return block.timestamp > t.deadline ? Issue.Overdue : Issue.None;
        }
        if (s == TxState.Compensating || s == TxState.Failed || s == TxState.Expired) {
            return _pendingWrites(t) != 0 ? Issue.Uncompensated : Issue.None;
        }
        if (s == TxState.Manual) return Issue.Abnormal;
        if (s == TxState.Confirmed && t.againstMask != 0) return Issue.Disputed;
        return Issue.None;
    }

    /// @inheritdoc ITransactionLedgerViews
    function pipeOf(
        PipeId pipeId
    )
        external
        view
        onlyDelegated
        returns (
            uint64 lastSequence,
            address sourceSigner,
            address targetSigner,
            uint32 sourceInstitution,
            uint32 targetInstitution
        )
    {
        PipeRef memory ref = _pipeRefs[pipeId];
        PipeSide[2] storage sides = _pipeSides[ref.index];
        // The ledger keeps the services, not their keys: the recorders are the services' signers now.
        if (ref.index != 0) {
            (sourceSigner, ) = _registry.pipes.serviceSigner(sides[SOURCE].service);
            (targetSigner, ) = _registry.pipes.serviceSigner(sides[TARGET].service);
        }
        return (ref.lastSequence, sourceSigner, targetSigner, sides[SOURCE].institution, sides[TARGET].institution);
    }

    /// @inheritdoc ITransactionLedgerViews
    function verifier(address account) external view onlyDelegated returns (Verifier memory) {
        return _verifiers[account];
    }
}
