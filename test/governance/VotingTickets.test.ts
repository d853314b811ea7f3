import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { GovernedCounterMock__factory, VotingTickets__factory } from "../../typechain-types";
import { RuleKind, majority, unanimous, weighted } from "../../lib/deploy/rules";
import {
  AStatus,
  IStatus,
  Kind,
  PState,
  Role,
  WEEK,
  addAccount,
  deployConsortium,
  govern,
  joinInstitution,
  pastDeadline,
  proposalIdOf,
} from "../helpers/governance";

async function consortium() {
  const c = await deployConsortium(3);
  const [bizAdmin, auditAdmin, operator, auditor, stranger] = c.others;
  const biz = await joinInstitution(c, bizAdmin, Kind.Business);
  const audit = await joinInstitution(c, auditAdmin, Kind.Audit);
  await addAccount(c, bizAdmin, operator, biz, Role.Operator);
  await addAccount(c, auditAdmin, auditor, audit, Role.Auditor);
  // A governed counter behind this voting contract, with one action per rule kind.
  const counter = await new GovernedCounterMock__factory(c.deployer).deploy(await c.voting.getAddress());
  const target = await counter.getAddress();
  type Action = "actionA" | "actionB" | "actionC";
  const sel = (fn: Action) => counter.interface.getFunction(fn).selector;
  for (const [fn, rule] of [
    ["actionA", unanimous()],
    ["actionB", majority()],
    ["actionC", weighted(6_000)],
  ] as const) {
    await govern(c, c.voting, "setRule", [target, sel(fn), rule]);
  }
  const data = (fn: Action) => sel(fn); // the actions take no arguments: the call is the selector
  const propose = async (fn: Action, by = c.governors[0]) =>
    proposalIdOf(c.voting, c.voting.connect(by).propose(target, data(fn), `do ${fn}`));
  return { ...c, counter, target, sel, data, propose, biz, audit, bizAdmin, operator, auditor, stranger };
}

