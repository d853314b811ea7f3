// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IVotingTickets
/// @notice One proposal engine for every governed action (投票工单). An action is a call on a governed
/// contract; its kind is the pair (target, selector), and each kind has its own rule.
interface IVotingTickets {
    enum RuleKind {
        None, // the action cannot be proposed
        UnanimousGenesis, // every active genesis institution votes for
        GenesisMajority, // more than `thresholdBps` of the active genesis institutions vote for
        Weighted // more than `thresholdBps` of the active genesis weight votes for
    }

    enum ProposalState {
        None,
        Active, // open, its rule not met yet
        Passed, // its rule is met; executable until the deadline
        // Enough votes against that the rule cannot be met by the active set now; votes are still taken until
        // the deadline, since a suspension or reinstatement may change the active set.
        Rejected,
        Expired, // the deadline passed before execution
        Canceled,
        Executed
    }

    struct Rule {
        RuleKind kind;
        uint16 thresholdBps; // GenesisMajority and Weighted: strictly more than this share must vote for
        uint32 votingPeriod; // seconds from proposal to deadline
    }

    /// @notice A rule for one action, as given at deployment.
    struct ActionRule {
        address target;
        bytes4 selector;
        Rule rule;
    }

    struct Proposal {
        address proposer;
        uint40 deadline;
        RuleKind rule;
        uint16 thresholdBps;
        bool canceled;
        bool executed;
        address target;
        bytes4 selector;
        uint256 ballots; // bits [0,127): seats for; bits [128,255): seats against; bit 127: set at creation
        bytes data;
    }

    // ---------------------------------------------------------------- errors

    error VotingUnknownAction(address target, bytes4 selector);
    error VotingActionTooShort(uint256 length);
    error VotingInvalidRule(RuleKind kind, uint16 thresholdBps, uint32 votingPeriod);
    error VotingUnauthorizedModule(address caller);
    error VotingZeroAddress();
    error VotingBootstrapUnauthorized(address caller);
    error VotingAlreadyBootstrapped();
    error VotingBootstrapTooLate(uint256 proposalCount);
    error VotingRuleAlreadySet(address target, bytes4 selector);

    error ProposalNotFound(uint256 id);
    error ProposalNotActive(uint256 id, ProposalState state);
    error ProposalAlreadyVoted(uint256 id, uint32 institution);
    error ProposalNotPassed(uint256 id, ProposalState state);
    error ProposalUnauthorizedCancel(uint256 id, address caller);
    error ProposalExecutionReverted(uint256 id);

    // ---------------------------------------------------------------- events

    event ProposalCreated(
        uint256 indexed id,
        address indexed proposer,
        address indexed target,
        bytes4 selector,
        RuleKind rule,
        uint16 thresholdBps,
        uint40 deadline,
        bytes data,
        string description
    );
    event VoteCast(uint256 indexed id, uint32 indexed institution, address indexed voter, bool support);
    event ProposalCanceled(uint256 indexed id, address indexed by);
    event ProposalExecuted(uint256 indexed id, address indexed by);
    event RuleChanged(
        address indexed target,
        bytes4 indexed selector,
        RuleKind kind,
        uint16 thresholdBps,
        uint32 votingPeriod
    );
    event ModuleChanged(address indexed module, bool allowed);
    event VotingBootstrapped(address indexed by, uint256 rules, uint256 modules);

    // ---------------------------------------------------------------- bootstrap

    /// @notice Installs the rules of governed contracts deployed after this one, and their modules. Runs once, by
    /// the deployer, before the first proposal; it only adds rules (an action that has one keeps it), so it cannot
    /// weaken a rule. Afterwards only votes change rules and modules.
    function bootstrap(ActionRule[] calldata rules, address[] calldata modules) external;

    /// @notice Whether {bootstrap} has run.
    function bootstrapped() external view returns (bool);

    // ---------------------------------------------------------------- proposals

    /// @notice Proposes a governed action. The caller must be an active governor of an active genesis institution.
    /// @param target the governed contract
    /// @param data the call to make on it; its selector picks the rule
    /// @param description a human description, kept in the event
    function propose(address target, bytes calldata data, string calldata description) external returns (uint256 id);

    /// @notice Opens a proposal on behalf of `proposer`; only for governance modules (e.g. a join application
    /// opened by the applicant through the membership contract).
    function openProposal(
        address proposer,
        address target,
        bytes calldata data,
        string calldata description
    ) external returns (uint256 id);

    /// @notice Casts the caller's institution's vote, before the deadline of a proposal neither cancelled nor
    /// executed. One vote per institution per proposal.
    function vote(uint256 id, bool support) external;

    /// @notice Executes a passed proposal, once, before its deadline. Anyone may call it.
    function execute(uint256 id) external;

    /// @notice Cancels a proposal that has not been executed; only its proposer.
    function cancel(uint256 id) external;

    // ---------------------------------------------------------------- governed

    /// @notice Governed: sets the rule of an action. `RuleKind.None` disables the action.
    function setRule(address target, bytes4 selector, Rule calldata rule) external;

    /// @notice Governed: allows or disallows a governance module to open proposals.
    function setModule(address module, bool allowed) external;

    // ---------------------------------------------------------------- views

    /// @notice The membership contract that says who may vote.
    function membership() external view returns (address);

    /// @notice The rule of an action.
    function ruleOf(address target, bytes4 selector) external view returns (Rule memory);

    /// @notice Whether `module` may open proposals.
    function isModule(address module) external view returns (bool);

    /// @notice Returns a proposal.
    function proposal(uint256 id) external view returns (Proposal memory);

    /// @notice Returns the number of proposals ever created; ids run from 1 to this number.
    function proposalCount() external view returns (uint256);

    /// @notice The state of a proposal, evaluated against the current active genesis set.
    function state(uint256 id) external view returns (ProposalState);

    /// @notice Whether `institution`'s seat has voted on a proposal, and how.
    function ballotOf(uint256 id, uint8 seat) external view returns (bool voted, bool support);
}
