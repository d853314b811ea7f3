// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IChainRegistry} from "../interfaces/IChainRegistry.sol";
import {ICreditRegistry} from "../interfaces/ICreditRegistry.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IMembershipListener} from "../interfaces/IMembershipListener.sol";
import {IPipeAuthority} from "../interfaces/IPipeAuthority.sol";
import {IPipeRegistry} from "../interfaces/IPipeRegistry.sol";
import {IServiceRegistry} from "../interfaces/IServiceRegistry.sol";
import {Grant} from "./PipeGrant.sol";
import {PipeUsability} from "./PipeUsability.sol";

/// @title PipeUsabilityCache
/// @notice What a pipe's grant depends on, kept where the permission check reads it in one slot: institutions not
/// active, services disabled or with an inactive signer, keys revoked and selectors blocked ({PipeUsability}), and
/// each service's current signer.
/// @dev Pushed by its sources (Membership, the service registry, the chain registry, the credit score) in the same
/// transaction as every change, through the `sync*` functions, which anyone may call: each re-reads the state from
/// its source of truth, so a caller can only make the cache truer. Nothing loops over pipes. A restriction is not
/// trusted from the cache but asked of the credit score at every check ({_restricted}).
abstract contract PipeUsabilityCache is IPipeRegistry {
    using PipeUsability for PipeUsability.Bitmap;

    /// @dev A service's signing key, whether it serves (service enabled, account active) and its institution, whose
    /// standing {serviceSigner} folds in from the usability bits: one slot and one word per proxy call.
    struct ServiceKey {
        address signer;
        bool serving;
        uint32 institution;
    }

    /// @dev What a signing key is now: the institution of its service while it serves, else 0 ({isServingSigner}),
    /// and the index of the service it serves or has served, which a key keeps for good (the service registry never
    /// reuses a key): the alternate-route check ({alternateSigner}) finds the service in the same slot.
    struct ServingKey {
        uint32 institution;
        uint32 service;
    }

    IMembership internal immutable _membership;

    PipeUsability.Bitmap internal _usability;
    mapping(address key => uint32 index) internal _keyIndex;
    /// @dev The service's current signing key and whether it serves ({serviceSigner}: one slot per proxy call).
    mapping(uint32 serviceIndex => ServiceKey) internal _serviceSigners;
    /// @dev The institution of the current signing key of an enabled service with an active account, else 0
    /// ({isServingSigner}); a key rotated out is cleared in the rotation's own transaction.
    mapping(address signer => ServingKey) internal _serving;

    IServiceRegistry internal _services;
    IChainRegistry internal _chains;
    ICreditRegistry internal _credit;
    uint32 internal _keyCount;

    constructor(IMembership membership_) {
        _membership = membership_;
    }

    // ---------------------------------------------------------------- sync (anyone: values come from the source)

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
        uint256 log2 = PipeUsability.PARTIES_PER_WORD_LOG2;
        bool changedA = _usability.set(id, log2, PipeUsability.INSTITUTION_INACTIVE, inactive);
        // The restricted bit only remembers what was announced (for the event); checks ask the credit score now.
        bool changedB = _usability.set(id, log2, PipeUsability.INSTITUTION_RESTRICTED, restricted);
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
        if (_usability.set(index, PipeUsability.INDICES_PER_WORD_LOG2, PipeUsability.KEY_REVOKED, !active)) {
            emit KeyUsabilitySynced(key, index, active);
        }
    }

    function _syncService(IServiceRegistry services, bytes32 serviceId) private {
        IServiceRegistry.ServiceRef memory s = services.serviceRef(serviceId);
        if (s.status == IServiceRegistry.ServiceStatus.None) revert PipeServiceNotFound(serviceId);
        bool enabled = s.status == IServiceRegistry.ServiceStatus.Enabled;
        bool signerActive = _membership.account(s.signer).status == IMembership.AccountStatus.Active;
        uint256 log2 = PipeUsability.PARTIES_PER_WORD_LOG2;
        bool changed = _usability.set(s.index, log2, PipeUsability.SERVICE_DISABLED, !enabled);
        if (_usability.set(s.index, log2, PipeUsability.SERVICE_SIGNER_INACTIVE, !signerActive)) changed = true;
        address previous = _serviceSigners[s.index].signer;
        if (previous != s.signer) {
            // A signing key serves one service, once (the service registry never reuses it): clearing is final.
            _serving[previous].institution = 0;
            changed = true;
        }
        bool serving = enabled && signerActive;
        _serviceSigners[s.index] = ServiceKey(s.signer, serving, s.institution);
        // The service index is written with the first serving (the key keeps it after), so a registration costs no
        // new slot.
        if (serving) _serving[s.signer] = ServingKey(s.institution, s.index);
        else _serving[s.signer].institution = 0;
        if (changed) emit ServiceUsabilitySynced(serviceId, s.index, s.signer, enabled, signerActive);
    }

    // ---------------------------------------------------------------- what the permission check reads

    /// @dev Why `grant` may not be used now, from the bitmap and the credit score: the selector's block, then both
    /// institutions, then both services, then the key; each reason checked on both sides before the next. Grants of
    /// small numbers share one word, read once.
    function _usabilityRefusal(Grant grant) internal view returns (IPipeAuthority.Refusal) {
        uint256 parties = PipeUsability.PARTIES_PER_WORD_LOG2;
        uint256 indices = PipeUsability.INDICES_PER_WORD_LOG2;
        uint256 src = grant.sourceInstitution();
        uint256 tgt = grant.targetInstitution();
        uint256 word = src >> parties;
        uint256 bits = _usability.words[word];
        uint256 sel = _shifted(word, bits, grant.selectorIndex(), indices);
        if ((sel >> PipeUsability.SELECTOR_BLOCKED) & 1 != 0) return Refusal.SelectorNotAllowed;
        // Each entity's word is shifted so that its bit of each kind sits at the kind's offset.
        // The source institution's word is the one already read.
        uint256 inst = (bits >> (src & PipeUsability.PARTIES_PER_WORD_MASK)) | _shifted(word, bits, tgt, parties);
        if ((inst >> PipeUsability.INSTITUTION_INACTIVE) & 1 != 0) return Refusal.InstitutionNotActive;
        if (_restricted(src) || _restricted(tgt)) return Refusal.InstitutionRestricted;
        uint256 svc =
            _shifted(word, bits, grant.sourceService(), parties) | _shifted(word, bits, grant.targetService(), parties);
        if ((svc >> PipeUsability.SERVICE_DISABLED) & 1 != 0) return Refusal.ServiceDisabled;
        if ((svc >> PipeUsability.SERVICE_SIGNER_INACTIVE) & 1 != 0) return Refusal.KeyRevoked;
        uint256 key = _shifted(word, bits, grant.keyIndex(), indices);
        if ((key >> PipeUsability.KEY_REVOKED) & 1 != 0) return Refusal.KeyRevoked;
        return Refusal.Allowed;
    }

    /// @dev {PipeUsability.shifted} on this bitmap.
    function _shifted(uint256 known, uint256 bits, uint256 n, uint256 log2) private view returns (uint256) {
        uint256 w = n >> log2;
        return (w == known ? bits : _usability.words[w]) >> (n & ((1 << log2) - 1));
    }

    /// @dev The credit score's answer now, never a copy: it works the restriction out from the score and the current
    /// parameters, so a `setParams` reaches every pipe at once (a pushed bit would follow only the next outcome).
    function _restricted(uint256 institution) internal view returns (bool) {
        return _credit.isRestricted(uint32(institution));
    }

    /// @dev `key`'s index in the bitmap, given one now if no pipe used it before.
    function _keyIndexFor(address key) internal returns (uint256 index) {
        index = _keyIndex[key];
        if (index == 0) {
            index = ++_keyCount;
            _keyIndex[key] = uint32(index);
        }
    }

    /// @dev Marks selector number `index` blocked (or not) in every grant that carries it; returns whether it changed.
    function _setSelectorBlockedBit(uint256 index, bool blocked) internal returns (bool) {
        return _usability.set(index, PipeUsability.INDICES_PER_WORD_LOG2, PipeUsability.SELECTOR_BLOCKED, blocked);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IPipeAuthority
    function isServingSigner(address signer) external view returns (bool) {
        uint32 institution = _serving[signer].institution;
        return institution != 0 && _institutionActive(institution);
    }

    /// @inheritdoc IPipeAuthority
    function serviceSigner(uint16 serviceIndex) external view returns (address signer, bool serving) {
        ServiceKey memory k = _serviceSigners[serviceIndex];
        return (k.signer, k.serving && _institutionActive(k.institution));
    }

    /// @dev Not suspended nor expelled (Membership pushes both, {syncInstitution}): what `requireActiveAccount` asks
    /// of an institution that has accounts.
    function _institutionActive(uint32 institution) internal view returns (bool) {
        return !_usability.get(institution, PipeUsability.PARTIES_PER_WORD_LOG2, PipeUsability.INSTITUTION_INACTIVE);
    }

    /// @inheritdoc IPipeRegistry
    function institutionUsability(uint32 institution) external view returns (bool active, bool restricted) {
        bool inactive = _usability.get(
            institution,
            PipeUsability.PARTIES_PER_WORD_LOG2,
            PipeUsability.INSTITUTION_INACTIVE
        );
        return (!inactive, _restricted(institution));
    }

    /// @inheritdoc IPipeRegistry
    function serviceUsability(uint32 index) external view returns (bool enabled, bool signerActive, address signer) {
        uint256 log2 = PipeUsability.PARTIES_PER_WORD_LOG2;
        enabled = !_usability.get(index, log2, PipeUsability.SERVICE_DISABLED);
        signerActive = !_usability.get(index, log2, PipeUsability.SERVICE_SIGNER_INACTIVE);
        signer = _serviceSigners[index].signer;
    }

    /// @inheritdoc IPipeRegistry
    function keyUsability(address key) external view returns (uint32 index, bool active) {
        index = _keyIndex[key];
        active = index != 0 && !_usability.get(index, PipeUsability.INDICES_PER_WORD_LOG2, PipeUsability.KEY_REVOKED);
    }
}
