// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IChainRegistry} from "../interfaces/IChainRegistry.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IPipeRegistry} from "../interfaces/IPipeRegistry.sol";
import {IServiceRegistry} from "../interfaces/IServiceRegistry.sol";
import {InstitutionIds} from "../libraries/InstitutionIds.sol";
import {Governed} from "./Governed.sol";
import {NO_SUBCHAIN, SubchainId} from "../types/Ids.sol";

/// @title ChainRegistry
/// @notice Sub-chains, business applications with their reserved keys, and business contracts by name and
/// version (CNS). A key rotation or revocation is pushed to the pipe registry in the same transaction, so the old
/// key is refused by every pipe at once. A key is reserved only with its own consent (EIP-712 proof of possession).
contract ChainRegistry is IChainRegistry, Governed, EIP712 {
    uint256 private constant MAX_NAME_LENGTH = 64;
    /// @dev keccak256 of empty code: an account with no contract at the address.
    bytes32 private constant _EMPTY_CODE_HASH = keccak256("");
    bytes32 private constant _APP_KEY_CONSENT_TYPEHASH = keccak256(
        "AppKeyConsent(address key,bytes32 appId,uint32 institution,uint256 deadline)"
    );

    IMembership private immutable _membership;
    address private immutable _voting;
    IServiceRegistry private immutable _services;
    IPipeRegistry private immutable _pipes;

    bool private _attestationRequired;
    uint32 private _appCount;

    mapping(SubchainId subchainId => Subchain) private _subchains;
    mapping(bytes32 appId => App) private _apps;
    mapping(uint32 index => bytes32 appId) private _appAt;
    mapping(address key => KeyRecord) private _keys;
    // Names are namespaced per sub-chain: only the sub-chain's institution registers under it, so nobody can take
    // another institution's name, and two institutions may both use the same name on their own sub-chains.
    mapping(SubchainId subchainId => mapping(bytes32 nameHash => ContractName)) private _names;
    mapping(SubchainId subchainId => mapping(bytes32 nameHash => mapping(uint64 version => ContractVersion)))
        private _versions;
    mapping(SubchainId subchainId => mapping(address contractAddress => bytes32 nameHash)) private _nameOf;
    mapping(SubchainId subchainId => mapping(address contractAddress => Attestation)) private _attestations;

    constructor(
        IMembership membership_,
        address voting_,
        IServiceRegistry services_,
        IPipeRegistry pipes_
    ) EIP712("CCGP ChainRegistry", "1") {
        _membership = membership_;
        _voting = voting_;
        _services = services_;
        _pipes = pipes_;
    }

    // ---------------------------------------------------------------- sub-chains

    /// @inheritdoc IChainRegistry
    function registerSubchain(
        SubchainId subchainId,
        ChainKind kind,
        uint256 chainId,
        bytes32 serviceId,
        address gateway,
        string calldata name
    ) external {
        if (subchainId == NO_SUBCHAIN) revert SubchainZeroId();
        uint32 institution = _membership.requireActiveAccount(msg.sender, IMembership.Role.Operator);
        // Ids are namespaced by institution: nobody registers, or holds, an id of another institution.
        if (InstitutionIds.institutionOf(subchainId) != institution) revert SubchainIdNotOwned(subchainId, institution);
        Subchain storage sc = _subchains[subchainId];
        if (sc.institution != 0) revert SubchainAlreadyRegistered(subchainId);
        if (kind == ChainKind.None) revert SubchainInvalidKind(kind);
        if (chainId == 0) revert SubchainInvalidChainId(chainId);
        if (chainId == block.chainid) revert SubchainIsGovernanceChain(chainId);
        if (gateway == address(0)) revert SubchainZeroGateway();
        IServiceRegistry.ServiceRef memory s = _services.serviceRef(serviceId);
        if (s.status == IServiceRegistry.ServiceStatus.None || s.subchain != subchainId) {
            revert SubchainServiceMismatch(subchainId, serviceId);
        }
        if (s.institution != institution) revert ChainRegistryUnauthorizedOperator(msg.sender, s.institution);
        sc.institution = institution;
        sc.kind = kind;
        sc.registeredAt = uint40(block.timestamp);
        sc.gateway = gateway;
        sc.service = serviceId;
        sc.chainId = chainId;
        emit SubchainRegistered(subchainId, institution, msg.sender, kind, chainId, serviceId, gateway, name);
    }

    /// @inheritdoc IChainRegistry
    function setSubchainGateway(SubchainId subchainId, address gateway) external {
        Subchain storage sc = _existingSubchain(subchainId);
        _requireOperatorOf(sc.institution);
        if (gateway == address(0)) revert SubchainZeroGateway();
        if (_nameOf[subchainId][gateway] != bytes32(0)) revert ContractIsGateway(subchainId, gateway);
        sc.gateway = gateway;
        emit SubchainGatewayChanged(subchainId, msg.sender, gateway);
    }

    function _existingSubchain(SubchainId subchainId) private view returns (Subchain storage sc) {
        sc = _subchains[subchainId];
        if (sc.institution == 0) revert SubchainNotFound(subchainId);
    }

    // ---------------------------------------------------------------- applications

    /// @inheritdoc IChainRegistry
    function registerApp(
        bytes32 appId,
        SubchainId subchainId,
        address key,
        string calldata name,
        uint256 deadline,
        bytes calldata signature
    ) external {
        // CHECKS
        if (appId == bytes32(0)) revert AppZeroId();
        App storage a = _apps[appId];
        if (a.index != 0) revert AppAlreadyRegistered(appId);
        uint32 institution = _existingSubchain(subchainId).institution;
        _requireOperatorOf(institution);
        if (InstitutionIds.institutionOf(appId) != institution) revert AppIdNotOwned(appId, institution);
        _checkNewKey(key, appId, institution, deadline, signature);
        // EFFECTS
        uint32 index = ++_appCount;
        a.key = key;
        a.institution = institution;
        a.index = index;
        a.subchain = subchainId;
        _appAt[index] = appId;
        _keys[key] = KeyRecord({status: KeyStatus.Active, app: appId});
        emit AppRegistered(appId, institution, msg.sender, subchainId, key, index, name);
    }

    /// @inheritdoc IChainRegistry
    function rotateAppKey(bytes32 appId, address newKey, uint256 deadline, bytes calldata signature) external {
        // CHECKS
        App storage a = _existingApp(appId);
        _requireOperatorOf(a.institution);
        _checkNewKey(newKey, appId, a.institution, deadline, signature);
        // EFFECTS
        address oldKey = a.key;
        if (oldKey != address(0)) _keys[oldKey].status = KeyStatus.Revoked;
        a.key = newKey;
        _keys[newKey] = KeyRecord({status: KeyStatus.Active, app: appId});
        emit AppKeyRotated(appId, msg.sender, newKey, oldKey);
        // INTERACTIONS: the pipe registry re-reads the old key's status from here; its pipes refuse it at once.
        if (oldKey != address(0)) _pipes.syncKey(oldKey);
    }

    /// @inheritdoc IChainRegistry
    function revokeAppKey(bytes32 appId) external {
        // CHECKS
        App storage a = _existingApp(appId);
        _requireOperatorOf(a.institution);
        address oldKey = a.key;
        if (oldKey == address(0)) revert AppKeyNotSet(appId);
        // EFFECTS
        _keys[oldKey].status = KeyStatus.Revoked;
        a.key = address(0);
        emit AppKeyRevoked(appId, msg.sender, oldKey);
        // INTERACTIONS: as in {rotateAppKey}.
        _pipes.syncKey(oldKey);
    }

    function _existingApp(bytes32 appId) private view returns (App storage a) {
        a = _apps[appId];
        if (a.index == 0) revert AppNotFound(appId);
    }

    /// @dev A new key must be free and consent to this app of this institution. No nonce: a key is reserved once, for
    /// ever, so a consent can be used at most once; the chain id and this contract are in the EIP-712 domain.
    function _checkNewKey(
        address key,
        bytes32 appId,
        uint32 institution,
        uint256 deadline,
        bytes calldata signature
    ) private view {
        if (key == address(0)) revert AppKeyInvalid(key);
        KeyRecord storage k = _keys[key];
        if (k.status != KeyStatus.None) revert AppKeyTaken(key, k.app);
        if (block.timestamp > deadline) revert AppKeyConsentExpired(key, deadline);
        bytes32 structHash = keccak256(abi.encode(_APP_KEY_CONSENT_TYPEHASH, key, appId, institution, deadline));
        // ECDSA only: an app key signs AMDP packets, which are checked by ECDSA recovery (a contract cannot sign one).
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (err != ECDSA.RecoverError.NoError || recovered != key) revert AppKeyConsentInvalid(key);
    }

    // ---------------------------------------------------------------- business contracts

    /// @inheritdoc IChainRegistry
    function registerContract(
        string calldata name,
        SubchainId subchainId,
        address contractAddress
    ) external returns (bytes32 nameHash, uint64 version) {
        uint256 length = bytes(name).length;
        if (length == 0 || length > MAX_NAME_LENGTH) revert ContractNameInvalid(length);
        Subchain storage sc = _existingSubchain(subchainId);
        _requireOperatorOf(sc.institution);
        nameHash = keccak256(bytes(name));
        ContractName storage cn = _names[subchainId][nameHash];
        if (cn.institution == 0) {
            cn.institution = sc.institution;
            cn.name = name;
        }
        bytes32 reportHash = _checkContract(sc, subchainId, contractAddress);
        version = _recordVersion(cn, nameHash, subchainId, contractAddress, reportHash);
    }

    function _recordVersion(
        ContractName storage cn,
        bytes32 nameHash,
        SubchainId subchainId,
        address contractAddress,
        bytes32 reportHash
    ) private returns (uint64 version) {
        version = ++cn.latestVersion;
        _versions[subchainId][nameHash][version] = ContractVersion({
            contractAddress: contractAddress,
            registeredAt: uint40(block.timestamp),
            reportHash: reportHash
        });
        _nameOf[subchainId][contractAddress] = nameHash;
        emit ContractRegistered(
            nameHash,
            version,
            msg.sender,
            cn.institution,
            subchainId,
            contractAddress,
            reportHash,
            cn.name
        );
    }

    /// @dev Refuses the zero address, the sub-chain's gateway, an address already registered under a name, and an
    /// unattested contract while attestation is required. Returns the attested report hash (zero when none).
    function _checkContract(
        Subchain storage sc,
        SubchainId subchainId,
        address contractAddress
    ) private view returns (bytes32 reportHash) {
        if (contractAddress == address(0)) revert ContractZeroAddress();
        if (contractAddress == sc.gateway) revert ContractIsGateway(subchainId, contractAddress);
        bytes32 taken = _nameOf[subchainId][contractAddress];
        if (taken != bytes32(0)) revert ContractAddressTaken(subchainId, contractAddress, taken);
        reportHash = _attestations[subchainId][contractAddress].reportHash;
        if (_attestationRequired && reportHash == bytes32(0)) revert ContractNotAttested(subchainId, contractAddress);
    }

    /// @inheritdoc IChainRegistry
    function attest(SubchainId subchainId, address contractAddress, bytes32 reportHash, bytes32 codeHash) external {
        // Auditors exist only in audit institutions, and the call checks that institution is active.
        uint32 institution = _membership.requireActiveAccount(msg.sender, IMembership.Role.Auditor);
        _existingSubchain(subchainId);
        if (contractAddress == address(0)) revert AttestationZeroContract();
        if (reportHash == bytes32(0)) revert AttestationZeroReport();
        if (codeHash == bytes32(0) || codeHash == _EMPTY_CODE_HASH) revert AttestationNoCode(codeHash);
        _attestations[subchainId][contractAddress] = Attestation({
            institution: institution,
            attestedAt: uint40(block.timestamp),
            auditor: msg.sender,
            reportHash: reportHash,
            codeHash: codeHash
        });
        emit ContractAttested(subchainId, contractAddress, msg.sender, institution, reportHash, codeHash);
    }

    /// @inheritdoc IChainRegistry
    function setAttestationRequired(bool required) external onlyGovernance {
        _attestationRequired = required;
        emit AttestationRequirementChanged(required, msg.sender);
    }

    function _requireOperatorOf(uint32 institution) private view {
        uint32 own = _membership.requireActiveAccount(msg.sender, IMembership.Role.Operator);
        if (own != institution) revert ChainRegistryUnauthorizedOperator(msg.sender, institution);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc Governed
    function governance() public view override returns (address) {
        return _voting;
    }

    /// @inheritdoc IChainRegistry
    function subchain(SubchainId subchainId) external view returns (Subchain memory) {
        return _subchains[subchainId];
    }

    /// @inheritdoc IChainRegistry
    function app(bytes32 appId) external view returns (App memory) {
        return _apps[appId];
    }

    /// @inheritdoc IChainRegistry
    function appAt(uint32 index) external view returns (bytes32) {
        return _appAt[index];
    }

    /// @inheritdoc IChainRegistry
    function appCount() external view returns (uint32) {
        return _appCount;
    }

    /// @inheritdoc IChainRegistry
    function keyRecord(address key) external view returns (KeyRecord memory) {
        return _keys[key];
    }

    /// @inheritdoc IChainRegistry
    function contractName(SubchainId subchainId, bytes32 nameHash) external view returns (ContractName memory) {
        return _names[subchainId][nameHash];
    }

    /// @inheritdoc IChainRegistry
    function contractVersion(
        SubchainId subchainId,
        bytes32 nameHash,
        uint64 version
    ) external view returns (ContractVersion memory v) {
        v = _versions[subchainId][nameHash][version];
        if (v.contractAddress == address(0)) revert ContractVersionNotFound(subchainId, nameHash, version);
    }

    /// @inheritdoc IChainRegistry
    function resolve(
        SubchainId subchainId,
        bytes32 nameHash
    ) external view returns (address contractAddress, uint64 version) {
        version = _names[subchainId][nameHash].latestVersion;
        if (version == 0) revert ContractNameNotFound(subchainId, nameHash);
        contractAddress = _versions[subchainId][nameHash][version].contractAddress;
        // Checked now, not only at registration: turning the requirement on reaches every existing name.
        if (_attestationRequired && _attestations[subchainId][contractAddress].reportHash == bytes32(0)) {
            revert ContractNotAttested(subchainId, contractAddress);
        }
    }

    /// @inheritdoc IChainRegistry
    function nameOf(SubchainId subchainId, address contractAddress) external view returns (bytes32) {
        return _nameOf[subchainId][contractAddress];
    }

    /// @inheritdoc IChainRegistry
    function attestation(SubchainId subchainId, address contractAddress) external view returns (Attestation memory) {
        return _attestations[subchainId][contractAddress];
    }

    /// @inheritdoc IChainRegistry
    function attestationRequired() external view returns (bool) {
        return _attestationRequired;
    }
}
