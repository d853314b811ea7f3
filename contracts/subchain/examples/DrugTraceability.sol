// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {CrossChainBusiness} from "../CrossChainBusiness.sol";
import {ICrossChainBusiness} from "../../interfaces/ICrossChainBusiness.sol";
import {ITwoPhaseBusiness} from "../../interfaces/ITwoPhaseBusiness.sol";
import {IDrugTraceability} from "../../interfaces/IDrugTraceability.sol";
import {ISubchainGateway} from "../../interfaces/ISubchainGateway.sol";
import {OPERATION_WRITE} from "../../types/Operations.sol";
import {NO_TX, PipeId, TxId} from "../../types/Ids.sol";

/**
 * @title DrugTraceability
 * @notice Example business contract: joint traceability of drug batches; see {IDrugTraceability}. Opts in to
 * two-phase transactions for `continueCustody`. State versions: `stateVersion(batchId)` moves on every change of
 * the batch or its custody; `stateVersion(0)` on every change of the contract.
 */
contract DrugTraceability is IDrugTraceability, ITwoPhaseBusiness, CrossChainBusiness, AccessControl {
    /// @notice May record batches.
    bytes32 public constant MANUFACTURER_ROLE = keccak256("MANUFACTURER_ROLE");
    /// @notice May record local custody steps and request cross-chain custody transfers.
    bytes32 public constant CUSTODIAN_ROLE = keccak256("CUSTODIAN_ROLE");

    struct StagedCustody {
        bytes32 batchId;
        address custodian;
        bytes32 dataHash;
    }

    mapping(bytes32 batchId => Batch) private _batches;
    mapping(bytes32 batchId => CustodyStep[]) private _custody;
    mapping(bytes32 batchId => uint256 version) private _batchVersions;
    mapping(bytes32 requestId => bytes32 batchId) private _batchOfRequest;
    mapping(TxId txId => StagedCustody) private _staged;

    /**
     * @param gateway_ The sub-chain's gateway.
     * @param admin The local administrator (grants the manufacturer and custodian roles).
     */
    constructor(address gateway_, address admin) CrossChainBusiness(gateway_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- local entry points

    /// @inheritdoc IDrugTraceability
    function recordBatch(bytes32 batchId, address manufacturer, bytes32 dataHash) external onlyRole(MANUFACTURER_ROLE) {
        _checkStep(batchId, manufacturer);
        if (_batches[batchId].recordedAt != 0) revert DrugTraceabilityBatchExists(batchId);
        _batches[batchId] = Batch({
            manufacturer: manufacturer,
            recordedAt: uint64(block.timestamp),
            dataHash: dataHash
        });
        _batchChanged(batchId);
        emit BatchRecorded(batchId, manufacturer, dataHash);
    }

    /// @inheritdoc IDrugTraceability
    function recordCustody(bytes32 batchId, address custodian, bytes32 dataHash) external onlyRole(CUSTODIAN_ROLE) {
        _checkStep(batchId, custodian);
        _appendCustody(batchId, custodian, dataHash, bytes32(0));
    }

    /// @inheritdoc IDrugTraceability
    function requestCustodyTransfer(
        PipeId pipeId,
        bytes32 remoteContractName,
        bytes32 batchId,
        address nextCustodian,
        bytes32 dataHash
    ) external onlyRole(CUSTODIAN_ROLE) returns (bytes32 requestId) {
        if (nextCustodian == address(0)) revert DrugTraceabilityInvalidParty(nextCustodian);
        if (_batches[batchId].recordedAt == 0 && _custody[batchId].length == 0)
            revert DrugTraceabilityUnknownBatch(batchId);
        requestId = ISubchainGateway(gateway()).request(
            pipeId,
            remoteContractName,
            OPERATION_WRITE,
            abi.encodeCall(IDrugTraceability.continueCustody, (batchId, nextCustodian, dataHash))
        );
        emit CustodyTransferRequested(batchId, requestId, nextCustodian, pipeId);
    }

    // ---------------------------------------------------------------- cross-chain entry points

    /// @inheritdoc IDrugTraceability
    function continueCustody(bytes32 batchId, address custodian, bytes32 dataHash) external onlyGateway {
        _checkStep(batchId, custodian);
        bytes32 requestId = _inboundRequestId();
        _batchOfRequest[requestId] = batchId;
        _appendCustody(batchId, custodian, dataHash, requestId);
    }

    /// @inheritdoc ICrossChainBusiness
    function compensate(bytes32 requestId) external onlyGateway {
        bytes32 batchId = _batchOfRequest[requestId];
        if (batchId == bytes32(0)) revert CrossChainBusinessUnknownRequest(requestId);
        _requireUnlocked(batchId);
        CustodyStep[] storage steps = _custody[batchId];
        uint256 last = steps.length - 1;
        if (steps[last].requestId != requestId) revert DrugTraceabilityStepNotLast(batchId, requestId);
        steps.pop();
        delete _batchOfRequest[requestId];
        _batchChanged(batchId);
        emit CustodyCompensated(batchId, requestId, last);
    }

    /// @inheritdoc ITwoPhaseBusiness
    function prepare(TxId txId, bytes calldata data) external onlyGateway returns (bytes32[] memory keys) {
        bytes4 selector = data.length < 4 ? bytes4(0) : bytes4(data[:4]);
        if (selector != IDrugTraceability.continueCustody.selector) revert TwoPhaseBusinessUnsupportedCall(selector);
        (bytes32 batchId, address custodian, bytes32 dataHash) = abi.decode(data[4:], (bytes32, address, bytes32));
        // No lock check here: the gateway locks the reported keys and refuses a key another transaction holds.
        _checkIds(batchId, custodian);
        _staged[txId] = StagedCustody({batchId: batchId, custodian: custodian, dataHash: dataHash});
        emit CustodyStaged(txId, batchId, custodian, dataHash);
        keys = new bytes32[](1);
        keys[0] = batchId;
    }

    /// @inheritdoc ITwoPhaseBusiness
    function commit(TxId txId) external onlyGateway {
        StagedCustody memory staged = _takeStaged(txId);
        _appendCustody(staged.batchId, staged.custodian, staged.dataHash, TxId.unwrap(txId));
    }

    /// @inheritdoc ITwoPhaseBusiness
    function rollback(TxId txId) external onlyGateway {
        StagedCustody memory staged = _takeStaged(txId);
        emit CustodyStageDiscarded(txId, staged.batchId);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDrugTraceability
    function batch(bytes32 batchId) external view returns (Batch memory) {
        return _batches[batchId];
    }

    /// @inheritdoc IDrugTraceability
    function custodyLength(bytes32 batchId) external view returns (uint256) {
        return _custody[batchId].length;
    }

    /// @inheritdoc IDrugTraceability
    function custodyStep(bytes32 batchId, uint256 index) external view returns (CustodyStep memory) {
        CustodyStep[] storage steps = _custody[batchId];
        if (index >= steps.length) revert DrugTraceabilityStepOutOfRange(batchId, index);
        return steps[index];
    }

    /// @inheritdoc IDrugTraceability
    function custodyState(
        bytes32 batchId
    ) external view returns (uint256 length, address lastCustodian, uint256 version) {
        CustodyStep[] storage steps = _custody[batchId];
        length = steps.length;
        if (length != 0) lastCustodian = steps[length - 1].custodian;
        version = _batchVersions[batchId];
    }

    /// @inheritdoc IERC165
    function supportsInterface(
        bytes4 interfaceId
    ) public view override(CrossChainBusiness, AccessControl, IERC165) returns (bool) {
        return interfaceId == type(ITwoPhaseBusiness).interfaceId || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internals

    function _keyVersion(bytes32 key) internal view override returns (uint256) {
        return _batchVersions[key];
    }

    /// @dev The checks of every write to a batch: valid ids and no two-phase transaction holding the batch.
    function _checkStep(bytes32 batchId, address party) private view {
        _checkIds(batchId, party);
        _requireUnlocked(batchId);
    }

    function _checkIds(bytes32 batchId, address party) private pure {
        if (batchId == bytes32(0)) revert DrugTraceabilityInvalidBatch(batchId);
        if (party == address(0)) revert DrugTraceabilityInvalidParty(party);
    }

    function _requireUnlocked(bytes32 batchId) private view {
        TxId holder = _lockHolder(batchId);
        if (holder != NO_TX) revert DrugTraceabilityBatchLocked(batchId, holder);
    }

    function _appendCustody(bytes32 batchId, address custodian, bytes32 dataHash, bytes32 requestId) private {
        CustodyStep[] storage steps = _custody[batchId];
        uint256 index = steps.length;
        steps.push(
            CustodyStep({
                custodian: custodian,
                timestamp: uint64(block.timestamp),
                dataHash: dataHash,
                requestId: requestId
            })
        );
        _batchChanged(batchId);
        emit CustodyContinued(batchId, custodian, requestId, dataHash, index);
    }

    function _takeStaged(TxId txId) private returns (StagedCustody memory staged) {
        staged = _staged[txId];
        if (staged.batchId == bytes32(0)) revert TwoPhaseBusinessUnknownTx(txId);
        delete _staged[txId];
    }

    function _batchChanged(bytes32 batchId) private {
        unchecked {
            ++_batchVersions[batchId];
        }
        _stateChanged();
    }
}
