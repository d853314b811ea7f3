// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {AMDP} from "../libraries/AMDP.sol";
import {LedgerSteps} from "../libraries/LedgerSteps.sol";
import {ICreditScore} from "../interfaces/ICreditScore.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IPipeAuthority} from "../interfaces/IPipeAuthority.sol";
import {ITransactionLedgerRecovery} from "../interfaces/ITransactionLedger.sol";
import {LedgerStorage} from "./LedgerStorage.sol";
import {PipeId, SubchainId, TxId} from "../types/Ids.sol";

/**
 * @title LedgerRecovery
 * @notice The transaction ledger's recovery module: retries, expiry, compensation, manual resolution, refusal
 * reports, the refresh of a pipe's copy and the governed setters. It holds no state of its own: {TransactionLedger}
 * delegatecalls it, so it runs on the ledger's storage, under the ledger's address (and AMDP domain), with the
 * ledger's caller.
 * @dev Split from the ledger to keep each contract under the EIP-170 code size limit; only the failure paths and
 * the maintenance calls pay the extra delegatecall. Called directly it refuses everything ({LedgerDirectCall}).
 */
contract LedgerRecovery is ITransactionLedgerRecovery, LedgerStorage {
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

    // ---------------------------------------------------------------- compensation

    /// @inheritdoc ITransactionLedgerRecovery
    function retryStep(TxId txId, uint8 step, string calldata reason) external onlyDelegated {
        TxRecord memory t = _load(txId);
        _requireRunning(txId, t.state, TxState.Executing);
        _authorizeStep(txId, t, step);
        _requireBeforeDeadline(txId, t);
        if (t.doneMask & (1 << step) != 0) revert LedgerStepAlreadyRecorded(txId, step);
        uint64 counts = _attempts[txId];
        uint8 retries = _nibble(counts, step);
        uint8 bound = _settings.maxRetries;
        if (retries >= bound) revert LedgerRetryLimitReached(txId, step, bound);
        _attempts[txId] = _withNibble(counts, step, retries + 1);
        emit StepRetried(txId, step, msg.sender, retries + 1, reason);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function expire(TxId txId) external onlyDelegated {
        // CHECKS
        TxRecord memory t = _load(txId);
        _requireRunning(txId, t.state, TxState.Expired);
        if (block.timestamp <= t.deadline) revert LedgerDeadlineNotReached(txId, t.deadline, block.timestamp);

        // EFFECTS
        t.reason = Reason.Expired;
        _transition(txId, t, TxState.Expired);
        if (_pendingWrites(t) != 0) _transition(txId, t, TxState.Compensating);
        _store(txId, t);

        // INTERACTIONS: the institution that did not act in time.
        _report(_pipeSides[t.pipeIndex][_timedOutSide(txId, t)].institution, ICreditScore.Outcome.TimedOut, txId);
    }

    /**
     * @dev The side that failed to act in time: the side of the step due next, except a target step while the target
     * never showed that the transaction reached it (no target step recorded and no retry of one). The source opened
     * the transaction and had to deliver its packets; nothing on the ledger shows the target received them, so the
     * target is charged only once it acknowledged them (a result or a retry of one of its steps).
     */
    function _timedOutSide(TxId txId, TxRecord memory t) private view returns (uint256) {
        uint256 steps = t.steps;
        if (!steps.isTarget(LedgerSteps.lowestUnset(t.doneMask, t.stepCount))) return SOURCE;
        uint64 counts = _attempts[txId];
        for (uint256 i = 0; i < t.stepCount; ++i) {
            bool acted = (t.doneMask >> i) & 1 != 0 || _nibble(counts, i) != 0;
            if (acted && steps.isTarget(i)) return TARGET;
        }
        return SOURCE;
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function recordCompensation(Compensation calldata c) external onlyDelegated {
        TxId txId = c.txId;
        TxRecord memory t = _load(txId);
        if (t.state != TxState.Compensating) revert LedgerInvalidTransition(txId, t.state, TxState.Compensated);
        (uint256 side, ) = _authorizeStep(txId, t, c.step);
        if (_pendingWrites(t) & (1 << c.step) == 0) revert LedgerNotCompensable(txId, c.step);
        SubchainId subchain = _pipeSubchains[t.pipeIndex][side];
        if (c.subchain != subchain) revert LedgerSubchainMismatch(txId, c.step, subchain, c.subchain);
        uint64 counts = _attempts[txId];
        // The last allowed failure sends the transaction to Manual, so `attempt` never exceeds the bound + 1 here.
        uint8 attempt = _nibble(counts, 8 + c.step) + 1;
        _attempts[txId] = _withNibble(counts, 8 + c.step, attempt);
        _emitCompensation(c, attempt);
        if (c.success) {
            t.undoneMask |= uint8(1 << c.step);
            if (_pendingWrites(t) == 0) _transition(txId, t, TxState.Compensated);
        } else if (attempt > _settings.maxRetries) {
            t.reason = Reason.CompensationFailed;
            _transition(txId, t, TxState.Manual);
        }
        _store(txId, t);
    }

    function _emitCompensation(Compensation calldata c, uint8 attempt) private {
        emit CompensationRecorded(
            c.txId,
            c.step,
            msg.sender,
            c.subchain,
            c.subchainTx,
            c.blockNumber,
            c.resultHash,
            c.success,
            attempt
        );
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function escalate(TxId txId, string calldata reason) external onlyDelegated {
        TxRecord memory t = _load(txId);
        _requireAllowed(txId, t.state, TxState.Manual);
        // A running transaction past its deadline expires instead: escalating it would race the expirer.
        if (t.state == TxState.Open || t.state == TxState.Executing) _requireBeforeDeadline(txId, t);
        // A proxy is the current signer of either side's service (asked now: see {_requireRecorder}); anyone else must
        // be an active governor.
        PipeSide[2] storage sides = _pipeSides[t.pipeIndex];
        IPipeAuthority pipes = _registry.pipes;
        (address signer, bool serving) = pipes.serviceSigner(sides[SOURCE].service);
        if (msg.sender != signer) (signer, serving) = pipes.serviceSigner(sides[TARGET].service);
        if (msg.sender != signer) {
            _membership.requireActiveAccount(msg.sender, IMembership.Role.Governor);
        } else if (!serving) {
            revert LedgerSignerNotServing(msg.sender);
        }
        t.reason = Reason.Escalated;
        _transition(txId, t, TxState.Manual);
        _store(txId, t);
        emit TxEscalated(txId, msg.sender, reason);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function resolve(TxId txId, string calldata reason) external onlyDelegated {
        _membership.requireActiveAccount(msg.sender, IMembership.Role.Governor);
        TxRecord memory t = _load(txId);
        if (t.state != TxState.Manual) revert LedgerInvalidTransition(txId, t.state, TxState.Resolved);
        _transition(txId, t, TxState.Resolved);
        _store(txId, t);
        emit TxResolved(txId, msg.sender, reason);
    }

    // ---------------------------------------------------------------- pipes

    /// @inheritdoc ITransactionLedgerRecovery
    function syncPipe(PipeId pipeId) external onlyDelegated {
        Registry memory registry = _registry;
        // No operation to answer for: the zero signer and selector take the registry's shortest path.
        (IPipeAuthority.OpeningRoute memory o, ) = _route(registry.pipes, pipeId, address(0), 0, bytes4(0));
        IPipeAuthority.PipeRoute memory route = _changing(o);
        _readFixed(registry.pipes, pipeId, route);
        PipeRef memory ref = _pipeRefs[pipeId];
        _syncRoute(pipeId, ref, registry, route, [o.sourceServiceIndex, o.targetServiceIndex]);
        _registry = registry;
        _pipeRefs[pipeId] = ref;
    }

    // ---------------------------------------------------------------- refusals

    /// @inheritdoc ITransactionLedgerRecovery
    function reportRefusal(
        AMDP.Packet calldata p,
        bytes calldata appSignature,
        bytes calldata proxySignature
    ) external onlyDelegated returns (RefusalKind kind) {
        // CHECKS
        bytes32 packetHash = AMDP.hashCalldata(p);
        if (_refusals[packetHash]) revert LedgerRefusalAlreadyReported(packetHash);
        (IPipeAuthority.OpeningRoute memory route, ) = _route(
            _registry.pipes,
            p.pipeId,
            p.signer,
            p.operation,
            p.selector
        );
        _requireCountersigned(packetHash, appSignature, proxySignature, route.sourceServiceSigner);
        kind = _classifyRefusal(p, packetHash, appSignature);

        // EFFECTS
        _refusals[packetHash] = true;
        emit RefusalRecorded(p.pipeId, packetHash, msg.sender, route.sourceInstitution, kind, p.txId, p.sequence);

        // INTERACTIONS
        _report(route.sourceInstitution, ICreditScore.Outcome.BadSignature, p.txId);
    }

    /// @dev The pipe's source proxy countersigned (packet, exact stage-1 signature): the institution vouched for it.
    function _requireCountersigned(
        bytes32 packetHash,
        bytes calldata appSignature,
        bytes calldata proxySignature,
        address proxy
    ) private view {
        bytes32 digest = _hashTypedDataV4(AMDP.countersignatureHash(packetHash, keccak256(appSignature), proxy));
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, proxySignature);
        if (err != ECDSA.RecoverError.NoError || recovered != proxy) revert LedgerNotRefusable(packetHash);
    }

    /**
     * @dev Only a stage-1 signature that does not verify proves anything. A packet whose transaction id or sequence
     * the ledger already used was signed while the pipe's keys were in force, whatever they are now (a rotation
     * would turn every opened packet into a "bad key"); a valid signature by a key the pipe does not allow now may
     * have been made before a rotation, so neither is the institution's fault.
     */
    function _classifyRefusal(
        AMDP.Packet calldata p,
        bytes32 packetHash,
        bytes calldata appSignature
    ) private view returns (RefusalKind) {
        if (_txs[p.txId].state != TxState.None || p.sequence <= _pipeRefs[p.pipeId].lastSequence) {
            revert LedgerNotRefusable(packetHash);
        }
        (address app, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(_hashTypedDataV4(packetHash), appSignature);
        if (err != ECDSA.RecoverError.NoError || app != p.signer) return RefusalKind.BadSignature;
        revert LedgerNotRefusable(packetHash);
    }

    // ---------------------------------------------------------------- governed

    /// @inheritdoc ITransactionLedgerRecovery
    function setVerifier(address account, VerifierKind kind, uint8 weight) external onlyDelegated onlyGovernance {
        if (account == address(0)) revert LedgerInvalidAddress(account);
        Settings memory s = _settings;
        Verifier memory v = _verifiers[account];
        if (weight == 0) {
            if (v.weight == 0) revert LedgerUnknownVerifier(account);
            s.totalWeight -= v.weight;
            s.verifierSlots &= ~(uint16(1) << v.index);
            delete _institutionVerifiers[_verifierSlots[v.index].institution];
            delete _verifierSlots[v.index];
            delete _verifiers[account];
            _settings = s;
            emit VerifierSet(account, VerifierKind.None, 0, v.index, s.totalWeight);
            return;
        }
        if (kind == VerifierKind.None) revert LedgerInvalidVerifierKind(account, kind);
        uint32 institution = _membership.requireActiveAccount(account, _roleOf(kind));
        VerifierSlot memory slot;
        if (v.weight == 0) {
            // One seat per institution: several keys of one institution are still one opinion.
            address holder = _institutionVerifiers[institution];
            if (holder != address(0)) revert LedgerInstitutionHasVerifier(institution, holder);
            uint256 index = LedgerSteps.lowestUnset(s.verifierSlots, MAX_VERIFIERS);
            if (index == MAX_VERIFIERS) revert LedgerTooManyVerifiers(MAX_VERIFIERS);
            v.index = uint8(index);
            s.verifierSlots |= uint16(1) << v.index;
            // A new holder starts a new epoch: the endorsement bits a former holder of the slot left never count.
            ++s.epoch;
            slot = VerifierSlot({account: account, institution: institution, weight: 0, kind: kind, since: s.epoch});
            _institutionVerifiers[institution] = account;
        } else {
            slot = _verifierSlots[v.index];
        }
        s.totalWeight = s.totalWeight - v.weight + weight;
        v.kind = kind;
        v.weight = weight;
        slot.kind = kind;
        slot.weight = weight;
        _verifiers[account] = v;
        _verifierSlots[v.index] = slot;
        _settings = s;
        emit VerifierSet(account, kind, weight, v.index, s.totalWeight);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function setMaxRetries(uint8 maxRetries_) external onlyDelegated onlyGovernance {
        _setMaxRetries(maxRetries_);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function setPipeAuthority(address pipes) external onlyDelegated onlyGovernance {
        _setPipeAuthority(pipes);
    }

    /// @inheritdoc ITransactionLedgerRecovery
    function setCreditScore(address credit) external onlyDelegated onlyGovernance {
        _setCreditScore(credit);
    }

    /// @notice The membership contract this module was built for (the ledger checks it matches its own).
    function membership() external view returns (address) {
        return address(_membership);
    }
}
