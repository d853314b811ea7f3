// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AMDP} from "../libraries/AMDP.sol";
import {LedgerSteps} from "../libraries/LedgerSteps.sol";
import {ICreditScore} from "../interfaces/ICreditScore.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IPipeAuthority} from "../interfaces/IPipeAuthority.sol";
import {
    ITransactionLedger,
    ITransactionLedgerEndorsement,
    ITransactionLedgerRecovery,
    ITransactionLedgerViews
} from "../interfaces/ITransactionLedger.sol";
import {NO_SUBCHAIN, NO_TX, PipeId, SubchainId, TxId} from "../types/Ids.sol";
import {OPERATION_READ, OPERATION_TWO_PHASE_WRITE, OPERATION_WRITE} from "../types/Operations.sol";
import {LedgerRecovery} from "./LedgerRecovery.sol";
import {LedgerStorage} from "./LedgerStorage.sol";
import {LedgerViews} from "./LedgerViews.sol";
import {LedgerEndorsement} from "./LedgerEndorsement.sol";

/**
 * @title TransactionLedger
 * @notice The cross-chain transaction ledger (事务治理合约): open, result, verification, compensation, credit and
 * reconciliation of every cross-chain transaction (white paper 2.5, the alliance paper's weighted endorsement and
 * stale-read rejection). It is also the AMDP EIP-712 verifying contract ("CCGP-AMDP", "1").
 * @dev The hot path (open, results, endorsements) runs here; the failure paths and the governed setters
 * ({ITransactionLedgerRecovery}) run in {LedgerRecovery} by delegatecall, and the detailed views
 * ({ITransactionLedgerViews}) in {LedgerViews} by a static call to this contract that delegatecalls it, both on this
 * contract's storage (see {LedgerStorage}), to stay under the EIP-170 code size limit.
 */