describe("VotingTickets", function () {
  describe("construction", function () {
    it("gives its own actions a unanimous rule and registers the modules", async function () {
      const c = await loadFixture(consortium);
      const v = await c.voting.getAddress();
      for (const fn of ["setRule", "setModule"] as const) {
        const r = await c.voting.ruleOf(v, c.voting.interface.getFunction(fn).selector);
        expect([r.kind, r.thresholdBps, r.votingPeriod]).to.deep.equal([
          BigInt(RuleKind.UnanimousGenesis),
          10_000n,
          BigInt(WEEK),
        ]);
      }
      expect(await c.voting.isModule(await c.membership.getAddress())).to.equal(true);
      expect(await c.voting.membership()).to.equal(await c.membership.getAddress());
      expect(await c.voting.governance()).to.equal(v);
    });

    it("refuses a zero membership, an invalid rule or a zero module", async function () {
      const [d] = await ethers.getSigners();
      const f = new VotingTickets__factory(d);
      const m = d.address;
      await expect(f.deploy(ethers.ZeroAddress, [], [])).to.be.revertedWithCustomError(f, "VotingZeroAddress");
      const bad = {
        target: m,
        selector: "0x12345678",
        rule: { kind: RuleKind.GenesisMajority, thresholdBps: 4_999, votingPeriod: 60 },
      };
      await expect(f.deploy(m, [bad], []))
        .to.be.revertedWithCustomError(f, "VotingInvalidRule")
        .withArgs(RuleKind.GenesisMajority, 4_999, 60);
      await expect(f.deploy(m, [], [ethers.ZeroAddress])).to.be.revertedWithCustomError(f, "VotingZeroAddress");
    });
  });

  describe("propose", function () {
    it("creates a proposal with its rule, deadline and action", async function () {
      const c = await loadFixture(consortium);
      const gov = await c.governors[0].getAddress();
      const next = (await c.voting.proposalCount()) + 1n;
      const tx = c.voting.connect(c.governors[0]).propose(c.target, c.data("actionB"), "why");
      const deadline = (await time.latest()) + 1 + WEEK;
      await expect(tx)
        .to.emit(c.voting, "ProposalCreated")
        .withArgs(
          next,
          gov,
          c.target,
          c.sel("actionB"),
          RuleKind.GenesisMajority,
          5_000,
          deadline,
          c.data("actionB"),
          "why",
        );
      const p = await c.voting.proposal(next);
      expect([p.proposer, p.target, p.selector, p.data, p.executed, p.canceled]).to.deep.equal([
        gov,
        c.target,
        c.sel("actionB"),
        c.data("actionB"),
        false,
        false,
      ]);
      expect(await c.voting.state(next)).to.equal(PState.Active);
    });

    it("refuses an unknown action or a call without selector", async function () {
      const c = await loadFixture(consortium);
      const v = c.voting.connect(c.governors[0]);
      await expect(v.propose(c.target, "0x12345678", ""))
        .to.be.revertedWithCustomError(c.voting, "VotingUnknownAction")
        .withArgs(c.target, "0x12345678");
      await expect(v.propose(c.target, "0x1234", ""))
        .to.be.revertedWithCustomError(c.voting, "VotingActionTooShort")
        .withArgs(2);
    });

    it("refuses proposers who are not active governors", async function () {
      const c = await loadFixture(consortium);
      await expect(c.voting.connect(c.operator).propose(c.target, c.data("actionA"), ""))
        .to.be.revertedWithCustomError(c.membership, "AccountRoleMismatch")
        .withArgs(c.operator.address, Role.Governor, Role.Operator);
      await expect(c.voting.connect(c.stranger).propose(c.target, c.data("actionA"), ""))
        .to.be.revertedWithCustomError(c.membership, "AccountNotActive")
        .withArgs(c.stranger.address, AStatus.None);
    });

    it("lets only modules open proposals on behalf of others", async function () {
      const c = await loadFixture(consortium);
      await expect(c.voting.connect(c.stranger).openProposal(c.stranger.address, c.target, c.data("actionA"), ""))
        .to.be.revertedWithCustomError(c.voting, "VotingUnauthorizedModule")
        .withArgs(c.stranger.address);
    });
  });

  describe("vote", function () {
    it("records one vote per institution, with an event", async function () {
      const c = await loadFixture(consortium);
      const id = await c.propose("actionB");
      const gov = await c.governors[1].getAddress();
      await expect(c.voting.connect(c.governors[1]).vote(id, false))
        .to.emit(c.voting, "VoteCast")
        .withArgs(id, 2, gov, false);
      expect(await c.voting.ballotOf(id, 1)).to.deep.equal([true, false]);
      expect(await c.voting.ballotOf(id, 0)).to.deep.equal([false, false]);
      await c.voting.connect(c.governors[0]).vote(id, true);
      expect(await c.voting.ballotOf(id, 0)).to.deep.equal([true, true]);
    });

    it("refuses a second vote of the same institution, also by another of its governors", async function () {
      const c = await loadFixture(consortium);
      const second = c.others[10];
      await addAccount(c, c.admins[0], second, 1n, Role.Governor);
      const id = await c.propose("actionB");
      await c.voting.connect(c.governors[0]).vote(id, true);
      await expect(c.voting.connect(c.governors[0]).vote(id, true))
        .to.be.revertedWithCustomError(c.voting, "ProposalAlreadyVoted")
        .withArgs(id, 1);
      await expect(c.voting.connect(second).vote(id, false))
        .to.be.revertedWithCustomError(c.voting, "ProposalAlreadyVoted")
        .withArgs(id, 1);
    });

    it("refuses votes on unknown, expired, cancelled and executed proposals", async function () {
      const c = await loadFixture(consortium);
      const g = c.voting.connect(c.governors[2]);
      await expect(g.vote(999, true)).to.be.revertedWithCustomError(c.voting, "ProposalNotFound").withArgs(999);
      const expired = await c.propose("actionB");
      await pastDeadline(c.voting, expired);
      await expect(g.vote(expired, true))
        .to.be.revertedWithCustomError(c.voting, "ProposalNotActive")
        .withArgs(expired, PState.Expired);
      const cancelled = await c.propose("actionB");
      await c.voting.connect(c.governors[0]).cancel(cancelled);
      await expect(g.vote(cancelled, true))
        .to.be.revertedWithCustomError(c.voting, "ProposalNotActive")
        .withArgs(cancelled, PState.Canceled);
      const executed = await c.propose("actionB");
      await c.voting.connect(c.governors[0]).vote(executed, true);
      await c.voting.connect(c.governors[1]).vote(executed, true);
      await c.voting.execute(executed);
      await expect(g.vote(executed, true))
        .to.be.revertedWithCustomError(c.voting, "ProposalNotActive")
        .withArgs(executed, PState.Executed);
    });

    it("still takes votes on a rejected proposal until its deadline, since the active set may change", async function () {
      const c = await loadFixture(consortium);
      const id = await c.propose("actionA");
      await c.voting.connect(c.governors[0]).vote(id, false);
      expect(await c.voting.state(id)).to.equal(PState.Rejected);
      await c.voting.connect(c.governors[1]).vote(id, true);
      await c.voting.connect(c.governors[2]).vote(id, true);
      expect(await c.voting.state(id)).to.equal(PState.Rejected);
      await expect(c.voting.execute(id))
        .to.be.revertedWithCustomError(c.voting, "ProposalNotPassed")
        .withArgs(id, PState.Rejected);
    });

    it("accepts further votes on a passed proposal before its deadline", async function () {
      const c = await loadFixture(consortium);
      const id = await c.propose("actionB");
      await c.voting.connect(c.governors[0]).vote(id, true);
      await c.voting.connect(c.governors[1]).vote(id, true);
      expect(await c.voting.state(id)).to.equal(PState.Passed);
      await expect(c.voting.connect(c.governors[2]).vote(id, false)).to.emit(c.voting, "VoteCast");
      expect(await c.voting.state(id)).to.equal(PState.Passed);
    });
  });

  describe("rules", function () {
    it("unanimous: passes only when every active genesis institution voted for; one against rejects", async function () {
      const c = await loadFixture(consortium);
      const id = await c.propose("actionA");
      await c.voting.connect(c.governors[0]).vote(id, true);
      await c.voting.connect(c.governors[1]).vote(id, true);
      expect(await c.voting.state(id)).to.equal(PState.Active);
      await c.voting.connect(c.governors[2]).vote(id, true);
      expect(await c.voting.state(id)).to.equal(PState.Passed);
      const no = await c.propose("actionA");
      await c.voting.connect(c.governors[2]).vote(no, false);
      expect(await c.voting.state(no)).to.equal(PState.Rejected);
    });

    it("majority: strictly more than the threshold; rejected once it cannot be reached", async function () {
      const c = await loadFixture(consortium);
      const id = await c.propose("actionB");
      await c.voting.connect(c.governors[0]).vote(id, true);
      expect(await c.voting.state(id)).to.equal(PState.Active); // 1 of 3
      await c.voting.connect(c.governors[1]).vote(id, false);
      expect(await c.voting.state(id)).to.equal(PState.Active); // 1 for, 1 against, 1 open
      await c.voting.connect(c.governors[2]).vote(id, false);
      expect(await c.voting.state(id)).to.equal(PState.Rejected);
    });

    it("weighted: more than the threshold of the active weight", async function () {
      const c = await loadFixture(consortium);
      await govern(c, c.membership, "setWeight", [1, 7]); // weights 7, 1, 1: total 9, 60% = 5.4
      const id = await c.propose("actionC");
      await c.voting.connect(c.governors[1]).vote(id, true);
      await c.voting.connect(c.governors[2]).vote(id, true);
      expect(await c.voting.state(id)).to.equal(PState.Active); // 2 of 9
      await c.voting.connect(c.governors[0]).vote(id, true);
      expect(await c.voting.state(id)).to.equal(PState.Passed);
      const no = await c.propose("actionC");
      await c.voting.connect(c.governors[0]).vote(no, false);
      expect(await c.voting.state(no)).to.equal(PState.Rejected); // 2 of 9 at most
      const exact = await c.propose("actionC");
      await govern(c, c.membership, "setWeight", [1, 3]); // weights 3, 1, 1: total 5, 60% = 3 exactly
      await c.voting.connect(c.governors[0]).vote(exact, true);
      expect(await c.voting.state(exact)).to.equal(PState.Active); // exactly 60%: not more
      await c.voting.connect(c.governors[1]).vote(exact, true);
      expect(await c.voting.state(exact)).to.equal(PState.Passed);
    });

    it("counts only institutions active now: a suspended one's vote drops out, unanimity needs the rest", async function () {
      const c = await loadFixture(consortium);
      const id = await c.propose("actionA");
      await c.voting.connect(c.governors[2]).vote(id, true);
      await govern(c, c.membership, "suspendInstitution", [3]);
      await c.voting.connect(c.governors[0]).vote(id, true);
      await c.voting.connect(c.governors[1]).vote(id, true);
      expect(await c.voting.state(id)).to.equal(PState.Passed);
      const other = await c.propose("actionA");
      await c.voting.connect(c.governors[0]).vote(other, true);
      await c.voting.connect(c.governors[1]).vote(other, true);
      expect(await c.voting.state(other)).to.equal(PState.Passed);
      await govern(c, c.membership, "reinstateInstitution", [3], c.governors.slice(0, 2));
      expect(await c.voting.state(other)).to.equal(PState.Active); // institution 3 is back and has not voted
    });

    it("keeps the rule of an open proposal when the rule changes", async function () {
      const c = await loadFixture(consortium);
      const id = await c.propose("actionB");
      await govern(c, c.voting, "setRule", [c.target, c.sel("actionB"), unanimous()]);
      await c.voting.connect(c.governors[0]).vote(id, true);
      await c.voting.connect(c.governors[1]).vote(id, true);
      expect(await c.voting.state(id)).to.equal(PState.Passed);
      expect((await c.voting.proposal(await c.propose("actionB"))).rule).to.equal(RuleKind.UnanimousGenesis);
    });

    it("changes rules and modules only by vote", async function () {
      const c = await loadFixture(consortium);
      const who = await c.governors[0].getAddress();
      await expect(c.voting.connect(c.governors[0]).setRule(c.target, c.sel("actionA"), majority()))
        .to.be.revertedWithCustomError(c.voting, "GovernanceOnly")
        .withArgs(who);
      await expect(c.voting.connect(c.governors[0]).setModule(who, true))
        .to.be.revertedWithCustomError(c.voting, "GovernanceOnly")
        .withArgs(who);
      await expect(govern(c, c.voting, "setRule", [c.target, c.sel("actionA"), majority(3600)]))
        .to.emit(c.voting, "RuleChanged")
        .withArgs(c.target, c.sel("actionA"), RuleKind.GenesisMajority, 5_000, 3600);
      await expect(govern(c, c.voting, "setModule", [c.stranger.address, true]))
        .to.emit(c.voting, "ModuleChanged")
        .withArgs(c.stranger.address, true);
      expect(await c.voting.isModule(c.stranger.address)).to.equal(true);
      // a rule change needs every genesis institution
      const id = await proposalIdOf(
        c.voting,
        c.voting
          .connect(c.governors[0])
          .propose(await c.voting.getAddress(), c.voting.interface.encodeFunctionData("setModule", [who, true]), ""),
      );
      await c.voting.connect(c.governors[0]).vote(id, true);
      await c.voting.connect(c.governors[1]).vote(id, true);
      expect(await c.voting.state(id)).to.equal(PState.Active);
    });

    it("disables an action with RuleKind.None and refuses invalid rules", async function () {
      const c = await loadFixture(consortium);
      const none = { kind: RuleKind.None, thresholdBps: 0, votingPeriod: 0 };
      await govern(c, c.voting, "setRule", [c.target, c.sel("actionB"), none]);
      await expect(c.propose("actionB"))
        .to.be.revertedWithCustomError(c.voting, "VotingUnknownAction")
        .withArgs(c.target, c.sel("actionB"));
      const invalid: [number, number, number][] = [
        [RuleKind.GenesisMajority, 10_000, 60],
        [RuleKind.Weighted, 4_000, 60],
        [RuleKind.UnanimousGenesis, 10_000, 0],
        [RuleKind.GenesisMajority, 5_000, 366 * 24 * 3600],
      ];
      for (const [kind, thresholdBps, votingPeriod] of invalid)
        await expect(govern(c, c.voting, "setRule", [c.target, c.sel("actionA"), { kind, thresholdBps, votingPeriod }]))
          .to.be.revertedWithCustomError(c.voting, "VotingInvalidRule")
          .withArgs(kind, thresholdBps, votingPeriod);
      await expect(
        govern(c, c.voting, "setRule", [ethers.ZeroAddress, c.sel("actionA"), majority()]),
      ).to.be.revertedWithCustomError(c.voting, "VotingZeroAddress");
    });
  });

  describe("execute", function () {
    it("executes a passed proposal exactly once, by anyone, with an event", async function () {
      const c = await loadFixture(consortium);
      const id = await c.propose("actionB");
      await c.voting.connect(c.governors[0]).vote(id, true);
      await c.voting.connect(c.governors[1]).vote(id, true);
      await expect(c.voting.connect(c.stranger).execute(id))
        .to.emit(c.voting, "ProposalExecuted")
        .withArgs(id, c.stranger.address);
      expect(await c.counter.executions(c.sel("actionB"))).to.equal(1);
      expect(await c.voting.state(id)).to.equal(PState.Executed);
      await expect(c.voting.execute(id))
        .to.be.revertedWithCustomError(c.voting, "ProposalNotPassed")
        .withArgs(id, PState.Executed);
      expect(await c.counter.executions(c.sel("actionB"))).to.equal(1);
    });

    it("refuses proposals that are open, rejected, cancelled, expired or unknown", async function () {
      const c = await loadFixture(consortium);
      const open = await c.propose("actionB");
      await expect(c.voting.execute(open))
        .to.be.revertedWithCustomError(c.voting, "ProposalNotPassed")
        .withArgs(open, PState.Active);
      const rejected = await c.propose("actionA");
      await c.voting.connect(c.governors[1]).vote(rejected, false);
      await expect(c.voting.execute(rejected))
        .to.be.revertedWithCustomError(c.voting, "ProposalNotPassed")
        .withArgs(rejected, PState.Rejected);
      const cancelled = await c.propose("actionB");
      await c.voting.connect(c.governors[0]).vote(cancelled, true);
      await c.voting.connect(c.governors[1]).vote(cancelled, true);
      await c.voting.connect(c.governors[0]).cancel(cancelled);
      await expect(c.voting.execute(cancelled))
        .to.be.revertedWithCustomError(c.voting, "ProposalNotPassed")
        .withArgs(cancelled, PState.Canceled);
      const expired = await c.propose("actionB");
      await c.voting.connect(c.governors[0]).vote(expired, true);
      await c.voting.connect(c.governors[1]).vote(expired, true);
      await pastDeadline(c.voting, expired);
      await expect(c.voting.execute(expired))
        .to.be.revertedWithCustomError(c.voting, "ProposalNotPassed")
        .withArgs(expired, PState.Expired);
      await expect(c.voting.execute(12345)).to.be.revertedWithCustomError(c.voting, "ProposalNotFound").withArgs(12345);
      expect(await c.counter.executions(c.sel("actionB"))).to.equal(0);
    });

    it("bubbles the target's error, and names a silent revert", async function () {
      const c = await loadFixture(consortium);
      await expect(govern(c, c.membership, "suspendInstitution", [42]))
        .to.be.revertedWithCustomError(c.membership, "InstitutionNotFound")
        .withArgs(42);
      // Membership has no fallback: a call with an unknown selector reverts without data.
      const m = await c.membership.getAddress();
      await govern(c, c.voting, "setRule", [m, "0xdeadbeef", majority()]);
      const id = await proposalIdOf(c.voting, c.voting.connect(c.governors[0]).propose(m, "0xdeadbeef", ""));
      await c.voting.connect(c.governors[0]).vote(id, true);
      await c.voting.connect(c.governors[1]).vote(id, true);
      await expect(c.voting.execute(id))
        .to.be.revertedWithCustomError(c.voting, "ProposalExecutionReverted")
        .withArgs(id);
      expect(await c.voting.state(id)).to.equal(PState.Passed); // a failed execution leaves it executable
    });
  });

  describe("cancel", function () {
    it("lets the proposer cancel, with an event, and nobody else", async function () {
      const c = await loadFixture(consortium);
      const id = await c.propose("actionB");
      const other = await c.governors[1].getAddress();
      await expect(c.voting.connect(c.governors[1]).cancel(id))
        .to.be.revertedWithCustomError(c.voting, "ProposalUnauthorizedCancel")
        .withArgs(id, other);
      const gov = await c.governors[0].getAddress();
      await expect(c.voting.connect(c.governors[0]).cancel(id)).to.emit(c.voting, "ProposalCanceled").withArgs(id, gov);
      await expect(c.voting.connect(c.governors[0]).cancel(id))
        .to.be.revertedWithCustomError(c.voting, "ProposalNotActive")
        .withArgs(id, PState.Canceled);
      await expect(c.voting.cancel(999)).to.be.revertedWithCustomError(c.voting, "ProposalNotFound").withArgs(999);
    });

    it("lets an applicant withdraw its own join application", async function () {
      const c = await loadFixture(consortium);
      const pid = await proposalIdOf(
        c.voting,
        c.membership.connect(c.stranger).applyToJoin("Late", ethers.ZeroHash, Kind.Business, "0x"),
      );
      await expect(c.voting.connect(c.stranger).cancel(pid)).to.emit(c.voting, "ProposalCanceled");
      const inst = await c.membership.institutionCount();
      expect((await c.membership.institution(inst)).status).to.equal(IStatus.Applied);
    });

    it("refuses cancelling an executed or expired proposal", async function () {
      const c = await loadFixture(consortium);
      const id = await c.propose("actionB");
      await c.voting.connect(c.governors[0]).vote(id, true);
      await c.voting.connect(c.governors[1]).vote(id, true);
      await c.voting.execute(id);
      await expect(c.voting.connect(c.governors[0]).cancel(id))
        .to.be.revertedWithCustomError(c.voting, "ProposalNotActive")
        .withArgs(id, PState.Executed);
      const late = await c.propose("actionB");
      await pastDeadline(c.voting, late);
      await expect(c.voting.connect(c.governors[0]).cancel(late))
        .to.be.revertedWithCustomError(c.voting, "ProposalNotActive")
        .withArgs(late, PState.Expired);
    });
  });
});
