// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Governed} from "../governance/Governed.sol";
import {ICreditScore} from "../interfaces/ICreditScore.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IPipeAuthority} from "../interfaces/IPipeAuthority.sol";
import {ITransactionLedgerTypes} from "../interfaces/ITransactionLedger.sol";
import {LedgerStates} from "../libraries/LedgerStates.sol";
import {LedgerSteps} from "../libraries/LedgerSteps.sol";
import {PipeId, SubchainId, TxId} from "../types/Ids.sol";

/**
 * @title LedgerStorage
 * @notice The storage and the shared internals of the transaction ledger, inherited by {TransactionLedger} and by
 * its recovery module {LedgerRecovery}, which runs by delegatecall on the ledger's storage.
 * @dev Neither heir may declare a state variable: both must have exactly this layout (EIP712's two fallback
 * strings first, then the variables below). Immutables live in each heir's code, so both are built with the same
 * membership and voting addresses (the ledger checks it).
 *
 * Storage is kept lean: one slot per transaction for its whole state machine (the version of the read a write
 * depends on included; read and written whole, see {_get}) and one for the hash chain of its results.
 * Reconciliation finds transactions through the indexed {TxOpened} events, so no per-transaction index is stored. A
 * pipe's service indexes, institutions and sub-chains (all fixed for the pipe) are copied once per pipe: never its
 * keys, which the pipe authority gives now ({_requireRecorder}). Recording a result reads one slot per side, its
 * service index and its sub-chain's hash ({_recorderKeys}); crediting both institutions reads one ({PipeSide.peer}).
 */
