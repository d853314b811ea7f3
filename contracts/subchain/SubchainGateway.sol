// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";
import {ISubchainGateway, OPERATION_READ, OPERATION_WRITE} from "../interfaces/ISubchainGateway.sol";
import {ICrossChainBusiness} from "../interfaces/ICrossChainBusiness.sol";
import {ITwoPhaseBusiness} from "../interfaces/ITwoPhaseBusiness.sol";

/**
 * @title SubchainGateway
 * @notice The cross-chain gateway of one EVM sub-chain; see {ISubchainGateway}. It depends on nothing outside its
 * sub-chain: the governance chain is reached only through the relayer.
 *
 * Admin (DEFAULT_ADMIN_ROLE, the sub-chain's operator institution): registers business contracts by name and
 * grants or revokes RELAYER_ROLE. Revoking every relayer is the emergency stop of all inbound traffic.
 */
contract SubchainGateway is ISubchainGateway, AccessControl, ReentrancyGuardTransient {
    /// @notice The role of the sub-chain's registered relayer(s).
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");
    /// @notice The largest payload limit a gateway can be deployed with.
    uint256 public constant MAX_PAYLOAD_SIZE_CAP = 64 * 1024;
    /// @notice The most keys one two-phase prepare may lock (commit and rollback loop over them).
    uint256 public constant MAX_TWO_PHASE_KEYS = 16;

    bytes4 private constant _TRANSFER_OWNERSHIP = bytes4(keccak256("transferOwnership(address)"));
    bytes4 private constant _RENOUNCE_OWNERSHIP = bytes4(keccak256("renounceOwnership()"));
    bytes4 private constant _ACCEPT_OWNERSHIP = bytes4(keccak256("acceptOwnership()"));
    bytes4 private constant _UPGRADE_TO_AND_CALL = bytes4(keccak256("upgradeToAndCall(address,bytes)"));

    struct Registration {
        address target;
        uint64 version;
    }

    struct TwoPhaseTx {
        address target;
        TwoPhaseStatus status;
        bytes32[] keys;
    }

    uint256 private immutable _MAX_PAYLOAD_SIZE;

    uint64 private _outboundNonce;
    mapping(bytes32 contractName => Registration) private _registry;
    mapping(bytes32 contractName => mapping(uint64 version => address target)) private _registryHistory;
    mapping(address target => uint256 names) private _namesOfTarget;
    mapping(bytes32 requestId => InboundRecord) private _inbound;
    mapping(bytes32 pipeId => uint64 sequence) private _lastSequence;
    mapping(bytes32 txId => TwoPhaseTx) private _txs;
    mapping(address target => mapping(bytes32 key => bytes32 txId)) private _locks;

    modifier onlyRelayer() {
        if (!hasRole(RELAYER_ROLE, msg.sender)) revert SubchainGatewayUnauthorizedRelayer(msg.sender);
        _;
    }

    /**
     * @param admin The sub-chain operator's account (DEFAULT_ADMIN_ROLE).
     * @param maxPayloadSize_ The largest payload accepted, in bytes (1 .. MAX_PAYLOAD_SIZE_CAP).
     */
    constructor(address admin, uint256 maxPayloadSize_) {
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

        Registration storage entry = _registry[contractName];
        if (entry.target != address(0)) --_namesOfTarget[entry.target];
        version = entry.version + 1;
        entry.target = target;
        entry.version = version;
        _registryHistory[contractName][version] = target;
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
        bytes32 pipeId,
        bytes32 contractName,
        uint8 operation,
        bytes calldata payload
    ) external returns (bytes32 requestId) {
        if (pipeId == bytes32(0)) revert SubchainGatewayInvalidPipe(pipeId);
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
        bytes32 requestId,
        bytes32 pipeId,
        uint64 sequence,
        bytes32 contractName,
        uint8 operation,
        bytes calldata data
    ) external onlyRelayer nonReentrant returns (bool success, bytes memory result) {
        if (operation > OPERATION_WRITE) revert SubchainGatewayInvalidOperation(operation);
        address target = _checkInbound(requestId, pipeId, sequence, contractName, data);
        return _execute(requestId, pipeId, sequence, target, operation, data);
    }

    /// @inheritdoc ISubchainGateway
    function executeDependentWrite(
        bytes32 requestId,
        bytes32 pipeId,
        uint64 sequence,
        bytes32 contractName,
        bytes calldata data,
        bytes32 versionKey,
        uint256 readVersion
    ) external onlyRelayer nonReentrant returns (bool success, bytes memory result) {
        address target = _checkInbound(requestId, pipeId, sequence, contractName, data);
        uint256 current = ICrossChainBusiness(target).stateVersion(versionKey);
        if (current != readVersion) revert SubchainGatewayStaleRead(contractName, versionKey, readVersion, current);
        return _execute(requestId, pipeId, sequence, target, OPERATION_WRITE, data);
    }

    /// @inheritdoc ISubchainGateway
    function compensate(bytes32 requestId) external onlyRelayer nonReentrant returns (bool success) {
        // CHECKS
        InboundRecord memory record = _inbound[requestId];
        if (record.target == address(0)) revert SubchainGatewayUnknownRequest(requestId);
        if (record.operation != OPERATION_WRITE) revert SubchainGatewayRequestNotWrite(requestId);
        if (!record.success) revert SubchainGatewayRequestFailed(requestId);
        if (record.compensated) revert SubchainGatewayAlreadyCompensated(requestId);

        // EFFECTS
        _inbound[requestId].compensated = true;

        // INTERACTIONS
        bytes memory returnData;
        uint256 gasBefore = gasleft();
        // solhint-disable-next-line avoid-low-level-calls
        (success, returnData) = record.target.call(abi.encodeCall(ICrossChainBusiness.compensate, (requestId)));
        if (!success) {
            _revertIfOutOfGas(requestId, gasBefore);
            // A reverted undo changed nothing: leave the write compensable so it can be retried.
            _inbound[requestId].compensated = false;
        }
        emit Compensated(requestId, record.target, success, returnData);
    }

    // ---------------------------------------------------------------- two-phase

    /// @inheritdoc ISubchainGateway
    function prepare(
        bytes32 txId,
        bytes32 pipeId,
        bytes32 contractName,
        bytes calldata data
    ) external onlyRelayer nonReentrant returns (bytes32[] memory keys) {
        // CHECKS
        if (txId == bytes32(0)) revert SubchainGatewayInvalidTxId(txId);
        if (_txs[txId].status != TwoPhaseStatus.None) revert SubchainGatewayTxExists(txId);
        if (pipeId == bytes32(0)) revert SubchainGatewayInvalidPipe(pipeId);
        if (data.length > _MAX_PAYLOAD_SIZE) revert SubchainGatewayPayloadTooLarge(data.length, _MAX_PAYLOAD_SIZE);
        address target = _registeredTarget(contractName);
        if (!ERC165Checker.supportsInterface(target, type(ITwoPhaseBusiness).interfaceId))
            revert SubchainGatewayTwoPhaseUnsupported(contractName, target);

        // EFFECTS
        TwoPhaseTx storage txn = _txs[txId];
        txn.target = target;
        txn.status = TwoPhaseStatus.Prepared;

        // INTERACTIONS: the business contract validates, stages and reports the keys it touches.
        keys = ITwoPhaseBusiness(target).prepare(txId, data);

        // EFFECTS that need the reported keys (every entry point is relayer-only and non-reentrant).
        if (keys.length > MAX_TWO_PHASE_KEYS) revert SubchainGatewayTooManyKeys(keys.length, MAX_TWO_PHASE_KEYS);
        mapping(bytes32 key => bytes32 txId) storage locks = _locks[target];
        for (uint256 i = 0; i < keys.length; ++i) {
            bytes32 holder = locks[keys[i]];
            if (holder != bytes32(0) && holder != txId) revert SubchainGatewayKeyLocked(target, keys[i], holder);
            locks[keys[i]] = txId;
        }
        txn.keys = keys;
        emit TwoPhasePrepared(txId, pipeId, target, contractName, keys);
    }

    /// @inheritdoc ISubchainGateway
    function commit(bytes32 txId) external onlyRelayer nonReentrant {
        // CHECKS
        TwoPhaseTx storage txn = _preparedTx(txId);
        address target = txn.target;

        // EFFECTS
        txn.status = TwoPhaseStatus.Committed;
        _releaseLocks(txId, txn);

        // INTERACTIONS
        ITwoPhaseBusiness(target).commit(txId);
        emit TwoPhaseCommitted(txId, target, ICrossChainBusiness(target).stateVersion(bytes32(0)));
    }

    /// @inheritdoc ISubchainGateway
    function rollback(bytes32 txId) external onlyRelayer nonReentrant {
        // CHECKS
        TwoPhaseTx storage txn = _preparedTx(txId);
        address target = txn.target;

        // EFFECTS
        txn.status = TwoPhaseStatus.RolledBack;
        _releaseLocks(txId, txn);

        // INTERACTIONS
        ITwoPhaseBusiness(target).rollback(txId);
        emit TwoPhaseRolledBack(txId, target);
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
    function inboundRecord(bytes32 requestId) external view returns (InboundRecord memory) {
        return _inbound[requestId];
    }

    /// @inheritdoc ISubchainGateway
    function lastSequence(bytes32 pipeId) external view returns (uint64) {
        return _lastSequence[pipeId];
    }

    /// @inheritdoc ISubchainGateway
    function twoPhaseTx(
        bytes32 txId
    ) external view returns (address target, TwoPhaseStatus status, bytes32[] memory keys) {
        TwoPhaseTx storage txn = _txs[txId];
        return (txn.target, txn.status, txn.keys);
    }

    /// @inheritdoc ISubchainGateway
    function lockHolder(address target, bytes32 key) external view returns (bytes32 txId) {
        return _locks[target][key];
    }

    /// @inheritdoc ISubchainGateway
    function isSelectorBlocked(bytes4 selector) public pure returns (bool) {
        return
            selector == ICrossChainBusiness.compensate.selector ||
            selector == ITwoPhaseBusiness.prepare.selector ||
            selector == ITwoPhaseBusiness.commit.selector ||
            selector == ITwoPhaseBusiness.rollback.selector ||
            selector == IAccessControl.grantRole.selector ||
            selector == IAccessControl.revokeRole.selector ||
            selector == IAccessControl.renounceRole.selector ||
            selector == _TRANSFER_OWNERSHIP ||
            selector == _RENOUNCE_OWNERSHIP ||
            selector == _ACCEPT_OWNERSHIP ||
            selector == _UPGRADE_TO_AND_CALL;
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ISubchainGateway).interfaceId || super.supportsInterface(interfaceId);
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

    function _registeredTarget(bytes32 contractName) private view returns (address target) {
        target = _registry[contractName].target;
        if (target == address(0)) revert SubchainGatewayContractNotRegistered(contractName);
    }

    /// @dev Every refusal of an inbound call; returns the registered target.
    function _checkInbound(
        bytes32 requestId,
        bytes32 pipeId,
        uint64 sequence,
        bytes32 contractName,
        bytes calldata data
    ) private view returns (address target) {
        if (requestId == bytes32(0)) revert SubchainGatewayInvalidRequestId(requestId);
        if (pipeId == bytes32(0)) revert SubchainGatewayInvalidPipe(pipeId);
        _checkCallData(contractName, data);
        target = _registeredTarget(contractName);
        if (_inbound[requestId].target != address(0)) revert SubchainGatewayRequestAlreadyExecuted(requestId);
        uint64 last = _lastSequence[pipeId];
        if (sequence <= last) revert SubchainGatewaySequenceNotIncreasing(pipeId, sequence, last);
    }

    /// @dev Consumes the request id and the sequence, then calls the business contract and records the outcome.
    function _execute(
        bytes32 requestId,
        bytes32 pipeId,
        uint64 sequence,
        address target,
        uint8 operation,
        bytes calldata data
    ) private returns (bool success, bytes memory result) {
        // EFFECTS: recorded as a success, corrected below if the call reverts (same slot, same transaction).
        _lastSequence[pipeId] = sequence;
        _inbound[requestId] = InboundRecord({target: target, operation: operation, success: true, compensated: false});

        // INTERACTIONS: the request id follows the business calldata, ERC-2771 style.
        bytes memory callData = abi.encodePacked(data, requestId);
        uint256 gasBefore = gasleft();
        if (operation == OPERATION_WRITE) {
            // solhint-disable-next-line avoid-low-level-calls
            (success, result) = target.call(callData);
        } else {
            // solhint-disable-next-line avoid-low-level-calls
            (success, result) = target.staticcall(callData);
        }
        if (!success) {
            // Only writes: a failed read changes nothing, and a write attempted in a read (a STATICCALL violation)
            // burns all its gas too, which must be recorded as the read's failure.
            if (operation == OPERATION_WRITE) _revertIfOutOfGas(requestId, gasBefore);
            _inbound[requestId].success = false;
        }
        uint256 version = ICrossChainBusiness(target).stateVersion(bytes32(0));
        emit InboundExecuted(requestId, pipeId, sequence, target, operation, success, keccak256(result), version);
        if (operation == OPERATION_READ || !success) emit ReturnDataRecorded(requestId, result);
    }

    /**
     * @dev After a failed call: when at most 1/63 of the gas held before the call is left, the callee almost
     * certainly ran out of the 63/64 it was given (EIP-150), so the relayer under-funded the transaction. Refuse
     * rather than record a failure the business contract did not make.
     */
    function _revertIfOutOfGas(bytes32 id, uint256 gasBefore) private view {
        if (gasleft() <= gasBefore / 63) revert SubchainGatewayInsufficientGas(id);
    }

    function _preparedTx(bytes32 txId) private view returns (TwoPhaseTx storage txn) {
        txn = _txs[txId];
        if (txn.status == TwoPhaseStatus.None) revert SubchainGatewayTxUnknown(txId);
        if (txn.status != TwoPhaseStatus.Prepared) revert SubchainGatewayTxNotPrepared(txId, txn.status);
    }

    /// @dev Bounded by MAX_TWO_PHASE_KEYS, enforced in `prepare`.
    function _releaseLocks(bytes32 txId, TwoPhaseTx storage txn) private {
        mapping(bytes32 key => bytes32 txId) storage locks = _locks[txn.target];
        bytes32[] storage keys = txn.keys;
        for (uint256 i = 0; i < keys.length; ++i) {
            if (locks[keys[i]] == txId) delete locks[keys[i]];
        }
    }
}
