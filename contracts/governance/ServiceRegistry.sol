// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IPipeRegistry} from "../interfaces/IPipeRegistry.sol";
import {IServiceRegistry} from "../interfaces/IServiceRegistry.sol";
import {IVotingTickets} from "../interfaces/IVotingTickets.sol";
import {InstitutionIds} from "../libraries/InstitutionIds.sol";
import {Governed} from "./Governed.sol";
import {NO_SUBCHAIN, SubchainId} from "../types/Ids.sol";

/// @title ServiceRegistry
/// @notice Collaboration services (cross-chain proxies) and governance nodes of the consortium. Every change that
/// affects whether a pipe may carry traffic is pushed to the pipe registry in the same transaction.
contract ServiceRegistry is IServiceRegistry, Governed, EIP712 {
    bytes32 private constant _NODE_CONSENT_TYPEHASH = keccak256(
        abi.encodePacked(
            "NodeConsent(bytes32 nodeId,uint32 institution,uint8 kind,string host,uint16 port,",
            "uint64 nonce,uint256 deadline)"
        )
    );
    uint256 private constant MAX_HOST_LENGTH = 253;
    uint256 private constant PUBLIC_KEY_LENGTH = 64;
    uint256 private constant MAX_URL_LENGTH = 256;

    IMembership private immutable _membership;
    IVotingTickets private immutable _voting;
    IPipeRegistry private immutable _pipes;

    uint32 private _serviceCount;
    mapping(bytes32 serviceId => Service) private _services;
    mapping(uint32 index => bytes32 serviceId) private _serviceAt;
    /// @dev Never cleared: a signing account serves one service, once.
    mapping(address signer => bytes32 serviceId) private _signerService;
    mapping(bytes32 nodeId => Node) private _nodes;
    mapping(bytes32 nodeId => NodeRegistration) private _nodeRegistrations;
    mapping(address attester => string url) private _attesterEndpoints;

    constructor(
        IMembership membership_,
        IVotingTickets voting_,
        IPipeRegistry pipes_
    ) EIP712("CCGP ServiceRegistry", "1") {
        _membership = membership_;
        _voting = voting_;
        _pipes = pipes_;
    }

    // ---------------------------------------------------------------- services

    /// @inheritdoc IServiceRegistry
    function registerService(
        bytes32 serviceId,
        SubchainId subchainId,
        address signer,
        Endpoint calldata endpoint
    ) external returns (uint256 proposalId) {
        // CHECKS
        uint32 institution = _membership.requireActiveAccount(msg.sender, IMembership.Role.Operator);
        if (serviceId == bytes32(0)) revert ServiceZeroId();
        if (subchainId == NO_SUBCHAIN) revert ServiceInvalidSubchain(subchainId);
        // Ids are namespaced by institution: nobody registers, or holds, an id of another institution. The sub-chain
        // id is claimed here first, so it is checked here too.
        if (InstitutionIds.institutionOf(serviceId) != institution) revert ServiceIdNotOwned(serviceId, institution);
        if (InstitutionIds.institutionOf(subchainId) != institution) {
            revert ServiceSubchainNotOwned(subchainId, institution);
        }
        Service storage s = _services[serviceId];
        if (s.status != ServiceStatus.None) revert ServiceAlreadyRegistered(serviceId);
        _checkEndpoint(endpoint);
        _checkSigner(signer, institution);
        // EFFECTS
        uint32 index = ++_serviceCount;
        s.signer = signer;
        s.status = ServiceStatus.Registered;
        s.index = index;
        s.institution = institution;
        s.registeredAt = uint40(block.timestamp);
        s.subchain = subchainId;
        _setEndpoint(s, endpoint);
        _serviceAt[index] = serviceId;
        _signerService[signer] = serviceId;
        // INTERACTIONS: both are ours; the pipe registry re-reads the new service from here.
        _pipes.syncService(serviceId);
        proposalId = _voting.openProposal(
            msg.sender,
            address(this),
            abi.encodeCall(this.enableService, (serviceId)),
            "enable service"
        );
        _emitRegistered(serviceId, s, proposalId);
    }

    /// @dev Split from {registerService} to keep the stack shallow.
    function _emitRegistered(bytes32 serviceId, Service storage s, uint256 proposalId) private {
        emit ServiceRegistered(
            serviceId,
            s.institution,
            msg.sender,
            s.subchain,
            s.signer,
            s.host,
            s.port,
            s.tlsFingerprint,
            s.index,
            proposalId
        );
    }

    /// @inheritdoc IServiceRegistry
    function updateServiceEndpoint(bytes32 serviceId, Endpoint calldata endpoint) external {
        Service storage s = _existingService(serviceId);
        _requireOperatorOf(s.institution);
        _checkEndpoint(endpoint);
        _setEndpoint(s, endpoint);
        emit ServiceEndpointUpdated(serviceId, msg.sender, endpoint.host, endpoint.port, endpoint.tlsFingerprint);
    }

    function _setEndpoint(Service storage s, Endpoint calldata endpoint) private {
        s.port = endpoint.port;
        s.tlsFingerprint = endpoint.tlsFingerprint;
        s.host = endpoint.host;
    }

    /// @inheritdoc IServiceRegistry
    function rotateServiceSigner(bytes32 serviceId, address newSigner) external {
        // CHECKS
        Service storage s = _existingService(serviceId);
        _requireOperatorOf(s.institution);
        _checkSigner(newSigner, s.institution);
        // EFFECTS
        address oldSigner = s.signer;
        s.signer = newSigner;
        _signerService[newSigner] = serviceId;
        emit ServiceSignerRotated(serviceId, msg.sender, newSigner, oldSigner);
        // INTERACTIONS
        _pipes.syncService(serviceId);
    }

    /// @inheritdoc IServiceRegistry
    function heartbeat(bytes32 serviceId) external {
        Service storage s = _existingService(serviceId);
        if (msg.sender != s.signer) revert ServiceUnauthorizedSigner(serviceId, msg.sender);
        // A suspended or revoked signing account is refused here too (the Ronin lesson).
        _membership.requireActiveAccount(msg.sender, IMembership.Role.Business);
        uint40 now_ = uint40(block.timestamp);
        s.lastSeen = now_;
        emit ServiceHeartbeat(serviceId, msg.sender, now_);
    }

    /// @inheritdoc IServiceRegistry
    function enableService(bytes32 serviceId) external onlyGovernance {
        Service storage s = _existingService(serviceId);
        if (s.status == ServiceStatus.Enabled) revert ServiceInvalidStatus(serviceId, s.status);
        s.status = ServiceStatus.Enabled;
        emit ServiceEnabled(serviceId, msg.sender);
        // INTERACTIONS
        _pipes.syncService(serviceId);
    }

    /// @inheritdoc IServiceRegistry
    function disableService(bytes32 serviceId) external onlyGovernance {
        Service storage s = _existingService(serviceId);
        if (s.status == ServiceStatus.Disabled) revert ServiceInvalidStatus(serviceId, s.status);
        s.status = ServiceStatus.Disabled;
        emit ServiceDisabled(serviceId, msg.sender);
        // INTERACTIONS
        _pipes.syncService(serviceId);
    }

    function _existingService(bytes32 serviceId) private view returns (Service storage s) {
        s = _services[serviceId];
        if (s.status == ServiceStatus.None) revert ServiceNotFound(serviceId);
    }

    function _requireOperatorOf(uint32 institution) private view {
        uint32 own = _membership.requireActiveAccount(msg.sender, IMembership.Role.Operator);
        if (own != institution) revert ServiceUnauthorizedOperator(msg.sender, institution);
    }

    function _checkEndpoint(Endpoint calldata endpoint) private pure {
        uint256 length = bytes(endpoint.host).length;
        if (length == 0 || length > MAX_HOST_LENGTH || endpoint.port == 0) {
            revert ServiceInvalidEndpoint(endpoint.host, endpoint.port);
        }
        if (endpoint.tlsFingerprint == bytes32(0)) revert ServiceInvalidFingerprint(endpoint.tlsFingerprint);
    }

    /// @dev The signer is an active business account of `institution`, never bound to a service before.
    function _checkSigner(address signer, uint32 institution) private view {
        bytes32 taken = _signerService[signer];
        if (taken != bytes32(0)) revert ServiceSignerTaken(signer, taken);
        uint32 own = _membership.requireActiveAccount(signer, IMembership.Role.Business);
        if (own != institution) revert ServiceSignerWrongInstitution(signer, own, institution);
    }

    // ---------------------------------------------------------------- nodes

    /// @inheritdoc IServiceRegistry
    function registerNode(
        NodeKind kind,
        bytes calldata publicKey,
        string calldata host,
        uint16 port,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 nodeId, uint256 proposalId) {
        // CHECKS
        uint32 institution = _nodeRegistrarInstitution(kind);
        if (publicKey.length != PUBLIC_KEY_LENGTH) revert NodeInvalidPublicKey(publicKey.length);
        if (bytes(host).length == 0 || bytes(host).length > MAX_HOST_LENGTH || port == 0) {
            revert NodeInvalidEndpoint(host, port);
        }
        nodeId = keccak256(publicKey);
        _checkNodeConsent(nodeId, institution, kind, host, port, deadline, signature);
        // EFFECTS, INTERACTIONS
        proposalId = _storeNode(nodeId, kind, institution, publicKey, host, port);
    }

    function _storeNode(
        bytes32 nodeId,
        NodeKind kind,
        uint32 institution,
        bytes calldata publicKey,
        string calldata host,
        uint16 port
    ) private returns (uint256 proposalId) {
        Node storage n = _nodes[nodeId];
        NodeRegistration storage r = _nodeRegistrations[nodeId];
        if (n.status != NodeStatus.None && !_staleRegistration(n, r)) revert NodeAlreadyRegistered(nodeId);
        n.status = NodeStatus.Registered;
        n.kind = kind;
        n.institution = institution;
        n.port = port;
        n.registeredAt = uint40(block.timestamp);
        n.host = host;
        n.publicKey = publicKey;
        proposalId = _openNodeVote(nodeId, r);
        _emitNodeRegistered(nodeId, n, proposalId);
    }

    /// @dev Uses the registration's nonce and opens the vote that enables this registration only.
    function _openNodeVote(bytes32 nodeId, NodeRegistration storage r) private returns (uint256 proposalId) {
        uint64 nonce = r.nextNonce;
        r.nextNonce = nonce + 1;
        r.current = nonce;
        // INTERACTIONS: the voting contract is ours; it only stores the proposal.
        proposalId = _voting.openProposal(
            msg.sender,
            address(this),
            abi.encodeCall(this.enableNode, (nodeId, nonce)),
            ""
        );
        r.proposalId = uint64(proposalId);
    }

    /// @dev Proof of possession: the node's own key (its address is the last 20 bytes of the id) signed this very
    /// registration, bound to this chain and contract. ECDSA refuses high-s and malformed signatures.
    function _checkNodeConsent(
        bytes32 nodeId,
        uint32 institution,
        NodeKind kind,
        string calldata host,
        uint16 port,
        uint256 deadline,
        bytes calldata signature
    ) private view {
        if (block.timestamp > deadline) revert NodeConsentExpired(nodeId, deadline);
        uint64 nonce = _nodeRegistrations[nodeId].nextNonce;
        bytes32 structHash = keccak256(
            abi.encode(
                _NODE_CONSENT_TYPEHASH,
                nodeId,
                institution,
                uint8(kind),
                keccak256(bytes(host)),
                port,
                nonce,
                deadline
            )
        );
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (err != ECDSA.RecoverError.NoError || recovered != address(uint160(uint256(nodeId)))) {
            revert NodeConsentInvalid(nodeId);
        }
    }

    /// @dev A registration whose enabling vote can no longer pass (rejected, expired or canceled) holds nothing.
    function _staleRegistration(Node storage n, NodeRegistration storage r) private view returns (bool) {
        if (n.status != NodeStatus.Registered) return false;
        IVotingTickets.ProposalState st = _voting.state(r.proposalId);
        return
            st == IVotingTickets.ProposalState.Rejected ||
            st == IVotingTickets.ProposalState.Expired ||
            st == IVotingTickets.ProposalState.Canceled;
    }

    /// @dev The caller's institution: an active operator, or an auditor of an audit institution, whose institution
    /// runs nodes of `kind`.
    function _nodeRegistrarInstitution(NodeKind kind) private view returns (uint32 institution) {
        IMembership.Role role = _membership.account(msg.sender).role;
        if (role != IMembership.Role.Operator && role != IMembership.Role.Auditor) {
            revert NodeUnauthorizedRegistrar(msg.sender, role);
        }
        institution = _membership.requireActiveAccount(msg.sender, role);
        IMembership.InstitutionKind instKind = _membership.institution(institution).kind;
        if (kind != _nodeKindFor(instKind)) revert NodeKindMismatch(kind, instKind);
    }

    /// @dev Split from {registerNode} to keep the stack shallow.
    function _emitNodeRegistered(bytes32 nodeId, Node storage n, uint256 proposalId) private {
        emit NodeRegistered(nodeId, n.institution, msg.sender, n.kind, n.publicKey, n.host, n.port, proposalId);
    }

    /// @inheritdoc IServiceRegistry
    function enableNode(bytes32 nodeId, uint64 registration) external onlyGovernance {
        Node storage n = _existingNode(nodeId);
        if (_nodeRegistrations[nodeId].current != registration) revert NodeRegistrationSuperseded(nodeId, registration);
        if (n.status == NodeStatus.Enabled) revert NodeInvalidStatus(nodeId, n.status);
        n.status = NodeStatus.Enabled;
        emit NodeEnabled(nodeId, msg.sender);
    }

    /// @inheritdoc IServiceRegistry
    function disableNode(bytes32 nodeId) external onlyGovernance {
        Node storage n = _existingNode(nodeId);
        if (n.status == NodeStatus.Disabled) revert NodeInvalidStatus(nodeId, n.status);
        n.status = NodeStatus.Disabled;
        emit NodeDisabled(nodeId, msg.sender);
    }

    function _existingNode(bytes32 nodeId) private view returns (Node storage n) {
        n = _nodes[nodeId];
        if (n.status == NodeStatus.None) revert NodeNotFound(nodeId);
    }

    /// @dev Genesis institutions run genesis (validator) nodes, business ones governance nodes, audit ones audit nodes.
    function _nodeKindFor(IMembership.InstitutionKind kind) private pure returns (NodeKind) {
        if (kind == IMembership.InstitutionKind.Genesis) return NodeKind.Genesis;
        if (kind == IMembership.InstitutionKind.Business) return NodeKind.Governance;
        return NodeKind.Audit;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc Governed
    function governance() public view override returns (address) {
        return address(_voting);
    }

    /// @inheritdoc IServiceRegistry
    function service(bytes32 serviceId) external view returns (Service memory) {
        return _services[serviceId];
    }

    /// @inheritdoc IServiceRegistry
    function serviceRef(bytes32 serviceId) external view returns (ServiceRef memory ref) {
        Service storage s = _services[serviceId];
        ref = ServiceRef({
            status: s.status,
            index: s.index,
            institution: s.institution,
            signer: s.signer,
            subchain: s.subchain
        });
    }

    /// @inheritdoc IServiceRegistry
    function serviceOfSigner(address signer) external view returns (bytes32) {
        bytes32 serviceId = _signerService[signer];
        return _services[serviceId].signer == signer ? serviceId : bytes32(0);
    }

    /// @inheritdoc IServiceRegistry
    function serviceAt(uint32 index) external view returns (bytes32) {
        return _serviceAt[index];
    }

    /// @inheritdoc IServiceRegistry
    function serviceCount() external view returns (uint32) {
        return _serviceCount;
    }

    /// @inheritdoc IServiceRegistry
    function lastSeen(bytes32 serviceId) external view returns (uint40) {
        return _services[serviceId].lastSeen;
    }

    /// @inheritdoc IServiceRegistry
    function nodeRegistration(bytes32 nodeId) external view returns (NodeRegistration memory) {
        return _nodeRegistrations[nodeId];
    }

    /// @inheritdoc IServiceRegistry
    function node(bytes32 nodeId) external view returns (Node memory) {
        return _nodes[nodeId];
    }

    /// @inheritdoc IServiceRegistry
    function isNodeEnabled(bytes32 nodeId) external view returns (bool) {
        return _nodes[nodeId].status == NodeStatus.Enabled;
    }

    // ---------------------------------------------------------------- attester endpoints

    /// @inheritdoc IServiceRegistry
    function setAttesterEndpoint(string calldata url) external {
        if (!_membership.isActiveAccount(msg.sender)) revert AttesterEndpointUnauthorized(msg.sender);
        bytes calldata b = bytes(url);
        if (b.length != 0 && (b.length > MAX_URL_LENGTH || !_isHttpUrl(b))) revert AttesterEndpointInvalid(url);
        _attesterEndpoints[msg.sender] = url;
        emit AttesterEndpointSet(msg.sender, _membership.account(msg.sender).institution, url);
    }

    /// @dev `http://` or `https://` and at least one byte of host after it.
    function _isHttpUrl(bytes calldata b) private pure returns (bool) {
        if (b.length > 7 && bytes7(b[:7]) == "http://") return true;
        return b.length > 8 && bytes8(b[:8]) == "https://";
    }

    /// @inheritdoc IServiceRegistry
    function attesterEndpoint(address attester) external view returns (string memory) {
        return _attesterEndpoints[attester];
    }
}