abstract contract LedgerStorage is ITransactionLedgerTypes, Governed, EIP712 {
    using LedgerSteps for uint256;

    /// @notice Packets per open.
    uint256 public constant MAX_PACKETS = 4;
    /// @notice Steps per transaction (the masks are 8 bits).
    uint256 public constant MAX_STEPS = LedgerSteps.MAX_STEPS;
    /// @notice `Step.dependsOn` of a step that depends on no read.
    uint8 public constant NO_DEPENDENCY = type(uint8).max;
    /// @notice Results per batch.
    uint256 public constant MAX_BATCH = 64;
    /// @notice Transactions per reconciliation page.
    uint256 public constant MAX_PAGE = 500;
    /// @notice The longest deadline when the pipe sets no timeout.
    uint256 public constant MAX_DURATION = 30 days;
    /// @notice Verifiers at once (the endorsement mask is 16 bits; weights are 1 to 255).
    uint256 public constant MAX_VERIFIERS = 16;
    /// @notice The largest retry bound (attempts are counted in 4 bits, the first compensation included).
    uint8 public constant MAX_RETRIES_CAP = 14;

    uint256 internal constant SOURCE = 0;
    uint256 internal constant TARGET = 1;

    /// @dev One storage slot: the whole state machine of a transaction.
    struct TxRecord {
        TxState state;
        Reason reason;
        uint8 stepCount;
        uint8 doneMask;
        uint8 undoneMask;
        uint40 steps; // LedgerSteps encoding
        uint32 deadline; // seconds; fits until 2106
        uint32 pipeIndex;
        uint64 readVersion; // the version recorded by the first read a write depends on (others: _readVersions)
        uint16 endorsedMask; // verifier slots that endorsed, as of `epoch`
        uint16 againstMask; // those of them that endorsed another result set
        uint16 epoch; // the verifier epoch when the masks were last written (see {VerifierSlot.since})
    }

    /// @dev One slot per pipe, read and written by every open.
    struct PipeRef {
        uint32 index;
        uint64 lastSequence;
        bytes20 fingerprint; // of the copied route fields, to skip the copy when nothing changed
    }

    /// @dev One slot per pipe side.
    struct PipeSide {
        uint16 service; // the side's service index: its current signer records that side's steps
        uint32 institution;
        uint32 peer; // the other side's institution, so that crediting both reads one slot
    }

    /// @dev One slot, read and written by every open.
    struct Registry {
        IPipeAuthority pipes;
        uint64 txCount;
        uint32 pipeCount;
    }

    /// @dev One slot, read by endorsements and credit reports.
    struct Settings {
        ICreditScore credit;
        uint16 totalWeight;
        uint16 verifierSlots; // bitmap of the verifier indexes in use
        uint8 maxRetries;
        uint16 epoch; // counts verifier slot assignments
    }

    /**
     * @dev One slot per verifier index: who holds it now. `since` is the epoch of the holder's assignment, so an
     * endorsement bit written at an earlier epoch than `since` belongs to a former holder and never counts.
     */
    struct VerifierSlot {
        address account;
        uint32 institution;
        uint8 weight;
        VerifierKind kind;
        uint16 since;
    }

    /// @dev Credit reports are collected during the effects and sent at the end (checks, effects, interactions).
    struct Report {
        uint32 institution;
        ICreditScore.Outcome outcome;
        TxId txId;
    }

    /**
     * @dev The verifier indexes whose standing was already asked in this call, and the answers. Nothing between the
     * checks of one call can change a standing (its calls are views; credit reports go last), so one call asks each
     * index at most once, however many transactions it endorses.
     */
    struct Standing {
        uint256 asked;
        uint256 valid;
    }

    /// @dev The endorsements of a transaction that count now (see {_tally}).
    struct Tally {
        uint16 endorsed; // the masks without the bits of former holders of an index
        uint16 against;
        uint256 forWeight; // of valid verifiers now
        uint256 againstWeight;
        uint256 markedWeight; // of every current holder that endorsed, valid or not
        bool nonParty; // a valid endorser of the recorded hash outside both institutions of the pipe
    }

    IMembership internal immutable _membership;
    address internal immutable _voting;

    Registry internal _registry;
    Settings internal _settings;

    mapping(TxId txId => TxRecord) internal _txs;
    mapping(TxId txId => bytes32 resultSetHash) internal _resultSetHashes;
    /// @dev Versions of the depended-on reads after the first (which is kept in the record itself).
    mapping(TxId txId => uint64[8] versions) internal _readVersions;
    /// @dev Nibble i: retries of step i; nibble 8 + i: compensation attempts of step i.
    mapping(TxId txId => uint64 counts) internal _attempts;

    mapping(PipeId pipeId => PipeRef) internal _pipeRefs;
    mapping(uint32 pipeIndex => PipeId pipeId) internal _pipeIdAt;
    mapping(uint32 pipeIndex => PipeSide[2]) internal _pipeSides;
    mapping(uint32 pipeIndex => SubchainId[2] subchains) internal _pipeSubchains;
    /**
     * @dev Per side, {_recorderKey}: the first 30 bytes of keccak256(abi.encode(subchain)) and the service index in
     * the last two, so a result's service and sub-chain come from one read. The sub-chain is the pipe's, fixed by the
     * registry: another with the same 240-bit hash is a second-preimage search.
     */
    mapping(uint32 pipeIndex => bytes32[2] keys) internal _recorderKeys;

    mapping(address account => Verifier) internal _verifiers;
    mapping(bytes32 packetHash => bool reported) internal _refusals;
    VerifierSlot[MAX_VERIFIERS] internal _verifierSlots;
    /// @dev At most one verifier per institution.
    mapping(uint32 institution => address verifier) internal _institutionVerifiers;

    constructor(IMembership membership_, address voting) EIP712("CCGP-AMDP", "1") {
        _requireContract(address(membership_));
        _requireContract(voting);
        _membership = membership_;
        _voting = voting;
    }

    /// @inheritdoc Governed
    function governance() public view override returns (address) {
        return _voting;
    }

    // ---------------------------------------------------------------- settings

    function _setMaxRetries(uint8 value) internal {
        if (value > MAX_RETRIES_CAP) revert LedgerInvalidMaxRetries(value, MAX_RETRIES_CAP);
        _settings.maxRetries = value;
        emit MaxRetriesSet(value);
    }

    function _setPipeAuthority(address pipes) internal {
        _requireContract(pipes);
        _registry.pipes = IPipeAuthority(pipes);
        emit PipeAuthoritySet(pipes);
    }

    function _setCreditScore(address credit) internal {
        _requireContract(credit);
        _settings.credit = ICreditScore(credit);
        emit CreditScoreSet(credit);
    }

    // ---------------------------------------------------------------- transactions

    function _requireBatchSize(uint256 size) internal pure {
        if (size == 0 || size > MAX_BATCH) revert LedgerInvalidBatchSize(size, MAX_BATCH);
    }

    /**
     * @dev Reads the record's slot once and unpacks it into memory (one word per member, in declaration order).
     * Solidity's own copy re-reads and masks the slot per member; the layout below is Solidity's packing of
     * {TxRecord}, from the lowest bit: state 8, reason 8, stepCount 8, doneMask 8, undoneMask 8, steps 40, deadline
     * 32, pipeIndex 32, readVersion 64, endorsedMask 16, againstMask 16, epoch 16 (the states test fills every
     * field at its widest and reads it back through the views).
     */
    function _get(TxId txId) internal view returns (TxRecord memory t) {
        TxRecord storage s = _txs[txId];
        assembly ("memory-safe") {
            let w := sload(s.slot)
            mstore(t, and(w, 0xff))
            mstore(add(t, 0x20), and(shr(8, w), 0xff))
            mstore(add(t, 0x40), and(shr(16, w), 0xff))
            mstore(add(t, 0x60), and(shr(24, w), 0xff))
            mstore(add(t, 0x80), and(shr(32, w), 0xff))
            mstore(add(t, 0xa0), and(shr(40, w), 0xffffffffff))
            mstore(add(t, 0xc0), and(shr(80, w), 0xffffffff))
            mstore(add(t, 0xe0), and(shr(112, w), 0xffffffff))
            mstore(add(t, 0x100), and(shr(144, w), 0xffffffffffffffff))
            mstore(add(t, 0x120), and(shr(208, w), 0xffff))
            mstore(add(t, 0x140), and(shr(224, w), 0xffff))
            mstore(add(t, 0x160), shr(240, w))
        }
    }

    function _load(TxId txId) internal view returns (TxRecord memory t) {
        t = _get(txId);
        if (t.state == TxState.None) revert LedgerUnknownTx(txId);
    }

    /// @dev Packs the record into its slot in one write (the layout of {_get}).
    function _store(TxId txId, TxRecord memory t) internal {
        TxRecord storage s = _txs[txId];
        assembly ("memory-safe") {
            let w := and(mload(t), 0xff)
            w := or(w, shl(8, and(mload(add(t, 0x20)), 0xff)))
            w := or(w, shl(16, and(mload(add(t, 0x40)), 0xff)))
            w := or(w, shl(24, and(mload(add(t, 0x60)), 0xff)))
            w := or(w, shl(32, and(mload(add(t, 0x80)), 0xff)))
            w := or(w, shl(40, and(mload(add(t, 0xa0)), 0xffffffffff)))
            w := or(w, shl(80, and(mload(add(t, 0xc0)), 0xffffffff)))
            w := or(w, shl(112, and(mload(add(t, 0xe0)), 0xffffffff)))
            w := or(w, shl(144, and(mload(add(t, 0x100)), 0xffffffffffffffff)))
            w := or(w, shl(208, and(mload(add(t, 0x120)), 0xffff)))
            w := or(w, shl(224, and(mload(add(t, 0x140)), 0xffff)))
            w := or(w, shl(240, and(mload(add(t, 0x160)), 0xffff)))
            sstore(s.slot, w)
        }
    }

    /// @dev Every state change goes through here: the transition table is the only authority.
    function _transition(TxId txId, TxRecord memory t, TxState to) internal {
        TxState from = t.state;
        _requireAllowed(txId, from, to);
        t.state = to;
        emit TxTransitioned(txId, msg.sender, to, from, t.reason);
    }

    /// @dev A move of the normal path, told by the event of the call that made it (see {TxTransitioned}).
    function _advance(TxId txId, TxRecord memory t, TxState to) internal pure {
        _requireAllowed(txId, t.state, to);
        t.state = to;
    }

    function _requireAllowed(TxId txId, TxState from, TxState to) internal pure {
        if (!LedgerStates.allowed(uint8(from), uint8(to))) revert LedgerInvalidTransition(txId, from, to);
    }

    /// @dev Refuses a call that needs the transaction Open or Executing; `to` is where the call leads.
    function _requireRunning(TxId txId, TxState state, TxState to) internal pure {
        if (state != TxState.Open && state != TxState.Executing) revert LedgerInvalidTransition(txId, state, to);
    }

    /// @dev The side of an existing step.
    function _sideOf(TxId txId, TxRecord memory t, uint8 step) internal pure returns (uint256) {
        if (step >= t.stepCount) revert LedgerUnknownStep(txId, step);
        return uint256(t.steps).isTarget(step) ? TARGET : SOURCE;
    }

    /// @dev The step exists and the caller is the proxy of its side, active now; returns the side and its institution.
    function _authorizeStep(
        TxId txId,
        TxRecord memory t,
        uint8 step
    ) internal view returns (uint256 side, uint32 institution) {
        side = _sideOf(txId, t, step);
        PipeSide memory recorder = _pipeSides[t.pipeIndex][side];
        _requireRecorder(txId, step, t.pipeIndex, side, recorder.service);
        return (side, recorder.institution);
    }

    /**
     * @dev The caller is now the signing key of the side's service and acts only while the service is enabled and its
     * account and institution are active. The key and that standing come from the pipe authority in one call (one
     * slot and one usability word there, told by the service registry and Membership in each change's own
     * transaction): the ledger keeps only the service's index, so a rotated-in key records at once and a rotated-out,
     * suspended or revoked one is refused at once, with no second call to Membership.
     * On the target side, the signer of one of the pipe's alternate target routes serving now is taken too (a
     * failover relayer: the pipe authority's {alternateSigner}, O(1), nothing cached here). Returns whether the caller
     * is the side's own service signer (which a batch asks once).
     */
    function _requireRecorder(
        TxId txId,
        uint8 step,
        uint32 pipeIndex,
        uint256 side,
        uint16 service
    ) internal view returns (bool own) {
        IPipeAuthority pipes = _registry.pipes;
        (address signer, bool serving) = pipes.serviceSigner(service);
        if (msg.sender == signer) {
            if (!serving) revert LedgerSignerNotServing(msg.sender);
            return true;
        }
        if (side != TARGET) revert LedgerUnauthorizedRecorder(txId, step, msg.sender, signer);
        (bool listed, bool alternateServing) = pipes.alternateSigner(_pipeIdAt[pipeIndex], msg.sender);
        if (!listed) revert LedgerUnauthorizedRecorder(txId, step, msg.sender, signer);
        if (!alternateServing) revert LedgerSignerNotServing(msg.sender);
        return false;
    }

    /// @dev See {_recorderKeys}.
    function _recorderKey(SubchainId subchain, uint16 service) internal pure returns (bytes32) {
        return (keccak256(abi.encode(subchain)) & ~bytes32(uint256(type(uint16).max))) | bytes32(uint256(service));
    }

    /// @dev Past its deadline a running transaction can only expire: nothing else may move it.
    function _requireBeforeDeadline(TxId txId, TxRecord memory t) internal view {
        if (block.timestamp > t.deadline) revert LedgerDeadlinePassed(txId, t.deadline, block.timestamp);
    }

    /// @dev The version recorded by read `step`, which some write depends on.
    function _readVersion(TxId txId, TxRecord memory t, uint256 step) internal view returns (uint64) {
        if (step == LedgerSteps.firstDepended(t.steps, t.stepCount)) return t.readVersion;
        return _readVersions[txId][step];
    }

    /// @dev Keeps the version of read `step` when a later write depends on it (the first such read in the record).
    function _keepReadVersion(TxId txId, TxRecord memory t, uint256 step, uint64 version) internal {
        uint256 first = LedgerSteps.firstDepended(t.steps, t.stepCount);
        if (step == first) t.readVersion = version;
        else if (LedgerSteps.isDepended(t.steps, t.stepCount, step)) _readVersions[txId][step] = version;
    }

    /// @dev Completed writes not yet undone.
    function _pendingWrites(TxRecord memory t) internal pure returns (uint256) {
        return uint256(t.doneMask) & LedgerSteps.writeMask(t.steps, t.stepCount) & ~uint256(t.undoneMask);
    }

    /// @dev Fails the transaction; completed writes go to compensation at once.
    function _fail(TxId txId, TxRecord memory t, Reason reason) internal {
        t.reason = reason;
        _transition(txId, t, TxState.Failed);
        if (_pendingWrites(t) != 0) _transition(txId, t, TxState.Compensating);
    }

    // ---------------------------------------------------------------- verification

    /**
     * @dev The endorsements of `t` that count now: of current holders of their index (written at or after their
     * assignment), with accounts active now. Bounded by MAX_VERIFIERS; reads only the indexes that endorsed.
     */
    function _tally(
        TxRecord memory t,
        uint256 used,
        PipeSide memory parties,
        Standing memory known
    ) internal view returns (Tally memory y) {
        uint256 marks = t.endorsedMask & used;
        for (uint256 i = 0; marks >> i != 0; ++i) {
            if ((marks >> i) & 1 == 0) continue;
            VerifierSlot memory slot = _verifierSlots[i];
            if (slot.since > t.epoch) continue;
            uint16 bit = uint16(1 << i);
            bool against = t.againstMask & bit != 0;
            y.endorsed |= bit;
            y.markedWeight += slot.weight;
            if (against) y.against |= bit;
            if (!_isValidAt(i, slot, known)) continue;
            if (against) {
                y.againstWeight += slot.weight;
            } else {
                y.forWeight += slot.weight;
                if (!_isParty(slot.institution, parties)) y.nonParty = true;
            }
        }
    }

    /// @dev {_isValid} of index `i`, asked once per call (see {Standing}).
    function _isValidAt(uint256 i, VerifierSlot memory slot, Standing memory known) internal view returns (bool ok) {
        uint256 bit = 1 << i;
        if (known.asked & bit != 0) return known.valid & bit != 0;
        ok = _isValid(slot);
        known.asked |= bit;
        if (ok) known.valid |= bit;
    }

    /// @dev The answer {IMembership.requireActiveAccount} gives now, for the institution the verifier was set in.
    function _isValid(VerifierSlot memory slot) internal view returns (bool) {
        // A service verifier is a proxy's signing key: it counts while it serves, which folds its account's and its
        // institution's standing (an account never changes institution, so the slot's is the account's).
        if (slot.kind == VerifierKind.Service) return _registry.pipes.isServingSigner(slot.account);
        uint256 before = gasleft();
        try _membership.requireActiveAccount(slot.account, _roleOf(slot.kind)) returns (uint32 institution) {
            return institution == slot.institution;
        } catch {
            // Out of gas is not "inactive": a caller must not drop a verifier by choosing the gas.
            if (gasleft() <= before / 63) revert LedgerInsufficientGas();
            return false;
        }
    }

    function _isParty(uint32 institution, PipeSide memory parties) internal pure returns (bool) {
        return institution == parties.institution || institution == parties.peer;
    }

    // ---------------------------------------------------------------- helpers

    /// @dev The route an open checks against and the pipe's answer for (signer, operation, selector), in one call.
    function _route(
        IPipeAuthority pipes,
        PipeId pipeId,
        address signer,
        uint8 operation,
        bytes4 selector
    ) internal view returns (IPipeAuthority.OpeningRoute memory r, IPipeAuthority.Refusal refusal) {
        (r, refusal) = pipes.openingRoute(pipeId, signer, operation, selector);
        if (r.status == IPipeAuthority.PipeStatus.None) revert LedgerUnknownPipe(pipeId);
    }

    /// @dev A route with the changing fields of `o` (the fixed ones still to fill).
    function _changing(IPipeAuthority.OpeningRoute memory o) internal pure returns (IPipeAuthority.PipeRoute memory r) {
        r.status = o.status;
        r.sourceInstitution = o.sourceInstitution;
        r.targetInstitution = o.targetInstitution;
        r.timeoutSeconds = o.timeoutSeconds;
        r.sourceAppKey = o.sourceAppKey;
        r.sourceServiceSigner = o.sourceServiceSigner;
        r.targetServiceSigner = o.targetServiceSigner;
    }

    function _readFixed(IPipeAuthority pipes, PipeId pipeId, IPipeAuthority.PipeRoute memory r) internal view {
        (r.targetService, r.contractName, r.sourceSubchain, r.targetSubchain) = pipes.fixedRoute(pipeId);
    }

    /// @dev Copies the route's service indexes, institutions and sub-chains when they changed (a new pipe: its index).
    function _syncRoute(
        PipeId pipeId,
        PipeRef memory ref,
        Registry memory registry,
        IPipeAuthority.PipeRoute memory route,
        uint16[2] memory services
    ) internal {
        if (ref.index == 0) {
            ref.index = ++registry.pipeCount;
            _pipeIdAt[ref.index] = pipeId;
        }
        bytes20 fingerprint = bytes20(
            keccak256(
                abi.encode(
                    services,
                    route.sourceInstitution,
                    route.targetInstitution,
                    route.sourceSubchain,
                    route.targetSubchain
                )
            )
        );
        if (fingerprint == ref.fingerprint) return;
        ref.fingerprint = fingerprint;
        (uint32 sourceInstitution, uint32 targetInstitution) = (route.sourceInstitution, route.targetInstitution);
        PipeSide[2] storage sides = _pipeSides[ref.index];
        sides[SOURCE] = PipeSide({service: services[SOURCE], institution: sourceInstitution, peer: targetInstitution});
        sides[TARGET] = PipeSide({service: services[TARGET], institution: targetInstitution, peer: sourceInstitution});
        _pipeSubchains[ref.index] = [route.sourceSubchain, route.targetSubchain];
        _recorderKeys[ref.index] = [
            _recorderKey(route.sourceSubchain, services[SOURCE]),
            _recorderKey(route.targetSubchain, services[TARGET])
        ];
        emit PipeSynced(
            pipeId,
            ref.index,
            route.sourceServiceSigner,
            route.targetServiceSigner,
            route.sourceInstitution,
            route.targetInstitution,
            route.sourceSubchain,
            route.targetSubchain
        );
    }

    function _roleOf(VerifierKind kind) internal pure returns (IMembership.Role) {
        // A service verifier is its proxy's signing key, which the service registry requires to be a business account.
        return kind == VerifierKind.Auditor ? IMembership.Role.Auditor : IMembership.Role.Business;
    }

    function _nibble(uint64 counts, uint256 i) internal pure returns (uint8) {
        return uint8((counts >> (4 * i)) & 0xf);
    }

    function _withNibble(uint64 counts, uint256 i, uint8 value) internal pure returns (uint64) {
        uint256 shift = 4 * i;
        return uint64((uint256(counts) & ~(uint256(0xf) << shift)) | (uint256(value) << shift));
    }

    function _requireContract(address account) internal view {
        if (account.code.length == 0) revert LedgerInvalidAddress(account);
    }

    /**
     * @dev Sends the collected credit reports: several in one call, which the credit contract takes all or none;
     * if it refuses, one by one. A refusing credit contract does not block the ledger: each refused report is
     * recorded in an event. A call that ran out of gas (the caller gave too little to cover it) reverts the whole
     * call instead, so nobody can skip a report by choosing the gas.
     */
    function _send(Report[] memory reports, uint256 count) internal {
        if (count == 0) return;
        ICreditScore credit = _settings.credit;
        if (count > 1) {
            ICreditScore.OutcomeReport[] memory batch;
            // The same struct (uint32, Outcome, bytes32), so the same memory layout; only the first `count` count.
            assembly ("memory-safe") {
                batch := reports
                mstore(batch, count)
            }
            uint256 start = gasleft();
            try credit.reportOutcomes(batch) {
                return;
            } catch {
                if (gasleft() <= start / 63) revert LedgerInsufficientGas();
            }
        }
        for (uint256 i = 0; i < count; ++i) {
            Report memory r = reports[i];
            uint256 before = gasleft();
            // A report that went through needs nothing more.
            // solhint-disable-next-line no-empty-blocks
            try credit.reportOutcome(r.institution, r.outcome, r.txId) {} catch (bytes memory reason) {
                if (gasleft() <= before / 63) revert LedgerInsufficientGas();
                emit CreditReportFailed(r.txId, r.institution, r.outcome, reason);
            }
        }
    }

    function _report(uint32 institution, ICreditScore.Outcome outcome, TxId txId) internal {
        Report[] memory reports = new Report[](1);
        reports[0] = Report(institution, outcome, txId);
        _send(reports, 1);
    }
}
