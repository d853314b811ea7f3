// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IPipeAuthority} from "../interfaces/IPipeAuthority.sol";
import {NO_SUBCHAIN, PipeId, SubchainId} from "../types/Ids.sol";

/**
 * @title ConstantPipeAuthorityMock
 * @notice Test-only pipe authority with no storage: one active route, held in immutables, that allows everything.
 * The gas bench swaps it in to measure what the ledger itself costs, apart from a registry's storage reads.
 */
contract ConstantPipeAuthorityMock is IPipeAuthority {
    PipeId private immutable _pipeId;
    uint32 private immutable _sourceInstitution;
    uint32 private immutable _targetInstitution;
    address private immutable _sourceAppKey;
    address private immutable _sourceServiceSigner;
    address private immutable _targetServiceSigner;
    bytes32 private immutable _targetService;
    SubchainId private immutable _sourceSubchain;
    SubchainId private immutable _targetSubchain;
    bytes32 private immutable _contractName;
    uint32 private immutable _timeoutSeconds;

    constructor(PipeId pipeId, PipeRoute memory r) {
        _pipeId = pipeId;
        _sourceInstitution = r.sourceInstitution;
        _targetInstitution = r.targetInstitution;
        _sourceAppKey = r.sourceAppKey;
        _sourceServiceSigner = r.sourceServiceSigner;
        _targetServiceSigner = r.targetServiceSigner;
        _targetService = r.targetService;
        _sourceSubchain = r.sourceSubchain;
        _targetSubchain = r.targetSubchain;
        _contractName = r.contractName;
        _timeoutSeconds = r.timeoutSeconds;
    }

    /// @inheritdoc IPipeAuthority
    function isServingSigner(address signer) external view returns (bool) {
        return signer == _sourceServiceSigner || signer == _targetServiceSigner;
    }

    /// @inheritdoc IPipeAuthority
    /// @dev No alternate routes: the constant route has its two services only.
    function alternateSigner(PipeId, address) external pure returns (bool listed, bool serving) {
        return (false, false);
    }

    /// @inheritdoc IPipeAuthority
    function serviceSigner(uint16 serviceIndex) external view returns (address signer, bool serving) {
        // The source's service is index 1, the target's 2 ({openingRoute}).
        if (serviceIndex == 1) return (_sourceServiceSigner, true);
        if (serviceIndex == 2) return (_targetServiceSigner, true);
    }

    /// @inheritdoc IPipeAuthority
    function route(PipeId pipeId) external view returns (PipeRoute memory r) {
        if (pipeId != _pipeId) return r;
        r.status = PipeStatus.Active;
        r.operations = 3;
        r.sourceInstitution = _sourceInstitution;
        r.targetInstitution = _targetInstitution;
        r.sourceAppKey = _sourceAppKey;
        r.sourceServiceSigner = _sourceServiceSigner;
        r.targetServiceSigner = _targetServiceSigner;
        r.targetService = _targetService;
        r.sourceSubchain = _sourceSubchain;
        r.targetSubchain = _targetSubchain;
        r.contractName = _contractName;
        r.timeoutSeconds = _timeoutSeconds;
    }

    /// @inheritdoc IPipeAuthority
    function fixedRoute(PipeId pipeId) external view returns (bytes32, bytes32, SubchainId, SubchainId) {
        if (pipeId != _pipeId) return (0, 0, NO_SUBCHAIN, NO_SUBCHAIN);
        return (_targetService, _contractName, _sourceSubchain, _targetSubchain);
    }

    /// @inheritdoc IPipeAuthority
    function openingRoute(
        PipeId pipeId,
        address,
        uint8,
        bytes4
    ) external view returns (OpeningRoute memory r, Refusal refusal) {
        if (pipeId != _pipeId) return (r, Refusal.PipeUnknown);
        r.status = PipeStatus.Active;
        r.sourceInstitution = _sourceInstitution;
        r.targetInstitution = _targetInstitution;
        r.timeoutSeconds = _timeoutSeconds;
        r.sourceAppKey = _sourceAppKey;
        r.sourceServiceSigner = _sourceServiceSigner;
        r.targetServiceSigner = _targetServiceSigner;
        r.sourceServiceIndex = 1;
        r.targetServiceIndex = 2;
        r.fixedHash = bytes28(keccak256(abi.encode(_targetService, _contractName, _sourceSubchain, _targetSubchain)));
        refusal = Refusal.Allowed;
    }

    /// @inheritdoc IPipeAuthority
    function checkOperation(PipeId, address, uint8, bytes4) external pure returns (Refusal) {
        return Refusal.Allowed;
    }

    /// @inheritdoc IPipeAuthority
    function requireOperation(PipeId, address, uint8, bytes4) external pure {}
}
