// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {CrossChainBusiness} from "../CrossChainBusiness.sol";
import {ICrossChainBusiness} from "../../interfaces/ICrossChainBusiness.sol";
import {IEvidenceDeposit} from "../../interfaces/IEvidenceDeposit.sol";
import {ISubchainGateway} from "../../interfaces/ISubchainGateway.sol";
import {OPERATION_READ} from "../../types/Operations.sol";
import {PipeId} from "../../types/Ids.sol";

/**
 * @title EvidenceDeposit
 * @notice Example business contract: evidence deposit; see {IEvidenceDeposit}. It does not opt in to two-phase
 * transactions. State versions: `stateVersion(evidenceHash)` is the evidence's `version`; `stateVersion(0)` moves
 * on every change of the contract.
 */
contract EvidenceDeposit is IEvidenceDeposit, CrossChainBusiness, AccessControl {
    /// @notice May deposit evidence locally.
    bytes32 public constant DEPOSITOR_ROLE = keccak256("DEPOSITOR_ROLE");

    mapping(bytes32 evidenceHash => Evidence) private _evidence;
    mapping(bytes32 requestId => bytes32 evidenceHash) private _evidenceOfRequest;

    /**
     * @param gateway_ The sub-chain's gateway.
     * @param admin The local administrator (grants the depositor role).
     */
    constructor(address gateway_, address admin) CrossChainBusiness(gateway_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IEvidenceDeposit
    function deposit(bytes32 evidenceHash, bytes32 metaHash) external onlyRole(DEPOSITOR_ROLE) {
        _deposit(evidenceHash, msg.sender, metaHash, bytes32(0));
    }

    /// @inheritdoc IEvidenceDeposit
    function depositCrossChain(bytes32 evidenceHash, address depositor, bytes32 metaHash) external onlyGateway {
        bytes32 requestId = _inboundRequestId();
        _deposit(evidenceHash, depositor, metaHash, requestId);
        _evidenceOfRequest[requestId] = evidenceHash;
    }

    /// @inheritdoc IEvidenceDeposit
    function requestRemoteVerification(
        PipeId pipeId,
        bytes32 remoteContractName,
        bytes32 evidenceHash
    ) external returns (bytes32 requestId) {
        if (evidenceHash == bytes32(0)) revert EvidenceDepositInvalidHash(evidenceHash);
        requestId = ISubchainGateway(gateway()).request(
            pipeId,
            remoteContractName,
            OPERATION_READ,
            abi.encodeCall(IEvidenceDeposit.verify, (evidenceHash))
        );
        emit RemoteVerificationRequested(evidenceHash, requestId, msg.sender, pipeId);
    }

    /// @inheritdoc ICrossChainBusiness
    function compensate(bytes32 requestId) external onlyGateway {
        bytes32 evidenceHash = _evidenceOfRequest[requestId];
        if (evidenceHash == bytes32(0)) revert CrossChainBusinessUnknownRequest(requestId);
        delete _evidenceOfRequest[requestId];
        Evidence storage record = _evidence[evidenceHash];
        // Keep the slot's version moving so that a read made before the deposit never looks current again.
        record.depositor = address(0);
        record.timestamp = 0;
        record.metaHash = bytes32(0);
        _evidenceChanged(record);
        emit EvidenceDepositCompensated(evidenceHash, requestId);
    }

    /// @inheritdoc IEvidenceDeposit
    function verify(bytes32 evidenceHash) external view returns (bool exists, address depositor, uint64 timestamp) {
        Evidence storage record = _evidence[evidenceHash];
        return (record.depositor != address(0), record.depositor, record.timestamp);
    }

    /// @inheritdoc IEvidenceDeposit
    function evidence(bytes32 evidenceHash) external view returns (Evidence memory) {
        return _evidence[evidenceHash];
    }

    /// @inheritdoc IERC165
    function supportsInterface(
        bytes4 interfaceId
    ) public view override(CrossChainBusiness, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    function _keyVersion(bytes32 key) internal view override returns (uint256) {
        return _evidence[key].version;
    }

    function _deposit(bytes32 evidenceHash, address depositor, bytes32 metaHash, bytes32 requestId) private {
        if (evidenceHash == bytes32(0)) revert EvidenceDepositInvalidHash(evidenceHash);
        if (depositor == address(0)) revert EvidenceDepositInvalidDepositor(depositor);
        Evidence storage record = _evidence[evidenceHash];
        if (record.depositor != address(0)) revert EvidenceDepositAlreadyDeposited(evidenceHash, record.depositor);
        record.depositor = depositor;
        record.timestamp = uint64(block.timestamp);
        record.metaHash = metaHash;
        _evidenceChanged(record);
        emit EvidenceDeposited(evidenceHash, depositor, requestId, metaHash);
    }

    function _evidenceChanged(Evidence storage record) private {
        unchecked {
            ++record.version;
        }
        _stateChanged();
    }
}
