import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { MembershipListenerMock__factory, Membership__factory, VotingTickets__factory } from "../../typechain-types";
import { membershipRules } from "../../lib/deploy/rules";
import {
  IStatus,
  Kind,
  Role,
  addAccount,
  deployConsortium,
  govern,
  joinInstitution,
  type Consortium,
} from "../helpers/governance";
import { enabledService, scopedId } from "../helpers/registries";

/** A consortium (whose Membership tells the PipeRegistry) with a business institution running an enabled service. */
async function world() {
  const c = await deployConsortium(3);
  const [admin, operator, signer, stranger] = c.others;
  const inst = await joinInstitution(c, admin, Kind.Business, "Biz");
  await addAccount(c, admin, operator, inst, Role.Operator);
  await addAccount(c, admin, signer, inst, Role.Business);
  await enabledService(c, operator, scopedId(inst, "svc"), scopedId(inst, "chain"), signer.address);
  return { ...c, inst, admin, operator, signer, stranger };
}

describe("Membership listener", function () {
  it("is bound once, by the deployer; later only by vote", async function () {
    const [deployer, other] = await ethers.getSigners();
    const membership = await new Membership__factory(deployer).deploy();
    expect(await membership.listener()).to.equal(ethers.ZeroAddress);
    await expect(membership.connect(other).bindListener(other.address))
      .to.be.revertedWithCustomError(membership, "MembershipUnauthorizedInitializer")
      .withArgs(other.address);
    await expect(membership.bindListener(ethers.ZeroAddress)).to.be.revertedWithCustomError(
      membership,
      "MembershipZeroAddress",
    );
    await expect(membership.bindListener(other.address))
      .to.emit(membership, "MembershipListenerChanged")
      .withArgs(other.address, deployer.address);
    expect(await membership.listener()).to.equal(other.address);
    await expect(membership.bindListener(other.address)).to.be.revertedWithCustomError(
      membership,
      "MembershipListenerAlreadyBound",
    );
    await expect(membership.setListener(other.address))
      .to.be.revertedWithCustomError(membership, "GovernanceOnly")
      .withArgs(deployer.address);
  });

  it("changes by vote; a listener removed by vote cannot be bound again by the deployer", async function () {
    const w = await loadFixture(world);
    const v = await w.voting.getAddress();
    await expect(govern(w, w.membership, "setListener", [ethers.ZeroAddress]))
      .to.emit(w.membership, "MembershipListenerChanged")
      .withArgs(ethers.ZeroAddress, v);
    await expect(w.membership.connect(w.deployer).bindListener(w.stranger.address)).to.be.revertedWithCustomError(
      w.membership,
      "MembershipListenerAlreadyBound",
    );
    // nobody is told any more: a suspension leaves the cache as it was
    await govern(w, w.membership, "suspendInstitution", [w.inst]);
    expect(await w.pipes.institutionUsability(w.inst)).to.deep.equal([true, false]);
    await govern(w, w.membership, "setListener", [await w.pipes.getAddress()]);
    await w.pipes.syncInstitution(w.inst);
    expect(await w.pipes.institutionUsability(w.inst)).to.deep.equal([false, false]);
  });

  it("tells the listener of suspension, reinstatement and expulsion", async function () {
    const w = await loadFixture(world);
    await expect(govern(w, w.membership, "suspendInstitution", [w.inst]))
      .to.emit(w.pipes, "InstitutionUsabilitySynced")
      .withArgs(w.inst, false, false);
    await expect(govern(w, w.membership, "reinstateInstitution", [w.inst]))
      .to.emit(w.pipes, "InstitutionUsabilitySynced")
      .withArgs(w.inst, true, false);
    await expect(govern(w, w.membership, "expelInstitution", [w.inst]))
      .to.emit(w.pipes, "InstitutionUsabilitySynced")
      .withArgs(w.inst, false, false);
    expect(await w.membership.institutionStatus(w.inst)).to.equal(IStatus.Expelled);
    expect(await w.membership.institutionStatus(999)).to.equal(IStatus.None);
  });

  it("tells the listener of account suspension, reinstatement and revocation, by vote or at once", async function () {
    const w = await loadFixture(world);
    const sync = (active: boolean) => [scopedId(w.inst, "svc"), 1, w.signer.address, true, active] as const;
    await expect(govern(w, w.membership, "suspendAccount", [w.signer.address]))
      .to.emit(w.pipes, "ServiceUsabilitySynced")
      .withArgs(...sync(false));
    await expect(govern(w, w.membership, "reinstateAccount", [w.signer.address]))
      .to.emit(w.pipes, "ServiceUsabilitySynced")
      .withArgs(...sync(true));
    await expect(govern(w, w.membership, "revokeAccount", [w.signer.address]))
      .to.emit(w.pipes, "ServiceUsabilitySynced")
      .withArgs(...sync(false));
  });

  it("tells exactly the changes something can depend on: not joins, not account activations", async function () {
    const [deployer, admin, gov, applicant, account] = await ethers.getSigners();
    const membership = await new Membership__factory(deployer).deploy();
    const m = await membership.getAddress();
    const voting = await new VotingTickets__factory(deployer).deploy(
      m,
      membershipRules({ target: m, iface: membership.interface }),
      [m],
    );
    await membership.initialize(await voting.getAddress(), [
      {
        name: "G",
        identityHash: ethers.id("g"),
        attributes: "0x",
        admin: admin.address,
        weight: 1,
        governors: [gov.address],
      },
    ]);
    const mock = await new MembershipListenerMock__factory(deployer).deploy();
    await membership.bindListener(await mock.getAddress());
    const c = { membership, voting, governors: [gov] } as unknown as Consortium;
    const inst = await joinInstitution(c, applicant, Kind.Business, "Biz");
    await addAccount(c, applicant, account, inst, Role.Business);
    expect(await mock.queryFilter(mock.filters.InstitutionSynced())).to.have.length(0);
    expect(await mock.queryFilter(mock.filters.AccountSynced())).to.have.length(0);
    await expect(govern(c, membership, "suspendAccount", [account.address]))
      .to.emit(mock, "AccountSynced")
      .withArgs(account.address, m);
    await expect(membership.connect(account).revokeOwnAccount(account.address))
      .to.emit(mock, "AccountSynced")
      .withArgs(account.address, m);
    await expect(govern(c, membership, "suspendInstitution", [inst]))
      .to.emit(mock, "InstitutionSynced")
      .withArgs(inst, m);
    await expect(govern(c, membership, "expelInstitution", [inst]))
      .to.emit(mock, "InstitutionSynced")
      .withArgs(inst, m);
    await expect(govern(c, membership, "reinstateInstitution", [inst]))
      .to.emit(mock, "InstitutionSynced")
      .withArgs(inst, m);
  });
});
