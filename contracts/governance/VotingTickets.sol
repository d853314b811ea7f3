// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {IVotingTickets} from "../interfaces/IVotingTickets.sol";
import {Ballots} from "../libraries/Ballots.sol";
import {Governed} from "./Governed.sol";

/// @title VotingTickets
/// @notice The proposal engine of the consortium (投票工单). Every governed action of every governance contract
/// is executed from here, once its own rule is met. A vote is one warm SSTORE: the gas of a vote does not grow
/// with the number of institutions or proposals.
contract VotingTickets is IVotingTickets, Governed {
    uint16 private constant BPS = 10_000;
    uint32 private constant MAX_VOTING_PERIOD = 365 days;

    IMembership private immutable _membership;
    address private immutable _deployer;
    bool private _bootstrapped;

    uint256 private _proposalCount;
    mapping(uint256 id => Proposal) private _proposals;
    mapping(address target => mapping(bytes4 selector => Rule)) private _rules;
    mapping(address module => bool) private _modules;

    /// @param membership_ the membership contract
    /// @param rules the initial rule of every governed action; the rules of this contract's own actions
    /// ({setRule}, {setModule}) default to a unanimous genesis vote over 7 days when not given
    /// @param modules governance modules allowed to open proposals (the membership contract at least)
    constructor(IMembership membership_, ActionRule[] memory rules, address[] memory modules) {
        if (address(membership_) == address(0)) revert VotingZeroAddress();
        _membership = membership_;
        _deployer = msg.sender;
        Rule memory unanimous = Rule({kind: RuleKind.UnanimousGenesis, thresholdBps: BPS, votingPeriod: 7 days});
        _setRule(address(this), IVotingTickets.setRule.selector, unanimous);
        _setRule(address(this), IVotingTickets.setModule.selector, unanimous);
        for (uint256 i = 0; i < rules.length; ++i) {
            _setRule(rules[i].target, rules[i].selector, rules[i].rule);
        }
        for (uint256 i = 0; i < modules.length; ++i) {
            _setModule(modules[i], true);
        }
    }

    // ---------------------------------------------------------------- bootstrap

    /// @inheritdoc IVotingTickets
    function bootstrap(ActionRule[] calldata rules, address[] calldata modules) external {
        if (msg.sender != _deployer) revert VotingBootstrapUnauthorized(msg.sender);
        if (_bootstrapped) revert VotingAlreadyBootstrapped();
        if (_proposalCount != 0) revert VotingBootstrapTooLate(_proposalCount);
        _bootstrapped = true;
        // Bounded by the deployer's own calldata, once.
        for (uint256 i = 0; i < rules.length; ++i) {
            ActionRule calldata r = rules[i];
            if (_rules[r.target][r.selector].kind != RuleKind.None) revert VotingRuleAlreadySet(r.target, r.selector);
            _setRule(r.target, r.selector, r.rule);
        }
        for (uint256 i = 0; i < modules.length; ++i) {
            _setModule(modules[i], true);
        }
        emit VotingBootstrapped(msg.sender, rules.length, modules.length);
    }

    // ---------------------------------------------------------------- proposals

    /// @inheritdoc IVotingTickets
    function propose(address target, bytes calldata data, string calldata description) external returns (uint256 id) {
        _membership.voterOf(msg.sender);
        return _create(msg.sender, target, data, description);
    }

    /// @inheritdoc IVotingTickets
    function openProposal(
        address proposer,
        address target,
        bytes calldata data,
        string calldata description
    ) external returns (uint256 id) {
        if (!_modules[msg.sender]) revert VotingUnauthorizedModule(msg.sender);
        return _create(proposer, target, data, description);
    }

    /// @inheritdoc IVotingTickets
    function vote(uint256 id, bool support) external {
        Proposal storage p = _proposals[id];
        // Only the vote-independent state is checked: the tally would cost an external call per vote.
        ProposalState current = _liveState(id, p);
        if (current != ProposalState.Active) revert ProposalNotActive(id, current);
        (uint32 institution, uint8 seat) = _membership.voterOf(msg.sender);
        uint256 ballots = p.ballots;
        if (Ballots.hasVoted(ballots, seat)) revert ProposalAlreadyVoted(id, institution);
        p.ballots = Ballots.cast(ballots, seat, support);
        emit VoteCast(id, institution, msg.sender, support);
    }

    /// @inheritdoc IVotingTickets
    function execute(uint256 id) external {
        // CHECKS
        Proposal storage p = _proposals[id];
        ProposalState current = state(id);
        if (current != ProposalState.Passed) revert ProposalNotPassed(id, current);
        // EFFECTS: marked before the call, so a re-entrant execute finds it executed.
        p.executed = true;
        emit ProposalExecuted(id, msg.sender);
        // INTERACTIONS: the action is any governed call, so it is a low-level call by design.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory returndata) = p.target.call(p.data);
        if (!ok) {
            if (returndata.length == 0) revert ProposalExecutionReverted(id);
            // Bubble the target's own custom error, so a refused action names its reason.
            Address.verifyCallResult(ok, returndata);
        }
    }

    /// @inheritdoc IVotingTickets
    function cancel(uint256 id) external {
        Proposal storage p = _proposals[id];
        ProposalState current = state(id);
        if (current != ProposalState.Active && current != ProposalState.Passed) revert ProposalNotActive(id, current);
        if (msg.sender != p.proposer) revert ProposalUnauthorizedCancel(id, msg.sender);
        p.canceled = true;
        emit ProposalCanceled(id, msg.sender);
    }

    function _create(
        address proposer,
        address target,
        bytes calldata data,
        string calldata description
    ) private returns (uint256 id) {
        if (data.length < 4) revert VotingActionTooShort(data.length);
        bytes4 selector = bytes4(data[:4]);
        Rule memory rule = _rules[target][selector];
        if (rule.kind == RuleKind.None) revert VotingUnknownAction(target, selector);
        id = ++_proposalCount;
        Proposal storage p = _proposals[id];
        p.proposer = proposer;
        p.deadline = uint40(block.timestamp + rule.votingPeriod);
        p.rule = rule.kind;
        p.thresholdBps = rule.thresholdBps;
        p.target = target;
        p.selector = selector;
        p.ballots = Ballots.CREATED;
        p.data = data;
        _emitCreated(id, p, description);
    }

    /// @dev Split from {_create} to keep the stack shallow.
    function _emitCreated(uint256 id, Proposal storage p, string calldata description) private {
        emit ProposalCreated(
            id,
            p.proposer,
            p.target,
            p.selector,
            p.rule,
            p.thresholdBps,
            p.deadline,
            p.data,
            description
        );
    }

    // ---------------------------------------------------------------- governed

    /// @inheritdoc IVotingTickets
    function setRule(address target, bytes4 selector, Rule calldata rule) external onlyGovernance {
        _setRule(target, selector, rule);
    }

    /// @inheritdoc IVotingTickets
    function setModule(address module, bool allowed) external onlyGovernance {
        _setModule(module, allowed);
    }

    function _setRule(address target, bytes4 selector, Rule memory rule) private {
        if (target == address(0)) revert VotingZeroAddress();
        bool valid =
            rule.kind == RuleKind.None ||
                (rule.votingPeriod > 0 &&
                    rule.votingPeriod <= MAX_VOTING_PERIOD &&
                    (rule.kind == RuleKind.UnanimousGenesis ||
                        (rule.thresholdBps >= BPS / 2 && rule.thresholdBps < BPS)));
        if (!valid) revert VotingInvalidRule(rule.kind, rule.thresholdBps, rule.votingPeriod);
        _rules[target][selector] = rule;
        emit RuleChanged(target, selector, rule.kind, rule.thresholdBps, rule.votingPeriod);
    }

    function _setModule(address module, bool allowed) private {
        if (module == address(0)) revert VotingZeroAddress();
        _modules[module] = allowed;
        emit ModuleChanged(module, allowed);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc Governed
    function governance() public view override returns (address) {
        return address(this);
    }

    /// @inheritdoc IVotingTickets
    function bootstrapped() external view returns (bool) {
        return _bootstrapped;
    }

    /// @inheritdoc IVotingTickets
    function membership() external view returns (address) {
        return address(_membership);
    }

    /// @inheritdoc IVotingTickets
    function ruleOf(address target, bytes4 selector) external view returns (Rule memory) {
        return _rules[target][selector];
    }

    /// @inheritdoc IVotingTickets
    function isModule(address module) external view returns (bool) {
        return _modules[module];
    }

    /// @inheritdoc IVotingTickets
    function proposal(uint256 id) external view returns (Proposal memory) {
        return _proposals[id];
    }

    /// @inheritdoc IVotingTickets
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IVotingTickets
    function ballotOf(uint256 id, uint8 seat) external view returns (bool voted, bool support) {
        uint256 ballots = _proposals[id].ballots;
        voted = Ballots.hasVoted(ballots, seat);
        support = voted && (ballots >> seat) & 1 == 1;
    }

    /// @inheritdoc IVotingTickets
    function state(uint256 id) public view returns (ProposalState) {
        Proposal storage p = _proposals[id];
        ProposalState live = _liveState(id, p);
        if (live != ProposalState.Active) return live;
        return _tally(p);
    }

    /// @dev The state that does not depend on votes: not found, canceled, executed, expired, else Active.
    function _liveState(uint256 id, Proposal storage p) private view returns (ProposalState) {
        uint40 deadline = p.deadline;
        if (deadline == 0) revert ProposalNotFound(id);
        if (p.executed) return ProposalState.Executed;
        if (p.canceled) return ProposalState.Canceled;
        if (block.timestamp >= deadline) return ProposalState.Expired;
        return ProposalState.Active;
    }

    /// @dev Evaluates the rule against the current active genesis set: a suspended institution's vote no
    /// longer counts, and a unanimous rule needs every institution active now.
    function _tally(Proposal storage p) private view returns (ProposalState) {
        uint256 active = _membership.activeSeats();
        uint256 pro = Ballots.forSeats(p.ballots) & active;
        uint256 con = Ballots.againstSeats(p.ballots) & active;
        RuleKind kind = p.rule;
        if (kind == RuleKind.UnanimousGenesis) {
            if (con != 0) return ProposalState.Rejected;
            return pro == active ? ProposalState.Passed : ProposalState.Active;
        }
        uint256 total;
        uint256 yes;
        uint256 no;
        if (kind == RuleKind.GenesisMajority) {
            (total, yes, no) = (Ballots.count(active), Ballots.count(pro), Ballots.count(con));
        } else {
            (total, yes, no) = (_membership.weightOf(active), _membership.weightOf(pro), _membership.weightOf(con));
        }
        uint256 needed = total * p.thresholdBps;
        if (yes * BPS > needed) return ProposalState.Passed;
        if ((total - no) * BPS <= needed) return ProposalState.Rejected;
        return ProposalState.Active;
    }
}
