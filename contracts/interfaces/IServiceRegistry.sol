// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembership} from "./IMembership.sol";
import {SubchainId} from "../types/Ids.sol";

/// @title IServiceRegistry
/// @notice Collaboration services (协同服务管理) and governance nodes (节点管理). An institution's operator registers
/// its cross-chain proxy (endpoint, TLS certificate fingerprint, signing account, the sub-chain it fronts) and its
/// governance nodes; each registration opens the vote that enables it. Governors enable and disable them by vote.
/// A service proves it is alive with heartbeats signed by its signing account.
interface IServiceRegistry {
    enum ServiceStatus {
        None,
        Registered, // waiting for the enabling vote
        Enabled,
        Disabled
    }

    enum NodeKind {
        None,
        Genesis, // a validator run by a genesis institution
        Governance, // a (non-validating) governance-chain node run by a business institution
        Audit // a read-only node run by an audit institution
    }

    enum NodeStatus {
        None,
        Registered,
        Enabled,
        Disabled
    }

    /// @dev Slot 0 holds everything a heartbeat touches: signer, last seen, status, port and the usability index.
    struct Service {
        address signer; // countersigns stage 2 of AMDP packets: an active business account of the institution
        uint40 lastSeen; // time of the last heartbeat (0: never)
        ServiceStatus status;
        uint16 port;
        uint32 index; // the service's bit in the pipe registry's usability flags (1, 2, ...)
        uint32 institution;
        uint40 registeredAt;
        SubchainId subchain; // the sub-chain it fronts (one service, one sub-chain)
        bytes32 tlsFingerprint; // SHA-256 of the DER certificate the proxy presents (mutual TLS pinning)
        string host;
    }

    /// @notice Where a proxy listens and the certificate it presents.
    struct Endpoint {
        string host; // host name or IP, 1 to 253 bytes
        uint16 port; // non-zero
        bytes32 tlsFingerprint; // SHA-256 of the DER certificate, non-zero
    }

    /// @notice What another contract needs to know about a service, without the host string.
    struct ServiceRef {
        ServiceStatus status;
        uint32 index;
        uint32 institution;
        address signer;
        SubchainId subchain;
    }

    struct Node {
        NodeStatus status;
        NodeKind kind;
        uint32 institution;
        uint16 port;
        uint40 registeredAt;
        string host;
        bytes publicKey; // 64-byte uncompressed secp256k1 key, without the 0x04 prefix (the enode id)
    }

    /// @dev A node id's registrations (one slot): the next consent nonce, the current registration's nonce and
    /// its enabling vote.
    struct NodeRegistration {
        uint64 nextNonce;
        uint64 current; // the nonce of the registration in force (its vote enables only this one)
        uint64 proposalId;
    }

    // ---------------------------------------------------------------- errors

    error ServiceZeroId();
    /// @notice The service id is not in the namespace of `institution`, the registering institution (see
    /// InstitutionIds).
    error ServiceIdNotOwned(bytes32 id, uint32 institution);
    /// @notice The sub-chain the service would front is not in the namespace of `institution`, the registering
    /// institution: a service cannot claim another institution's sub-chain.
    error ServiceSubchainNotOwned(SubchainId subchainId, uint32 institution);
    error ServiceAlreadyRegistered(bytes32 serviceId);
    error ServiceNotFound(bytes32 serviceId);
    error ServiceInvalidEndpoint(string host, uint16 port);
    error ServiceInvalidFingerprint(bytes32 fingerprint);
    error ServiceInvalidSubchain(SubchainId subchainId);
    error ServiceSignerTaken(address signer, bytes32 serviceId);
    error ServiceSignerWrongInstitution(address signer, uint32 institution, uint32 expected);
    error ServiceUnauthorizedOperator(address caller, uint32 institution);
    error ServiceUnauthorizedSigner(bytes32 serviceId, address caller);
    error ServiceInvalidStatus(bytes32 serviceId, ServiceStatus status);

    error NodeAlreadyRegistered(bytes32 nodeId);
    error NodeNotFound(bytes32 nodeId);
    error NodeInvalidPublicKey(uint256 length);
    error NodeInvalidEndpoint(string host, uint16 port);
    error NodeKindMismatch(NodeKind kind, IMembership.InstitutionKind institutionKind);
    error NodeUnauthorizedRegistrar(address caller, IMembership.Role role);
    error NodeInvalidStatus(bytes32 nodeId, NodeStatus status);
    /// @notice The node key's signature of the registration (EIP-712) is missing, malformed or for another
    /// registration (institution, kind, endpoint, nonce, chain or contract).
    error NodeConsentInvalid(bytes32 nodeId);
    error NodeConsentExpired(bytes32 nodeId, uint256 deadline);
    /// @notice The vote is for an earlier registration of the node, since freed (rejected or expired) and replaced.
    error NodeRegistrationSuperseded(bytes32 nodeId, uint64 registration);

    /// @notice `caller` is not an active account of an active institution, so it can publish no attester endpoint.
    error AttesterEndpointUnauthorized(address caller);
    /// @notice `url` is not an `http://` or `https://` URL of at most 256 bytes (empty withdraws the endpoint).
    error AttesterEndpointInvalid(string url);

    // ---------------------------------------------------------------- events

    event ServiceRegistered(
        bytes32 indexed serviceId,
        uint32 indexed institution,
        address indexed operator,
        SubchainId subchain,
        address signer,
        string host,
        uint16 port,
        bytes32 tlsFingerprint,
        uint32 index,
        uint256 proposalId
    );
    event ServiceEndpointUpdated(
        bytes32 indexed serviceId,
        address indexed operator,
        string host,
        uint16 port,
        bytes32 tlsFingerprint
    );
    event ServiceSignerRotated(
        bytes32 indexed serviceId,
        address indexed operator,
        address indexed newSigner,
        address oldSigner
    );
    event ServiceEnabled(bytes32 indexed serviceId, address indexed by);
    event ServiceDisabled(bytes32 indexed serviceId, address indexed by);
    event ServiceHeartbeat(bytes32 indexed serviceId, address indexed signer, uint40 at);

