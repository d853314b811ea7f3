import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Membership__factory, VotingTickets__factory } from "../../typechain-types";
import {
  AStatus,
  IStatus,
  Kind,
  PState,
  Role,
  addAccount,
  deployConsortium,
  govern,
  joinInstitution,
  proposalIdOf,
  accountConsent,
} from "../helpers/governance";

const ZERO = ethers.ZeroAddress;

async function consortium() {
  return deployConsortium(3);
}

/** A consortium with one business and one audit institution, each with an account. */
async function withMembers() {
  const c = await consortium();
  const [bizAdmin, auditAdmin, operator, auditor, spare] = c.others;
  const biz = await joinInstitution(c, bizAdmin, Kind.Business, "Drug Maker");
  const audit = await joinInstitution(c, auditAdmin, Kind.Audit, "Audit Office");
  await addAccount(c, bizAdmin, operator, biz, Role.Operator);
  await addAccount(c, auditAdmin, auditor, audit, Role.Auditor);
  return { ...c, biz, audit, bizAdmin, auditAdmin, operator, auditor, spare };
}

describe("Membership", function () {
  describe("initialize (the genesis set)", function () {
    async function fresh() {
      const [deployer, other, admin, gov] = await ethers.getSigners();
      const membership = await new Membership__factory(deployer).deploy();
      const voting = await new VotingTickets__factory(deployer).deploy(
        await membership.getAddress(),
        [],
        [await membership.getAddress()],
      );
      const g = (over: Record<string, unknown> = {}) => ({
        name: "G",
        identityHash: ethers.id("g"),
        attributes: "0x",
        admin: admin.address,
        weight: 1,
        governors: [gov.address],
        ...over,
      });
      return { membership, voting, deployer, other, admin, gov, g };
    }

    it("creates every genesis institution active, with a seat, a unified id and active governors", async function () {
      const { membership, governors, admins } = await loadFixture(consortium);
      expect(await membership.institutionCount()).to.equal(3);
      for (let i = 0; i < 3; i++) {
        const inst = await membership.institution(i + 1);
        expect(inst.kind).to.equal(Kind.Genesis);
        expect(inst.status).to.equal(IStatus.Active);
        expect(inst.seat).to.equal(i);
        expect(inst.admin).to.equal(await admins[i].getAddress());
        expect(await membership.didOf(i + 1)).to.equal(`did:ccgp:31337:${i + 1}`);
        const acc = await membership.account(await governors[i].getAddress());
        expect([acc.institution, acc.role, acc.status]).to.deep.equal([BigInt(i + 1), Role.Governor, AStatus.Active]);
      }
      expect(await membership.activeSeats()).to.equal(0b111);
    });

    it("emits the genesis events", async function () {
      const { membership, voting, g, gov, admin } = await fresh();
      await expect(membership.initialize(await voting.getAddress(), [g()]))
        .to.emit(membership, "GenesisInstitutionCreated")
        .withArgs(1, admin.address, "G", ethers.id("g"), "0x", 0, 1)
        .and.to.emit(membership, "InstitutionApproved")
        .withArgs(1, "did:ccgp:31337:1")
        .and.to.emit(membership, "AccountActivated")
        .withArgs(gov.address, 1, Role.Governor);
    });

    it("refuses a second run", async function () {
      const { membership, voting, g } = await fresh();
      await membership.initialize(await voting.getAddress(), [g()]);
      await expect(membership.initialize(await voting.getAddress(), [g()])).to.be.revertedWithCustomError(
        membership,
        "MembershipAlreadyInitialized",
      );
    });

    it("refuses anyone but the deployer", async function () {
      const { membership, voting, g, other } = await fresh();
      await expect(membership.connect(other).initialize(await voting.getAddress(), [g()]))
        .to.be.revertedWithCustomError(membership, "MembershipUnauthorizedInitializer")
        .withArgs(other.address);
    });

    it("refuses bad genesis input", async function () {
      const { membership, voting, g, admin } = await fresh();
      const v = await voting.getAddress();
      await expect(membership.initialize(ZERO, [g()])).to.be.revertedWithCustomError(
        membership,
        "MembershipZeroAddress",
      );
      await expect(membership.initialize(v, [])).to.be.revertedWithCustomError(membership, "MembershipGenesisEmpty");
      const many = Array.from({ length: 128 }, () => g());
      await expect(membership.initialize(v, many))
        .to.be.revertedWithCustomError(membership, "MembershipGenesisTooLarge")
        .withArgs(128, 127);
      await expect(membership.initialize(v, [g(), g({ governors: [] })]))
        .to.be.revertedWithCustomError(membership, "MembershipGenesisWithoutGovernor")
        .withArgs(1);
      await expect(membership.initialize(v, [g({ name: "" })])).to.be.revertedWithCustomError(
        membership,
        "InstitutionNameEmpty",
      );
      await expect(membership.initialize(v, [g({ admin: ZERO })])).to.be.revertedWithCustomError(
        membership,
        "MembershipZeroAddress",
      );
      await expect(membership.initialize(v, [g({ weight: 0 })]))
        .to.be.revertedWithCustomError(membership, "InstitutionInvalidWeight")
        .withArgs(1, 0);
      await expect(membership.initialize(v, [g(), g()]))
        .to.be.revertedWithCustomError(membership, "AccountAlreadyExists")
        .withArgs((await ethers.getSigners())[3].address);
      await expect(membership.initialize(v, [g({ governors: [ZERO] })])).to.be.revertedWithCustomError(
        membership,
        "MembershipZeroAddress",
      );
      // nothing was created by the refused calls
      expect(await membership.institutionCount()).to.equal(0);
      expect(await membership.governance()).to.equal(ZERO);
      expect(admin.address).to.not.equal(ZERO);
    });
  });

  describe("join applications", function () {
    it("records the application and opens a majority vote", async function () {
      const c = await loadFixture(consortium);
      const applicant = c.others[0];
      const tx = c.membership.connect(applicant).applyToJoin("Drug Maker", ethers.id("lic"), Kind.Business, "0x1234");
      await expect(tx)
        .to.emit(c.membership, "InstitutionApplied")
        .withArgs(4, applicant.address, Kind.Business, "Drug Maker", ethers.id("lic"), "0x1234", 1)
        .and.to.emit(c.voting, "ProposalCreated");
      const inst = await c.membership.institution(4);
      expect([inst.kind, inst.status, inst.admin, inst.name]).to.deep.equal([
        Kind.Business,
        IStatus.Applied,
        applicant.address,
        "Drug Maker",
      ]);
      expect((await c.voting.proposal(1)).proposer).to.equal(applicant.address);
    });

    it("is approved by a genesis majority and issues the unified id", async function () {
      const c = await loadFixture(consortium);
      const pid = await proposalIdOf(
        c.voting,
        c.membership.connect(c.others[0]).applyToJoin("B", ethers.id("b"), Kind.Audit, "0x"),
      );
      await c.voting.connect(c.governors[0]).vote(pid, true);
      expect(await c.voting.state(pid)).to.equal(PState.Active);
      await c.voting.connect(c.governors[1]).vote(pid, true);
      expect(await c.voting.state(pid)).to.equal(PState.Passed);
      await expect(c.voting.execute(pid)).to.emit(c.membership, "InstitutionApproved").withArgs(4, "did:ccgp:31337:4");
      const inst = await c.membership.institution(4);
      expect(inst.status).to.equal(IStatus.Active);
      expect(inst.approvedAt).to.be.greaterThan(0);
    });

    it("refuses genesis or unknown kinds and empty names", async function () {
      const c = await loadFixture(consortium);
      await expect(c.membership.applyToJoin("X", ethers.ZeroHash, Kind.Genesis, "0x"))
        .to.be.revertedWithCustomError(c.membership, "InstitutionKindNotAllowed")
        .withArgs(Kind.Genesis);
      await expect(c.membership.applyToJoin("X", ethers.ZeroHash, Kind.None, "0x"))
        .to.be.revertedWithCustomError(c.membership, "InstitutionKindNotAllowed")
        .withArgs(Kind.None);
      await expect(c.membership.applyToJoin("", ethers.ZeroHash, Kind.Business, "0x")).to.be.revertedWithCustomError(
        c.membership,
        "InstitutionNameEmpty",
      );
    });

    it("refuses approving anything but an application", async function () {
      const c = await loadFixture(withMembers);
      await expect(govern(c, c.membership, "approveJoin", [c.biz]))
        .to.be.revertedWithCustomError(c.membership, "InstitutionInvalidStatus")
        .withArgs(c.biz, IStatus.Active);
      await expect(govern(c, c.membership, "approveJoin", [99]))
        .to.be.revertedWithCustomError(c.membership, "InstitutionNotFound")
        .withArgs(99);
    });
  });

  describe("institution lifecycle", function () {
    it("suspends, reinstates and expels by vote, with events", async function () {
      const c = await loadFixture(withMembers);
      await expect(govern(c, c.membership, "suspendInstitution", [c.biz]))
        .to.emit(c.membership, "InstitutionSuspended")
        .withArgs(c.biz);
      expect((await c.membership.institution(c.biz)).status).to.equal(IStatus.Suspended);
      await expect(govern(c, c.membership, "reinstateInstitution", [c.biz]))
        .to.emit(c.membership, "InstitutionReinstated")
        .withArgs(c.biz);
      await expect(govern(c, c.membership, "expelInstitution", [c.biz]))
        .to.emit(c.membership, "InstitutionExpelled")
        .withArgs(c.biz);
      expect((await c.membership.institution(c.biz)).status).to.equal(IStatus.Expelled);
      await govern(c, c.membership, "reinstateInstitution", [c.biz]);
      await govern(c, c.membership, "suspendInstitution", [c.biz]);
      await govern(c, c.membership, "expelInstitution", [c.biz]);
      expect((await c.membership.institution(c.biz)).status).to.equal(IStatus.Expelled);
    });

    it("refuses illegal transitions with the status found", async function () {
      const c = await loadFixture(withMembers);
      await expect(govern(c, c.membership, "reinstateInstitution", [c.biz]))
        .to.be.revertedWithCustomError(c.membership, "InstitutionInvalidStatus")
        .withArgs(c.biz, IStatus.Active);
      await c.membership.connect(c.spare).applyToJoin("P", ethers.ZeroHash, Kind.Business, "0x");
      const applied = await c.membership.institutionCount();
      expect((await c.membership.institution(applied)).status).to.equal(IStatus.Applied);
      await expect(govern(c, c.membership, "suspendInstitution", [applied]))
        .to.be.revertedWithCustomError(c.membership, "InstitutionInvalidStatus")
        .withArgs(applied, IStatus.Applied);
      await expect(govern(c, c.membership, "expelInstitution", [applied]))
        .to.be.revertedWithCustomError(c.membership, "InstitutionInvalidStatus")
        .withArgs(applied, IStatus.Applied);
      await expect(govern(c, c.membership, "suspendInstitution", [77]))
        .to.be.revertedWithCustomError(c.membership, "InstitutionNotFound")
        .withArgs(77);
    });

    it("takes a suspended genesis institution out of the active seats and back", async function () {
      const c = await loadFixture(consortium);
      await govern(c, c.membership, "suspendInstitution", [3]);
      expect(await c.membership.activeSeats()).to.equal(0b011);
      await govern(c, c.membership, "reinstateInstitution", [3], c.governors.slice(0, 2));
      expect(await c.membership.activeSeats()).to.equal(0b111);
      await govern(c, c.membership, "expelInstitution", [2]);
      expect(await c.membership.activeSeats()).to.equal(0b101);
    });

    it("never lets the last active genesis institution go", async function () {
      const c = await loadFixture(consortium);
      await govern(c, c.membership, "suspendInstitution", [3]);
      await govern(c, c.membership, "suspendInstitution", [2], c.governors.slice(0, 2));
      const one = c.governors.slice(0, 1);
      await expect(govern(c, c.membership, "suspendInstitution", [1], one))
        .to.be.revertedWithCustomError(c.membership, "InstitutionLastGenesis")
        .withArgs(1);
      await expect(govern(c, c.membership, "expelInstitution", [1], one))
        .to.be.revertedWithCustomError(c.membership, "InstitutionLastGenesis")
        .withArgs(1);
    });

    it("sets genesis weights by vote, and only for genesis institutions", async function () {
      const c = await loadFixture(withMembers);
      await expect(govern(c, c.membership, "setWeight", [2, 5]))
        .to.emit(c.membership, "InstitutionWeightChanged")
        .withArgs(2, 5);
      expect((await c.membership.institution(2)).weight).to.equal(5);
      expect(await c.membership.weightOf(0b111)).to.equal(7);
      expect(await c.membership.weightOf(0b010)).to.equal(5);
      expect(await c.membership.weightOf(0)).to.equal(0);
      await expect(govern(c, c.membership, "setWeight", [2, 0]))
        .to.be.revertedWithCustomError(c.membership, "InstitutionInvalidWeight")
        .withArgs(2, 0);
      await expect(govern(c, c.membership, "setWeight", [c.biz, 3]))
        .to.be.revertedWithCustomError(c.membership, "InstitutionInvalidWeight")
        .withArgs(c.biz, 3);
    });

    it("refuses every governed function called directly", async function () {
      const c = await loadFixture(withMembers);
      const m = c.membership.connect(c.governors[0]);
      const who = await c.governors[0].getAddress();
      const calls = [
        () => m.approveJoin(1),
        () => m.suspendInstitution(1),
        () => m.reinstateInstitution(1),
        () => m.expelInstitution(1),
        () => m.setWeight(1, 2),
        () => m.activateAccount(who, 0),
        () => m.suspendAccount(who),
        () => m.reinstateAccount(who),
        () => m.revokeAccount(who),
      ];
      for (const call of calls)
        await expect(call()).to.be.revertedWithCustomError(c.membership, "GovernanceOnly").withArgs(who);
    });
  });

  describe("accounts", function () {
    it("takes effect only after every genesis institution voted for it", async function () {
      const c = await loadFixture(withMembers);
      const newcomer = c.others[5].address;
      const pid = await proposalIdOf(
        c.voting,
        c.membership
          .connect(c.bizAdmin)
          .requestAccount(newcomer, c.biz, Role.Business, ...(await accountConsent(c, newcomer, c.biz, Role.Business))),
      );
      expect((await c.membership.account(newcomer)).status).to.equal(AStatus.Pending);
      expect(await c.membership.isActiveAccount(newcomer)).to.equal(false);
      await c.voting.connect(c.governors[0]).vote(pid, true);
      await c.voting.connect(c.governors[1]).vote(pid, true);
      await expect(c.voting.execute(pid))
        .to.be.revertedWithCustomError(c.voting, "ProposalNotPassed")
        .withArgs(pid, PState.Active);
      await c.voting.connect(c.governors[2]).vote(pid, true);
      await expect(c.voting.execute(pid))
        .to.emit(c.membership, "AccountActivated")
        .withArgs(newcomer, c.biz, Role.Business);
      expect(await c.membership.isActiveAccount(newcomer)).to.equal(true);
    });

    it("emits the request with its proposal", async function () {
      const c = await loadFixture(withMembers);
      const a = c.others[5].address;
      await expect(
        c.membership
          .connect(c.operator)
          .requestAccount(a, c.biz, Role.Operator, ...(await accountConsent(c, a, c.biz, Role.Operator))),
      )
        .to.emit(c.membership, "AccountRequested")
        .withArgs(a, c.biz, Role.Operator, c.operator.address, (await c.voting.proposalCount()) + 1n);
    });

    it("lets admins, governors and operators of the institution request, and nobody else", async function () {
      const c = await loadFixture(withMembers);
      const a = c.others[5].address;
      await expect(
        c.membership
          .connect(c.spare)
          .requestAccount(a, c.biz, Role.Operator, ...(await accountConsent(c, a, c.biz, Role.Operator))),
      )
        .to.be.revertedWithCustomError(c.membership, "AccountUnauthorizedRequester")
        .withArgs(c.spare.address, c.biz);
      // a governor of another institution is no staff of this one
      const gov = await c.governors[0].getAddress();
      await expect(
        c.membership
          .connect(c.governors[0])
          .requestAccount(a, c.biz, Role.Operator, ...(await accountConsent(c, a, c.biz, Role.Operator))),
      )
        .to.be.revertedWithCustomError(c.membership, "AccountUnauthorizedRequester")
        .withArgs(gov, c.biz);
      // an auditor is no requester even in its own institution
      await expect(
        c.membership
          .connect(c.auditor)
          .requestAccount(a, c.audit, Role.Auditor, ...(await accountConsent(c, a, c.audit, Role.Auditor))),
      )
        .to.be.revertedWithCustomError(c.membership, "AccountUnauthorizedRequester")
        .withArgs(c.auditor.address, c.audit);
      await expect(
        c.membership
          .connect(c.governors[0])
          .requestAccount(a, 1, Role.Operator, ...(await accountConsent(c, a, 1, Role.Operator))),
      ).to.emit(c.membership, "AccountRequested");
    });

    it("refuses bad requests", async function () {
      const c = await loadFixture(withMembers);
      const a = c.others[5].address;
      await expect(
        c.membership
          .connect(c.bizAdmin)
          .requestAccount(
            c.operator.address,
            c.biz,
            Role.Business,
            ...(await accountConsent(c, c.operator.address, c.biz, Role.Business)),
          ),
      )
        .to.be.revertedWithCustomError(c.membership, "AccountAlreadyExists")
        .withArgs(c.operator.address);
      await expect(
        c.membership.connect(c.bizAdmin).requestAccount(ZERO, c.biz, Role.Business, 0n, "0x"),
      ).to.be.revertedWithCustomError(c.membership, "MembershipZeroAddress");
      const cases: [bigint, bigint, bigint][] = [
        [c.biz, Kind.Business, Role.Governor],
        [c.biz, Kind.Business, Role.Auditor],
        [c.biz, Kind.Business, Role.None],
      ];
      for (const [inst, kind, role] of cases)
        await expect(
          c.membership.connect(c.bizAdmin).requestAccount(a, inst, role, ...(await accountConsent(c, a, inst, role))),
        )
          .to.be.revertedWithCustomError(c.membership, "AccountRoleNotAllowed")
          .withArgs(kind, role);
      for (const role of [Role.Operator, Role.Business, Role.Governor])
        await expect(
          c.membership
            .connect(c.auditAdmin)
            .requestAccount(a, c.audit, role, ...(await accountConsent(c, a, c.audit, role))),
        )
          .to.be.revertedWithCustomError(c.membership, "AccountRoleNotAllowed")
          .withArgs(Kind.Audit, role);
      await expect(
        c.membership
          .connect(c.bizAdmin)
          .requestAccount(a, 99, Role.Business, ...(await accountConsent(c, a, 99, Role.Business))),
      )
        .to.be.revertedWithCustomError(c.membership, "InstitutionNotFound")
        .withArgs(99);
      await govern(c, c.membership, "suspendInstitution", [c.biz]);
      await expect(
        c.membership
          .connect(c.bizAdmin)
          .requestAccount(a, c.biz, Role.Business, ...(await accountConsent(c, a, c.biz, Role.Business))),
      )
        .to.be.revertedWithCustomError(c.membership, "InstitutionNotActive")
        .withArgs(c.biz, IStatus.Suspended);
    });

    it("suspends, reinstates and revokes by vote, with events, and refuses illegal transitions", async function () {
      const c = await loadFixture(withMembers);
      const op = c.operator.address;
      await expect(govern(c, c.membership, "reinstateAccount", [op]))
        .to.be.revertedWithCustomError(c.membership, "AccountInvalidStatus")
        .withArgs(op, AStatus.Active);
      await expect(govern(c, c.membership, "suspendAccount", [op]))
        .to.emit(c.membership, "AccountSuspended")
        .withArgs(op, c.biz);
      await expect(govern(c, c.membership, "activateAccount", [op, 0]))
        .to.be.revertedWithCustomError(c.membership, "AccountInvalidStatus")
        .withArgs(op, AStatus.Suspended);
      await expect(govern(c, c.membership, "reinstateAccount", [op]))
        .to.emit(c.membership, "AccountReinstated")
        .withArgs(op, c.biz);
      await expect(govern(c, c.membership, "revokeAccount", [op]))
        .to.emit(c.membership, "AccountRevoked")
        .withArgs(op, c.biz, await c.voting.getAddress());
      await expect(govern(c, c.membership, "revokeAccount", [op]))
        .to.be.revertedWithCustomError(c.membership, "AccountInvalidStatus")
        .withArgs(op, AStatus.Revoked);
      await expect(govern(c, c.membership, "suspendAccount", [c.spare.address]))
        .to.be.revertedWithCustomError(c.membership, "AccountNotFound")
        .withArgs(c.spare.address);
      await expect(govern(c, c.membership, "revokeAccount", [c.spare.address]))
        .to.be.revertedWithCustomError(c.membership, "AccountNotFound")
        .withArgs(c.spare.address);
      // a revoked address never comes back
      await expect(
        c.membership
          .connect(c.bizAdmin)
          .requestAccount(op, c.biz, Role.Operator, ...(await accountConsent(c, op, c.biz, Role.Operator))),
      )
        .to.be.revertedWithCustomError(c.membership, "AccountAlreadyExists")
        .withArgs(op);
    });

    it("revokes a leaked key at once, without a vote, by the key, its admin or a governor of its institution", async function () {
      const c = await loadFixture(withMembers);
      await expect(c.membership.connect(c.operator).revokeOwnAccount(c.operator.address))
        .to.emit(c.membership, "AccountRevoked")
        .withArgs(c.operator.address, c.biz, c.operator.address);
      await addAccount(c, c.auditAdmin, c.others[5], c.audit, Role.Auditor);
      await expect(c.membership.connect(c.auditAdmin).revokeOwnAccount(c.others[5].address))
        .to.emit(c.membership, "AccountRevoked")
        .withArgs(c.others[5].address, c.audit, c.auditAdmin.address);
      await addAccount(c, c.admins[0], c.others[6], 1n, Role.Operator);
      const gov = await c.governors[0].getAddress();
      await expect(c.membership.connect(c.governors[0]).revokeOwnAccount(c.others[6].address))
        .to.emit(c.membership, "AccountRevoked")
        .withArgs(c.others[6].address, 1, gov);
    });

    it("refuses a revocation by a stranger, of an unknown or already revoked account", async function () {
      const c = await loadFixture(withMembers);
      await expect(c.membership.connect(c.spare).revokeOwnAccount(c.operator.address))
        .to.be.revertedWithCustomError(c.membership, "AccountUnauthorizedRevoker")
        .withArgs(c.spare.address, c.operator.address);
      // a governor of another institution cannot revoke this one's keys
      await expect(c.membership.connect(c.governors[0]).revokeOwnAccount(c.operator.address))
        .to.be.revertedWithCustomError(c.membership, "AccountUnauthorizedRevoker")
        .withArgs(await c.governors[0].getAddress(), c.operator.address);
      await expect(c.membership.revokeOwnAccount(c.spare.address))
        .to.be.revertedWithCustomError(c.membership, "AccountNotFound")
        .withArgs(c.spare.address);
      await c.membership.connect(c.operator).revokeOwnAccount(c.operator.address);
      await expect(c.membership.connect(c.bizAdmin).revokeOwnAccount(c.operator.address))
        .to.be.revertedWithCustomError(c.membership, "AccountInvalidStatus")
        .withArgs(c.operator.address, AStatus.Revoked);
    });
  });

  describe("requireActiveAccount: refused everywhere at once", function () {
    it("answers for an active account with its institution, and checks the role", async function () {
      const c = await loadFixture(withMembers);
      expect(await c.membership.requireActiveAccount(c.operator.address, Role.Operator)).to.equal(c.biz);
      expect(await c.membership.requireActiveAccount(c.operator.address, Role.None)).to.equal(c.biz);
      await expect(c.membership.requireActiveAccount(c.operator.address, Role.Business))
        .to.be.revertedWithCustomError(c.membership, "AccountRoleMismatch")
        .withArgs(c.operator.address, Role.Business, Role.Operator);
    });

    it("refuses unknown, pending, suspended and revoked accounts", async function () {
      const c = await loadFixture(withMembers);
      const a = c.others[5].address;
      await expect(c.membership.requireActiveAccount(a, Role.None))
        .to.be.revertedWithCustomError(c.membership, "AccountNotActive")
        .withArgs(a, AStatus.None);
      await c.membership
        .connect(c.bizAdmin)
        .requestAccount(a, c.biz, Role.Business, ...(await accountConsent(c, a, c.biz, Role.Business)));
      await expect(c.membership.requireActiveAccount(a, Role.None))
        .to.be.revertedWithCustomError(c.membership, "AccountNotActive")
        .withArgs(a, AStatus.Pending);
      await govern(c, c.membership, "suspendAccount", [c.operator.address]);
      await expect(c.membership.requireActiveAccount(c.operator.address, Role.None))
        .to.be.revertedWithCustomError(c.membership, "AccountNotActive")
        .withArgs(c.operator.address, AStatus.Suspended);
      expect(await c.membership.isActiveAccount(c.operator.address)).to.equal(false);
      await c.membership.connect(c.auditor).revokeOwnAccount(c.auditor.address);
      await expect(c.membership.requireActiveAccount(c.auditor.address, Role.None))
        .to.be.revertedWithCustomError(c.membership, "AccountNotActive")
        .withArgs(c.auditor.address, AStatus.Revoked);
    });

    it("refuses every account of a suspended or expelled institution", async function () {
      const c = await loadFixture(withMembers);
      await govern(c, c.membership, "suspendInstitution", [c.biz]);
      await expect(c.membership.requireActiveAccount(c.operator.address, Role.None))
        .to.be.revertedWithCustomError(c.membership, "InstitutionNotActive")
        .withArgs(c.biz, IStatus.Suspended);
      expect(await c.membership.isActiveAccount(c.operator.address)).to.equal(false);
      await govern(c, c.membership, "expelInstitution", [c.biz]);
      await expect(c.membership.requireActiveAccount(c.operator.address, Role.None))
        .to.be.revertedWithCustomError(c.membership, "InstitutionNotActive")
        .withArgs(c.biz, IStatus.Expelled);
      await govern(c, c.membership, "reinstateInstitution", [c.biz]);
      expect(await c.membership.isActiveAccount(c.operator.address)).to.equal(true);
    });

    it("gives the voting seat of active governors only", async function () {
      const c = await loadFixture(withMembers);
      const gov = await c.governors[1].getAddress();
      const [inst, seat] = await c.membership.voterOf(gov);
      expect([inst, seat]).to.deep.equal([2n, 1n]);
      await expect(c.membership.voterOf(c.operator.address))
        .to.be.revertedWithCustomError(c.membership, "AccountRoleMismatch")
        .withArgs(c.operator.address, Role.Governor, Role.Operator);
    });
  });
});
