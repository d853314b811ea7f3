import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet } from "ethers";
import { Kind, Role, addAccount, deployConsortium, govern, joinInstitution } from "../helpers/governance";

/** Three audit institutions with one auditor each, plus a second auditor of the first one. */
async function world() {
  const c = await deployConsortium(3);
  const [admin1, admin2, admin3, auditor1, auditor2, auditor3, auditor1b, stranger] = c.others;
  const institutions: bigint[] = [];
  for (const [i, admin] of [admin1, admin2, admin3].entries())
    institutions.push(await joinInstitution(c, admin, Kind.Audit, `Audit ${i + 1}`));
  for (const [admin, account, inst] of [
    [admin1, auditor1, institutions[0]],
    [admin2, auditor2, institutions[1]],
    [admin3, auditor3, institutions[2]],
    [admin1, auditor1b, institutions[0]],
  ] as const)
    await addAccount(c, admin, account, inst, Role.Auditor);
  return { ...c, admin1, admin3, auditor1, auditor2, auditor3, auditor1b, stranger, institutions };
}

describe("AttesterRegistry", function () {
  it("starts empty at epoch 0", async function () {
    const w = await loadFixture(world);
    expect(await w.attesters.attesterSet()).to.deep.equal([0n, 0n, []]);
    expect(await w.attesters.isAttester(w.auditor1.address)).to.equal(false);
    expect(await w.attesters.governance()).to.equal(await w.voting.getAddress());
  });

  it("takes a set by vote only", async function () {
    const w = await loadFixture(world);
    await expect(w.attesters.connect(w.governors[0]).setAttesters([w.auditor1.address], 1))
      .to.be.revertedWithCustomError(w.attesters, "GovernanceOnly")
      .withArgs(await w.governors[0].getAddress());
    const set = [w.auditor1.address, w.auditor2.address, w.auditor3.address];
    await expect(govern(w, w.attesters, "setAttesters", [set, 2]))
      .to.emit(w.attesters, "AttesterSetChanged")
      .withArgs(1n, 2n, set, w.institutions);
    expect(await w.attesters.attesterSet()).to.deep.equal([1n, 2n, set]);
    for (const [i, a] of [w.auditor1, w.auditor2, w.auditor3].entries()) {
      expect(await w.attesters.isAttester(a.address)).to.equal(true);
      expect(await w.attesters.institutionOf(a.address)).to.equal(w.institutions[i]);
    }
  });

  it("a new set opens the next epoch and drops the attesters it leaves out", async function () {
    const w = await loadFixture(world);
    await govern(w, w.attesters, "setAttesters", [[w.auditor1.address, w.auditor2.address, w.auditor3.address], 2]);
    await expect(govern(w, w.attesters, "setAttesters", [[w.auditor2.address, w.auditor3.address], 2]))
      .to.emit(w.attesters, "AttesterSetChanged")
      .withArgs(2n, 2n, [w.auditor2.address, w.auditor3.address], w.institutions.slice(1));
    expect(await w.attesters.epoch()).to.equal(2n);
    expect(await w.attesters.isAttester(w.auditor1.address)).to.equal(false);
    expect(await w.attesters.institutionOf(w.auditor1.address)).to.equal(0n);
    expect(await w.attesters.isAttester(w.auditor2.address)).to.equal(true);
  });

  it("a suspended or revoked attester stops counting at once, before any new set", async function () {
    const w = await loadFixture(world);
    await govern(w, w.attesters, "setAttesters", [[w.auditor1.address, w.auditor2.address, w.auditor3.address], 2]);
    await govern(w, w.membership, "suspendAccount", [w.auditor1.address]);
    expect(await w.attesters.isAttester(w.auditor1.address)).to.equal(false);
    await govern(w, w.membership, "suspendInstitution", [w.institutions[1]]);
    expect(await w.attesters.isAttester(w.auditor2.address)).to.equal(false);
    expect(await w.attesters.isAttester(w.auditor3.address)).to.equal(true);
    await w.membership.connect(w.admin3).revokeOwnAccount(w.auditor3.address);
    expect(await w.attesters.isAttester(w.auditor3.address)).to.equal(false);
    expect(await w.attesters.epoch()).to.equal(1n);
  });

  it("refuses an empty or oversized set", async function () {
    const w = await loadFixture(world);
    await expect(govern(w, w.attesters, "setAttesters", [[], 1]))
      .to.be.revertedWithCustomError(w.attesters, "AttesterSetSizeInvalid")
      .withArgs(0n, 32n);
    const many = Array.from({ length: 33 }, () => Wallet.createRandom().address);
    await expect(govern(w, w.attesters, "setAttesters", [many, 17]))
      .to.be.revertedWithCustomError(w.attesters, "AttesterSetSizeInvalid")
      .withArgs(33n, 32n);
  });

  it("refuses a threshold of half the set or less, or above it", async function () {
    const w = await loadFixture(world);
    const set = [w.auditor1.address, w.auditor2.address, w.auditor3.address];
    for (const k of [0, 1, 4])
      await expect(govern(w, w.attesters, "setAttesters", [set, k]))
        .to.be.revertedWithCustomError(w.attesters, "AttesterThresholdInvalid")
        .withArgs(k, 3n);
    const two = [w.auditor1.address, w.auditor2.address];
    await expect(govern(w, w.attesters, "setAttesters", [two, 1]))
      .to.be.revertedWithCustomError(w.attesters, "AttesterThresholdInvalid")
      .withArgs(1n, 2n);
  });

  it("refuses an account that is not active now", async function () {
    const w = await loadFixture(world);
    await expect(
      govern(w, w.attesters, "setAttesters", [[w.auditor1.address, w.stranger.address, w.auditor3.address], 2]),
    )
      .to.be.revertedWithCustomError(w.attesters, "AttesterNotActiveAccount")
      .withArgs(w.stranger.address);
    await govern(w, w.membership, "suspendAccount", [w.auditor2.address]);
    await expect(
      govern(w, w.attesters, "setAttesters", [[w.auditor1.address, w.auditor2.address, w.auditor3.address], 2]),
    )
      .to.be.revertedWithCustomError(w.attesters, "AttesterNotActiveAccount")
      .withArgs(w.auditor2.address);
  });

  it("refuses two keys of one institution, and one key twice", async function () {
    const w = await loadFixture(world);
    await expect(
      govern(w, w.attesters, "setAttesters", [[w.auditor1.address, w.auditor2.address, w.auditor1b.address], 2]),
    )
      .to.be.revertedWithCustomError(w.attesters, "AttesterInstitutionRepeated")
      .withArgs(w.auditor1b.address, w.institutions[0]);
    await expect(
      govern(w, w.attesters, "setAttesters", [[w.auditor2.address, w.auditor2.address, w.auditor3.address], 2]),
    )
      .to.be.revertedWithCustomError(w.attesters, "AttesterInstitutionRepeated")
      .withArgs(w.auditor2.address, w.institutions[1]);
    expect(await w.attesters.epoch()).to.equal(0n);
  });
});
