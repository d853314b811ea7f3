// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IPipeAuthority} from "../interfaces/IPipeAuthority.sol";
import {PipeId, SubchainId} from "../types/Ids.sol";

/**
 * @title PipeAuthorityMock
 * @notice Test-only pipe authority: routes and refusals are set directly. {checkOperation} answers like a registry
 * would for the fields it has: unknown pipe, inactive pipe, a signer that is not the source app key, an operation
 * whose bit is not set, then whatever refusal the test set for (pipe, signer). Its answers are checked against the
 * real registry's (`test/governance/PipeAuthorityMock.agreement.test.ts`).
 */
contract PipeAuthorityMock is IPipeAuthority {
    mapping(PipeId pipeId => PipeRoute) private _routes;
    mapping(PipeId pipeId => mapping(address signer => Refusal)) private _refusals;
    mapping(address signer => bool) private _serving;
    /// @dev Each pipe's two services get indexes at its first route (source odd, target the next), as a registry's
    /// services have fixed indexes; a later route with other signers is a rotation of those services.
    mapping(PipeId pipeId => uint16 sourceIndex) private _serviceIndexes;
    mapping(uint16 serviceIndex => address signer) private _signers;
    uint16 private _serviceCount;
    mapping(PipeId pipeId => mapping(address signer => bool)) private _alternates;

    /// @notice Sets a pipe's route; its service signers serve from now on (as the signers of the pipe's services).
    function setRoute(PipeId pipeId, PipeRoute calldata r) external {
        _routes[pipeId] = r;
        _serving[r.sourceServiceSigner] = true;
        _serving[r.targetServiceSigner] = true;
        uint16 index = _serviceIndexes[pipeId];
        if (index == 0) {
            index = _serviceCount + 1;
            _serviceCount += 2;
            _serviceIndexes[pipeId] = index;
        }
        _signers[index] = r.sourceServiceSigner;
        _signers[index + 1] = r.targetServiceSigner;
    }

    /// @inheritdoc IPipeAuthority
    function serviceSigner(uint16 serviceIndex) external view returns (address signer, bool serving) {
        signer = _signers[serviceIndex];
        serving = _serving[signer];
    }

    /// @notice Sets {isServingSigner}'s answer for `signer` (a rotation or a disabled service: false).
    function setServing(address signer, bool serving) external {
        _serving[signer] = serving;
    }

    /// @inheritdoc IPipeAuthority
    function isServingSigner(address signer) external view returns (bool) {
        return _serving[signer];
    }

    /// @notice Lists (or unlists) `signer` as the key of an alternate target route of `pipeId`; it serves as
    /// {setServing} says.
    function setAlternate(PipeId pipeId, address signer, bool listed) external {
        _alternates[pipeId][signer] = listed;
    }

    /// @inheritdoc IPipeAuthority
    function alternateSigner(PipeId pipeId, address signer) external view returns (bool listed, bool serving) {
        listed = _alternates[pipeId][signer];
        serving = listed && _serving[signer];
    }

    /// @notice Sets the pipe's status only.
    function setStatus(PipeId pipeId, PipeStatus status) external {
        _routes[pipeId].status = status;
    }

    /// @notice Makes {checkOperation} refuse `signer` on `pipeId` with `reason` (Allowed clears it).
    function setRefusal(PipeId pipeId, address signer, Refusal reason) external {
        _refusals[pipeId][signer] = reason;
    }

    /// @inheritdoc IPipeAuthority
    function route(PipeId pipeId) external view returns (PipeRoute memory) {
        return _routes[pipeId];
    }

    /// @inheritdoc IPipeAuthority
    function checkOperation(
        PipeId pipeId,
        address signer,
        uint8 operation,
        bytes4 /* selector */
    ) public view returns (Refusal) {
        PipeRoute storage r = _routes[pipeId];
        if (r.status == PipeStatus.None) return Refusal.PipeUnknown;
        if (r.status != PipeStatus.Active) return Refusal.PipeNotActive;
        if (signer != r.sourceAppKey) return Refusal.SignerNotReserved;
        if (operation > 1 || (r.operations >> operation) & 1 == 0) return Refusal.OperationNotAllowed;
        return _refusals[pipeId][signer];
    }

    /// @inheritdoc IPipeAuthority
    function fixedRoute(PipeId pipeId) external view returns (bytes32, bytes32, SubchainId, SubchainId) {
        PipeRoute storage r = _routes[pipeId];
        return (r.targetService, r.contractName, r.sourceSubchain, r.targetSubchain);
    }

    /// @inheritdoc IPipeAuthority
    function openingRoute(
        PipeId pipeId,
        address signer,
        uint8 operation,
        bytes4 selector
    ) external view returns (OpeningRoute memory o, Refusal refusal) {
        PipeRoute storage r = _routes[pipeId];
        o.status = r.status;
        // An unknown pipe: an empty route, as the registry answers it.
        if (o.status == PipeStatus.None) return (o, Refusal.PipeUnknown);
        o.sourceInstitution = r.sourceInstitution;
        o.targetInstitution = r.targetInstitution;
        o.timeoutSeconds = r.timeoutSeconds;
        o.sourceAppKey = r.sourceAppKey;
        o.sourceServiceSigner = r.sourceServiceSigner;
        o.targetServiceSigner = r.targetServiceSigner;
        o.sourceServiceIndex = _serviceIndexes[pipeId];
        o.targetServiceIndex = o.sourceServiceIndex + 1;
        o.fixedHash = bytes28(
            keccak256(abi.encode(r.targetService, r.contractName, r.sourceSubchain, r.targetSubchain))
        );
        refusal = checkOperation(pipeId, signer, operation, selector);
    }

    /// @inheritdoc IPipeAuthority
    function requireOperation(PipeId pipeId, address signer, uint8 operation, bytes4 selector) external view {
        Refusal reason = checkOperation(pipeId, signer, operation, selector);
        if (reason != Refusal.Allowed) revert PipeOperationRefused(pipeId, signer, reason);
    }
}
