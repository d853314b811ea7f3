import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { GovernedCounterMock__factory, Membership__factory, VotingTickets__factory } from "../../typechain-types";
import { RuleKind, majority, membershipRules, unanimous } from "../../lib/deploy/rules";

/** A fresh Membership and VotingTickets (with the membership rules), one genesis institution, nothing bootstrapped. */
async function fresh() {
  const [deployer, admin, gov, stranger] = await ethers.getSigners();
  const membership = await new Membership__factory(deployer).deploy();
  const m = await membership.getAddress();
  const voting = await new VotingTickets__factory(deployer).deploy(
    m,
    membershipRules({ target: m, iface: membership.interface }),
    [m],
  );
  const v = await voting.getAddress();
  await membership.initialize(v, [
    {
      name: "G",
      identityHash: ethers.id("g"),
      attributes: "0x",
      admin: admin.address,
      weight: 1,
      governors: [gov.address],
    },
  ]);
  const counter = await new GovernedCounterMock__factory(deployer).deploy(v);
  const target = await counter.getAddress();
  const sel = (fn: "actionA" | "actionB") => counter.interface.getFunction(fn).selector;
  return { membership, voting, counter, target, sel, deployer, admin, gov, stranger, m, v };
}

describe("VotingTickets bootstrap", function () {
  it("installs the rules and modules of contracts deployed later, once, with an event per rule and module", async function () {
    const f = await loadFixture(fresh);
    const rules = [
      { target: f.target, selector: f.sel("actionA"), rule: majority(3600) },
      { target: f.target, selector: f.sel("actionB"), rule: unanimous(7200) },
    ];
    expect(await f.voting.bootstrapped()).to.equal(false);
    await expect(f.voting.bootstrap(rules, [f.target]))
      .to.emit(f.voting, "RuleChanged")
      .withArgs(f.target, f.sel("actionA"), RuleKind.GenesisMajority, 5_000, 3600)
      .and.to.emit(f.voting, "RuleChanged")
      .withArgs(f.target, f.sel("actionB"), RuleKind.UnanimousGenesis, 10_000, 7200)
      .and.to.emit(f.voting, "ModuleChanged")
      .withArgs(f.target, true)
      .and.to.emit(f.voting, "VotingBootstrapped")
      .withArgs(f.deployer.address, 2, 1);
    expect(await f.voting.bootstrapped()).to.equal(true);
    expect(await f.voting.isModule(f.target)).to.equal(true);
    const r = await f.voting.ruleOf(f.target, f.sel("actionA"));
    expect([r.kind, r.thresholdBps, r.votingPeriod]).to.deep.equal([BigInt(RuleKind.GenesisMajority), 5_000n, 3600n]);
    // the action can now be proposed and executed under its rule
    const data = f.sel("actionA");
    await f.voting.connect(f.gov).propose(f.target, data, "");
    await f.voting.connect(f.gov).vote(1, true);
    await f.voting.execute(1);
    expect(await f.counter.executions(f.sel("actionA"))).to.equal(1);
  });

  it("refuses another caller and a second run", async function () {
    const f = await loadFixture(fresh);
    await expect(f.voting.connect(f.stranger).bootstrap([], []))
      .to.be.revertedWithCustomError(f.voting, "VotingBootstrapUnauthorized")
      .withArgs(f.stranger.address);
    await f.voting.bootstrap([], []);
    await expect(f.voting.bootstrap([], [])).to.be.revertedWithCustomError(f.voting, "VotingAlreadyBootstrapped");
  });

  it("refuses to run once a proposal exists", async function () {
    const f = await loadFixture(fresh);
    await f.membership.connect(f.stranger).applyToJoin("Newcomer", ethers.id("n"), 2, "0x");
    await expect(f.voting.bootstrap([], []))
      .to.be.revertedWithCustomError(f.voting, "VotingBootstrapTooLate")
      .withArgs(1);
  });

  it("never overrides a rule that exists, so it cannot weaken one", async function () {
    const f = await loadFixture(fresh);
    const activate = f.membership.interface.getFunction("activateAccount").selector;
    await expect(f.voting.bootstrap([{ target: f.m, selector: activate, rule: majority() }], []))
      .to.be.revertedWithCustomError(f.voting, "VotingRuleAlreadySet")
      .withArgs(f.m, activate);
    const own = f.voting.interface.getFunction("setRule").selector;
    await expect(f.voting.bootstrap([{ target: f.v, selector: own, rule: majority() }], []))
      .to.be.revertedWithCustomError(f.voting, "VotingRuleAlreadySet")
      .withArgs(f.v, own);
    // a rule given twice in the same run is refused the second time
    const twice = { target: f.target, selector: f.sel("actionA"), rule: majority() };
    await expect(f.voting.bootstrap([twice, twice], []))
      .to.be.revertedWithCustomError(f.voting, "VotingRuleAlreadySet")
      .withArgs(f.target, f.sel("actionA"));
    expect(await f.voting.bootstrapped()).to.equal(false); // a refused run changes nothing
  });

  it("refuses an invalid rule, a zero target and a zero module", async function () {
    const f = await loadFixture(fresh);
    const bad = {
      target: f.target,
      selector: f.sel("actionA"),
      rule: { kind: RuleKind.GenesisMajority, thresholdBps: 4_999, votingPeriod: 60 },
    };
    await expect(f.voting.bootstrap([bad], []))
      .to.be.revertedWithCustomError(f.voting, "VotingInvalidRule")
      .withArgs(RuleKind.GenesisMajority, 4_999, 60);
    const zero = { target: ethers.ZeroAddress, selector: f.sel("actionA"), rule: majority() };
    await expect(f.voting.bootstrap([zero], [])).to.be.revertedWithCustomError(f.voting, "VotingZeroAddress");
    await expect(f.voting.bootstrap([], [ethers.ZeroAddress])).to.be.revertedWithCustomError(
      f.voting,
      "VotingZeroAddress",
    );
  });
});
