// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SubchainId} from "../types/Ids.sol";

/// @title IChainRegistry
/// @notice Sub-chains (子链登记), business applications (业务应用注册) and business contracts (业务合约注册).
/// Business contracts are registered under a name with versions (a contract name service, as FISCO BCOS's CNS):
/// pipes and packets name contracts, not addresses, so a contract can be upgraded without re-authorising a pipe.
/// Only an institution's own operators register anything for it. When governance requires it, a contract version
/// is registered only after an auditor has attested its audit report.
interface IChainRegistry {
    /// @notice Kinds of sub-chain. New kinds are appended (never reordered), each served by a relayer chain plugin.
    enum ChainKind {
        None,
        Evm,
        FiscoBcos,
        Fabric
    }

    enum KeyStatus {
        None,
        Active,
        Revoked // final: a key is never reused
    }

    struct Subchain {
        uint32 institution;
        ChainKind kind;
        uint40 registeredAt;
        address gateway; // the gateway contract on the sub-chain
        bytes32 service; // the collaboration service that fronts it
        uint256 chainId;
    }

    /// @dev Slot 0: key, institution and number; slot 1: the sub-chain.
    struct App {
        address key; // the reserved public-key address the app signs stage 1 with (zero: revoked, none yet)
        uint32 institution;
        uint32 index; // the app's number (1, 2, ...; 0: unknown)
        SubchainId subchain;
    }

    struct KeyRecord {
        KeyStatus status;
        bytes32 app;
    }

    /// @dev Keyed by (sub-chain, name hash): a name lives in the namespace of the sub-chain it was registered on.
    struct ContractName {
        uint32 institution; // the owner: the institution of the sub-chain
        uint64 latestVersion; // versions run from 1 to this number
        string name;
    }

    struct ContractVersion {
        address contractAddress;
        uint40 registeredAt;
        bytes32 reportHash; // the audit report attested for it (zero when none was required or given)
    }

    struct Attestation {
        uint32 institution; // the audit institution
        uint40 attestedAt;
        address auditor;
        bytes32 reportHash;
        bytes32 codeHash; // the runtime code hash (EXTCODEHASH) on the sub-chain of what was audited
    }

    // ---------------------------------------------------------------- errors

    error ChainRegistryUnauthorizedOperator(address caller, uint32 institution);

    error SubchainZeroId();
    /// @notice The id is not in the namespace of `institution`, the registering institution (see InstitutionIds).
    error SubchainIdNotOwned(SubchainId subchainId, uint32 institution);
    error SubchainAlreadyRegistered(SubchainId subchainId);
    error SubchainNotFound(SubchainId subchainId);
    error SubchainInvalidKind(ChainKind kind);
    error SubchainInvalidChainId(uint256 chainId);
    /// @notice The governance chain itself can never be registered as a sub-chain (the Poly Network lesson).
    error SubchainIsGovernanceChain(uint256 chainId);
    error SubchainZeroGateway();
    error SubchainServiceMismatch(SubchainId subchainId, bytes32 serviceId);

    error AppZeroId();
    /// @notice The id is not in the namespace of `institution`, the registering institution (see InstitutionIds).
    error AppIdNotOwned(bytes32 appId, uint32 institution);
    error AppAlreadyRegistered(bytes32 appId);
    error AppNotFound(bytes32 appId);
    error AppKeyInvalid(address key);
    error AppKeyTaken(address key, bytes32 appId);
    error AppKeyNotSet(bytes32 appId);
    /// @notice The signature is not the key's EIP-712 `AppKeyConsent` to this app and institution (or is malformed).
    error AppKeyConsentInvalid(address key);
    /// @notice The key's consent is past its deadline.
    error AppKeyConsentExpired(address key, uint256 deadline);

    error ContractNameInvalid(uint256 length);
    error ContractNameNotFound(SubchainId subchainId, bytes32 nameHash);
    error ContractZeroAddress();
    error ContractIsGateway(SubchainId subchainId, address contractAddress);
    error ContractAddressTaken(SubchainId subchainId, address contractAddress, bytes32 nameHash);
    error ContractNotAttested(SubchainId subchainId, address contractAddress);
    error ContractVersionNotFound(SubchainId subchainId, bytes32 nameHash, uint64 version);

    error AttestationZeroReport();
    error AttestationZeroContract();
    error AttestationNoCode(bytes32 codeHash);

    // ---------------------------------------------------------------- events

    event SubchainRegistered(
        SubchainId indexed subchainId,
        uint32 indexed institution,
        address indexed operator,
        ChainKind kind,
        uint256 chainId,
        bytes32 service,
        address gateway,
        string name
    );
    event SubchainGatewayChanged(SubchainId indexed subchainId, address indexed operator, address gateway);

    event AppRegistered(
        bytes32 indexed appId,
        uint32 indexed institution,
        address indexed operator,
        SubchainId subchain,
        address key,
        uint32 index,
        string name
    );
    event AppKeyRotated(bytes32 indexed appId, address indexed operator, address indexed newKey, address oldKey);
    event AppKeyRevoked(bytes32 indexed appId, address indexed operator, address indexed key);

    event ContractRegistered(
        bytes32 indexed nameHash,
        uint64 indexed version,
        address indexed operator,
        uint32 institution,
        SubchainId subchain,
        address contractAddress,
        bytes32 reportHash,
        string name
    );
    event ContractAttested(
        SubchainId indexed subchainId,
        address indexed contractAddress,
        address indexed auditor,
        uint32 institution,
        bytes32 reportHash,
        bytes32 codeHash
    );
    event AttestationRequirementChanged(bool required, address indexed by);

