// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IChainRegistry} from "../interfaces/IChainRegistry.sol";
import {ICreditRegistry} from "../interfaces/ICreditRegistry.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IMembershipListener} from "../interfaces/IMembershipListener.sol";
import {IPipeAuthority} from "../interfaces/IPipeAuthority.sol";
import {IPipeRegistry} from "../interfaces/IPipeRegistry.sol";
import {IServiceRegistry} from "../interfaces/IServiceRegistry.sol";
import {IVotingTickets} from "../interfaces/IVotingTickets.sol";
import {PrivilegedSelectors} from "../libraries/PrivilegedSelectors.sol";
import {Governed} from "./Governed.sol";

/// @title PipeRegistry
/// @notice Pipes between the apps of two institutions, and the one-call permission check the ledger, the relayers
/// and contracts ask before any cross-chain operation.
/// @dev {checkOperation} reads two storage slots and asks the credit score (one call per side):
///  1. the grant of (pipe, selector): one word, written for every allowed selector while the pipe is active and
///     deleted otherwise, holding the source app's key, the operations, both institutions' ids, both services'
///     indices, the key's index and the selector's index;
///  2. one usability word: per word 32 institutions (not active), 32 services (not enabled / signer
///     account not active), 64 keys (revoked) and 64 selectors (blocked by governance). Both sides share one word
///     while institution ids and service indices are below 32 and key and selector indices below 64; past that,
///     each other word costs one more slot.
/// A refused operation and a read-only pipe open to any selector take a longer path (the pipe's record). The
/// usability bits are pushed by Membership (suspension, reinstatement, expulsion, account changes), the service
/// registry, the chain registry and {setSelectorBlocked} in the same transaction as the change: nothing loops over
/// pipes, and every dependent pipe refuses at once. A restriction is not pushed but asked of the credit score, which
/// works it out from the score and its current parameters (a parameter change moves many institutions at once).
/// Loops run only over one pipe's selectors (at most 16).
contract PipeRegistry is IPipeRegistry, Governed {
    uint8 private constant READ = 1;
    uint8 private constant WRITE = 2;
    uint256 private constant MAX_SELECTORS = 16;
    uint32 private constant MAX_RATE_PER_MINUTE = 1_000_000;
    uint32 private constant MAX_PAYLOAD_BYTES = 64 * 1024; // the sub-chain gateway's cap
    uint32 private constant MIN_TIMEOUT = 10;
    uint32 private constant MAX_TIMEOUT = 7 days;

    // A grant word, from the lowest bit: the key (160 bits), then these fields.
    uint256 private constant _OPS_SHIFT = 160; // 2 bits
    uint256 private constant _SRC_INST_SHIFT = 162; // 16 bits
    uint256 private constant _TGT_INST_SHIFT = 178; // 16 bits
    uint256 private constant _SRC_SVC_SHIFT = 194; // 16 bits
    uint256 private constant _TGT_SVC_SHIFT = 210; // 16 bits
    uint256 private constant _KEY_SHIFT = 226; // 18 bits
    uint256 private constant _KEY_INDEX_BITS = 18;
    uint256 private constant _SEL_SHIFT = 244; // 12 bits: the selector's index, zero in the pipe's own copy
    uint256 private constant _SEL_INDEX_BITS = 12;
    uint256 private constant _KEY_MASK = (1 << 160) - 1;

    // A usability word: the bit of an entity is its kind's offset + (its number modulo the kind's count per word).
    uint256 private constant _INST_INACTIVE = 0;
    uint256 private constant _INST_RESTRICTED = 32;
    uint256 private constant _SVC_DISABLED = 64;
    uint256 private constant _SVC_SIGNER_INACTIVE = 96;
    uint256 private constant _KEY_REVOKED = 128; // 64 keys per word
    uint256 private constant _SEL_BLOCKED = 192; // 64 selectors per word

    /// @dev A service's signing key, and whether it serves now (the same answer as `_serving[signer]`).
    struct ServiceKey {
        address signer;
        bool serving;
    }

    /// @dev The grant word is the pipe's own copy; the rest is read by views, lifecycle and refusal paths only.
    struct Pipe {
        uint256 grant;
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
        bytes32 sourceSubchain;
        bytes32 targetSubchain;
        bytes32 contractName;
        bytes4[] selectors;
    }

    IMembership private immutable _membership;
    IVotingTickets private immutable _voting;
    address private immutable _deployer;

    IServiceRegistry private _services;
    IChainRegistry private _chains;
    ICreditRegistry private _credit;
    bool private _activationVoteRequired;
    uint256 private _pipeCount;
    uint32 private _keyCount;
    uint16 private _selectorCount;

    mapping(bytes32 pipeId => Pipe) private _pipes;
    mapping(bytes32 pipeId => mapping(bytes4 selector => uint256 grant)) private _grants;
    mapping(bytes4 selector => bool) private _blockedSelectors;
    mapping(bytes4 selector => uint16 index) private _selectorIndex;
    mapping(uint256 word => uint256 bits) private _usability;
    mapping(address key => uint32 index) private _keyIndex;
    /// @dev The service's current signing key and whether it serves ({serviceSigner}: one slot per proxy call).
    mapping(uint32 serviceIndex => ServiceKey) private _serviceSigners;
    /// @dev The current signing key of an enabled service with an active account ({isServingSigner}); a key rotated
    /// out is cleared in the rotation's own transaction.
    mapping(address signer => bool) private _serving;

    constructor(IMembership membership_, IVotingTickets voting_) {
        if (address(membership_) == address(0) || address(voting_) == address(0)) revert PipeRegistryZeroAddress();
        _membership = membership_;
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
        bytes32 pipeId,
        address signer,
        uint8 operation,
        bytes4 selector
    ) public view returns (Refusal) {
        uint256 grant = _grants[pipeId][selector];
        if (_ungranted(grant, signer, operation)) return _refusal(pipeId, signer, operation, selector);
        return _dependencyRefusal(grant);
    }

    /// @dev A grant exists only for an allowed selector of an active pipe: without one (or for another signer or
    /// operation), the answer takes the refusal path.
    function _ungranted(uint256 grant, address signer, uint8 operation) private pure returns (bool) {
        return
            grant == 0 ||
            address(uint160(grant)) != signer ||
            operation > 1 ||
            (grant >> _OPS_SHIFT) & (1 << operation) == 0;
    }

    /// @inheritdoc IPipeAuthority
    function requireOperation(bytes32 pipeId, address signer, uint8 operation, bytes4 selector) external view {
        Refusal reason = checkOperation(pipeId, signer, operation, selector);
        if (reason != Refusal.Allowed) revert PipeOperationRefused(pipeId, signer, reason);
    }

    /// @dev The whole check from the pipe's record, in the order of {Refusal}: the path of refusals and of read-only
    /// pipes open to any selector.
    function _refusal(bytes32 pipeId, address signer, uint8 operation, bytes4 selector) private view returns (Refusal) {
        Pipe storage p = _pipes[pipeId];
        PipeStatus status = p.status;
        if (status == PipeStatus.None) return Refusal.PipeUnknown;
        if (status != PipeStatus.Active) return Refusal.PipeNotActive;
        uint256 grant = p.grant;
        if (address(uint160(grant)) != signer) return _signerRefusal(p, signer);
        if (operation > 1 || (grant >> _OPS_SHIFT) & (1 << operation) == 0) return Refusal.OperationNotAllowed;
        // A selector blocked by governance is refused here from the block's own transaction on, in every pipe.
        bool allowed = !isSelectorBlocked(selector) && (_grants[pipeId][selector] != 0 || p.selectors.length == 0);
        if (!allowed) return Refusal.SelectorNotAllowed;
        return _dependencyRefusal(grant);
    }

    /// @dev A signer other than the pipe's key: a revoked key of the source app is named as such.
    function _signerRefusal(Pipe storage p, address signer) private view returns (Refusal) {
        if (signer == address(0)) return Refusal.SignerNotReserved;
        IChainRegistry.KeyRecord memory k = _chains.keyRecord(signer);
        bool revoked = k.status == IChainRegistry.KeyStatus.Revoked && k.app == p.sourceApp;
        return revoked ? Refusal.KeyRevoked : Refusal.SignerNotReserved;
    }

    /// @dev The selector's block, then both institutions, then both services, then the key; each reason checked on
    /// both sides before the next.
    function _dependencyRefusal(uint256 grant) private view returns (Refusal) {
        uint256 src = uint16(grant >> _SRC_INST_SHIFT);
        uint256 word = src >> 5;
        uint256 bits = _usability[word];
        if ((_word(word, bits, grant >> _SEL_SHIFT, 6) >> _SEL_BLOCKED) & 1 != 0) return Refusal.SelectorNotAllowed;
        // Shift each entity's word so that its bit of each kind sits at the kind's offset.
        uint256 inst = (bits >> (src & 31)) | (_word(word, bits, uint16(grant >> _TGT_INST_SHIFT), 5));
        if ((inst >> _INST_INACTIVE) & 1 != 0) return Refusal.InstitutionNotActive;
        if (_restricted(src) || _restricted(uint16(grant >> _TGT_INST_SHIFT))) return Refusal.InstitutionRestricted;
        uint256 svc =
            _word(word, bits, uint16(grant >> _SRC_SVC_SHIFT), 5) |
                _word(word, bits, uint16(grant >> _TGT_SVC_SHIFT), 5);
        if ((svc >> _SVC_DISABLED) & 1 != 0) return Refusal.ServiceDisabled;
        if ((svc >> _SVC_SIGNER_INACTIVE) & 1 != 0) return Refusal.KeyRevoked;
        if ((_word(word, bits, _keyIndexOf(grant), 6) >> _KEY_REVOKED) & 1 != 0) return Refusal.KeyRevoked;
        return Refusal.Allowed;
    }

    /// @dev The credit score's answer now, never a copy: it works the restriction out from the score and the current
    /// parameters, so a `setParams` reaches every pipe at once (a pushed bit would follow only the next outcome).
    function _restricted(uint256 institution) private view returns (bool) {
        return _credit.isRestricted(uint32(institution));
    }

    /// @dev The usability word of entity `n` (2^shift entities of its kind per word), shifted by its position;
    /// `bits` is word `known`, already read.
    function _word(uint256 known, uint256 bits, uint256 n, uint256 shift) private view returns (uint256) {
        uint256 w = n >> shift;
        return (w == known ? bits : _usability[w]) >> (n & ((1 << shift) - 1));
    }

    function _keyIndexOf(uint256 grant) private pure returns (uint256) {
        return (grant >> _KEY_SHIFT) & ((1 << _KEY_INDEX_BITS) - 1);
    }

    // ---------------------------------------------------------------- lifecycle

    /// @inheritdoc IPipeRegistry
    function applyPipe(PipeSpec calldata spec) external returns (bytes32 pipeId) {
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
        uint256 fields =
            _fits(source, 16) |
                (_fits(targetApp.institution, 16) << 16) |
                (_fits(_serviceIndex(spec.sourceService, sourceApp, spec.sourceApp), 16) << 32) |
                (_fits(_serviceIndex(spec.targetService, targetApp, spec.targetApp), 16) << 48);
        // The name must be registered in the target sub-chain's namespace, which only its institution writes to.
        if (chains.contractName(targetApp.subchain, spec.contractName).institution != targetApp.institution) {
            revert PipeContractMismatch(spec.contractName, targetApp.subchain, targetApp.institution);
        }
        _checkOperations(spec.operations, spec.selectors);
        _checkLimits(spec.ratePerMinute, spec.maxPayloadBytes, spec.timeoutSeconds);

        pipeId = keccak256(abi.encode(block.chainid, address(this), ++_pipeCount));
        uint256 grant = (uint256(spec.operations) << _OPS_SHIFT) | (fields << _SRC_INST_SHIFT);
        _store(pipeId, _withKey(grant, sourceApp.key), spec, sourceApp.subchain, targetApp.subchain);
        emit PipeApplied(pipeId, source, targetApp.institution, msg.sender, spec);
    }

    /// @inheritdoc IPipeRegistry
    function authorizePipe(bytes32 pipeId) external returns (uint256 proposalId) {
        // CHECKS
        Pipe storage p = _existingPipe(pipeId);
        if (p.status != PipeStatus.Applied) revert PipeInvalidStatus(pipeId, p.status);
        uint256 grant = p.grant;
        uint32 target = uint16(grant >> _TGT_INST_SHIFT);
        uint32 own = _membership.requireActiveAccount(msg.sender, IMembership.Role.Operator);
        if (own != target) revert PipeUnauthorizedOperator(msg.sender, target);
        _requireUsableInstitution(uint16(grant >> _SRC_INST_SHIFT));
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
    function activatePipe(bytes32 pipeId) external onlyGovernance {
        Pipe storage p = _existingPipe(pipeId);
        if (p.status != PipeStatus.Authorized) revert PipeInvalidStatus(pipeId, p.status);
        _activate(pipeId, p);
        emit PipeActivated(pipeId, msg.sender);
    }

    /// @inheritdoc IPipeRegistry
    function pausePipe(bytes32 pipeId) external {
        Pipe storage p = _existingPipe(pipeId);
        bool byGovernance = _requireSideOrGovernance(pipeId, p.grant);
        if (p.status != PipeStatus.Active) revert PipeInvalidStatus(pipeId, p.status);
        _deactivate(pipeId, p, PipeStatus.Paused);
        p.pausedByGovernance = byGovernance;
        emit PipePaused(pipeId, msg.sender, byGovernance);
    }

    /// @inheritdoc IPipeRegistry
    function resumePipe(bytes32 pipeId) external {
        Pipe storage p = _existingPipe(pipeId);
        bool byGovernance = _requireSideOrGovernance(pipeId, p.grant);
        if (p.status != PipeStatus.Paused) revert PipeInvalidStatus(pipeId, p.status);
        if (p.pausedByGovernance && !byGovernance) revert PipePausedByGovernance(pipeId);
        p.pausedByGovernance = false;
        _activate(pipeId, p);
        emit PipeResumed(pipeId, msg.sender);
    }

    /// @inheritdoc IPipeRegistry
    function closePipe(bytes32 pipeId) external {
        Pipe storage p = _existingPipe(pipeId);
        _requireSideOrGovernance(pipeId, p.grant);
        if (p.status == PipeStatus.Closed) revert PipeInvalidStatus(pipeId, PipeStatus.Closed);
        _deactivate(pipeId, p, PipeStatus.Closed);
        p.pausedByGovernance = false;
        emit PipeClosed(pipeId, msg.sender);
    }

    /// @inheritdoc IPipeRegistry
    function syncPipeKey(bytes32 pipeId) external {
        Pipe storage p = _existingPipe(pipeId);
        if (p.status == PipeStatus.Closed) revert PipeInvalidStatus(pipeId, PipeStatus.Closed);
        address key = _app(_chains, p.sourceApp).key;
        if (key == address(0)) revert PipeAppKeyNotSet(p.sourceApp);
        uint256 grant = p.grant;
        address oldKey = address(uint160(grant));
        if (key == oldKey) revert PipeKeyUnchanged(pipeId, key);
        p.grant = _withKey(grant, key);
        if (p.status == PipeStatus.Active) _activate(pipeId, p);
        emit PipeKeySynced(pipeId, key, msg.sender, oldKey);
    }

    /// @dev Writes the pipe's grant under each allowed selector, with the selector's index so that a later block
    /// reaches the grant through one usability bit (none for a read-only pipe open to any selector, which is checked
    /// from the record). Bounded by MAX_SELECTORS.
    function _activate(bytes32 pipeId, Pipe storage p) private {
        p.status = PipeStatus.Active;
        uint256 grant = p.grant;
        bytes4[] storage selectors = p.selectors;
        uint256 n = selectors.length;
        for (uint256 i = 0; i < n; ++i) {
            bytes4 selector = selectors[i];
            _grants[pipeId][selector] = grant | (uint256(_selectorIndex[selector]) << _SEL_SHIFT);
        }
    }

    /// @dev Deletes the pipe's grants. Bounded by MAX_SELECTORS.
    function _deactivate(bytes32 pipeId, Pipe storage p, PipeStatus status) private {
        if (p.status == PipeStatus.Active) {
            bytes4[] storage selectors = p.selectors;
            uint256 n = selectors.length;
            for (uint256 i = 0; i < n; ++i) {
                delete _grants[pipeId][selectors[i]];
            }
        }
        p.status = status;
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
        if (index != 0) _setBit(index >> 6, _SEL_BLOCKED + (index & 63), blocked);
        emit SelectorBlockChanged(selector, blocked, msg.sender);
    }

    // ---------------------------------------------------------------- cache (anyone: values come from the source)

    /// @inheritdoc IMembershipListener
    function syncInstitution(uint32 id) external {
        ICreditRegistry credit = _credit;
        if (address(credit) == address(0)) revert PipeRegistryNotInitialized();
        IMembership.InstitutionStatus status = _membership.institutionStatus(id);
        // Only a suspension or an expulsion makes an institution inactive here: pipes are applied only between
        // active institutions, so an applied (not yet approved) institution never needs a bit.
        bool inactive =
            status == IMembership.InstitutionStatus.Suspended || status == IMembership.InstitutionStatus.Expelled;
        bool restricted = credit.isRestricted(id);
        uint256 word = id >> 5;
        uint256 bit = id & 31;
        bool changedA = _setBit(word, _INST_INACTIVE + bit, inactive);
        // The restricted bit only remembers what was announced (for the event); checks ask the credit score now.
        bool changedB = _setBit(word, _INST_RESTRICTED + bit, restricted);
        if (changedA || changedB) emit InstitutionUsabilitySynced(id, !inactive, restricted);
    }

    /// @inheritdoc IMembershipListener
    function syncAccount(address account) external {
        IServiceRegistry services = _services;
        if (address(services) == address(0)) revert PipeRegistryNotInitialized();
        bytes32 serviceId = services.serviceOfSigner(account);
        if (serviceId != bytes32(0)) _syncService(services, serviceId);
    }

    /// @inheritdoc IPipeRegistry
    function syncService(bytes32 serviceId) external {
        IServiceRegistry services = _services;
        if (address(services) == address(0)) revert PipeRegistryNotInitialized();
        _syncService(services, serviceId);
    }

    /// @inheritdoc IPipeRegistry
    function syncKey(address key) external {
        IChainRegistry chains = _chains;
        if (address(chains) == address(0)) revert PipeRegistryNotInitialized();
        uint32 index = _keyIndex[key];
        if (index == 0) return;
        bool active = chains.keyRecord(key).status == IChainRegistry.KeyStatus.Active;
        if (_setBit(index >> 6, _KEY_REVOKED + (index & 63), !active)) emit KeyUsabilitySynced(key, index, active);
    }

    function _syncService(IServiceRegistry services, bytes32 serviceId) private {
        IServiceRegistry.ServiceRef memory s = services.serviceRef(serviceId);
        if (s.status == IServiceRegistry.ServiceStatus.None) revert PipeServiceNotFound(serviceId);
        bool enabled = s.status == IServiceRegistry.ServiceStatus.Enabled;
        bool signerActive = _membership.account(s.signer).status == IMembership.AccountStatus.Active;
        uint256 word = s.index >> 5;
        uint256 bit = s.index & 31;
        bool changed = _setBit(word, _SVC_DISABLED + bit, !enabled);
        if (_setBit(word, _SVC_SIGNER_INACTIVE + bit, !signerActive)) changed = true;
        address previous = _serviceSigners[s.index].signer;
        if (previous != s.signer) {
            // A signing key serves one service, once (the service registry never reuses it): clearing is final.
            _serving[previous] = false;
            changed = true;
        }
        bool serving = enabled && signerActive;
        _serviceSigners[s.index] = ServiceKey(s.signer, serving);
        _serving[s.signer] = serving;
        if (changed) emit ServiceUsabilitySynced(serviceId, s.index, s.signer, enabled, signerActive);
    }

    /// @dev Sets or clears one usability bit; returns whether it changed.
    function _setBit(uint256 word, uint256 bit, bool value) private returns (bool) {
        uint256 before = _usability[word];
        uint256 next = value ? before | (1 << bit) : before & ~(1 << bit);
        if (next == before) return false;
        _usability[word] = next;
        return true;
    }

    // ---------------------------------------------------------------- internals

    function _existingPipe(bytes32 pipeId) private view returns (Pipe storage p) {
        p = _pipes[pipeId];
        if (p.status == PipeStatus.None) revert PipeNotFound(pipeId);
    }

    /// @dev Governance, or an active operator of either side. Returns whether the caller is governance.
    function _requireSideOrGovernance(bytes32 pipeId, uint256 grant) private view returns (bool) {
        if (msg.sender == address(_voting)) return true;
        uint32 own = _membership.requireActiveAccount(msg.sender, IMembership.Role.Operator);
        if (own != uint16(grant >> _SRC_INST_SHIFT) && own != uint16(grant >> _TGT_INST_SHIFT)) {
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

    /// @dev Bounded: at most MAX_SELECTORS selectors, checked pairwise for duplicates.
    function _checkOperations(uint8 operations, bytes4[] calldata selectors) private {
        if (operations == 0 || operations > (READ | WRITE)) revert PipeInvalidOperations(operations);
        uint256 n = selectors.length;
        if (n > MAX_SELECTORS) revert PipeTooManySelectors(n, MAX_SELECTORS);
        if (n == 0 && operations & WRITE != 0) revert PipeSelectorsRequired();
        for (uint256 i = 0; i < n; ++i) {
            bytes4 selector = selectors[i];
            if (selector == bytes4(0)) revert PipeSelectorInvalid(selector);
            if (isSelectorBlocked(selector)) revert PipeSelectorBlocked(selector);
            for (uint256 j = 0; j < i; ++j) {
                if (selectors[j] == selector) revert PipeSelectorDuplicate(selector);
            }
            if (_selectorIndex[selector] == 0) {
                uint16 index = ++_selectorCount;
                _fits(index, _SEL_INDEX_BITS);
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

    /// @dev Refuses a number too wide for its field of the grant word.
    function _fits(uint256 n, uint256 width) private pure returns (uint256) {
        if (n >> width != 0) revert PipeIdTooLarge(n);
        return n;
    }

    /// @dev The grant with `key` and its usability index (given one now if no pipe used it before).
    function _withKey(uint256 grant, address key) private returns (uint256) {
        uint32 index = _keyIndex[key];
        if (index == 0) {
            index = ++_keyCount;
            _keyIndex[key] = index;
        }
        uint256 cleared = grant & ~(_KEY_MASK | (((1 << _KEY_INDEX_BITS) - 1) << _KEY_SHIFT));
        return cleared | uint256(uint160(key)) | (_fits(index, _KEY_INDEX_BITS) << _KEY_SHIFT);
    }

    function _store(
        bytes32 pipeId,
        uint256 grant,
        PipeSpec calldata spec,
        bytes32 sourceSubchain,
        bytes32 targetSubchain
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
    function route(bytes32 pipeId) external view returns (PipeRoute memory r) {
        Pipe storage p = _pipes[pipeId];
        r.status = p.status;
        if (r.status == PipeStatus.None) return r;
        uint256 grant = p.grant;
        r.operations = uint8((grant >> _OPS_SHIFT) & 3);
        r.sourceInstitution = uint16(grant >> _SRC_INST_SHIFT);
        r.targetInstitution = uint16(grant >> _TGT_INST_SHIFT);
        r.sourceApp = p.sourceApp;
        r.targetApp = p.targetApp;
        r.sourceAppKey = address(uint160(grant));
        r.targetAppKey = _chains.app(p.targetApp).key;
        r.sourceService = p.sourceService;
        r.targetService = p.targetService;
        r.sourceServiceSigner = _serviceSigners[uint16(grant >> _SRC_SVC_SHIFT)].signer;
        r.targetServiceSigner = _serviceSigners[uint16(grant >> _TGT_SVC_SHIFT)].signer;
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
        bytes32 pipeId,
        address signer,
        uint8 operation,
        bytes4 selector
    ) external view returns (OpeningRoute memory r, Refusal refusal) {
        Pipe storage p = _pipes[pipeId];
        uint256 grant = _grants[pipeId][selector];
        if (_ungranted(grant, signer, operation)) {
            r.status = p.status;
            if (r.status == PipeStatus.None) return (r, Refusal.PipeUnknown);
            grant = p.grant;
            refusal = _refusal(pipeId, signer, operation, selector);
        } else {
            r.status = PipeStatus.Active;
            refusal = _dependencyRefusal(grant);
        }
        r.sourceInstitution = uint16(grant >> _SRC_INST_SHIFT);
        r.targetInstitution = uint16(grant >> _TGT_INST_SHIFT);
        r.timeoutSeconds = p.timeoutSeconds;
        r.sourceAppKey = address(uint160(grant));
        r.sourceServiceSigner = _serviceSigners[uint16(grant >> _SRC_SVC_SHIFT)].signer;
        r.targetServiceSigner = _serviceSigners[uint16(grant >> _TGT_SVC_SHIFT)].signer;
        r.fixedHash = p.fixedHash;
        r.sourceServiceIndex = uint16(grant >> _SRC_SVC_SHIFT);
        r.targetServiceIndex = uint16(grant >> _TGT_SVC_SHIFT);
    }

    /// @inheritdoc IPipeAuthority
    function fixedRoute(
        bytes32 pipeId
    )
        external
        view
        returns (bytes32 targetService, bytes32 contractName, bytes32 sourceSubchain, bytes32 targetSubchain)
    {
        Pipe storage p = _pipes[pipeId];
        return (p.targetService, p.contractName, p.sourceSubchain, p.targetSubchain);
    }

    /// @inheritdoc IPipeRegistry
    function pipe(bytes32 pipeId) external view returns (PipeRecord memory r) {
        Pipe storage p = _pipes[pipeId];
        uint256 grant = p.grant;
        r.applicant = p.applicant;
        r.appliedAt = p.appliedAt;
        r.pausedByGovernance = p.pausedByGovernance;
        r.sourceKeyIndex = uint32(_keyIndexOf(grant));
        r.sourceServiceIndex = uint16(grant >> _SRC_SVC_SHIFT);
        r.targetServiceIndex = uint16(grant >> _TGT_SVC_SHIFT);
        r.selectors = p.selectors;
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

    /// @inheritdoc IPipeAuthority
    function isServingSigner(address signer) external view returns (bool) {
        return _serving[signer];
    }

    /// @inheritdoc IPipeAuthority
    function serviceSigner(uint16 serviceIndex) external view returns (address signer, bool serving) {
        ServiceKey memory k = _serviceSigners[serviceIndex];
        return (k.signer, k.serving);
    }

    /// @inheritdoc IPipeRegistry
    function institutionUsability(uint32 institution) external view returns (bool active, bool restricted) {
        uint256 bits = _usability[institution >> 5] >> (institution & 31);
        return ((bits >> _INST_INACTIVE) & 1 == 0, _restricted(institution));
    }

    /// @inheritdoc IPipeRegistry
    function serviceUsability(uint32 index) external view returns (bool enabled, bool signerActive, address signer) {
        uint256 bits = _usability[index >> 5] >> (index & 31);
        signer = _serviceSigners[index].signer;
        return ((bits >> _SVC_DISABLED) & 1 == 0, (bits >> _SVC_SIGNER_INACTIVE) & 1 == 0, signer);
    }

    /// @inheritdoc IPipeRegistry
    function keyUsability(address key) external view returns (uint32 index, bool active) {
        index = _keyIndex[key];
        active = index != 0 && (_usability[index >> 6] >> (_KEY_REVOKED + (index & 63))) & 1 == 0;
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
