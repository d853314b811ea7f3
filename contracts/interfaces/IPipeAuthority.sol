// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {PipeId, SubchainId} from "../types/Ids.sol";

/// @title IPipeAuthority
/// @notice What the transaction ledger, the relayers and contracts need from the pipe registry: a pipe's route and
/// keys, and the one-call answer to "may signer X do operation Y with selector Z on pipe P now?".
/// @dev Implemented by the pipe registry (registries issue); the ledger depends only on this interface.
interface IPipeAuthority {
    enum PipeStatus {
        None,
        Applied, // applied by the source side
        Authorized, // authorised by the target side, waiting for the vote its rule requires
        Active,
        Paused,
        Closed
    }

    /// @notice Why an operation is refused; `Allowed` when it is not.
    enum Refusal {
        Allowed,
        PipeUnknown,
        PipeNotActive,
        SignerNotReserved,
        OperationNotAllowed,
        SelectorNotAllowed,
        InstitutionNotActive, // either side suspended or expelled
        InstitutionRestricted, // either side below the credit restriction threshold
        ServiceDisabled, // either side's proxy disabled
        KeyRevoked // the app key or a proxy signer revoked
    }

    /// @notice A pipe's route: both parties, their apps' reserved keys, their proxies, the contract and the limits.
    struct PipeRoute {
        PipeStatus status;
        uint8 operations; // operation flags (types/Operations.sol): OPERATION_FLAG_READ, OPERATION_FLAG_WRITE
        uint32 sourceInstitution;
        uint32 targetInstitution;
        bytes32 sourceApp;
        bytes32 targetApp;
        address sourceAppKey; // signs stage 1
        address targetAppKey;
        bytes32 sourceService;
        bytes32 targetService;
        address sourceServiceSigner; // countersigns stage 2
        address targetServiceSigner; // records the target's results
        SubchainId sourceSubchain;
        SubchainId targetSubchain;
        bytes32 contractName; // keccak256 of the business contract's registered name
        uint32 ratePerMinute;
        uint32 maxPayloadBytes;
        uint32 timeoutSeconds;
    }

    /// @notice What the transaction ledger reads of a pipe at every open (see {openingRoute}): the fields that can
    /// change (keys, signers) and, for the fields fixed at application, their hash `fixedHash`: the first 28 bytes of
    /// keccak256(abi.encode(targetService, contractName, sourceSubchain, targetSubchain)), which the ledger checks
    /// against the packet's and the steps' values (another set of values with the same 224-bit hash is a 2^224
    /// search), reading the values ({fixedRoute}) only when they differ.
    struct OpeningRoute {
        PipeStatus status;
        uint32 sourceInstitution;
        uint32 targetInstitution;
        uint32 timeoutSeconds;
        address sourceAppKey; // signs stage 1
        address sourceServiceSigner; // countersigns stage 2, opens
        address targetServiceSigner; // records the target's results
        bytes28 fixedHash;
        uint16 sourceServiceIndex; // the services' indexes: fixed for the pipe, asked of {serviceSigner}
        uint16 targetServiceIndex;
    }

    /// @notice The operation is refused on the pipe; `reason` says why.
    error PipeOperationRefused(PipeId pipeId, address signer, Refusal reason);

    /// @notice The route of a pipe (status `None` when unknown).
    function route(PipeId pipeId) external view returns (PipeRoute memory);

    /// @notice Whether `signer` may do `operation` (an operation code, `OPERATION_READ` or `OPERATION_WRITE`, not a
    /// flag) with `selector` on `pipeId` now, and if not, why. Every dependency is checked at call time
    /// (institutions, credit, services, keys), so a suspension anywhere is refused at once without a loop.
    function checkOperation(
        PipeId pipeId,
        address signer,
        uint8 operation,
        bytes4 selector
    ) external view returns (Refusal);

    /// @notice Reverts with {PipeOperationRefused} unless {checkOperation} allows it.
    function requireOperation(PipeId pipeId, address signer, uint8 operation, bytes4 selector) external view;

    /// @notice Whether `signer` is now the signing key of an enabled service whose account and institution are active:
    /// false for a key rotated out of its service, for the key of a disabled service, of a suspended or revoked
    /// account, of a suspended or expelled institution, and for any other address (one slot and one usability word).
    /// The ledger asks it of every service verifier's endorsement, so each of these changes counts at once.
    function isServingSigner(address signer) external view returns (bool);

    /// @notice The current signing key of the service at `serviceIndex` (a pipe's {OpeningRoute.sourceServiceIndex}
    /// or {OpeningRoute.targetServiceIndex}) and whether it serves ({isServingSigner}), in one slot and one word. The
    /// ledger keeps a pipe side's service index, never its key, and asks this of every proxy call: a rotated-in key
    /// acts, and a rotated-out, suspended or revoked key is refused from the change's own transaction, with no refresh
    /// and no call to Membership.
    function serviceSigner(uint16 serviceIndex) external view returns (address signer, bool serving);

    /// @notice Whether `signer` is the signing key of one of the pipe's alternate target routes (`listed`: the pipe
    /// lists the service the key serves or has served) and whether that service serves now (`serving`: listed, the key
    /// still the service's, the service enabled, its account and institution active). O(1): one slot of the signer,
    /// one of the pipe's list, one usability word. A removed alternate is not listed; a disabled, suspended or
    /// rotated-out one is not serving, from the change's own transaction.
    function alternateSigner(PipeId pipeId, address signer) external view returns (bool listed, bool serving);

    /// @notice The fields of a pipe fixed at application (the values {route} shows), whose hash {openingRoute} gives.
    function fixedRoute(
        PipeId pipeId
    )
        external
        view
        returns (bytes32 targetService, bytes32 contractName, SubchainId sourceSubchain, SubchainId targetSubchain);

    /// @notice In one call, what an open needs: the changing fields of {route} (the same values; status `None` when
    /// unknown), the hash of its fixed fields ({OpeningRoute}) and {checkOperation}'s answer for the first packet.
    function openingRoute(
        PipeId pipeId,
        address signer,
        uint8 operation,
        bytes4 selector
    ) external view returns (OpeningRoute memory r, Refusal refusal);
}
