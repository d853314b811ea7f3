// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IMembershipListener} from "../interfaces/IMembershipListener.sol";
import {IVotingTickets} from "../interfaces/IVotingTickets.sol";
import {Ballots} from "../libraries/Ballots.sol";
import {Governed} from "./Governed.sol";

/// @title Membership
/// @notice Institutions and accounts of the consortium. Membership decisions are taken by the voting
/// tickets contract; this contract keeps the state and answers "may this account act?" in O(1).
contract Membership is IMembership, Governed, EIP712 {
    bytes32 private constant _ACCOUNT_CONSENT_TYPEHASH = keccak256(
        "AccountConsent(address account,uint32 institution,uint8 role,uint64 nonce,uint256 deadline)"
    );

    address private immutable _deployer;
    address private _voting;

    uint32 private _institutionCount;
    mapping(uint32 id => Institution) private _institutions;
    mapping(address account => Account) private _accounts;
    mapping(address account => AccountConsents) private _consents;

    /// @dev Seats of active genesis institutions, one bit each (see {Ballots}).
    uint256 private _activeSeats;
    /// @dev Genesis weights by seat: 16 per storage word, so summing them reads at most 8 words.
    uint16[128] private _seatWeights;

    /// @dev Told of every suspension, reinstatement, expulsion and account suspension/reinstatement/revocation.
    address private _listener;
    bool private _listenerBound;

    constructor() EIP712("CCGP Membership", "1") {
        _deployer = msg.sender;
    }

    // ---------------------------------------------------------------- bootstrap

    /// @inheritdoc IMembership
    function initialize(address voting, GenesisInstitution[] calldata genesis) external {
        if (msg.sender != _deployer) revert MembershipUnauthorizedInitializer(msg.sender);
        if (_voting != address(0)) revert MembershipAlreadyInitialized();
        if (voting == address(0)) revert MembershipZeroAddress();
        if (genesis.length == 0) revert MembershipGenesisEmpty();
        if (genesis.length > Ballots.MAX_SEATS) revert MembershipGenesisTooLarge(genesis.length, Ballots.MAX_SEATS);
        _voting = voting;
        for (uint256 i = 0; i < genesis.length; ++i) {
            _createGenesis(uint8(i), genesis[i]);
        }
    }

    /// @inheritdoc IMembership
    function bindListener(address listener_) external {
        if (msg.sender != _deployer) revert MembershipUnauthorizedInitializer(msg.sender);
        if (_listenerBound) revert MembershipListenerAlreadyBound();
        if (listener_ == address(0)) revert MembershipZeroAddress();
        _listenerBound = true;
        _listener = listener_;
        emit MembershipListenerChanged(listener_, msg.sender);
    }

    /// @inheritdoc IMembership
    function setListener(address listener_) external onlyGovernance {
        _listenerBound = true;
        _listener = listener_;
        emit MembershipListenerChanged(listener_, msg.sender);
    }

    function _createGenesis(uint8 seat, GenesisInstitution calldata g) private {
        if (bytes(g.name).length == 0) revert InstitutionNameEmpty();
        if (g.governors.length == 0) revert MembershipGenesisWithoutGovernor(seat);
        if (g.admin == address(0)) revert MembershipZeroAddress();
        uint32 id = ++_institutionCount;
        if (g.weight == 0) revert InstitutionInvalidWeight(id, 0);
        Institution storage inst = _institutions[id];
        inst.kind = InstitutionKind.Genesis;
        inst.status = InstitutionStatus.Active;
        inst.seat = seat;
        inst.weight = g.weight;
        inst.approvedAt = uint40(block.timestamp);
        inst.admin = g.admin;
        inst.identityHash = g.identityHash;
        inst.name = g.name;
        _activeSeats |= 1 << seat;
        _seatWeights[seat] = g.weight;
        emit GenesisInstitutionCreated(id, g.admin, g.name, g.identityHash, g.attributes, seat, g.weight);
        emit InstitutionApproved(id, didOf(id));
        for (uint256 j = 0; j < g.governors.length; ++j) {
            // Genesis governors take effect at deployment: there is nobody yet to vote for them.
            _addAccount(g.governors[j], id, Role.Governor, InstitutionKind.Genesis);
            _accounts[g.governors[j]].status = AccountStatus.Active;
            emit AccountActivated(g.governors[j], id, Role.Governor);
        }
    }

    // ---------------------------------------------------------------- institutions

    /// @inheritdoc IMembership
    function applyToJoin(
        string calldata name,
        bytes32 identityHash,
        InstitutionKind kind,
        bytes calldata attributes
    ) external returns (uint32 id, uint256 proposalId) {
        // CHECKS
        if (kind != InstitutionKind.Business && kind != InstitutionKind.Audit) revert InstitutionKindNotAllowed(kind);
        if (bytes(name).length == 0) revert InstitutionNameEmpty();
        // EFFECTS
        id = ++_institutionCount;
        Institution storage inst = _institutions[id];
        inst.kind = kind;
        inst.status = InstitutionStatus.Applied;
        inst.admin = msg.sender;
        inst.identityHash = identityHash;
        inst.name = name;
        // INTERACTIONS: the voting contract is ours; it only stores the proposal.
        proposalId = IVotingTickets(_voting).openProposal(
            msg.sender,
            address(this),
            abi.encodeCall(this.approveJoin, (id)),
            name
        );
        emit InstitutionApplied(id, msg.sender, kind, name, identityHash, attributes, proposalId);
    }

    /// @inheritdoc IMembership
    function approveJoin(uint32 id) external onlyGovernance {
        Institution storage inst = _existing(id);
        if (inst.status != InstitutionStatus.Applied) revert InstitutionInvalidStatus(id, inst.status);
        inst.status = InstitutionStatus.Active;
        inst.approvedAt = uint40(block.timestamp);
        emit InstitutionApproved(id, didOf(id));
    }

    /// @inheritdoc IMembership
    function suspendInstitution(uint32 id) external onlyGovernance {
        Institution storage inst = _existing(id);
        if (inst.status != InstitutionStatus.Active) revert InstitutionInvalidStatus(id, inst.status);
        _leaveSeat(id, inst);
        inst.status = InstitutionStatus.Suspended;
        emit InstitutionSuspended(id);
        _notifyInstitution(id);
    }

    /// @inheritdoc IMembership
    function reinstateInstitution(uint32 id) external onlyGovernance {
        Institution storage inst = _existing(id);
        if (inst.status != InstitutionStatus.Suspended && inst.status != InstitutionStatus.Expelled) {
            revert InstitutionInvalidStatus(id, inst.status);
        }
        inst.status = InstitutionStatus.Active;
        if (inst.kind == InstitutionKind.Genesis) {
            _activeSeats |= 1 << inst.seat;
        }
        emit InstitutionReinstated(id);
        _notifyInstitution(id);
    }

    /// @inheritdoc IMembership
    function expelInstitution(uint32 id) external onlyGovernance {
        Institution storage inst = _existing(id);
        if (inst.status == InstitutionStatus.Active) {
            _leaveSeat(id, inst);
        } else if (inst.status != InstitutionStatus.Suspended) {
            revert InstitutionInvalidStatus(id, inst.status);
        }
        inst.status = InstitutionStatus.Expelled;
        emit InstitutionExpelled(id);
        _notifyInstitution(id);
    }

    /// @inheritdoc IMembership
    function setWeight(uint32 id, uint16 weight) external onlyGovernance {
        Institution storage inst = _existing(id);
        if (inst.kind != InstitutionKind.Genesis || weight == 0) revert InstitutionInvalidWeight(id, weight);
        inst.weight = weight;
        _seatWeights[inst.seat] = weight;
        emit InstitutionWeightChanged(id, weight);
    }

    /// @dev Takes an active genesis institution's seat out of the active set; the last one cannot leave,
    /// or nobody could ever vote again.
    function _leaveSeat(uint32 id, Institution storage inst) private {
        if (inst.kind != InstitutionKind.Genesis) return;
        uint256 remaining = _activeSeats & ~(1 << inst.seat);
        if (remaining == 0) revert InstitutionLastGenesis(id);
        _activeSeats = remaining;
    }

    // ---------------------------------------------------------------- accounts

    /// @inheritdoc IMembership
    function requestAccount(
        address account_,
        uint32 institution_,
        Role role,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 proposalId) {
        // CHECKS
        Institution storage inst = _existing(institution_);
        if (inst.status != InstitutionStatus.Active) revert InstitutionNotActive(institution_, inst.status);
        if (msg.sender != inst.admin) {
            Account storage requester = _accounts[msg.sender];
            bool staff =
                requester.institution == institution_ &&
                    requester.status == AccountStatus.Active &&
                    (requester.role == Role.Governor || requester.role == Role.Operator);
            if (!staff) revert AccountUnauthorizedRequester(msg.sender, institution_);
        }
        if (account_ == address(0)) revert MembershipZeroAddress();
        AccountConsents storage consents = _consents[account_];
        uint64 nonce = consents.nextNonce;
        _checkConsent(account_, institution_, role, nonce, deadline, signature);
        _freeStaleRequest(account_, consents);
        // EFFECTS
        _addAccount(account_, institution_, role, inst.kind);
        consents.nextNonce = nonce + 1;
        consents.pendingNonce = nonce;
        // INTERACTIONS: the voting contract is ours; it only stores the proposal.
        proposalId = IVotingTickets(_voting).openProposal(
            msg.sender,
            address(this),
            abi.encodeCall(this.activateAccount, (account_, nonce)),
            ""
        );
        consents.proposalId = uint64(proposalId);
        emit AccountRequested(account_, institution_, role, msg.sender, proposalId);
    }

    /// @dev Proof of possession: the account's key signed this very request (EIP-712, bound to this chain and
    /// contract); a contract account answers through ERC-1271.
    function _checkConsent(
        address account_,
        uint32 institution_,
        Role role,
        uint64 nonce,
        uint256 deadline,
        bytes calldata signature
    ) private view {
        if (block.timestamp > deadline) revert AccountConsentExpired(account_, deadline);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(_ACCOUNT_CONSENT_TYPEHASH, account_, institution_, uint8(role), nonce, deadline))
        );
        if (!SignatureChecker.isValidSignatureNow(account_, digest, signature)) revert AccountConsentInvalid(account_);
    }

    /// @dev A pending request whose vote can no longer activate it (rejected, expired or canceled) holds nothing:
    /// its record is cleared so the address can be requested again. Its vote is bound to its nonce, so even a
    /// rejected vote that later passes cannot activate the new request.
    function _freeStaleRequest(address account_, AccountConsents storage consents) private {
        if (_accounts[account_].status != AccountStatus.Pending) return;
        IVotingTickets.ProposalState st = IVotingTickets(_voting).state(consents.proposalId);
        bool stale =
            st == IVotingTickets.ProposalState.Rejected ||
                st == IVotingTickets.ProposalState.Expired ||
                st == IVotingTickets.ProposalState.Canceled;
        if (stale) delete _accounts[account_];
    }

    /// @inheritdoc IMembership
    function activateAccount(address account_, uint64 nonce) external onlyGovernance {
        if (_accounts[account_].status == AccountStatus.Pending && _consents[account_].pendingNonce != nonce) {
            revert AccountRequestSuperseded(account_, nonce);
        }
        Account storage acc = _transition(account_, AccountStatus.Pending, AccountStatus.Active);
        emit AccountActivated(account_, acc.institution, acc.role);
    }

    /// @inheritdoc IMembership
    function suspendAccount(address account_) external onlyGovernance {
        Account storage acc = _transition(account_, AccountStatus.Active, AccountStatus.Suspended);
        emit AccountSuspended(account_, acc.institution);
        _notifyAccount(account_);
    }

    /// @inheritdoc IMembership
    function reinstateAccount(address account_) external onlyGovernance {
        Account storage acc = _transition(account_, AccountStatus.Suspended, AccountStatus.Active);
        emit AccountReinstated(account_, acc.institution);
        _notifyAccount(account_);
    }

    /// @inheritdoc IMembership
    function revokeAccount(address account_) external onlyGovernance {
        _revoke(account_);
    }

    /// @inheritdoc IMembership
    function revokeOwnAccount(address account_) external {
        Account storage acc = _accounts[account_];
        if (acc.status == AccountStatus.None) revert AccountNotFound(account_);
        if (msg.sender != account_ && msg.sender != _institutions[acc.institution].admin) {
            Account storage caller = _accounts[msg.sender];
            bool governor =
                caller.institution == acc.institution &&
                    caller.status == AccountStatus.Active &&
                    caller.role == Role.Governor;
            if (!governor) revert AccountUnauthorizedRevoker(msg.sender, account_);
        }
        _revoke(account_);
    }

    function _revoke(address account_) private {
        Account storage acc = _accounts[account_];
        if (acc.status == AccountStatus.None) revert AccountNotFound(account_);
        if (acc.status == AccountStatus.Revoked) revert AccountInvalidStatus(account_, acc.status);
        acc.status = AccountStatus.Revoked;
        emit AccountRevoked(account_, acc.institution, msg.sender);
        _notifyAccount(account_);
    }

    /// @dev INTERACTIONS, after every effect: the listener re-reads the new state from this contract. Joins and
    /// account activations are not told: nothing can depend on an applied institution or a pending account.
    function _notifyInstitution(uint32 id) private {
        address target = _listener;
        if (target != address(0)) IMembershipListener(target).syncInstitution(id);
    }

    /// @dev As {_notifyInstitution}, for an account.
    function _notifyAccount(address account_) private {
        address target = _listener;
        if (target != address(0)) IMembershipListener(target).syncAccount(account_);
    }

    function _addAccount(address account_, uint32 institution_, Role role, InstitutionKind kind) private {
        if (account_ == address(0)) revert MembershipZeroAddress();
        if (_accounts[account_].status != AccountStatus.None) revert AccountAlreadyExists(account_);
        if (!_roleAllowed(kind, role)) revert AccountRoleNotAllowed(kind, role);
        _accounts[account_] = Account({institution: institution_, role: role, status: AccountStatus.Pending});
    }

    function _transition(address account_, AccountStatus from, AccountStatus to) private returns (Account storage acc) {
        acc = _accounts[account_];
        if (acc.status == AccountStatus.None) revert AccountNotFound(account_);
        if (acc.status != from) revert AccountInvalidStatus(account_, acc.status);
        acc.status = to;
    }

    /// @dev Governors only in genesis institutions, auditors only in audit ones, operators and business
    /// accounts in genesis and business institutions.
    function _roleAllowed(InstitutionKind kind, Role role) private pure returns (bool) {
        if (role == Role.Governor) return kind == InstitutionKind.Genesis;
        if (role == Role.Auditor) return kind == InstitutionKind.Audit;
        if (role == Role.Operator || role == Role.Business) return kind != InstitutionKind.Audit;
        return false;
    }

    function _existing(uint32 id) private view returns (Institution storage inst) {
        inst = _institutions[id];
        if (inst.status == InstitutionStatus.None) revert InstitutionNotFound(id);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc Governed
    function governance() public view override returns (address) {
        return _voting;
    }

    /// @inheritdoc IMembership
    function accountConsents(address account_) external view returns (AccountConsents memory) {
        return _consents[account_];
    }

    /// @inheritdoc IMembership
    function institution(uint32 id) external view returns (Institution memory) {
        return _institutions[id];
    }

    /// @inheritdoc IMembership
    function institutionStatus(uint32 id) external view returns (InstitutionStatus) {
        return _institutions[id].status;
    }

    /// @inheritdoc IMembership
    function listener() external view returns (address) {
        return _listener;
    }

    /// @inheritdoc IMembership
    function institutionCount() external view returns (uint32) {
        return _institutionCount;
    }

    /// @inheritdoc IMembership
    function didOf(uint32 id) public view returns (string memory) {
        return string.concat("did:ccgp:", Strings.toString(block.chainid), ":", Strings.toString(id));
    }

    /// @inheritdoc IMembership
    function account(address account_) external view returns (Account memory) {
        return _accounts[account_];
    }

    /// @inheritdoc IMembership
    function isActiveAccount(address account_) external view returns (bool) {
        Account storage acc = _accounts[account_];
        return acc.status == AccountStatus.Active && _institutions[acc.institution].status == InstitutionStatus.Active;
    }

    /// @inheritdoc IMembership
    function requireActiveAccount(address account_, Role role) public view returns (uint32) {
        Account memory acc = _accounts[account_];
        if (acc.status != AccountStatus.Active) revert AccountNotActive(account_, acc.status);
        if (role != Role.None && acc.role != role) revert AccountRoleMismatch(account_, role, acc.role);
        InstitutionStatus status = _institutions[acc.institution].status;
        if (status != InstitutionStatus.Active) revert InstitutionNotActive(acc.institution, status);
        return acc.institution;
    }

    /// @inheritdoc IMembership
    function voterOf(address account_) external view returns (uint32 institution_, uint8 seat) {
        // Governors exist only in genesis institutions (see {_roleAllowed}), so a governor always has a seat.
        institution_ = requireActiveAccount(account_, Role.Governor);
        seat = _institutions[institution_].seat;
    }

    /// @inheritdoc IMembership
    function activeSeats() external view returns (uint256) {
        return _activeSeats;
    }

    /// @inheritdoc IMembership
    function weightOf(uint256 seats) external view returns (uint256 total) {
        // Bounded: at most 127 seats.
        for (uint256 s = 0; seats != 0; ++s) {
            if (seats & 1 == 1) total += _seatWeights[s];
            seats >>= 1;
        }
    }
}
