// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IChainRegistry} from "./IChainRegistry.sol";
import {ICreditRegistry} from "./ICreditRegistry.sol";
import {IMembership} from "./IMembership.sol";
import {IMembershipListener} from "./IMembershipListener.sol";
import {IPipeAuthority} from "./IPipeAuthority.sol";
import {IServiceRegistry} from "./IServiceRegistry.sol";
import {PipeId, SubchainId} from "../types/Ids.sol";

/// @title IPipeRegistry
/// @notice Pipes (管道): the only way a cross-chain operation is allowed. A pipe binds two institutions, their apps
/// and the source app's reserved key, both proxies, the target's business contract name, the allowed operations and
/// selectors, and limits. Lifecycle: applied by the source side, authorised by the target side (and activated by
/// vote when governance requires it), active, paused / resumed, closed.
/// @dev The registry keeps a cache of what {checkOperation} depends on (institution, credit, service and key
/// states), pushed by their sources in the same transaction as every change, so the check reads two storage slots
/// and calls nobody. The `sync*` functions re-read a state from its source of truth; anyone may call them.
/// A pipe holds a copy of its source app's key: when the app's key is rotated or revoked, the old key is refused by
/// every pipe at once; {syncPipeKey} (anyone) then gives a pipe the app's new key.
interface IPipeRegistry is IPipeAuthority, IMembershipListener {
    /// @notice What the source side applies for.
    struct PipeSpec {
        bytes32 sourceApp; // an app of the caller's institution
        bytes32 targetApp; // an app of the target institution
        bytes32 sourceService; // the source's proxy: fronts the source app's sub-chain
        bytes32 targetService; // the target's proxy: fronts the target app's sub-chain
        bytes32 contractName; // keccak256 of a name the target institution registered on the target sub-chain
        uint8 operations; // operation flags: OPERATION_FLAG_READ (1) | OPERATION_FLAG_WRITE (2)
        bytes4[] selectors; // allowed functions; empty only for a read-only pipe (then any non-privileged selector)
        uint32 ratePerMinute;
        uint32 maxPayloadBytes;
        uint32 timeoutSeconds;
    }

    /// @notice The part of a pipe that {route} does not show.
    struct PipeRecord {
        address applicant;
        uint40 appliedAt;
        bool pausedByGovernance; // a pipe paused by vote is resumed only by vote
        uint32 sourceKeyIndex; // the source key's bit in the usability cache
        uint32 sourceServiceIndex;
        uint32 targetServiceIndex;
        bytes4[] selectors;
    }

    // ---------------------------------------------------------------- errors

    error PipeRegistryUnauthorizedInitializer(address caller);
    error PipeRegistryAlreadyInitialized();
    error PipeRegistryNotInitialized();
    error PipeRegistryZeroAddress();

    error PipeNotFound(PipeId pipeId);
    error PipeInvalidStatus(PipeId pipeId, PipeStatus status);
    error PipeUnauthorizedOperator(address caller, uint32 institution);
    error PipeUnauthorizedCaller(PipeId pipeId, address caller);
    error PipePausedByGovernance(PipeId pipeId);
    error PipeAppNotFound(bytes32 appId);
    error PipeAppKeyNotSet(bytes32 appId);
    error PipeKeyUnchanged(PipeId pipeId, address key);
    error PipeIdTooLarge(uint256 id);
    error PipeSameSubchain(SubchainId subchainId);
    error PipeInstitutionNotActive(uint32 institution, IMembership.InstitutionStatus status);
    error PipeInstitutionRestricted(uint32 institution);
    error PipeServiceNotFound(bytes32 serviceId);
    error PipeServiceMismatch(bytes32 serviceId, bytes32 appId);
    error PipeContractMismatch(bytes32 contractName, SubchainId subchainId, uint32 institution);
    error PipeInvalidOperations(uint8 operations);
    error PipeSelectorsRequired();
    error PipeTooManySelectors(uint256 count, uint256 max);
    error PipeSelectorInvalid(bytes4 selector);
    error PipeSelectorDuplicate(bytes4 selector);
    error PipeSelectorBlocked(bytes4 selector);
    error PipeInvalidLimits(uint32 ratePerMinute, uint32 maxPayloadBytes, uint32 timeoutSeconds);
    error PipeTooManyAlternates(uint256 count, uint256 max);
    error PipeAlternateDuplicate(PipeId pipeId, bytes32 serviceId);

    // ---------------------------------------------------------------- events

    event PipeRegistryInitialized(address services, address chains, address credit);
    event PipeApplied(
        PipeId indexed pipeId,
        uint32 indexed sourceInstitution,
        uint32 indexed targetInstitution,
        address applicant,
        PipeSpec spec
    );
    /// @notice `proposalId` is the vote on {activatePipe} (0 when the pipe became active at once).
    event PipeAuthorized(PipeId indexed pipeId, address indexed operator, uint256 proposalId);
    event PipeActivated(PipeId indexed pipeId, address indexed by);
    event PipePaused(PipeId indexed pipeId, address indexed by, bool byGovernance);
    event PipeResumed(PipeId indexed pipeId, address indexed by);
    event PipeClosed(PipeId indexed pipeId, address indexed by);
    event PipeActivationVoteChanged(bool required, address indexed by);
    event SelectorBlockChanged(bytes4 indexed selector, bool blocked, address indexed by);

