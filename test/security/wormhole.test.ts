import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet } from "ethers";
import { AStatus, Role, accountConsent } from "../helpers/governance";
import { NodeKind, nodeConsent, nodeKey, pipeWorld } from "../helpers/registries";

/** Flips one bit of byte `i` of a hex signature. */
const flip = (sig: string, i: number): string => {
  const b = ethers.getBytes(sig);
  b[i] ^= 0x01;
  return ethers.hexlify(b);
};

/**
 * Wormhole: a signature check that can be bypassed (there: a forged "verified" account). Every consent the
 * governance chain accepts is an EIP-712 signature of this very request by the key in question: a flipped byte, a
 * wrong signer, a signature recovering to zero, or another domain is refused, and nothing changes.
 */
describe("Security: Wormhole (signature bypass)", function () {
  async function world() {
    const w = await pipeWorld();
    return { ...w, key: Wallet.createRandom(), node: nodeKey("wormhole") };
  }

  describe("account consent", function () {
    it("a flipped byte anywhere in r, s or v", async function () {
      const w = await loadFixture(world);
      const [deadline, signature] = await accountConsent(w, w.key, w.a.institution, Role.Business);
      for (const i of [0, 31, 32, 63, 64]) {
        await expect(
          w.membership
            .connect(w.a.admin)
            .requestAccount(w.key.address, w.a.institution, Role.Business, deadline, flip(signature, i)),
        )
          .to.be.revertedWithCustomError(w.membership, "AccountConsentInvalid")
          .withArgs(w.key.address);
      }
      expect((await w.membership.account(w.key.address)).status).to.equal(AStatus.None);
    });

    it("a wrong signer, an empty signature and one that recovers to the zero address", async function () {
      const w = await loadFixture(world);
      const [deadline, byOther] = await accountConsent(w, w.a.admin, w.a.institution, Role.Business, {
        account: w.key.address,
      });
      const zeroRecovering = ethers.concat([ethers.zeroPadValue("0x01", 32), ethers.zeroPadValue("0x01", 32), "0x1d"]); // v = 29
      for (const signature of [byOther, "0x", ethers.ZeroHash + "00".repeat(33), zeroRecovering]) {
        await expect(
          w.membership
            .connect(w.a.admin)
            .requestAccount(w.key.address, w.a.institution, Role.Business, deadline, signature),
        )
          .to.be.revertedWithCustomError(w.membership, "AccountConsentInvalid")
          .withArgs(w.key.address);
      }
      // The zero address itself can never be enrolled, whatever the signature.
      await expect(
        w.membership
          .connect(w.a.admin)
          .requestAccount(ethers.ZeroAddress, w.a.institution, Role.Business, deadline, zeroRecovering),
      ).to.be.revertedWithCustomError(w.membership, "MembershipZeroAddress");
    });

    it("a consent signed for another chain, another contract, a past deadline or another deadline", async function () {
      const w = await loadFixture(world);
      const args = [w.key.address, w.a.institution, Role.Business] as const;
      const wrongChain = await accountConsent(w, w.key, w.a.institution, Role.Business, { chainId: 1n });
      const wrongContract = await accountConsent(w, w.key, w.a.institution, Role.Business, {
        verifyingContract: await w.services.getAddress(),
      });
      for (const consent of [wrongChain, wrongContract]) {
        await expect(w.membership.connect(w.a.admin).requestAccount(...args, ...consent))
          .to.be.revertedWithCustomError(w.membership, "AccountConsentInvalid")
          .withArgs(w.key.address);
      }
      const [deadline, signature] = await accountConsent(w, w.key, w.a.institution, Role.Business);
      await expect(w.membership.connect(w.a.admin).requestAccount(...args, deadline + 1n, signature))
        .to.be.revertedWithCustomError(w.membership, "AccountConsentInvalid")
        .withArgs(w.key.address);
      await time.increaseTo(deadline + 1n);
      await expect(w.membership.connect(w.a.admin).requestAccount(...args, deadline, signature))
        .to.be.revertedWithCustomError(w.membership, "AccountConsentExpired")
        .withArgs(w.key.address, deadline);
    });
  });

  describe("node consent", function () {
    it("a flipped byte, a wrong signer, another host or port, another chain or contract", async function () {
      const w = await loadFixture(world);
      const args = [NodeKind.Governance, w.node.publicKey, "n.example.org", 30303] as const;
      const [deadline, signature] = await nodeConsent(w, w.a.operator, ...args);
      const refused = [
        flip(signature, 5),
        flip(signature, 40),
        flip(signature, 64),
        (await nodeConsent(w, w.a.operator, ...args, { key: Wallet.createRandom() }))[1],
        (await nodeConsent(w, w.a.operator, ...args, { host: "other.example.org", deadline }))[1],
        (await nodeConsent(w, w.a.operator, ...args, { port: 1, deadline }))[1],
        (await nodeConsent(w, w.a.operator, ...args, { chainId: 1n, deadline }))[1],
        (
          await nodeConsent(w, w.a.operator, ...args, { verifyingContract: await w.membership.getAddress(), deadline })
        )[1],
      ];
      for (const sig of refused) {
        await expect(w.services.connect(w.a.operator).registerNode(...args, deadline, sig))
          .to.be.revertedWithCustomError(w.services, "NodeConsentInvalid")
          .withArgs(w.node.nodeId);
      }
      expect((await w.services.node(w.node.nodeId)).status).to.equal(0n);
      await time.increaseTo(deadline + 1n);
      await expect(w.services.connect(w.a.operator).registerNode(...args, deadline, signature))
        .to.be.revertedWithCustomError(w.services, "NodeConsentExpired")
        .withArgs(w.node.nodeId, deadline);
    });
  });
});
