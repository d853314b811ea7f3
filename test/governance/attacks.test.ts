import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import {
  AStatus,
  IStatus,
  Kind,
  PState,
  Role,
  accountConsent,
  addAccount,
  deployConsortium,
  govern,
  joinInstitution,
  pastDeadline,
  proposalIdOf,
} from "../helpers/governance";

/** Each attack named by the foundation issue, refused with its exact error. */
describe("Governance attacks", function () {
  async function setup() {
    const c = await deployConsortium(3);
    const [auditAdmin, auditor, newcomer, stranger] = c.others;
    const audit = await joinInstitution(c, auditAdmin, Kind.Audit, "Audit Office");
    await addAccount(c, auditAdmin, auditor, audit, Role.Auditor);
    const join = await proposalIdOf(
      c.voting,
      c.membership.connect(stranger).applyToJoin("Shady", ethers.ZeroHash, Kind.Business, "0x"),
    );
    return { ...c, audit, auditAdmin, auditor, newcomer, stranger, join };
  }

  it("voting twice", async function () {
    const c = await loadFixture(setup);
    await c.voting.connect(c.governors[0]).vote(c.join, false);
    await expect(c.voting.connect(c.governors[0]).vote(c.join, true))
      .to.be.revertedWithCustomError(c.voting, "ProposalAlreadyVoted")
      .withArgs(c.join, 1);
  });

  it("voting after the deadline", async function () {
    const c = await loadFixture(setup);
    await pastDeadline(c.voting, c.join);
    await expect(c.voting.connect(c.governors[0]).vote(c.join, true))
      .to.be.revertedWithCustomError(c.voting, "ProposalNotActive")
      .withArgs(c.join, PState.Expired);
  });

  it("voting by a suspended institution", async function () {
    const c = await loadFixture(setup);
    await govern(c, c.membership, "suspendInstitution", [2]);
    await expect(c.voting.connect(c.governors[1]).vote(c.join, true))
      .to.be.revertedWithCustomError(c.membership, "InstitutionNotActive")
      .withArgs(2, IStatus.Suspended);
  });

  it("voting with a revoked account", async function () {
    const c = await loadFixture(setup);
    const gov = await c.governors[1].getAddress();
    await c.membership.connect(c.governors[1]).revokeOwnAccount(gov);
    await expect(c.voting.connect(c.governors[1]).vote(c.join, true))
      .to.be.revertedWithCustomError(c.membership, "AccountNotActive")
      .withArgs(gov, AStatus.Revoked);
  });

  it("an audit institution voting", async function () {
    const c = await loadFixture(setup);
    await expect(c.voting.connect(c.auditor).vote(c.join, true))
      .to.be.revertedWithCustomError(c.membership, "AccountRoleMismatch")
      .withArgs(c.auditor.address, Role.Governor, Role.Auditor);
    // and its admin, who holds no account at all
    await expect(c.voting.connect(c.auditAdmin).vote(c.join, true))
      .to.be.revertedWithCustomError(c.membership, "AccountNotActive")
      .withArgs(c.auditAdmin.address, AStatus.None);
  });

  it("running the initializer again", async function () {
    const c = await loadFixture(setup);
    await expect(
      c.membership.connect(c.deployer).initialize(await c.voting.getAddress(), []),
    ).to.be.revertedWithCustomError(c.membership, "MembershipAlreadyInitialized");
    await expect(c.membership.connect(c.stranger).initialize(c.stranger.address, []))
      .to.be.revertedWithCustomError(c.membership, "MembershipUnauthorizedInitializer")
      .withArgs(c.stranger.address);
  });

  it("adding an account without a unanimous vote", async function () {
    const c = await loadFixture(setup);
    const pid = await proposalIdOf(
      c.voting,
      c.membership
        .connect(c.auditAdmin)
        .requestAccount(
          c.newcomer.address,
          c.audit,
          Role.Auditor,
          ...(await accountConsent(c, c.newcomer, c.audit, Role.Auditor)),
        ),
    );
    await c.voting.connect(c.governors[0]).vote(pid, true);
    await c.voting.connect(c.governors[1]).vote(pid, true);
    await expect(c.voting.execute(pid))
      .to.be.revertedWithCustomError(c.voting, "ProposalNotPassed")
      .withArgs(pid, PState.Active);
    // nor by calling the governed function directly, nor by proposing it under a laxer rule: the rule is the action's
    await expect(c.membership.connect(c.governors[0]).activateAccount(c.newcomer.address, 0))
      .to.be.revertedWithCustomError(c.membership, "GovernanceOnly")
      .withArgs(await c.governors[0].getAddress());
    const direct = await proposalIdOf(
      c.voting,
      c.voting
        .connect(c.governors[0])
        .propose(
          await c.membership.getAddress(),
          c.membership.interface.encodeFunctionData("activateAccount", [c.newcomer.address, 0]),
          "",
        ),
    );
    expect((await c.voting.proposal(direct)).rule).to.equal(1n); // UnanimousGenesis
    expect((await c.membership.account(c.newcomer.address)).status).to.equal(AStatus.Pending);
  });

  it("executing a proposal that was cancelled", async function () {
    const c = await loadFixture(setup);
    await c.voting.connect(c.governors[0]).vote(c.join, true);
    await c.voting.connect(c.governors[1]).vote(c.join, true);
    await c.voting.connect(c.stranger).cancel(c.join);
    await expect(c.voting.execute(c.join))
      .to.be.revertedWithCustomError(c.voting, "ProposalNotPassed")
      .withArgs(c.join, PState.Canceled);
  });

  it("executing a proposal that has expired", async function () {
    const c = await loadFixture(setup);
    await c.voting.connect(c.governors[0]).vote(c.join, true);
    await c.voting.connect(c.governors[1]).vote(c.join, true);
    await pastDeadline(c.voting, c.join);
    await expect(c.voting.execute(c.join))
      .to.be.revertedWithCustomError(c.voting, "ProposalNotPassed")
      .withArgs(c.join, PState.Expired);
    expect((await c.membership.institution(await c.membership.institutionCount())).status).to.equal(IStatus.Applied);
  });
});
