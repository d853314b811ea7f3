// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Governed} from "../governance/Governed.sol";
import {IChainRegistry} from "../interfaces/IChainRegistry.sol";
import {ICreditRegistry} from "../interfaces/ICreditRegistry.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IPipeAuthority} from "../interfaces/IPipeAuthority.sol";
import {IPipeRegistry} from "../interfaces/IPipeRegistry.sol";
import {IServiceRegistry} from "../interfaces/IServiceRegistry.sol";
import {IVotingTickets} from "../interfaces/IVotingTickets.sol";
import {PrivilegedSelectors} from "../libraries/PrivilegedSelectors.sol";
import {PipeId, SubchainId} from "../types/Ids.sol";
import {OPERATION_FLAGS_ALL, OPERATION_FLAG_WRITE} from "../types/Operations.sol";
import {Grant, PipeGrant} from "./PipeGrant.sol";
import {PipeUsabilityCache} from "./PipeUsabilityCache.sol";

/// @title PipeRegistry
/// @notice Pipes between the apps of two institutions, and the one-call permission check the ledger, the relayers
/// and contracts ask before any cross-chain operation.
/// @dev {checkOperation} reads two storage slots and asks the credit score (one call per side):
///  1. the grant of (pipe, selector) ({PipeGrant}): one word, written for every allowed selector while the pipe is
///     active and deleted otherwise, holding the source app's key, the operation flags, both institutions' ids, both
///     services' indices, the key's index and the selector's index;
///  2. one word of the usability bitmap ({PipeUsability}, kept by {PipeUsabilityCache}). Both sides share one word
///     while institution ids and service indices are below 32 and key and selector indices below 64; past that,
///     each other word costs one more slot.
/// A refused operation and a read-only pipe open to any selector take a longer path (the pipe's record). The
/// usability bits are pushed by Membership (suspension, reinstatement, expulsion, account changes), the service
/// registry, the chain registry and {setSelectorBlocked} in the same transaction as the change: nothing loops over
/// pipes, and every dependent pipe refuses at once. A restriction is not pushed but asked of the credit score, which
/// works it out from the score and its current parameters (a parameter change moves many institutions at once).
/// Loops run only over one pipe's selectors (at most 16).
contract PipeRegistry is PipeUsabilityCache, Governed {
    uint256 private constant MAX_SELECTORS = 16;
    uint32 private constant MAX_RATE_PER_MINUTE = 1_000_000;
    uint32 private constant MAX_PAYLOAD_BYTES = 64 * 1024; // the sub-chain gateway's cap
    uint32 private constant MIN_TIMEOUT = 10;
    uint32 private constant MAX_TIMEOUT = 7 days;
    uint256 private constant MAX_ALTERNATES = 3;

    /// @dev The grant word is the pipe's own copy; the rest is read by views, lifecycle and refusal paths only.
    struct Pipe {
        Grant grant;
        PipeStatus status;
        bool pausedByGovernance;
        uint40 appliedAt;
        address applicant;
        uint32 ratePerMinute;
        uint32 timeoutSeconds; // with fixedHash, the one slot of fixed fields an open reads ({openingRoute})
        bytes28 fixedHash;
        uint32 maxPayloadBytes;
        bytes32 sourceApp;
        bytes32 targetApp;
        bytes32 sourceService;
        bytes32 targetService;
        SubchainId sourceSubchain;
        SubchainId targetSubchain;
        bytes32 contractName;
        bytes4[] selectors;
    }

    IVotingTickets private immutable _voting;
    address private immutable _deployer;

    // Declared right after the cache's registries and key count, so they share its last slot.
    bool private _activationVoteRequired;
    uint16 private _selectorCount;
    uint256 private _pipeCount;

    mapping(PipeId pipeId => Pipe) private _pipes;
    mapping(PipeId pipeId => mapping(bytes4 selector => Grant grant)) private _grants;
    mapping(bytes4 selector => bool) private _blockedSelectors;
    mapping(bytes4 selector => uint16 index) private _selectorIndex;
    /// @dev A pipe's alternate target routes in priority order, their service indices, and each listed index's rank
    /// (1-based; 0: not listed), which {alternateSigner} reads in one slot.
    mapping(PipeId pipeId => bytes32[] services) private _alternates;
    mapping(PipeId pipeId => uint32[MAX_ALTERNATES] indices) private _alternateIndices;
    mapping(PipeId pipeId => mapping(uint32 serviceIndex => uint256 rank)) private _alternateRank;

    constructor(IMembership membership_, IVotingTickets voting_) PipeUsabilityCache(membership_) {
        if (address(membership_) == address(0) || address(voting_) == address(0)) revert PipeRegistryZeroAddress();
        _voting = voting_;
        _deployer = msg.sender;
    }

    /// @inheritdoc IPipeRegistry
    function initialize(IServiceRegistry services, IChainRegistry chains, ICreditRegistry credit) external {
        if (msg.sender != _deployer) revert PipeRegistryUnauthorizedInitializer(msg.sender);
        if (address(_services) != address(0)) revert PipeRegistryAlreadyInitialized();
        if (address(services) == address(0) || address(chains) == address(0) || address(credit) == address(0)) {
            revert PipeRegistryZeroAddress();
        }
        _services = services;
        _chains = chains;
        _credit = credit;
        emit PipeRegistryInitialized(address(services), address(chains), address(credit));
    }

    // ---------------------------------------------------------------- the permission check

    /// @inheritdoc IPipeAuthority
    function checkOperation(
        PipeId pipeId,
        address signer,
        uint8 operation,
        bytes4 selector
    ) public view returns (Refusal) {
        Grant grant = _grants[pipeId][selector];
        // A grant exists only for an allowed selector of an active pipe: without one (or for another signer or
        // operation), the answer takes the refusal path.
        if (!grant.allows(signer, operation)) return _refusal(pipeId, signer, operation, selector);
        return _usabilityRefusal(grant);
    }

    /// @inheritdoc IPipeAuthority
    function requireOperation(PipeId pipeId, address signer, uint8 operation, bytes4 selector) external view {
        Refusal reason = checkOperation(pipeId, signer, operation, selector);
        if (reason != Refusal.Allowed) revert PipeOperationRefused(pipeId, signer, reason);
    }

    /// @dev The whole check from the pipe's record, in the order of {Refusal}: the path of refusals and of read-only
    /// pipes open to any selector.
    function _refusal(PipeId pipeId, address signer, uint8 operation, bytes4 selector) private view returns (Refusal) {
        Pipe storage p = _pipes[pipeId];
        PipeStatus status = p.status;
        if (status == PipeStatus.None) return Refusal.PipeUnknown;
        if (status != PipeStatus.Active) return Refusal.PipeNotActive;
        Grant grant = p.grant;
        if (grant.key() != signer) return _signerRefusal(p, signer);
        if (!grant.allowsOperation(operation)) return Refusal.OperationNotAllowed;
        // A selector blocked by governance is refused here from the block's own transaction on, in every pipe.
        bool allowed = !isSelectorBlocked(selector) && (!_grants[pipeId][selector].isZero() || p.selectors.length == 0);
        if (!allowed) return Refusal.SelectorNotAllowed;
        return _usabilityRefusal(grant);
    }

    /// @dev A signer other than the pipe's key: a revoked key of the source app is named as such.
    function _signerRefusal(Pipe storage p, address signer) private view returns (Refusal) {
        if (signer == address(0)) return Refusal.SignerNotReserved;
        IChainRegistry.KeyRecord memory k = _chains.keyRecord(signer);
        bool revoked = k.status == IChainRegistry.KeyStatus.Revoked && k.app == p.sourceApp;
        return revoked ? Refusal.KeyRevoked : Refusal.SignerNotReserved;
    }

    // ---------------------------------------------------------------- lifecycle

    /// @inheritdoc IPipeRegistry
    function applyPipe(PipeSpec calldata spec) external returns (PipeId pipeId) {
        IChainRegistry chains = _chains;
        if (address(chains) == address(0)) revert PipeRegistryNotInitialized();
        uint32 source = _membership.requireActiveAccount(msg.sender, IMembership.Role.Operator);
        IChainRegistry.App memory sourceApp = _app(chains, spec.sourceApp);
        if (sourceApp.institution != source) revert PipeUnauthorizedOperator(msg.sender, sourceApp.institution);
        if (sourceApp.key == address(0)) revert PipeAppKeyNotSet(spec.sourceApp);
        IChainRegistry.App memory targetApp = _app(chains, spec.targetApp);
        if (sourceApp.subchain == targetApp.subchain) revert PipeSameSubchain(sourceApp.subchain);
        _requireUsableInstitution(source);
        _requireUsableInstitution(targetApp.institution);
        Grant grant = PipeGrant.pack(
            spec.operations,
            source,
            targetApp.institution,
            _serviceIndex(spec.sourceService, sourceApp, spec.sourceApp),
            _serviceIndex(spec.targetService, targetApp, spec.targetApp)
        );
        // The name must be registered in the target sub-chain's namespace, which only its institution writes to.
        if (chains.contractName(targetApp.subchain, spec.contractName).institution != targetApp.institution) {
            revert PipeContractMismatch(spec.contractName, targetApp.subchain, targetApp.institution);
        }
        _checkOperations(spec.operations, spec.selectors);
        _checkLimits(spec.ratePerMinute, spec.maxPayloadBytes, spec.timeoutSeconds);

        pipeId = PipeId.wrap(keccak256(abi.encode(block.chainid, address(this), ++_pipeCount)));
        grant = grant.withKey(sourceApp.key, _keyIndexFor(sourceApp.key));
        _store(pipeId, grant, spec, sourceApp.subchain, targetApp.subchain);
        emit PipeApplied(pipeId, source, targetApp.institution, msg.sender, spec);
    }

    /// @inheritdoc IPipeRegistry
    function authorizePipe(PipeId pipeId) external returns (uint256 proposalId) {
        // CHECKS
        Pipe storage p = _existingPipe(pipeId);
        if (p.status != PipeStatus.Applied) revert PipeInvalidStatus(pipeId, p.status);
        Grant grant = p.grant;
        uint32 target = grant.targetInstitution();
        uint32 own = _membership.requireActiveAccount(msg.sender, IMembership.Role.Operator);
        if (own != target) revert PipeUnauthorizedOperator(msg.sender, target);
        _requireUsableInstitution(grant.sourceInstitution());
        _requireUsableInstitution(target);
        if (!_activationVoteRequired) {
            // EFFECTS
            _activate(pipeId, p);
            emit PipeAuthorized(pipeId, msg.sender, 0);
            emit PipeActivated(pipeId, msg.sender);
            return 0;
        }
        // EFFECTS
        p.status = PipeStatus.Authorized;
        // INTERACTIONS: the voting contract is ours; it only stores the proposal.
        proposalId = _voting.openProposal(
            msg.sender,
            address(this),
            abi.encodeCall(this.activatePipe, (pipeId)),
            "activate pipe"
        );
        emit PipeAuthorized(pipeId, msg.sender, proposalId);
    }

    /// @inheritdoc IPipeRegistry
    function activatePipe(PipeId pipeId) external onlyGovernance {
        Pipe storage p = _existingPipe(pipeId);
        if (p.status != PipeStatus.Authorized) revert PipeInvalidStatus(pipeId, p.status);
        _activate(pipeId, p);
        emit PipeActivated(pipeId, msg.sender);
    }

    /// @inheritdoc IPipeRegistry
    function pausePipe(PipeId pipeId) external {
        Pipe storage p = _existingPipe(pipeId);
        bool byGovernance = _requireSideOrGovernance(pipeId, p.grant);
        if (p.status != PipeStatus.Active) revert PipeInvalidStatus(pipeId, p.status);
        _deactivate(pipeId, p, PipeStatus.Paused);
        p.pausedByGovernance = byGovernance;
        emit PipePaused(pipeId, msg.sender, byGovernance);
    }

    /// @inheritdoc IPipeRegistry
    function resumePipe(PipeId pipeId) external {
        Pipe storage p = _existingPipe(pipeId);
        bool byGovernance = _requireSideOrGovernance(pipeId, p.grant);
        if (p.status != PipeStatus.Paused) revert PipeInvalidStatus(pipeId, p.status);
        if (p.pausedByGovernance && !byGovernance) revert PipePausedByGovernance(pipeId);
        p.pausedByGovernance = false;
        _activate(pipeId, p);
        emit PipeResumed(pipeId, msg.sender);
    }

    /// @inheritdoc IPipeRegistry
    function closePipe(PipeId pipeId) external {
        Pipe storage p = _existingPipe(pipeId);
        _requireSideOrGovernance(pipeId, p.grant);
        if (p.status == PipeStatus.Closed) revert PipeInvalidStatus(pipeId, PipeStatus.Closed);
        _deactivate(pipeId, p, PipeStatus.Closed);
        p.pausedByGovernance = false;
        emit PipeClosed(pipeId, msg.sender);
    }

    /// @inheritdoc IPipeRegistry
    function syncPipeKey(PipeId pipeId) external {
        Pipe storage p = _existingPipe(pipeId);
        if (p.status == PipeStatus.Closed) revert PipeInvalidStatus(pipeId, PipeStatus.Closed);
        address key = _app(_chains, p.sourceApp).key;
        if (key == address(0)) revert PipeAppKeyNotSet(p.sourceApp);
        Grant grant = p.grant;
        address oldKey = grant.key();
        if (key == oldKey) revert PipeKeyUnchanged(pipeId, key);
        p.grant = grant.withKey(key, _keyIndexFor(key));
        if (p.status == PipeStatus.Active) _activate(pipeId, p);
        emit PipeKeySynced(pipeId, key, msg.sender, oldKey);
    }

    /// @dev Writes the pipe's grant under each allowed selector, with the selector's index so that a later block
    /// reaches the grant through one usability bit (none for a read-only pipe open to any selector, which is checked
    /// from the record). Bounded by MAX_SELECTORS.
    function _activate(PipeId pipeId, Pipe storage p) private {
        p.status = PipeStatus.Active;
        Grant grant = p.grant;
        bytes4[] storage selectors = p.selectors;
        uint256 n = selectors.length;
        for (uint256 i = 0; i < n; ++i) {
            bytes4 selector = selectors[i];
            _grants[pipeId][selector] = grant.withSelectorIndex(_selectorIndex[selector]);
        }
    }

    /// @dev Deletes the pipe's grants. Bounded by MAX_SELECTORS.
    function _deactivate(PipeId pipeId, Pipe storage p, PipeStatus status) private {
        if (p.status == PipeStatus.Active) {
            bytes4[] storage selectors = p.selectors;
            uint256 n = selectors.length;
            for (uint256 i = 0; i < n; ++i) {
                _grants[pipeId][selectors[i]] = Grant.wrap(0);
            }
        }
        p.status = status;
    }

    // ---------------------------------------------------------------- alternate routes

    /// @inheritdoc IPipeRegistry
    function proposeAlternates(PipeId pipeId, bytes32[] calldata services) external returns (uint256 proposalId) {
        // CHECKS
        Pipe storage p = _openPipe(pipeId);
        uint32 target = p.grant.targetInstitution();
        uint32 own = _membership.requireActiveAccount(msg.sender, IMembership.Role.Operator);
        if (own != target) revert PipeUnauthorizedOperator(msg.sender, target);
        uint32[] memory indices = _checkAlternates(pipeId, p, services);
        if (!_activationVoteRequired) {
            // EFFECTS: the pipe's own rule decides, as {authorizePipe} does.
            _setAlternates(pipeId, services, indices);
            emit PipeAlternatesProposed(pipeId, msg.sender, 0, services);
            return 0;
        }
        // INTERACTIONS: the voting contract is ours; it only stores the proposal.
        proposalId = _voting.openProposal(
            msg.sender,
            address(this),
            abi.encodeCall(this.setAlternates, (pipeId, services)),
            "pipe alternate routes"
        );
        emit PipeAlternatesProposed(pipeId, msg.sender, proposalId, services);
    }

    /// @inheritdoc IPipeRegistry
    function setAlternates(PipeId pipeId, bytes32[] calldata services) external onlyGovernance {
        // Checked again: a service may have changed between the proposal and the vote.
        Pipe storage p = _openPipe(pipeId);
        _setAlternates(pipeId, services, _checkAlternates(pipeId, p, services));
    }

    function _openPipe(PipeId pipeId) private view returns (Pipe storage p) {
        p = _existingPipe(pipeId);
        if (p.status == PipeStatus.Closed) revert PipeInvalidStatus(pipeId, PipeStatus.Closed);
    }

    /// @dev Services of the target institution fronting the target sub-chain, none repeated nor the pipe's own
    /// target service. Bounded by MAX_ALTERNATES (pairwise duplicate check).
    function _checkAlternates(
        PipeId pipeId,
        Pipe storage p,
        bytes32[] calldata services
    ) private view returns (uint32[] memory indices) {
        uint256 n = services.length;
        if (n > MAX_ALTERNATES) revert PipeTooManyAlternates(n, MAX_ALTERNATES);
        // The target side as an app record, for the service check {applyPipe} makes.
        IChainRegistry.App memory target = IChainRegistry.App({
            key: address(0),
            institution: p.grant.targetInstitution(),
            index: 0,
            subchain: p.targetSubchain
        });
        bytes32 primary = p.targetService;
        indices = new uint32[](n);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 serviceId = services[i];
            if (serviceId == primary) revert PipeAlternateDuplicate(pipeId, serviceId);
            for (uint256 j = 0; j < i; ++j) {
                if (services[j] == serviceId) revert PipeAlternateDuplicate(pipeId, serviceId);
            }
            indices[i] = uint32(_serviceIndex(serviceId, target, p.targetApp));
        }
    }

    /// @dev Replaces the list: MAX_ALTERNATES fixed slots of indices, each old one unranked, each new one ranked.
    function _setAlternates(PipeId pipeId, bytes32[] calldata services, uint32[] memory indices) private {
        mapping(uint32 => uint256) storage rank = _alternateRank[pipeId];
        for (uint256 i = 0; i < MAX_ALTERNATES; ++i) {
            uint32 old = _alternateIndices[pipeId][i];
            if (old != 0) delete rank[old];
            _alternateIndices[pipeId][i] = i < indices.length ? indices[i] : 0;
        }
        for (uint256 i = 0; i < indices.length; ++i) rank[indices[i]] = i + 1;
        _alternates[pipeId] = services;
        emit PipeAlternatesSet(pipeId, services, msg.sender);
    }

    // ---------------------------------------------------------------- governed settings

    /// @inheritdoc IPipeRegistry
    function setActivationVoteRequired(bool required) external onlyGovernance {
        _activationVoteRequired = required;
        emit PipeActivationVoteChanged(required, msg.sender);
    }

    /// @inheritdoc IPipeRegistry
    function setSelectorBlocked(bytes4 selector, bool blocked) external onlyGovernance {
        if (selector == bytes4(0)) revert PipeSelectorInvalid(selector);
        _blockedSelectors[selector] = blocked;
        // Every grant of the selector carries its index: one bit refuses it in every existing pipe at once.
        uint16 index = _selectorIndex[selector];
        if (index != 0) _setSelectorBlockedBit(index, blocked);
        emit SelectorBlockChanged(selector, blocked, msg.sender);
    }

    // ---------------------------------------------------------------- internals

    function _existingPipe(PipeId pipeId) private view returns (Pipe storage p) {
        p = _pipes[pipeId];
        if (p.status == PipeStatus.None) revert PipeNotFound(pipeId);
    }

    /// @dev Governance, or an active operator of either side. Returns whether the caller is governance.
    function _requireSideOrGovernance(PipeId pipeId, Grant grant) private view returns (bool) {
        if (msg.sender == address(_voting)) return true;
        uint32 own = _membership.requireActiveAccount(msg.sender, IMembership.Role.Operator);
        if (own != grant.sourceInstitution() && own != grant.targetInstitution()) {
            revert PipeUnauthorizedCaller(pipeId, msg.sender);
        }
        return false;
    }

    function _requireUsableInstitution(uint32 id) private view {
        IMembership.InstitutionStatus status = _membership.institutionStatus(id);
        if (status != IMembership.InstitutionStatus.Active) revert PipeInstitutionNotActive(id, status);
        if (_restricted(id)) revert PipeInstitutionRestricted(id);
    }

    function _app(IChainRegistry chains, bytes32 appId) private view returns (IChainRegistry.App memory a) {
        a = chains.app(appId);
        if (a.index == 0) revert PipeAppNotFound(appId);
    }

    /// @dev The service exists, belongs to the app's institution and fronts the app's sub-chain.
    function _serviceIndex(
        bytes32 serviceId,
        IChainRegistry.App memory a,
        bytes32 appId
    ) private view returns (uint256) {
        IServiceRegistry.ServiceRef memory s = _services.serviceRef(serviceId);
        if (s.status == IServiceRegistry.ServiceStatus.None) revert PipeServiceNotFound(serviceId);
        if (s.institution != a.institution || s.subchain != a.subchain) revert PipeServiceMismatch(serviceId, appId);
        return s.index;
    }

    /// @dev `operations` are flags. Bounded: at most MAX_SELECTORS selectors, checked pairwise for duplicates.
    function _checkOperations(uint8 operations, bytes4[] calldata selectors) private {
        if (operations == 0 || operations > OPERATION_FLAGS_ALL) revert PipeInvalidOperations(operations);
        uint256 n = selectors.length;
        if (n > MAX_SELECTORS) revert PipeTooManySelectors(n, MAX_SELECTORS);
        if (n == 0 && operations & OPERATION_FLAG_WRITE != 0) revert PipeSelectorsRequired();
        for (uint256 i = 0; i < n; ++i) {
            bytes4 selector = selectors[i];
            if (selector == bytes4(0)) revert PipeSelectorInvalid(selector);
            if (isSelectorBlocked(selector)) revert PipeSelectorBlocked(selector);
            for (uint256 j = 0; j < i; ++j) {
                if (selectors[j] == selector) revert PipeSelectorDuplicate(selector);
            }
            if (_selectorIndex[selector] == 0) {
                uint16 index = uint16(PipeGrant.fits(_selectorCount + 1, PipeGrant.SELECTOR_INDEX_BITS));
                _selectorCount = index;
                _selectorIndex[selector] = index;
            }
        }
    }

    function _checkLimits(uint32 ratePerMinute, uint32 maxPayloadBytes, uint32 timeoutSeconds) private pure {
        bool sane =
            ratePerMinute != 0 &&
                ratePerMinute <= MAX_RATE_PER_MINUTE &&
                maxPayloadBytes != 0 &&
                maxPayloadBytes <= MAX_PAYLOAD_BYTES &&
                timeoutSeconds >= MIN_TIMEOUT &&
                timeoutSeconds <= MAX_TIMEOUT;
        if (!sane) revert PipeInvalidLimits(ratePerMinute, maxPayloadBytes, timeoutSeconds);
    }

    function _store(
        PipeId pipeId,
        Grant grant,
        PipeSpec calldata spec,
        SubchainId sourceSubchain,
        SubchainId targetSubchain
    ) private {
        Pipe storage p = _pipes[pipeId];
        p.grant = grant;
        p.status = PipeStatus.Applied;
        p.appliedAt = uint40(block.timestamp);
        p.applicant = msg.sender;
        p.ratePerMinute = spec.ratePerMinute;
        p.maxPayloadBytes = spec.maxPayloadBytes;
        p.timeoutSeconds = spec.timeoutSeconds;
        p.sourceApp = spec.sourceApp;
        p.targetApp = spec.targetApp;
        p.sourceService = spec.sourceService;
        p.targetService = spec.targetService;
        p.sourceSubchain = sourceSubchain;
        p.targetSubchain = targetSubchain;
        p.contractName = spec.contractName;
        p.fixedHash = bytes28(
            keccak256(abi.encode(spec.targetService, spec.contractName, sourceSubchain, targetSubchain))
        );
        p.selectors = spec.selectors;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc Governed
    function governance() public view override returns (address) {
        return address(_voting);
    }

    /// @inheritdoc IPipeAuthority
    function route(PipeId pipeId) external view returns (PipeRoute memory r) {
        Pipe storage p = _pipes[pipeId];
        r.status = p.status;
        if (r.status == PipeStatus.None) return r;
        Grant grant = p.grant;
        r.operations = grant.operations();
        r.sourceInstitution = grant.sourceInstitution();
        r.targetInstitution = grant.targetInstitution();
        r.sourceApp = p.sourceApp;
        r.targetApp = p.targetApp;
        r.sourceAppKey = grant.key();
        r.targetAppKey = _chains.app(p.targetApp).key;
        r.sourceService = p.sourceService;
        r.targetService = p.targetService;
        r.sourceServiceSigner = _serviceSigners[grant.sourceService()].signer;
        r.targetServiceSigner = _serviceSigners[grant.targetService()].signer;
        r.sourceSubchain = p.sourceSubchain;
        r.targetSubchain = p.targetSubchain;
        r.contractName = p.contractName;
        r.ratePerMinute = p.ratePerMinute;
        r.maxPayloadBytes = p.maxPayloadBytes;
        r.timeoutSeconds = p.timeoutSeconds;
    }

    /// @inheritdoc IPipeAuthority
    /// @dev An allowed operation reads its grant, one usability word, both proxies' signers and the slot of the
    /// timeout and the fixed fields' hash: five storage slots, where {route} then {requireOperation} read fourteen and
    /// call the chain registry.
    function openingRoute(
        PipeId pipeId,
        address signer,
        uint8 operation,
        bytes4 selector
    ) external view returns (OpeningRoute memory r, Refusal refusal) {
        Pipe storage p = _pipes[pipeId];
        Grant grant = _grants[pipeId][selector];
        if (!grant.allows(signer, operation)) {
            r.status = p.status;
            if (r.status == PipeStatus.None) return (r, Refusal.PipeUnknown);
            grant = p.grant;
            refusal = _refusal(pipeId, signer, operation, selector);
        } else {
            r.status = PipeStatus.Active;
            refusal = _usabilityRefusal(grant);
        }
        r.sourceInstitution = grant.sourceInstitution();
        r.targetInstitution = grant.targetInstitution();
        r.timeoutSeconds = p.timeoutSeconds;
        r.sourceAppKey = grant.key();
        r.sourceServiceSigner = _serviceSigners[grant.sourceService()].signer;
        r.targetServiceSigner = _serviceSigners[grant.targetService()].signer;
        r.fixedHash = p.fixedHash;
        r.sourceServiceIndex = grant.sourceService();
        r.targetServiceIndex = grant.targetService();
    }

    /// @inheritdoc IPipeAuthority
    function fixedRoute(
        PipeId pipeId
    )
        external
        view
        returns (bytes32 targetService, bytes32 contractName, SubchainId sourceSubchain, SubchainId targetSubchain)
    {
        Pipe storage p = _pipes[pipeId];
        return (p.targetService, p.contractName, p.sourceSubchain, p.targetSubchain);
    }

    /// @inheritdoc IPipeRegistry
    function pipe(PipeId pipeId) external view returns (PipeRecord memory r) {
        Pipe storage p = _pipes[pipeId];
        Grant grant = p.grant;
        r.applicant = p.applicant;
        r.appliedAt = p.appliedAt;
        r.pausedByGovernance = p.pausedByGovernance;
        r.sourceKeyIndex = uint32(grant.keyIndex());
        r.sourceServiceIndex = grant.sourceService();
        r.targetServiceIndex = grant.targetService();
        r.selectors = p.selectors;
    }

    /// @inheritdoc IPipeRegistry
    function alternates(PipeId pipeId) external view returns (bytes32[] memory) {
        return _alternates[pipeId];
    }

    /// @inheritdoc IPipeAuthority
    function alternateSigner(PipeId pipeId, address signer) external view returns (bool listed, bool serving) {
        ServingKey memory k = _serving[signer];
        listed = k.service != 0 && _alternateRank[pipeId][k.service] != 0;
        serving = listed && k.institution != 0 && _institutionActive(k.institution);
    }

    /// @inheritdoc IPipeRegistry
    function pipeCount() external view returns (uint256) {
        return _pipeCount;
    }

    /// @inheritdoc IPipeRegistry
    function activationVoteRequired() external view returns (bool) {
        return _activationVoteRequired;
    }

    /// @inheritdoc IPipeRegistry
    function isSelectorBlocked(bytes4 selector) public view returns (bool) {
        return selector == bytes4(0) || PrivilegedSelectors.isPrivileged(selector) || _blockedSelectors[selector];
    }

    /// @inheritdoc IPipeRegistry
    function registries()
        external
        view
        returns (IMembership membership, IServiceRegistry services, IChainRegistry chains, ICreditRegistry credit)
    {
        return (_membership, _services, _chains, _credit);
    }
}
