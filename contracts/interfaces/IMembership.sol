// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IMembership
/// @notice Institutions (机构管理) and accounts (账户管理, 统一身份) of the consortium.
/// Every other governance contract asks this one whether an account may act, so a suspension or a
/// revocation is refused everywhere at once.
interface IMembership {
    enum InstitutionKind {
        None,
        Genesis, // runs governance: its governors vote
        Business, // takes part in cross-chain business (a "governance institution" in the white paper)
        Audit // reads and audits; never votes
    }

    enum InstitutionStatus {
        None,
        Applied,
        Active,
        Suspended,
        Expelled
    }

    enum Role {
        None,
        Governor, // of a genesis institution: votes and proposes
        Operator, // runs services for an institution
        Business, // signs cross-chain business
        Auditor // of an audit institution
    }

    enum AccountStatus {
        None,
        Pending, // requested; takes effect only once every genesis institution has voted for it
        Active,
        Suspended,
        Revoked // final
    }

    /// @dev One storage slot: kind, status, voting seat, weight, approval time and admin.
    struct Institution {
        InstitutionKind kind;
        InstitutionStatus status;
        uint8 seat; // voting seat (genesis institutions only)
        uint16 weight; // weight in weighted-threshold votes (genesis institutions only)
        uint40 approvedAt;
        address admin; // the applicant: may request accounts for its institution and revoke them
        bytes32 identityHash; // hash of the identity documents presented with the application
        string name;
    }

    /// @dev One storage slot.
    struct Account {
        uint32 institution;
        Role role;
        AccountStatus status;
    }

    /// @dev An address's consents to join (one slot): the next consent nonce, and its pending request if any.
    struct AccountConsents {
        uint64 nextNonce; // a consent signs this number; each request uses one
        uint64 pendingNonce; // the nonce of the pending request (its vote activates only this request)
        uint64 proposalId; // the pending request's vote (zero: none)
    }

    /// @notice A genesis institution as given to {initialize}.
    struct GenesisInstitution {
        string name;
        bytes32 identityHash;
        bytes attributes;
        address admin;
        uint16 weight;
        address[] governors;
    }

    // ---------------------------------------------------------------- errors

    error MembershipAlreadyInitialized();
    error MembershipUnauthorizedInitializer(address caller);
    error MembershipGenesisEmpty();
    error MembershipGenesisTooLarge(uint256 count, uint256 max);
    error MembershipGenesisWithoutGovernor(uint256 index);
    error MembershipZeroAddress();
    error MembershipListenerAlreadyBound();

    error InstitutionNotFound(uint32 id);
    error InstitutionInvalidStatus(uint32 id, InstitutionStatus status);
    error InstitutionNotActive(uint32 id, InstitutionStatus status);
    error InstitutionKindNotAllowed(InstitutionKind kind);
    error InstitutionNameEmpty();
    error InstitutionLastGenesis(uint32 id);
    error InstitutionInvalidWeight(uint32 id, uint16 weight);

    error AccountAlreadyExists(address account);
    error AccountNotFound(address account);
    error AccountInvalidStatus(address account, AccountStatus status);
    error AccountNotActive(address account, AccountStatus status);
    error AccountRoleNotAllowed(InstitutionKind kind, Role role);
    error AccountRoleMismatch(address account, Role expected, Role actual);
    error AccountUnauthorizedRequester(address caller, uint32 institution);
    error AccountUnauthorizedRevoker(address caller, address account);
    /// @notice The account's consent (an EIP-712 signature by its key, or ERC-1271 for a contract) is missing,
    /// malformed, or signed another request (institution, role, nonce, chain or contract).
    error AccountConsentInvalid(address account);
    error AccountConsentExpired(address account, uint256 deadline);
    /// @notice The vote is for an earlier request of the account, since freed (rejected or expired) and replaced.
    error AccountRequestSuperseded(address account, uint64 nonce);

    // ---------------------------------------------------------------- events

    event GenesisInstitutionCreated(
        uint32 indexed id,
        address indexed admin,
        string name,
        bytes32 identityHash,
        bytes attributes,
        uint8 seat,
        uint16 weight
    );
    event InstitutionApplied(
        uint32 indexed id,
        address indexed admin,
        InstitutionKind kind,
        string name,
        bytes32 identityHash,
        bytes attributes,
        uint256 proposalId
    );
    event InstitutionApproved(uint32 indexed id, string did);
    event InstitutionSuspended(uint32 indexed id);
    event InstitutionReinstated(uint32 indexed id);
    event InstitutionExpelled(uint32 indexed id);
    event InstitutionWeightChanged(uint32 indexed id, uint16 weight);