contract TransactionLedger is ITransactionLedger, LedgerStorage {
    using LedgerSteps for uint256;

    address private immutable _recovery;
    address private immutable _views;
    address private immutable _endorsement;

    /// @dev Prefixes the calldata of a view this contract serves from its view module (see {_delegateView}).
    bytes4 private constant VIEW_CALL = bytes4(keccak256("LedgerViews.call"));

    /**
     * @param membership_ the membership contract (verifier and governor accounts)
     * @param voting the voting tickets contract that executes this contract's governed actions
     * @param pipes the pipe authority (the pipe registry)
     * @param credit the credit contract; this ledger must be one of its reporters
     * @param maxRetries_ the retry bound, at most MAX_RETRIES_CAP
     * @param recovery the recovery module, built for the same membership and voting contracts
     */
    constructor(
        IMembership membership_,
        address voting,
        IPipeAuthority pipes,
        ICreditScore credit,
        uint8 maxRetries_,
        LedgerRecovery recovery
    ) LedgerStorage(membership_, voting) {
        _requireContract(address(recovery));
        if (recovery.membership() != address(membership_) || recovery.governance() != voting) {
            revert LedgerInvalidAddress(address(recovery));
        }
        _recovery = address(recovery);
        // Made here, so that it always has this ledger's membership and voting contracts (and no deploy step).
        _views = address(new LedgerViews(membership_, voting));
        _endorsement = address(new LedgerEndorsement(membership_, voting));
        _setPipeAuthority(address(pipes));
        _setCreditScore(address(credit));
        _setMaxRetries(maxRetries_);
    }

    // ---------------------------------------------------------------- open

    /// @dev What {open} checked, held in memory between its checks and its effects.
    struct Opening {
        TxId txId;
        PipeId pipeId;
        Registry registry;
        PipeRef ref;
        uint256 steps;
        bytes32[MAX_PACKETS] hashes;
        uint16[2] services; // the pipe's service indexes, from the route
    }

    /**
     * @dev The pipe authority's last answer in this call and the question it answered. The next open of the batch
     * that asks the same question (pipe, first signer, operation, selector) takes it instead of calling again: the
     * opens only read the authority and write the ledger, so its answer cannot change inside one call.
     */
    struct Asked {
        bool known;
        PipeId pipeId;
        address signer;
        uint8 operation;
        bytes4 selector;
        IPipeAuthority.OpeningRoute route;
        IPipeAuthority.Refusal refusal;
    }

    /// @inheritdoc ITransactionLedger
    function open(
        SignedPacket[] calldata packets,
        Step[] calldata steps,
        uint64 deadline
    ) external returns (uint64 number) {
        Asked memory asked;
        return _open(packets, steps, deadline, asked);
    }

    /// @inheritdoc ITransactionLedger
    function openMany(OpenRequest[] calldata requests) external returns (uint64 first) {
        _requireBatchSize(requests.length);
        // Each open reads what the one before wrote (sequence, count, the pipe's copy): warm slots after the first,
        // and a duplicate inside the batch is refused as it would be in two calls.
        Asked memory asked;
        first = _open(requests[0].packets, requests[0].steps, requests[0].deadline, asked);
        for (uint256 i = 1; i < requests.length; ++i) {
            _open(requests[i].packets, requests[i].steps, requests[i].deadline, asked);
        }
    }

    function _open(
        SignedPacket[] calldata packets,
        Step[] calldata steps,
        uint64 deadline,
        Asked memory asked
    ) private returns (uint64 number) {
        // CHECKS (the pipe authority is only read)
        (Opening memory o, IPipeAuthority.PipeRoute memory route) = _checkOpen(packets, steps, deadline, asked);

        // EFFECTS
        number = ++o.registry.txCount;
        _syncRoute(o.pipeId, o.ref, o.registry, route, o.services);
        _registry = o.registry;
        _pipeRefs[o.pipeId] = o.ref;
        _store(
            o.txId,
            TxRecord({
                state: TxState.Open,
                reason: Reason.None,
                stepCount: uint8(steps.length),
                doneMask: 0,
                undoneMask: 0,
                steps: uint40(o.steps),
                deadline: uint32(deadline),
                pipeIndex: o.ref.index,
                readVersion: 0,
                endorsedMask: 0,
                againstMask: 0,
                epoch: 0
            })
        );
        bytes memory accepted = _accepted(packets, o.hashes);
        emit TxOpened(o.txId, o.pipeId, msg.sender, number, deadline, uint8(steps.length), uint40(o.steps), accepted);
    }

    /// @dev The accepted packets as {TxOpened} tells them, 45 bytes each (one event an open, not one a packet more).
    function _accepted(
        SignedPacket[] calldata packets,
        bytes32[MAX_PACKETS] memory hashes
    ) private pure returns (bytes memory out) {
        uint256 n = packets.length;
        // 32 bytes of slack: each packet's last word spills past its end.
        out = new bytes(n * 45 + 32);
        for (uint256 i = 0; i < n; ++i) {
            AMDP.Packet calldata p = packets[i].packet;
            (uint64 sequence, bytes32 hash, uint8 operation, bytes4 selector) = (
                p.sequence,
                hashes[i],
                p.operation,
                p.selector
            );
            assembly ("memory-safe") {
                let at := add(add(out, 32), mul(i, 45))
                mstore(at, shl(192, sequence))
                mstore(add(at, 8), hash)
                mstore8(add(at, 40), operation)
                mstore(add(at, 41), selector)
            }
        }
        assembly ("memory-safe") {
            mstore(out, mul(n, 45))
        }
    }

    function _checkOpen(
        SignedPacket[] calldata packets,
        Step[] calldata steps,
        uint64 deadline,
        Asked memory asked
    ) private view returns (Opening memory o, IPipeAuthority.PipeRoute memory route) {
        if (packets.length == 0 || packets.length > MAX_PACKETS) {
            revert LedgerInvalidPacketCount(packets.length, MAX_PACKETS);
        }
        if (steps.length == 0 || steps.length > MAX_STEPS) revert LedgerInvalidStepCount(steps.length, MAX_STEPS);
        o.txId = packets[0].packet.txId;
        if (o.txId == NO_TX) revert LedgerZeroTxId();
        if (_txs[o.txId].state != TxState.None) revert LedgerTxExists(o.txId);
        o.pipeId = packets[0].packet.pipeId;
        o.registry = _registry;
        o.ref = _pipeRefs[o.pipeId];
        // The route, and the pipe's answer for the first packet (raised after its signatures, as for the others).
        IPipeAuthority.Refusal refusal;
        (route, refusal) = _openingRoute(o, packets[0].packet, steps, asked);
        if (msg.sender != route.sourceServiceSigner) {
            revert LedgerUnauthorizedOpener(o.pipeId, msg.sender, route.sourceServiceSigner);
        }
        // The opener's standing needs no call of its own: the pipe authority's answer below already refuses a route
        // whose source service signer or institution is not active now (ServiceDisabled, InstitutionNotActive).
        _checkDeadline(deadline, route.timeoutSeconds);
        o.ref.lastSequence = _verifyPackets(packets, route, refusal, o.registry.pipes, o.ref.lastSequence, o.hashes);
        o.steps = _encodeSteps(steps, packets, route);
    }

    /**
     * @dev The route an open checks against, in one call to the pipe authority: its changing fields, and the fixed
     * ones (target service, contract name, sub-chains) taken from the first packet and the steps when they hash to
     * the pipe's `fixedHash`. When they do not, the values come from {IPipeAuthority.fixedRoute} and the checks that
     * follow name the field that differs.
     */
    function _openingRoute(
        Opening memory op,
        AMDP.Packet calldata first,
        Step[] calldata steps,
        Asked memory asked
    ) private view returns (IPipeAuthority.PipeRoute memory r, IPipeAuthority.Refusal refusal) {
        IPipeAuthority.OpeningRoute memory o;
        bool same =
            asked.known &&
                asked.pipeId == op.pipeId &&
                asked.signer == first.signer &&
                asked.operation == first.operation &&
                asked.selector == first.selector;
        if (same) {
            (o, refusal) = (asked.route, asked.refusal);
        } else {
            (o, refusal) = _route(op.registry.pipes, op.pipeId, first.signer, first.operation, first.selector);
            (asked.known, asked.pipeId, asked.signer) = (true, op.pipeId, first.signer);
            (asked.operation, asked.selector, asked.route, asked.refusal) = (
                first.operation,
                first.selector,
                o,
                refusal
            );
        }
        r = _changing(o);
        op.services = [o.sourceServiceIndex, o.targetServiceIndex];
        (r.targetService, r.contractName) = (first.targetService, first.contractName);
        (r.sourceSubchain, r.targetSubchain) = _stepSubchains(steps, op.ref.index);
        bytes32 fixedHash = keccak256(abi.encode(r.targetService, r.contractName, r.sourceSubchain, r.targetSubchain));
        if (bytes28(fixedHash) != o.fixedHash) _readFixed(op.registry.pipes, op.pipeId, r);
    }

    /// @dev The sub-chain named by the first step of each side; for a side without a step, the ledger's copy of the
    /// pipe's (zero before the pipe's first open).
    function _stepSubchains(
        Step[] calldata steps,
        uint32 pipeIndex
    ) private view returns (SubchainId source, SubchainId target) {
        for (uint256 i = steps.length; i > 0; --i) {
            Step calldata s = steps[i - 1];
            if (s.side == Side.Target) target = s.subchain;
            else source = s.subchain;
        }
        if (source == NO_SUBCHAIN) source = _pipeSubchains[pipeIndex][SOURCE];
        if (target == NO_SUBCHAIN) target = _pipeSubchains[pipeIndex][TARGET];
    }

    function _checkDeadline(uint64 deadline, uint32 timeoutSeconds) private view {
        uint256 latest = block.timestamp + (timeoutSeconds == 0 ? MAX_DURATION : timeoutSeconds);
        if (deadline <= block.timestamp || deadline > latest) {
            revert LedgerInvalidDeadline(deadline, block.timestamp, latest);
        }
    }

    /// @dev Checks every packet against the route and the first packet, its sequence and its whole signature
    /// sequence, and the pipe's permission (the first packet's came with the route); returns the last sequence.
    function _verifyPackets(
        SignedPacket[] calldata packets,
        IPipeAuthority.PipeRoute memory route,
        IPipeAuthority.Refusal refusal,
        IPipeAuthority pipes,
        uint64 lastSequence,
        bytes32[MAX_PACKETS] memory hashes
    ) private view returns (uint64) {
        for (uint256 i = 0; i < packets.length; ++i) {
            AMDP.Packet calldata p = packets[i].packet;
            _matchRoute(i, p, packets[0].packet, route);
            if (p.sequence <= lastSequence) revert LedgerSequenceReused(p.pipeId, p.sequence, lastSequence);
            lastSequence = p.sequence;
            hashes[i] = _verifySignatures(packets[i], route);
            if (i != 0) pipes.requireOperation(p.pipeId, p.signer, p.operation, p.selector);
            else if (refusal != IPipeAuthority.Refusal.Allowed) {
                revert IPipeAuthority.PipeOperationRefused(p.pipeId, p.signer, refusal);
            }
        }
        return lastSequence;
    }

    /// @dev Stage 1 by the route's source app key, stage 2 by its source service signer, under this ledger's domain.
    function _verifySignatures(
        SignedPacket calldata s,
        IPipeAuthority.PipeRoute memory route
    ) private view returns (bytes32) {
        return
            AMDP.verifySequence(
                _domainSeparatorV4(),
                s.packet,
                s.appSignature,
                s.proxySignature,
                route.sourceAppKey,
                route.sourceServiceSigner
            );
    }

    function _matchRoute(
        uint256 i,
        AMDP.Packet calldata p,
        AMDP.Packet calldata first,
        IPipeAuthority.PipeRoute memory route
    ) private pure {
        if (p.pipeId != first.pipeId) revert LedgerPacketMismatch(i, PacketField.PipeId);
        if (p.txId != first.txId) revert LedgerPacketMismatch(i, PacketField.TxId);
        if (p.sourceInstitution != route.sourceInstitution) {
            revert LedgerPacketMismatch(i, PacketField.SourceInstitution);
        }
        if (p.targetInstitution != route.targetInstitution) {
            revert LedgerPacketMismatch(i, PacketField.TargetInstitution);
        }
        if (p.targetService != route.targetService) revert LedgerPacketMismatch(i, PacketField.TargetService);
        if (p.contractName != route.contractName) revert LedgerPacketMismatch(i, PacketField.ContractName);
    }

    /// @dev Validates the steps and packs them; the k-th target step takes the k-th packet. Two-phase writes
    /// (OPERATION_TWO_PHASE_WRITE) make the transaction two-phase: no plain write beside them, one per side (the
    /// gateway keys a prepared write by the transaction id), at most MAX_STEPS - 1 steps (bit 39 marks the mode).
    function _encodeSteps(
        Step[] calldata steps,
        SignedPacket[] calldata packets,
        IPipeAuthority.PipeRoute memory route
    ) private pure returns (uint256 encoded) {
        uint256 used = 0;
        uint256 writes = 0; // bit 0: a plain write; bits 1-2: a two-phase write on the source, the target side
        for (uint256 i = 0; i < steps.length; ++i) {
            Step calldata s = steps[i];
            uint8 op = s.operation;
            if (op > OPERATION_TWO_PHASE_WRITE) revert LedgerInvalidStep(i, StepProblem.InvalidOperation);
            bool target = s.side == Side.Target;
            if (s.subchain != (target ? route.targetSubchain : route.sourceSubchain)) {
                revert LedgerInvalidStep(i, StepProblem.SubchainMismatch);
            }
            if (op != OPERATION_READ)
                writes = _writeSeen(writes, i, op == OPERATION_TWO_PHASE_WRITE ? (target ? 4 : 2) : 1);
            if (target) {
                if (used == packets.length) revert LedgerInvalidStep(i, StepProblem.NoPacket);
                if (packets[used].packet.operation != (op == OPERATION_READ ? OPERATION_READ : OPERATION_WRITE)) {
                    revert LedgerInvalidStep(i, StepProblem.OperationMismatch);
                }
                ++used;
            }
            uint256 dependsOn = s.dependsOn == NO_DEPENDENCY ? LedgerSteps.NONE : s.dependsOn;
            if (dependsOn != LedgerSteps.NONE) {
                bool valid = dependsOn < i && op != OPERATION_READ && !encoded.isWrite(dependsOn);
                if (!valid) revert LedgerInvalidStep(i, StepProblem.InvalidDependency);
            }
            encoded = encoded.withStep(i, target, op != OPERATION_READ, dependsOn);
        }
        if (used != packets.length) revert LedgerPacketsUnused(used, packets.length);
        if (writes > 1) {
            if (steps.length == MAX_STEPS) revert LedgerInvalidStepCount(steps.length, MAX_STEPS - 1);
            encoded |= LedgerSteps.TWO_PHASE;
        }
    }

    /// @dev Adds the write `kind` (1 plain, 2 or 4 two-phase on a side) of step `i` to `seen`, refusing a mix.
    function _writeSeen(uint256 seen, uint256 i, uint256 kind) private pure returns (uint256) {
        bool mixed = kind == 1 ? seen > 1 : (seen & (kind | 1) != 0);
        if (mixed) revert LedgerInvalidStep(i, StepProblem.TwoPhaseWrites);
        return seen | kind;
    }

    // ---------------------------------------------------------------- results

    /// @inheritdoc ITransactionLedger
    function recordResult(Result calldata result) external {
        (bool failed, uint32 institution, ) = _record(result, 0);
        // INTERACTIONS
        if (failed) _report(institution, ICreditScore.Outcome.Failed, result.txId);
    }

    /// @inheritdoc ITransactionLedger
    function recordResults(Result[] calldata results) external {
        _requireBatchSize(results.length);
        Report[] memory reports = new Report[](results.length);
        uint256 count = 0;
        uint256 checked = 0;
        for (uint256 i = 0; i < results.length; ++i) {
            // One caller: asked once per service it records for (a key serves one service, so once per batch).
            bool failed;
            uint32 institution;
            (failed, institution, checked) = _record(results[i], checked);
            if (failed) reports[count++] = Report(institution, ICreditScore.Outcome.Failed, results[i].txId);
        }
        // INTERACTIONS
        _send(reports, count);
    }

    /**
     * @dev Records one result; returns whether the step failed (to be reported), the institution of its side and the
     * service the caller is now the signer of, plus one (`checked`: already asked in this call, 0 when none).
     */
    function _record(
        Result calldata rc,
        uint256 checked
    ) private returns (bool failed, uint32 institution, uint256 service) {
        Result memory r = rc;
        TxId txId = r.txId;
        TxRecord memory t;
        uint256 side;
        uint256 dependsOn;
        (t, side, dependsOn, service) = _checkResult(r, checked);

        // EFFECTS
        bytes32 resultSetHash = keccak256(abi.encode(_resultSetHashes[txId], keccak256(abi.encode(r))));
        _resultSetHashes[txId] = resultSetHash;
        if (t.state == TxState.Committing) {
            failed = !_recordCommit(txId, t, r);
            if (failed) institution = _pipeSides[t.pipeIndex][side].institution;
            _store(txId, t);
            // The last commit moves it to Executed; a failed one to Manual, by a TxTransitioned.
            _emitResult(r, resultSetHash, t.state == TxState.Executed ? TxState.Executed : TxState.None);
            return (failed, institution, service);
        }
        TxState to = TxState.None;
        if (r.success) {
            t.doneMask |= uint8(1 << r.step);
            if (r.operation == OPERATION_READ) _keepReadVersion(txId, t, r.step, r.stateVersion);
        }
        uint64 readVersion = dependsOn == LedgerSteps.NONE ? 0 : _readVersion(txId, t, dependsOn);
        if (dependsOn != LedgerSteps.NONE && r.stateVersion != readVersion) {
            emit StaleReadRejected(txId, r.step, uint8(dependsOn), readVersion, r.stateVersion);
            _fail(txId, t, Reason.StaleRead);
        } else if (!r.success) {
            _fail(txId, t, Reason.StepFailed);
            failed = true;
            institution = _pipeSides[t.pipeIndex][side].institution;
        } else {
            if (t.state == TxState.Open) {
                to = TxState.Executing;
                _advance(txId, t, to);
            }
            if (t.doneMask == LedgerSteps.allSteps(t.stepCount)) {
                // Two-phase: every write is prepared (its locks held) and every read done, so the decision is commit.
                to = LedgerSteps.isTwoPhase(t.steps, t.stepCount) ? TxState.Committing : TxState.Executed;
                _advance(txId, t, to);
            }
        }
        _store(txId, t);
        _emitResult(r, resultSetHash, to);
    }

    /**
     * @dev A side's commit of its prepared write while Committing; returns whether it committed. While Committing,
     * `undoneMask` holds the committed writes (nothing is compensated in that state); it is cleared at Executed. A
     * side that could not commit (its gateway rolled back past deadline + grace) leaves the other side committed:
     * Manual, for a governor.
     */
    function _recordCommit(TxId txId, TxRecord memory t, Result memory r) private returns (bool) {
        if (!r.success) {
            t.reason = Reason.CommitFailed;
            _transition(txId, t, TxState.Manual);
            return false;
        }
        t.undoneMask |= uint8(1 << r.step);
        if (t.undoneMask == LedgerSteps.writeMask(t.steps, t.stepCount)) {
            t.undoneMask = 0;
            _advance(txId, t, TxState.Executed);
        }
        return true;
    }

    /// @dev The checks of a result; returns the transaction, the step's side, the read the step depends on
    /// (LedgerSteps.NONE if none) and the side's service plus one, its signer checked unless it is `checked`.
    function _checkResult(
        Result memory r,
        uint256 checked
    ) private view returns (TxRecord memory t, uint256 side, uint256 dependsOn, uint256 service) {
        TxId txId = r.txId;
        t = _load(txId);
        bool committing = t.state == TxState.Committing;
        if (!committing) _requireRunning(txId, t.state, TxState.Executing);
        side = _sideOf(txId, t, r.step);
        // The side's service and sub-chain in one read; a sub-chain mismatch is named from the full copy.
        bytes32 key = _recorderKeys[t.pipeIndex][side];
        uint16 own = uint16(uint256(key));
        service = uint256(own) + 1;
        // An alternate route's signer is asked again at each result (0: nothing to remember for the batch).
        if (service != checked && !_requireRecorder(txId, r.step, t.pipeIndex, side, own)) service = 0;
        if (_recorderKey(r.subchain, own) != key) {
            revert LedgerSubchainMismatch(txId, r.step, _pipeSubchains[t.pipeIndex][side], r.subchain);
        }
        uint256 steps = t.steps;
        uint8 operation = steps.isWrite(r.step) ? OPERATION_WRITE : OPERATION_READ;
        if (r.operation != operation) revert LedgerOperationMismatch(txId, r.step, operation, r.operation);
        if (committing) {
            // A commit: of a prepared write not yet committed. The gateway held its lock to deadline + grace at most.
            if (operation == OPERATION_READ || t.undoneMask & (1 << r.step) != 0)
                revert LedgerStepAlreadyRecorded(txId, r.step);
            return (t, side, LedgerSteps.NONE, service);
        }
        _requireBeforeDeadline(txId, t);
        if (t.doneMask & (1 << r.step) != 0) revert LedgerStepAlreadyRecorded(txId, r.step);
        dependsOn = steps.dependsOn(r.step);
        if (dependsOn != LedgerSteps.NONE && t.doneMask & (1 << dependsOn) == 0) {
            revert LedgerDependencyPending(txId, r.step, uint8(dependsOn));
        }
    }

    /// @dev After the result's effects: `to` is the move of the normal path it made, None if none.
    function _emitResult(Result memory r, bytes32 resultSetHash, TxState to) private {
        emit ResultRecorded(
            r.txId,
            r.step,
            to,
            msg.sender,
            r.subchain,
            r.subchainTx,
            r.blockNumber,
            r.resultHash,
            r.operation,
            r.success,
            r.stateVersion,
            resultSetHash
        );
    }

    // ---------------------------------------------------------------- verification (delegated)

    /// @inheritdoc ITransactionLedgerEndorsement
    function endorse(TxId, bytes32) external {
        _delegate(_endorsement);
    }

    /// @inheritdoc ITransactionLedgerEndorsement
    function endorseMany(EndorseRequest[] calldata) external {
        _delegate(_endorsement);
    }

    // ---------------------------------------------------------------- recovery (delegated)

    /// @inheritdoc ITransactionLedgerRecovery
    function retryStep(TxId, uint8, string calldata) external {
        _delegate(_recovery);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function expire(TxId) external {
        _delegate(_recovery);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function syncPipe(PipeId) external {
        _delegate(_recovery);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function recordCompensation(Compensation calldata) external {
        _delegate(_recovery);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function escalate(TxId, string calldata) external {
        _delegate(_recovery);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function resolve(TxId, string calldata) external {
        _delegate(_recovery);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function reportRefusal(AMDP.Packet calldata, bytes calldata, bytes calldata) external returns (RefusalKind) {
        _delegate(_recovery);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function setVerifier(address, VerifierKind, uint8) external {
        _delegate(_recovery);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function setMaxRetries(uint8) external {
        _delegate(_recovery);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function setPipeAuthority(address) external {
        _delegate(_recovery);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function setCreditScore(address) external {
        _delegate(_recovery);
    }

    /// @dev Runs the call in `module` on this contract's storage and returns or reverts with its result.
    function _delegate(address module) private {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, 0, calldatasize())
            let ok := delegatecall(gas(), module, ptr, calldatasize(), 0, 0)
            returndatacopy(ptr, 0, returndatasize())
            if iszero(ok) {
                revert(ptr, returndatasize())
            }
            return(ptr, returndatasize())
        }
    }

    // ---------------------------------------------------------------- views (delegated)

    /// @inheritdoc ITransactionLedgerViews
    function transaction(TxId) external view returns (TxView memory v) {
        v; // named for the ABI; the module returns the values
        _delegateView();
    }

    /// @inheritdoc ITransactionLedgerViews
    function stepOf(TxId, uint8) external view returns (Side side, uint8 operation, uint8 dependsOn) {
        (side, operation, dependsOn); // named for the ABI; the module returns the values
        _delegateView();
    }

    /// @inheritdoc ITransactionLedgerViews
    function openedOf(TxId, PipeId) external view returns (OpenedTx memory o) {
        o; // named for the ABI; the module returns the values
        _delegateView();
    }

    /// @inheritdoc ITransactionLedgerViews
    function readVersionOf(TxId, uint8) external view returns (uint64) {
        _delegateView();
    }

    /// @inheritdoc ITransactionLedgerViews
    function attemptsOf(TxId, uint8) external view returns (uint8 retries, uint8 compensations) {
        (retries, compensations); // named for the ABI; the module returns the values
        _delegateView();
    }

    /// @inheritdoc ITransactionLedgerViews
    function hasEndorsed(TxId, address) external view returns (bool) {
        _delegateView();
    }

    /// @inheritdoc ITransactionLedgerViews
    function unresolvedAmong(TxId[] calldata) external view returns (Unresolved[] memory items) {
        items; // named for the ABI; the module returns the values
        _delegateView();
    }

    /// @inheritdoc ITransactionLedgerViews
    function pipeOf(
        PipeId
    )
        external
        view
        returns (
            uint64 lastSequence,
            address sourceSigner,
            address targetSigner,
            uint32 sourceInstitution,
            uint32 targetInstitution
        )
    {
        // named for the ABI; the module returns the values
        (lastSequence, sourceSigner, targetSigner, sourceInstitution, targetInstitution);
        _delegateView();
    }

    /// @inheritdoc ITransactionLedgerViews
    function verifier(address) external view returns (Verifier memory) {
        _delegateView();
    }

    /**
     * @dev Serves a view from the view module: a view may not delegatecall, so it calls this contract statically
     * with the calldata behind {VIEW_CALL}, which the fallback below delegatecalls to the module. The static call
     * guarantees the module changes nothing.
     */
    function _delegateView() private view {
        bytes4 prefix = VIEW_CALL;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, prefix)
            calldatacopy(add(ptr, 4), 0, calldatasize())
            let ok := staticcall(gas(), address(), ptr, add(calldatasize(), 4), 0, 0)
            returndatacopy(ptr, 0, returndatasize())
            if iszero(ok) {
                revert(ptr, returndatasize())
            }
            return(ptr, returndatasize())
        }
    }

    /// @notice Only this contract's own static calls from its views (see {_delegateView}); anyone else is refused.
    // solhint-disable-next-line no-complex-fallback
    fallback() external {
        if (msg.sender != address(this) || bytes4(msg.data) != VIEW_CALL) revert LedgerDirectCall();
        address module = _views;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let size := sub(calldatasize(), 4)
            calldatacopy(ptr, 4, size)
            let ok := delegatecall(gas(), module, ptr, size, 0, 0)
            returndatacopy(ptr, 0, returndatasize())
            if iszero(ok) {
                revert(ptr, returndatasize())
            }
            return(ptr, returndatasize())
        }
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ITransactionLedger
    function statusOf(
        TxId txId
    ) external view returns (TxState state, uint64 deadline, uint8 stepsDone, uint8 stepCount) {
        TxRecord memory t = _get(txId);
        return (t.state, t.deadline, LedgerSteps.popcount(t.doneMask), t.stepCount);
    }

    /// @inheritdoc ITransactionLedger
    function txCount() external view returns (uint64) {
        return _registry.txCount;
    }

    /// @inheritdoc ITransactionLedger
    function refusalReported(bytes32 packetHash) external view returns (bool) {
        return _refusals[packetHash];
    }

    /// @inheritdoc ITransactionLedger
    function totalWeight() external view returns (uint16) {
        return _settings.totalWeight;
    }

    /// @inheritdoc ITransactionLedger
    function maxRetries() external view returns (uint8) {
        return _settings.maxRetries;
    }

    /// @inheritdoc ITransactionLedger
    function pipeAuthority() external view returns (address) {
        return address(_registry.pipes);
    }

    /// @inheritdoc ITransactionLedger
    function creditScore() external view returns (address) {
        return address(_settings.credit);
    }

    /// @inheritdoc ITransactionLedger
    function membership() external view returns (address) {
        return address(_membership);
    }

    /// @inheritdoc ITransactionLedger
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc ITransactionLedger
    function recoveryModule() external view returns (address) {
        return _recovery;
    }

    /// @inheritdoc ITransactionLedger
    function viewsModule() external view returns (address) {
        return _views;
    }

    /// @inheritdoc ITransactionLedger
    function endorsementModule() external view returns (address) {
        return _endorsement;
    }
}