    // ---------------------------------------------------------------- sub-chains

    /// @notice Registers a sub-chain of the caller's institution.
    /// @dev The caller must be an active operator of the institution owning `serviceId`, and that service must
    /// have been registered as fronting `subchainId`. `chainId` must not be zero nor the governance chain's.
    /// @param name a human name, kept in the event
    function registerSubchain(
        SubchainId subchainId,
        ChainKind kind,
        uint256 chainId,
        bytes32 serviceId,
        address gateway,
        string calldata name
    ) external;

    /// @notice Records a new gateway address for a sub-chain; by an operator of its institution.
    function setSubchainGateway(SubchainId subchainId, address gateway) external;

    // ---------------------------------------------------------------- applications

    /// @notice Registers a business application on a sub-chain of the caller's institution, with the public-key
    /// address it reserves for signing (unique across all apps, for ever). The key consents itself (proof of
    /// possession, so nobody can reserve another's key): `signature` is its EIP-712 signature of
    /// `AppKeyConsent(key, appId, institution, deadline)` (domain `CCGP ChainRegistry` v1, this chain and contract).
    /// @param name a human name, kept in the event
    /// @param deadline the consent's deadline (unix seconds)
    /// @param signature the key's consent (65 bytes, low s)
    function registerApp(
        bytes32 appId,
        SubchainId subchainId,
        address key,
        string calldata name,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Replaces an app's key; by an operator of its institution, with the new key's consent (as for
    /// {registerApp}). The old key is revoked at once, in every pipe of the app, and can never be reserved again;
    /// each pipe takes the new key through `IPipeRegistry.syncPipeKey`. Also gives a key to an app whose key was
    /// revoked.
    function rotateAppKey(bytes32 appId, address newKey, uint256 deadline, bytes calldata signature) external;

    /// @notice Revokes an app's key without a replacement (a leaked key); by an operator of its institution.
    function revokeAppKey(bytes32 appId) external;

    // ---------------------------------------------------------------- business contracts (CNS)

    /// @notice Registers a new version of the business contract `name` on `subchainId`.
    /// @dev Names are namespaced per sub-chain, and only operators of the sub-chain's institution register under it:
    /// no institution can take, or front-run, the name another institution uses on its own sub-chain.
    /// When attestation is required, `(subchainId, contractAddress)` must have been attested by an auditor.
    /// @return nameHash keccak256 of the name, the key pipes and packets use
    /// @return version the new version number (1, 2, ...)
    function registerContract(
        string calldata name,
        SubchainId subchainId,
        address contractAddress
    ) external returns (bytes32 nameHash, uint64 version);

    /// @notice Attests the audit report of a contract on a sub-chain; by an active auditor (who belongs to an
    /// active audit institution). A later attestation of the same contract replaces the earlier one.
    /// @dev `codeHash` is the contract's runtime code hash (EXTCODEHASH) the auditor read on the sub-chain through its
    /// own node: relayers compare it with the code there before executing, so changed code is refused. The
    /// governance chain cannot read a sub-chain, so it only refuses a zero hash and the hash of empty code.
    function attest(SubchainId subchainId, address contractAddress, bytes32 reportHash, bytes32 codeHash) external;

    /// @notice Governed: requires (or not) an attestation before a contract version is registered.
    function setAttestationRequired(bool required) external;

    // ---------------------------------------------------------------- views

    /// @notice Returns a sub-chain (institution 0 when unknown).
    function subchain(SubchainId subchainId) external view returns (Subchain memory);

    /// @notice Returns an app (index 0 when unknown).
    function app(bytes32 appId) external view returns (App memory);

    /// @notice The app with number `index` (zero when none).
    function appAt(uint32 index) external view returns (bytes32);

    /// @notice The number of apps ever registered.
    function appCount() external view returns (uint32);

    /// @notice Whom a key was reserved by, and whether it is still active.
    function keyRecord(address key) external view returns (KeyRecord memory);

    /// @notice Returns a contract name's record on a sub-chain (institution 0 when unknown).
    function contractName(SubchainId subchainId, bytes32 nameHash) external view returns (ContractName memory);

    /// @notice Returns one version of a contract name on a sub-chain; every version stays readable.
    function contractVersion(
        SubchainId subchainId,
        bytes32 nameHash,
        uint64 version
    ) external view returns (ContractVersion memory);

    /// @notice The current version of a contract name on a sub-chain. While governance requires attestation, a
    /// latest version whose address has no attestation now is refused (`ContractNotAttested`), whenever it was
    /// registered: the relayer resolves the name before every execution, so the requirement reaches existing names.
    /// @return contractAddress the latest version's address
    /// @return version the latest version number
    function resolve(
        SubchainId subchainId,
        bytes32 nameHash
    ) external view returns (address contractAddress, uint64 version);

    /// @notice The name a contract address is registered under on a sub-chain (zero when none).
    function nameOf(SubchainId subchainId, address contractAddress) external view returns (bytes32);

    /// @notice The latest attestation of a contract on a sub-chain (zero report when none).
    function attestation(SubchainId subchainId, address contractAddress) external view returns (Attestation memory);

    /// @notice Whether registering a contract version requires an attestation.
    function attestationRequired() external view returns (bool);
}
