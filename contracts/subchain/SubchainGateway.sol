// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";
import {ISubchainGateway} from "../interfaces/ISubchainGateway.sol";
import {OPERATION_READ, OPERATION_WRITE, OPERATION_TWO_PHASE_WRITE} from "../types/Operations.sol";
import {IGatewayAttesters} from "../interfaces/IGatewayAttesters.sol";
import {ICrossChainBusiness} from "../interfaces/ICrossChainBusiness.sol";
import {ITwoPhaseBusiness} from "../interfaces/ITwoPhaseBusiness.sol";
import {PrivilegedSelectors} from "../libraries/PrivilegedSelectors.sol";
import {GatewayAttesters} from "./GatewayAttesters.sol";
import {NO_PIPE, NO_TX, PipeId, SubchainId, TxId} from "../types/Ids.sol";

/**
 * @title SubchainGateway
 * @notice The cross-chain gateway of one EVM sub-chain; see {ISubchainGateway}. It depends on nothing outside its
 * sub-chain: the governance chain is reached only through the relayer.
 *
 * Admin (DEFAULT_ADMIN_ROLE, the sub-chain's operator institution): registers business contracts by name and
 * grants or revokes RELAYER_ROLE. Revoking every relayer is the emergency stop of all inbound traffic.
 *
 * Attesters ({GatewayAttesters}): an inbound packet (execute, dependent write, two-phase prepare) runs only with
 * the attestations of `threshold` distinct current attesters over exactly what the governance ledger opened. The
 * relayer role is still required, and no longer sufficient; neither the admin nor a relayer can change the set.
 *
 * Inbound records: the record of packet `sequence` of a pipe is 21 bits (a 3-bit status and the 18-bit index of
 * the registration it ran on, hence the contract it called) in word `sequence / 12` of the pipe, 12 records a
 * word; bit 255 marks a word reserved ahead. So most packets update a word already written (5k gas) instead of
 * a fresh slot (22.1k), and no per-pipe counter is needed.
 *
 * Re-entrancy, in three layers. Every entry point that calls out is relayer-only (but `rollbackExpired`, which only
 * calls the stored contract's rollback hook), and a business contract can never hold a role, so a business contract
 * calling back is refused by the role check. Behind that, a global guard (OpenZeppelin's
 * `ReentrancyGuardTransient`: the gateway is built for Cancun, so EIP-1153 is there, and a transient guard costs
 * about 2k gas less per inbound packet than a storage one) refuses a call back through a relayer account that can
 * be made to call (a contract). And each entry
 * point still moves its own record before it calls out (a packet is recorded as a failure until its call returns,
 * a compensation as done, a two-phase transaction as finished, or as taken-but-not-prepared during its prepare
 * hook) and releases locks only after the hooks returned.
 */