    event InstitutionUsabilitySynced(uint32 indexed institution, bool active, bool restricted);
    event ServiceUsabilitySynced(
        bytes32 indexed serviceId,
        uint32 indexed index,
        address indexed signer,
        bool enabled,
        bool signerActive
    );
    event KeyUsabilitySynced(address indexed key, uint32 indexed index, bool active);
    event PipeKeySynced(PipeId indexed pipeId, address indexed key, address indexed by, address oldKey);
    event PipeAlternatesProposed(
        PipeId indexed pipeId,
        address indexed operator,
        uint256 proposalId,
        bytes32[] services
    );
    event PipeAlternatesSet(PipeId indexed pipeId, bytes32[] services, address indexed by);

    // ---------------------------------------------------------------- bootstrap

    /// @notice Wires the registries this one reads (deployed after it, since they push to it). Once, by the deployer.
    function initialize(IServiceRegistry services, IChainRegistry chains, ICreditRegistry credit) external;

    // ---------------------------------------------------------------- lifecycle

    /// @notice Applies for a pipe; by an active operator of the source app's institution. Every binding is
    /// validated now (see the README); the pipe is `Applied` until the target side authorises it.
    /// @return pipeId keccak256(chain id, this registry, the pipe's number)
    function applyPipe(PipeSpec calldata spec) external returns (PipeId pipeId);

    /// @notice Authorises an applied pipe; by an active operator of the target institution. The pipe becomes
    /// `Active`, or, when activation needs a vote, `Authorized` and the vote on {activatePipe} opens.
    /// @return proposalId the activation vote (0 when none)
    function authorizePipe(PipeId pipeId) external returns (uint256 proposalId);

    /// @notice Governed: activates an authorised pipe.
    function activatePipe(PipeId pipeId) external;

    /// @notice Pauses an active pipe; by an operator of either side, or by vote.
    function pausePipe(PipeId pipeId) external;

    /// @notice Resumes a paused pipe; by an operator of either side, or by vote (only by vote if a vote paused it).
    function resumePipe(PipeId pipeId) external;

    /// @notice Closes a pipe for good, in any state but closed; by an operator of either side, or by vote.
    function closePipe(PipeId pipeId) external;

    /// @notice Proposes the target side's alternate routes of a pipe, in priority order after the pipe's own target
    /// service (an empty list removes them all); by an active operator of the target institution. Each is a service of
    /// the target institution fronting the target sub-chain, at most three, none repeated nor the pipe's own. Decided
    /// like the pipe itself: the vote on {setAlternates} opens when activation needs a vote, else they apply now.
    /// @return proposalId the vote (0 when none)
    function proposeAlternates(PipeId pipeId, bytes32[] calldata services) external returns (uint256 proposalId);

    /// @notice Governed: sets a pipe's alternate target routes (see {proposeAlternates}), replacing the former list.
    function setAlternates(PipeId pipeId, bytes32[] calldata services) external;

    // ---------------------------------------------------------------- governed settings

    /// @notice Governed: whether authorised pipes need a vote to become active.
    function setActivationVoteRequired(bool required) external;

    /// @notice Governed: blocks (or unblocks) a selector, on top of the built-in privileged list. New pipes may not
    /// allow it, and every existing pipe refuses it (`SelectorNotAllowed`) from this transaction on, in O(1).
    function setSelectorBlocked(bytes4 selector, bool blocked) external;

    // ---------------------------------------------------------------- cache

    /// @notice Re-reads a service's status and its signer's account status.
    function syncService(bytes32 serviceId) external;

    /// @notice Re-reads whether a key used by pipes is still active (the chain registry calls it on a rotation or a
    /// revocation). Nothing happens for a key no pipe has used.
    function syncKey(address key) external;

    /// @notice Gives a pipe its source app's current key (after a rotation); anyone may call it, the key comes
    /// from the chain registry. Refused for a closed pipe, an app without a key, or a pipe that already has it.
    function syncPipeKey(PipeId pipeId) external;

    // ---------------------------------------------------------------- views

    /// @notice The part of a pipe {route} does not show (applicant zero when unknown).
    function pipe(PipeId pipeId) external view returns (PipeRecord memory);

    /// @notice A pipe's alternate target routes (service ids), in priority order after its own target service.
    function alternates(PipeId pipeId) external view returns (bytes32[] memory);

    /// @notice The number of pipes ever applied for.
    function pipeCount() external view returns (uint256);

    /// @notice Whether authorised pipes need a vote to become active.
    function activationVoteRequired() external view returns (bool);

    /// @notice Whether no pipe may use `selector`: built-in privileged selectors (`PrivilegedSelectors`, shared with
    /// the sub-chain gateway), the zero selector, and those blocked by governance.
    function isSelectorBlocked(bytes4 selector) external view returns (bool);

    /// @notice An institution as {checkOperation} sees it: whether it is active (the bit Membership pushes) and
    /// whether it is credit-restricted (asked of the credit score now, never cached).
    function institutionUsability(uint32 institution) external view returns (bool active, bool restricted);

    /// @notice The cached state of a service, as {checkOperation} sees it.
    function serviceUsability(uint32 index) external view returns (bool enabled, bool signerActive, address signer);

    /// @notice A key's index in the usability cache (0: no pipe has used it) and whether it is active.
    function keyUsability(address key) external view returns (uint32 index, bool active);

    /// @notice The registries this one reads.
    function registries()
        external
        view
        returns (IMembership membership, IServiceRegistry services, IChainRegistry chains, ICreditRegistry credit);
}
