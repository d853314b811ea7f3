import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet } from "ethers";
import { PState, Role, accountConsent, pastDeadline, proposalIdOf } from "../helpers/governance";
import { NodeKind, nodeConsent, nodeKey, pipeWorld } from "../helpers/registries";

/**
 * Replay: a consent, vote or signature accepted once is used again, elsewhere or later. Each consent carries a
 * nonce, a deadline, the chain and the contract; each vote acts only on the request it was opened for.
 */
describe("Security: replay", function () {
  async function world() {
    const w = await pipeWorld();
    return { ...w, key: Wallet.createRandom(), node: nodeKey("replayed") };
  }

  it("an account consent used twice: after its request was rejected, the same signature is refused", async function () {
    const w = await loadFixture(world);
    const args = [w.key.address, w.a.institution, Role.Business] as const;
    const consent = await accountConsent(w, w.key, w.a.institution, Role.Business);
    const pid = await proposalIdOf(w.voting, w.membership.connect(w.a.admin).requestAccount(...args, ...consent));
    await w.voting.connect(w.governors[0]).vote(pid, false);
    expect(await w.voting.state(pid)).to.equal(PState.Rejected);
    await expect(w.membership.connect(w.a.admin).requestAccount(...args, ...consent))
      .to.be.revertedWithCustomError(w.membership, "AccountConsentInvalid")
      .withArgs(w.key.address);
    expect((await w.membership.accountConsents(w.key.address)).nextNonce).to.equal(1n);
  });

  it("an account consent replayed on another chain or another Membership deployment", async function () {
    const w = await loadFixture(world);
    const { chainId } = await ethers.provider.getNetwork();
    const args = [w.key.address, w.a.institution, Role.Business] as const;
    const other = await accountConsent(w, w.key, w.a.institution, Role.Business, { chainId: chainId + 1n });
    const otherDeployment = await accountConsent(w, w.key, w.a.institution, Role.Business, {
      verifyingContract: Wallet.createRandom().address,
    });
    for (const consent of [other, otherDeployment]) {
      await expect(w.membership.connect(w.a.admin).requestAccount(...args, ...consent))
        .to.be.revertedWithCustomError(w.membership, "AccountConsentInvalid")
        .withArgs(w.key.address);
    }
  });

  it("a node consent used again after its registration expired, and the old vote re-run on the new registration", async function () {
    const w = await loadFixture(world);
    const args = [NodeKind.Governance, w.node.publicKey, "n.example.org", 30303] as const;
    // A long-lived consent, still valid after the vote expired.
    const consent = await nodeConsent(w, w.a.operator, ...args, {
      deadline: BigInt(await time.latest()) + 60n * 86400n,
    });
    const pid = await proposalIdOf(w.voting, w.services.connect(w.a.operator).registerNode(...args, ...consent));
    await pastDeadline(w.voting, pid);
    await expect(w.services.connect(w.a.operator).registerNode(...args, ...consent))
      .to.be.revertedWithCustomError(w.services, "NodeConsentInvalid")
      .withArgs(w.node.nodeId);
    // A fresh consent registers it again, under registration 1; the expired vote cannot be executed.
    await w.services.connect(w.a.operator).registerNode(...args, ...(await nodeConsent(w, w.a.operator, ...args)));
    expect((await w.services.nodeRegistration(w.node.nodeId)).current).to.equal(1n);
    await expect(w.voting.execute(pid))
      .to.be.revertedWithCustomError(w.voting, "ProposalNotPassed")
      .withArgs(pid, PState.Expired);
  });

  it("a node consent for one registry replayed on the membership contract's domain", async function () {
    const w = await loadFixture(world);
    const args = [NodeKind.Governance, w.node.publicKey, "n.example.org", 30303] as const;
    const consent = await nodeConsent(w, w.a.operator, ...args, { verifyingContract: await w.membership.getAddress() });
    await expect(w.services.connect(w.a.operator).registerNode(...args, ...consent))
      .to.be.revertedWithCustomError(w.services, "NodeConsentInvalid")
      .withArgs(w.node.nodeId);
  });
});