contract SubchainGateway is ISubchainGateway, GatewayAttesters, AccessControl, ReentrancyGuardTransient {
    /// @notice The role of the sub-chain's registered relayer(s).
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");
    /// @notice The largest payload limit a gateway can be deployed with.
    uint256 public constant MAX_PAYLOAD_SIZE_CAP = 64 * 1024;
    /// @notice The most keys one two-phase prepare may lock (commit and rollback loop over them).
    uint256 public constant MAX_TWO_PHASE_KEYS = 16;
    /// @notice The longest a two-phase transaction may hold its locks: its deadline is at most this far ahead.
    uint256 public constant MAX_TWO_PHASE_DURATION = 1 days;
    /**
     * @notice How long after its deadline a prepared transaction may still commit: the ledger decides to commit
     * before the deadline, and each side needs time to carry the decision out. After it, anyone may roll it back, so
     * no lock is held past deadline + grace.
     */
    uint256 public constant TWO_PHASE_GRACE = 15 minutes;
    /// @notice How many inbound records one storage word holds (sequences `w * 12` to `w * 12 + 11` share word `w`).
    uint256 public constant RECORDS_PER_WORD = 12;
    /// @notice The most record words one `reserveInboundRecords` call reserves.
    uint256 public constant MAX_RESERVED_WORDS = 16;
    /// @notice The most registrations an inbound record can name (18 bits, index 0 unused).
    uint256 public constant MAX_REGISTRATIONS = (1 << 18) - 1;

    // Inbound record layout: bits 0-2 the status, bits 3-20 the registration index.
    uint256 private constant _RECORD_BITS = 21;
    uint256 private constant _RECORD_MASK = (1 << _RECORD_BITS) - 1;
    uint256 private constant _STATUS_BITS = 3;
    uint256 private constant _STATUS_MASK = (1 << _STATUS_BITS) - 1;
    uint256 private constant _RESERVED_BIT = 1 << 255;
    // Statuses. Each success is its failure plus one, and COMPENSATED is WRITTEN plus one: moves are one addition.
    uint256 private constant _NONE = 0;
    uint256 private constant _READ_FAILED = 1;
    uint256 private constant _READ = 2;
    uint256 private constant _WRITE_FAILED = 3;
    uint256 private constant _WRITTEN = 4;
    uint256 private constant _COMPENSATED = 5;

    struct Registration {
        address target;
        uint64 version;
        uint32 index; // in _registrations; what inbound records keep of the contract they called
    }

    struct TwoPhaseTx {
        address target; // non-zero from the start of prepare on: the id is taken
        TwoPhaseStatus status;
        uint64 deadline;
        bytes32[] keys;
    }

    uint256 private immutable _MAX_PAYLOAD_SIZE;

    uint64 private _outboundNonce;
    uint32 private _registrationCount;
    mapping(bytes32 contractName => Registration) private _registry;
    mapping(bytes32 contractName => mapping(uint64 version => address target)) private _registryHistory;
    mapping(uint256 index => address target) private _registrations;
    mapping(address target => uint256 names) private _namesOfTarget;
    mapping(PipeId pipeId => mapping(uint256 word => uint256 records)) private _records;
    mapping(TxId txId => TwoPhaseTx) private _txs;
    mapping(address target => mapping(bytes32 key => TxId txId)) private _locks;

    modifier onlyRelayer() {
        if (!hasRole(RELAYER_ROLE, msg.sender)) revert SubchainGatewayUnauthorizedRelayer(msg.sender);
        _;
    }

    /**
     * @param admin The sub-chain operator's account (DEFAULT_ADMIN_ROLE).
     * @param maxPayloadSize_ The largest payload accepted, in bytes (1 .. MAX_PAYLOAD_SIZE_CAP).
     * @param subchainId_ The governance chain's id of this sub-chain (signed in every attestation).
     * @param attesters The attester set of `epoch` on the governance chain.
     * @param threshold Attestations an inbound packet needs (more than half of `attesters`).
     * @param epoch The governance chain's epoch of `attesters` (from 1).
     */
    constructor(
        address admin,
        uint256 maxPayloadSize_,
        SubchainId subchainId_,
        address[] memory attesters,
        uint8 threshold,
        uint64 epoch
    ) GatewayAttesters(subchainId_, epoch, attesters, threshold) {
        if (admin == address(0)) revert SubchainGatewayInvalidAdmin(admin);
        if (maxPayloadSize_ == 0 || maxPayloadSize_ > MAX_PAYLOAD_SIZE_CAP)
            revert SubchainGatewayInvalidPayloadLimit(maxPayloadSize_);
        _MAX_PAYLOAD_SIZE = maxPayloadSize_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- admin

    /// @inheritdoc ISubchainGateway
    function registerContract(
        bytes32 contractName,
        address target
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint64 version) {
        if (contractName == bytes32(0)) revert SubchainGatewayInvalidContractName(contractName);
        if (target == address(0) || target == address(this) || _holdsGatewayRole(target))
            revert SubchainGatewayForbiddenTarget(target);
        if (!ERC165Checker.supportsInterface(target, type(ICrossChainBusiness).interfaceId))
            revert SubchainGatewayNotBusinessContract(target);
        uint32 index = _registrationCount + 1;
        if (index > MAX_REGISTRATIONS) revert SubchainGatewayRegistryFull(MAX_REGISTRATIONS);

        Registration storage entry = _registry[contractName];
        if (entry.target != address(0)) --_namesOfTarget[entry.target];
        version = entry.version + 1;
        _registry[contractName] = Registration({target: target, version: version, index: index});
        _registryHistory[contractName][version] = target;
        _registrations[index] = target;
        _registrationCount = index;
        ++_namesOfTarget[target];
        emit BusinessContractRegistered(contractName, target, version, msg.sender);
    }

    /// @inheritdoc ISubchainGateway
    function unregisterContract(bytes32 contractName) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Registration storage entry = _registry[contractName];
        address target = entry.target;
        if (target == address(0)) revert SubchainGatewayContractNotRegistered(contractName);
        entry.target = address(0);
        --_namesOfTarget[target];
        emit BusinessContractUnregistered(contractName, target, msg.sender);
    }

    // ---------------------------------------------------------------- outbound

    /// @inheritdoc ISubchainGateway
    function request(
        PipeId pipeId,
        bytes32 contractName,
        uint8 operation,
        bytes calldata payload
    ) external returns (bytes32 requestId) {
        if (pipeId == NO_PIPE) revert SubchainGatewayInvalidPipe(pipeId);
        if (contractName == bytes32(0)) revert SubchainGatewayInvalidContractName(contractName);
        if (operation > OPERATION_WRITE) revert SubchainGatewayInvalidOperation(operation);
        _checkCallData(contractName, payload);

        uint64 nonce = ++_outboundNonce;
        requestId = keccak256(abi.encode(block.chainid, address(this), nonce));
        emit CrossChainRequested(requestId, pipeId, msg.sender, contractName, operation, payload, nonce);
    }

    // ---------------------------------------------------------------- inbound

    /// @inheritdoc ISubchainGateway
    function execute(
        InboundPacket calldata packet,
        bytes calldata data,
        bytes calldata attestations
    ) external onlyRelayer nonReentrant returns (bool success, bytes memory result) {
        if (packet.operation > OPERATION_WRITE) revert SubchainGatewayInvalidOperation(packet.operation);
        Registration memory entry = _checkInbound(packet, data, attestations);
        return _execute(packet.pipeId, packet.sequence, entry, packet.operation, data);
    }

    /// @inheritdoc ISubchainGateway
    function executeDependentWrite(
        InboundPacket calldata packet,
        bytes calldata data,
        bytes32 versionKey,
        uint256 readVersion,
        bytes calldata attestations
    ) external onlyRelayer nonReentrant returns (bool success, bytes memory result) {
        if (packet.operation != OPERATION_WRITE) revert SubchainGatewayInvalidOperation(packet.operation);
        Registration memory entry = _checkInbound(packet, data, attestations);
        uint256 current = ICrossChainBusiness(entry.target).stateVersion(versionKey);
        if (current != readVersion)
            revert SubchainGatewayStaleRead(packet.contractName, versionKey, readVersion, current);
        emit DependentWriteChecked(_inboundRequestId(packet.pipeId, packet.sequence), versionKey, readVersion);
        return _execute(packet.pipeId, packet.sequence, entry, OPERATION_WRITE, data);
    }

    /// @inheritdoc ISubchainGateway
    function compensate(PipeId pipeId, uint64 sequence) external onlyRelayer nonReentrant returns (bool success) {
        // CHECKS
        mapping(uint256 word => uint256 records) storage words = _records[pipeId];
        (uint256 word, uint256 shift) = _recordPosition(sequence);
        uint256 record = (words[word] >> shift) & _RECORD_MASK;
        uint256 status = record & _STATUS_MASK;
        if (status != _WRITTEN) _refuseCompensation(pipeId, sequence, status);
        address target = _registrations[record >> _STATUS_BITS];
        bytes32 requestId = _inboundRequestId(pipeId, sequence);

        // EFFECTS: WRITTEN -> COMPENSATED before the call, so a nested compensation of this write is refused.
        unchecked {
            words[word] += 1 << shift;
        }

        // INTERACTIONS
        bytes memory returnData;
        uint256 gasBefore = gasleft();
        // solhint-disable-next-line avoid-low-level-calls
        (success, returnData) = target.call(abi.encodeCall(ICrossChainBusiness.compensate, (requestId)));
        if (!success) {
            _revertIfOutOfGas(requestId, gasBefore);
            // A reverted undo changed nothing (nested calls included): COMPENSATED -> WRITTEN, it may be retried.
            unchecked {
                words[word] -= 1 << shift;
            }
        }
        emit Compensated(requestId, pipeId, sequence, target, success, returnData);
    }

    /// @inheritdoc ISubchainGateway
    function reserveInboundRecords(PipeId pipeId, uint64 fromSequence, uint256 words) external onlyRelayer {
        if (pipeId == NO_PIPE) revert SubchainGatewayInvalidPipe(pipeId);
        if (words == 0 || words > MAX_RESERVED_WORDS)
            revert SubchainGatewayInvalidReservation(words, MAX_RESERVED_WORDS);
        mapping(uint256 word => uint256 records) storage records = _records[pipeId];
        uint256 firstWord = fromSequence / RECORDS_PER_WORD;
        // Bounded by MAX_RESERVED_WORDS.
        for (uint256 i = 0; i < words; ++i) records[firstWord + i] |= _RESERVED_BIT;
        emit InboundRecordsReserved(pipeId, firstWord, words, msg.sender);
    }

    // ---------------------------------------------------------------- two-phase

    /// @inheritdoc ISubchainGateway
    function prepare(
        InboundPacket calldata packet,
        bytes calldata data,
        bytes calldata attestations
    ) external onlyRelayer nonReentrant returns (bytes32[] memory keys) {
        // CHECKS
        TxId txId = packet.txId;
        address target = _checkPrepare(packet, data, attestations);
        TwoPhaseTx storage txn = _txs[txId];

        // EFFECTS: the id is taken, but the transaction is not Prepared before its keys are locked, so a nested
        // prepare of txId is refused (TxExists) and a nested commit or rollback finds it unknown.
        txn.target = target;
        txn.deadline = packet.deadline;

        // INTERACTIONS: the business contract validates, stages and reports the keys it touches.
        keys = ITwoPhaseBusiness(target).prepare(txId, data);

        // EFFECTS that need the reported keys. A key a nested prepare took meanwhile is refused like any other.
        if (keys.length > MAX_TWO_PHASE_KEYS) revert SubchainGatewayTooManyKeys(keys.length, MAX_TWO_PHASE_KEYS);
        mapping(bytes32 key => TxId txId) storage locks = _locks[target];
        for (uint256 i = 0; i < keys.length; ++i) {
            TxId holder = locks[keys[i]];
            if (holder != NO_TX && holder != txId) revert SubchainGatewayKeyLocked(target, keys[i], holder);
            locks[keys[i]] = txId;
        }
        txn.keys = keys;
        txn.status = TwoPhaseStatus.Prepared;
        emit TwoPhasePrepared(txId, packet.pipeId, target, packet.contractName, keys, packet.deadline);
    }

    /// @dev Every refusal of a two-phase prepare; returns the two-phase business contract it stages on.
    function _checkPrepare(
        InboundPacket calldata packet,
        bytes calldata data,
        bytes calldata attestations
    ) private view returns (address target) {
        TxId txId = packet.txId;
        if (txId == NO_TX) revert SubchainGatewayInvalidTxId(txId);
        if (packet.operation != OPERATION_WRITE) revert SubchainGatewayInvalidOperation(packet.operation);
        if (_txs[txId].target != address(0)) revert SubchainGatewayTxExists(txId);
        if (packet.pipeId == NO_PIPE) revert SubchainGatewayInvalidPipe(packet.pipeId);
        uint64 deadline = packet.deadline;
        uint256 maxDeadline = block.timestamp + MAX_TWO_PHASE_DURATION;
        if (deadline <= block.timestamp || deadline > maxDeadline)
            revert SubchainGatewayInvalidTxDeadline(deadline, block.timestamp, maxDeadline);
        if (data.length > _MAX_PAYLOAD_SIZE) revert SubchainGatewayPayloadTooLarge(data.length, _MAX_PAYLOAD_SIZE);
        target = _registeredEntry(packet.contractName).target;
        if (!ERC165Checker.supportsInterface(target, type(ITwoPhaseBusiness).interfaceId))
            revert SubchainGatewayTwoPhaseUnsupported(packet.contractName, target);
        // Attested as the two-phase write the ledger opened (operation 2), never as a plain write: an execute's
        // attestation cannot prepare, and a prepare's cannot execute the write without its lock.
        _checkAttestations(
            _attestationDigest(
                txId,
                packet.pipeId,
                packet.sequence,
                packet.contractName,
                OPERATION_TWO_PHASE_WRITE,
                data,
                deadline
            ),
            attestations
        );
    }

    /// @inheritdoc ISubchainGateway
    function commit(TxId txId) external onlyRelayer nonReentrant {
        // CHECKS
        TwoPhaseTx storage txn = _preparedTx(txId);
        if (block.timestamp > txn.deadline + TWO_PHASE_GRACE) revert SubchainGatewayTxExpired(txId, txn.deadline);
        address target = txn.target;

        // EFFECTS: finished before the hook runs, so a nested commit or rollback of txId is refused.
        txn.status = TwoPhaseStatus.Committed;

        // INTERACTIONS
        ITwoPhaseBusiness(target).commit(txId);

        // EFFECTS: the keys stay locked while the hook applies the write, so no nested prepare can take them.
        _releaseLocks(txId, txn);
        emit TwoPhaseCommitted(txId, target, ICrossChainBusiness(target).stateVersion(bytes32(0)));
    }

    /// @inheritdoc ISubchainGateway
    function rollback(TxId txId) external onlyRelayer nonReentrant {
        _rollback(txId, _preparedTx(txId));
    }

    /// @inheritdoc ISubchainGateway
    function rollbackExpired(TxId txId) external nonReentrant {
        TwoPhaseTx storage txn = _preparedTx(txId);
        if (block.timestamp <= txn.deadline + TWO_PHASE_GRACE) revert SubchainGatewayTxNotExpired(txId, txn.deadline);
        _rollback(txId, txn);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISubchainGateway
    function maxPayloadSize() external view returns (uint256) {
        return _MAX_PAYLOAD_SIZE;
    }

    /// @inheritdoc ISubchainGateway
    function outboundNonce() external view returns (uint64) {
        return _outboundNonce;
    }

    /// @inheritdoc ISubchainGateway
    function businessContract(bytes32 contractName) external view returns (address target, uint64 version) {
        Registration storage entry = _registry[contractName];
        return (entry.target, entry.version);
    }

    /// @inheritdoc ISubchainGateway
    function businessContractAt(bytes32 contractName, uint64 version) external view returns (address) {
        return _registryHistory[contractName][version];
    }

    /// @inheritdoc ISubchainGateway
    function inboundRequestId(PipeId pipeId, uint64 sequence) external view returns (bytes32) {
        return _inboundRequestId(pipeId, sequence);
    }

    /// @inheritdoc ISubchainGateway
    function inboundRecord(PipeId pipeId, uint64 sequence) external view returns (InboundRecord memory record) {
        (uint256 word, uint256 shift) = _recordPosition(sequence);
        uint256 packed = (_records[pipeId][word] >> shift) & _RECORD_MASK;
        uint256 status = packed & _STATUS_MASK;
        if (status == _NONE) return record;
        record.target = _registrations[packed >> _STATUS_BITS];
        record.operation = status >= _WRITE_FAILED ? OPERATION_WRITE : OPERATION_READ;
        record.success = status != _READ_FAILED && status != _WRITE_FAILED;
        record.compensated = status == _COMPENSATED;
    }

    /// @inheritdoc ISubchainGateway
    function twoPhaseTx(
        TxId txId
    ) external view returns (address target, TwoPhaseStatus status, uint64 deadline, bytes32[] memory keys) {
        TwoPhaseTx storage txn = _txs[txId];
        return (txn.target, txn.status, txn.deadline, txn.keys);
    }

    /// @inheritdoc ISubchainGateway
    function lockHolder(address target, bytes32 key) external view returns (TxId txId) {
        return _locks[target][key];
    }

    /// @inheritdoc ISubchainGateway
    function isSelectorBlocked(bytes4 selector) public pure returns (bool) {
        return PrivilegedSelectors.isPrivileged(selector);
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return
            interfaceId == type(ISubchainGateway).interfaceId ||
            interfaceId == type(IGatewayAttesters).interfaceId ||
            super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internals

    /// @dev A business contract must never hold a gateway role (it could then re-enter as relayer or admin).
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (_namesOfTarget[account] != 0) revert SubchainGatewayRoleForBusinessContract(account);
        return super._grantRole(role, account);
    }

    function _holdsGatewayRole(address account) private view returns (bool) {
        return hasRole(DEFAULT_ADMIN_ROLE, account) || hasRole(RELAYER_ROLE, account);
    }

    function _checkCallData(bytes32 contractName, bytes calldata data) private view {
        if (data.length > _MAX_PAYLOAD_SIZE) revert SubchainGatewayPayloadTooLarge(data.length, _MAX_PAYLOAD_SIZE);
        if (data.length < 4) revert SubchainGatewayCallDataTooShort(data.length);
        bytes4 selector = bytes4(data[:4]);
        if (isSelectorBlocked(selector)) revert SubchainGatewaySelectorBlocked(contractName, selector);
    }

    function _registeredEntry(bytes32 contractName) private view returns (Registration memory entry) {
        entry = _registry[contractName];
        if (entry.target == address(0)) revert SubchainGatewayContractNotRegistered(contractName);
    }

    /// @dev Every refusal of an inbound packet; returns the registration it runs on. The replay check comes
    /// before the deadline check: a packet that already ran is reported as such, also after its deadline. The
    /// attestations come last: the cheap refusals first, and a replay is named as such whatever it carries.
    function _checkInbound(
        InboundPacket calldata packet,
        bytes calldata data,
        bytes calldata attestations
    ) private view returns (Registration memory entry) {
        PipeId pipeId = packet.pipeId;
        uint64 sequence = packet.sequence;
        if (pipeId == NO_PIPE) revert SubchainGatewayInvalidPipe(pipeId);
        if (sequence == 0) revert SubchainGatewayInvalidSequence(pipeId, sequence);
        _checkCallData(packet.contractName, data);
        entry = _registeredEntry(packet.contractName);
        (uint256 word, uint256 shift) = _recordPosition(sequence);
        if ((_records[pipeId][word] >> shift) & _STATUS_MASK != _NONE)
            revert SubchainGatewayRequestAlreadyExecuted(pipeId, sequence);
        if (block.timestamp > packet.deadline)
            revert SubchainGatewayPacketExpired(pipeId, sequence, packet.deadline, block.timestamp);
        _checkAttestations(_packetDigest(packet, data), attestations);
    }

    function _packetDigest(InboundPacket calldata packet, bytes calldata data) private view returns (bytes32) {
        return
            _attestationDigest(
                packet.txId,
                packet.pipeId,
                packet.sequence,
                packet.contractName,
                packet.operation,
                data,
                packet.deadline
            );
    }

    /// @dev Consumes the packet, then calls the business contract and records the outcome.
    function _execute(
        PipeId pipeId,
        uint64 sequence,
        Registration memory entry,
        uint8 operation,
        bytes calldata data
    ) private returns (bool success, bytes memory result) {
        bytes32 requestId = _inboundRequestId(pipeId, sequence);

        // EFFECTS: the packet is consumed, recorded as a failure until the call returns (same word, same
        // transaction), so a nested call during it finds the packet executed and not compensable.
        uint256 failed = operation == OPERATION_WRITE ? _WRITE_FAILED : _READ_FAILED;
        // The word's slot once, for both moves (a gas target: every inbound packet).
        uint256 record = _recordSlot(pipeId, sequence);
        (, uint256 shift) = _recordPosition(sequence);
        _addToRecord(record, (failed | (uint256(entry.index) << _STATUS_BITS)) << shift);

        // INTERACTIONS: the request id follows the business calldata, ERC-2771 style.
        (success, result) = _callBusiness(entry.target, operation, abi.encodePacked(data, requestId), requestId);

        // EFFECTS: failure -> success (READ_FAILED -> READ, WRITE_FAILED -> WRITTEN).
        if (success) _addToRecord(record, 1 << shift);
        uint256 version = _stateVersionOf(entry.target);
        emit InboundExecuted(requestId, pipeId, sequence, entry.target, operation, success, keccak256(result), version);
        if (operation == OPERATION_READ || !success) emit ReturnDataRecorded(requestId, result);
    }

    /**
     * @dev `ICrossChainBusiness(target).stateVersion(bytes32(0))` in a few words of scratch memory, without the
     * high-level call's code-size check and ABI copies (on every inbound packet: a gas target). The target is a
     * registered business contract; a revert is passed on, and a short answer is refused as the high-level call would.
     */
    function _stateVersionOf(address target) private view returns (uint256 version) {
        bytes4 selector = ICrossChainBusiness.stateVersion.selector;
        assembly ("memory-safe") {
            mstore(0, selector)
            mstore(4, 0)
            let ok := staticcall(gas(), target, 0, 36, 0, 32)
            if iszero(ok) {
                let at := mload(0x40)
                returndatacopy(at, 0, returndatasize())
                revert(at, returndatasize())
            }
            if lt(returndatasize(), 32) {
                revert(0, 0)
            }
            version := mload(0)
        }
    }

    /// @dev A write is a CALL, a read a STATICCALL. Refuses a write that failed for want of the relayer's gas.
    function _callBusiness(
        address target,
        uint8 operation,
        bytes memory callData,
        bytes32 requestId
    ) private returns (bool success, bytes memory result) {
        uint256 gasBefore = gasleft();
        if (operation == OPERATION_WRITE) {
            // solhint-disable-next-line avoid-low-level-calls
            (success, result) = target.call(callData);
            if (!success) _revertIfOutOfGas(requestId, gasBefore);
        } else {
            // A failed read changes nothing, and a write attempted in a read (a STATICCALL violation) burns all
            // its gas too, which must be recorded as the read's failure: no gas check.
            // solhint-disable-next-line avoid-low-level-calls
            (success, result) = target.staticcall(callData);
        }
    }

    /**
     * @dev Adds `value` (shifted to the record's place) to the record word at `slot` (from {_recordSlot}): sets a
     * new record (the field is zero) or moves its status one step. Never carries out of the record's 21 bits
     * (statuses stay below 8).
     */
    function _addToRecord(uint256 slot, uint256 value) private {
        assembly ("memory-safe") {
            sstore(slot, add(sload(slot), value))
        }
    }

    /// @dev The storage slot of `_records[pipeId][sequence / RECORDS_PER_WORD]`, as Solidity lays out the mappings.
    function _recordSlot(PipeId pipeId, uint64 sequence) private pure returns (uint256 slot) {
        (uint256 word, ) = _recordPosition(sequence);
        assembly ("memory-safe") {
            mstore(0, pipeId)
            mstore(0x20, _records.slot)
            mstore(0x20, keccak256(0, 0x40))
            mstore(0, word)
            slot := keccak256(0, 0x40)
        }
    }

    /// @dev Reverts with the reason `status` (anything but WRITTEN) cannot be compensated.
    function _refuseCompensation(PipeId pipeId, uint64 sequence, uint256 status) private pure {
        if (status == _NONE) revert SubchainGatewayUnknownRequest(pipeId, sequence);
        if (status == _READ || status == _READ_FAILED) revert SubchainGatewayRequestNotWrite(pipeId, sequence);
        if (status == _WRITE_FAILED) revert SubchainGatewayRequestFailed(pipeId, sequence);
        revert SubchainGatewayAlreadyCompensated(pipeId, sequence);
    }

    function _inboundRequestId(PipeId pipeId, uint64 sequence) private view returns (bytes32 id) {
        // Four words: never equal to an outbound id, keccak256 of three (chainid, gateway, nonce). It is
        // keccak256(abi.encode(block.chainid, address(this), pipeId, sequence)), hashed past the free memory
        // pointer without allocating (on every inbound packet: a gas target).
        assembly ("memory-safe") {
            let at := mload(0x40)
            mstore(at, chainid())
            mstore(add(at, 0x20), address())
            mstore(add(at, 0x40), pipeId)
            mstore(add(at, 0x60), sequence)
            id := keccak256(at, 0x80)
        }
    }

    function _recordPosition(uint64 sequence) private pure returns (uint256 word, uint256 shift) {
        word = sequence / RECORDS_PER_WORD;
        shift = (sequence % RECORDS_PER_WORD) * _RECORD_BITS;
    }

    /**
     * @dev After a failed call: when at most 1/63 of the gas held before the call is left, the callee almost
     * certainly ran out of the 63/64 it was given (EIP-150), so the relayer under-funded the transaction. Refuse
     * rather than record a failure the business contract did not make.
     */
    function _revertIfOutOfGas(bytes32 id, uint256 gasBefore) private view {
        if (gasleft() <= gasBefore / 63) revert SubchainGatewayInsufficientGas(id);
    }

    function _preparedTx(TxId txId) private view returns (TwoPhaseTx storage txn) {
        txn = _txs[txId];
        if (txn.status == TwoPhaseStatus.None) revert SubchainGatewayTxUnknown(txId);
        if (txn.status != TwoPhaseStatus.Prepared) revert SubchainGatewayTxNotPrepared(txId, txn.status);
    }

    function _rollback(TxId txId, TwoPhaseTx storage txn) private {
        address target = txn.target;

        // EFFECTS: finished before the hook runs, so a nested commit or rollback of txId is refused.
        txn.status = TwoPhaseStatus.RolledBack;

        // INTERACTIONS
        ITwoPhaseBusiness(target).rollback(txId);

        // EFFECTS: released after the hook, as in commit.
        _releaseLocks(txId, txn);
        emit TwoPhaseRolledBack(txId, target, msg.sender);
    }

    /// @dev Bounded by MAX_TWO_PHASE_KEYS, enforced in `prepare`.
    function _releaseLocks(TxId txId, TwoPhaseTx storage txn) private {
        mapping(bytes32 key => TxId txId) storage locks = _locks[txn.target];
        bytes32[] storage keys = txn.keys;
        for (uint256 i = 0; i < keys.length; ++i) {
            if (locks[keys[i]] == txId) locks[keys[i]] = NO_TX;
        }
    }
}