    event NodeRegistered(
        bytes32 indexed nodeId,
        uint32 indexed institution,
        address indexed registrar,
        NodeKind kind,
        bytes publicKey,
        string host,
        uint16 port,
        uint256 proposalId
    );
    event NodeEnabled(bytes32 indexed nodeId, address indexed by);
    event NodeDisabled(bytes32 indexed nodeId, address indexed by);

    /// @notice Attester key `attester` (an account of `institution`) published where it serves its signatures
    /// (empty: withdrawn).
    event AttesterEndpointSet(address indexed attester, uint32 indexed institution, string url);

    // ---------------------------------------------------------------- services

    /// @notice Registers the caller's institution's cross-chain proxy and opens the vote that enables it.
    /// @dev The caller must be an active operator; `signer` an active business account of the same institution,
    /// never used by another service. The sub-chain is registered afterwards in the chain registry, naming this
    /// service.
    /// @param serviceId a unique id in the institution's namespace (its first four bytes are the institution's number)
    /// @param subchainId the sub-chain this proxy fronts, an id in the same namespace
    /// @param signer the account that countersigns the proxy's packets and sends its heartbeats
    /// @param endpoint the proxy's host, port and certificate fingerprint
    /// @return proposalId the vote on {enableService}
    function registerService(
        bytes32 serviceId,
        SubchainId subchainId,
        address signer,
        Endpoint calldata endpoint
    ) external returns (uint256 proposalId);

    /// @notice Updates a service's endpoint and certificate fingerprint; by an operator of its institution.
    function updateServiceEndpoint(bytes32 serviceId, Endpoint calldata endpoint) external;

    /// @notice Replaces a service's signing account; by an operator of its institution. The old signer stops being
    /// the service's at once and can never sign for a service again.
    function rotateServiceSigner(bytes32 serviceId, address newSigner) external;

    /// @notice Records that the service is alive; by its signing account.
    function heartbeat(bytes32 serviceId) external;

    /// @notice Governed: enables a registered or disabled service.
    function enableService(bytes32 serviceId) external;

    /// @notice Governed: disables a registered or enabled service; every pipe through it refuses at once.
    function disableService(bytes32 serviceId) external;

    // ---------------------------------------------------------------- nodes

    /// @notice Registers a governance-chain node of the caller's institution and opens the vote that enables it.
    /// @dev By an active operator (genesis and business institutions) or auditor (audit institutions). The kind must
    /// match the institution: genesis node for a genesis institution, governance node for a business one, audit
    /// node for an audit one. Proof of possession: `signature` is the node key's EIP-712 signature of
    /// `NodeConsent(nodeId, institution, kind, host, port, nonce, deadline)` under this contract's domain, `nonce`
    /// being `nodeRegistration(nodeId).nextNonce`; node keys are public, so without it anyone could take a node's
    /// id. A node id whose registration vote was rejected, expired or canceled is free again.
    /// @return nodeId keccak256 of the public key
    /// @return proposalId the vote on {enableNode}
    function registerNode(
        NodeKind kind,
        bytes calldata publicKey,
        string calldata host,
        uint16 port,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 nodeId, uint256 proposalId);

    /// @notice Governed: enables a registered or disabled node, if `registration` is still the node's registration
    /// in force (`nodeRegistration(nodeId).current`).
    function enableNode(bytes32 nodeId, uint64 registration) external;

    /// @notice Governed: disables a registered or enabled node.
    function disableNode(bytes32 nodeId) external;

    // ---------------------------------------------------------------- attester endpoints

    /// @notice Publishes where the caller, an attester key, serves its attestations (`POST <url>/v1/attestations`).
    /// @dev By the key itself, an active account: only the key the gateways check can point relayers at its
    /// endpoint, and signatures are checked anyway, so a wrong endpoint costs liveness only. It may be published
    /// before the vote that makes the key an attester. Relayers read it for the current set (`AttesterRegistry`).
    /// @param url `http://` or `https://` URL, at most 256 bytes; empty withdraws it
    function setAttesterEndpoint(string calldata url) external;

    // ---------------------------------------------------------------- views

    /// @notice Returns a service (status `None` when unknown).
    function service(bytes32 serviceId) external view returns (Service memory);

    /// @notice Returns what another contract needs of a service (status `None` when unknown).
    function serviceRef(bytes32 serviceId) external view returns (ServiceRef memory);

    /// @notice The service `signer` currently signs for (zero when none: never bound, or rotated away).
    function serviceOfSigner(address signer) external view returns (bytes32);

    /// @notice The service with usability index `index` (zero when none).
    function serviceAt(uint32 index) external view returns (bytes32);

    /// @notice The number of services ever registered.
    function serviceCount() external view returns (uint32);

    /// @notice When the service last sent a heartbeat (0: never).
    function lastSeen(bytes32 serviceId) external view returns (uint40);

    /// @notice A node id's consent nonce and registration in force.
    function nodeRegistration(bytes32 nodeId) external view returns (NodeRegistration memory);

    /// @notice Returns a node (status `None` when unknown).
    function node(bytes32 nodeId) external view returns (Node memory);

    /// @notice Whether a node is enabled.
    function isNodeEnabled(bytes32 nodeId) external view returns (bool);

    /// @notice Where attester key `attester` serves its attestations (empty: never published, or withdrawn).
    function attesterEndpoint(address attester) external view returns (string memory);
}