    event AccountRequested(
        address indexed account,
        uint32 indexed institution,
        Role role,
        address indexed requester,
        uint256 proposalId
    );
    event AccountActivated(address indexed account, uint32 indexed institution, Role role);
    event AccountSuspended(address indexed account, uint32 indexed institution);
    event AccountReinstated(address indexed account, uint32 indexed institution);
    event AccountRevoked(address indexed account, uint32 indexed institution, address indexed by);

    event MembershipListenerChanged(address indexed listener, address indexed by);

    // ---------------------------------------------------------------- bootstrap

    /// @notice Creates the genesis set and wires the voting tickets contract. Runs once, by the deployer.
    function initialize(address voting, GenesisInstitution[] calldata genesis) external;

    /// @notice Sets the listener told of every suspension, reinstatement, expulsion and account suspension,
    /// reinstatement or revocation (the pipe registry). Runs once, by the deployer; later changes are governed.
    function bindListener(address listener) external;

    /// @notice Governed: replaces the listener (zero: nobody is told).
    function setListener(address listener) external;

    // ---------------------------------------------------------------- institutions

    /// @notice Applies to join the consortium as a business or audit institution; opens the join vote.
    /// @dev The caller becomes the institution's admin.
    /// @return id the institution's number (its unified id once approved)
    /// @return proposalId the join proposal
    function applyToJoin(
        string calldata name,
        bytes32 identityHash,
        InstitutionKind kind,
        bytes calldata attributes
    ) external returns (uint32 id, uint256 proposalId);

    /// @notice Governed: approves a join application and issues the unified id.
    function approveJoin(uint32 id) external;

    /// @notice Governed: suspends an active institution; all its accounts are refused at once.
    function suspendInstitution(uint32 id) external;

    /// @notice Governed: reinstates a suspended or expelled institution.
    function reinstateInstitution(uint32 id) external;

    /// @notice Governed: expels an active or suspended institution.
    function expelInstitution(uint32 id) external;

    /// @notice Governed: sets a genesis institution's weight in weighted-threshold votes.
    function setWeight(uint32 id, uint16 weight) external;

    // ---------------------------------------------------------------- accounts

    /// @notice Requests a new account for an institution, with the account's own consent; opens the (unanimous)
    /// account vote.
    /// @dev Callable by the institution's admin or by one of its active governors or operators. `signature` is the
    /// account key's EIP-712 signature of `AccountConsent(account, institution, role, nonce, deadline)` under this
    /// contract's domain, `nonce` being `accountConsents(account).nextNonce` (ERC-1271 when the account is a
    /// contract, such as a multisig): nobody can enrol an address without its key. An address whose request was
    /// rejected, expired or canceled is free again.
    function requestAccount(
        address account,
        uint32 institution,
        Role role,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 proposalId);

    /// @notice Governed: activates the pending account request numbered `nonce`.
    function activateAccount(address account, uint64 nonce) external;

    /// @notice Governed: suspends an active account.
    function suspendAccount(address account) external;

    /// @notice Governed: reinstates a suspended account.
    function reinstateAccount(address account) external;

    /// @notice Governed: revokes an account for good.
    function revokeAccount(address account) external;

    /// @notice Revokes an account at once, without a vote: by the account itself, its institution's admin or
    /// an active governor of its institution. A leaked key must stop working before a vote could finish.
    function revokeOwnAccount(address account) external;

    // ---------------------------------------------------------------- views

    /// @notice An address's consent nonce and pending request.
    function accountConsents(address account) external view returns (AccountConsents memory);

    /// @notice Returns an institution.
    function institution(uint32 id) external view returns (Institution memory);

    /// @notice An institution's status (`None` when unknown).
    function institutionStatus(uint32 id) external view returns (InstitutionStatus);

    /// @notice The listener told of status changes (zero when none).
    function listener() external view returns (address);

    /// @notice Returns the number of institutions ever recorded (applications included).
    function institutionCount() external view returns (uint32);

    /// @notice Returns an institution's unified id, `did:ccgp:<chainId>:<id>`.
    function didOf(uint32 id) external view returns (string memory);

    /// @notice Returns an account.
    function account(address account) external view returns (Account memory);

    /// @notice Whether an account is active and its institution too.
    function isActiveAccount(address account) external view returns (bool);

    /// @notice Reverts unless `account` is active, has `role` (any role when `Role.None`) and belongs to an
    /// active institution; returns that institution.
    function requireActiveAccount(address account, Role role) external view returns (uint32 institution);

    /// @notice Reverts unless `account` may vote: an active governor of an active genesis institution.
    /// @return institution the voting institution
    /// @return seat its voting seat
    function voterOf(address account) external view returns (uint32 institution, uint8 seat);

    /// @notice The bitmap of voting seats held by active genesis institutions.
    function activeSeats() external view returns (uint256);

    /// @notice The sum of the weights of the seats set in `seats`.
    function weightOf(uint256 seats) external view returns (uint256);
}
