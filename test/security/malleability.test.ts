import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Signature, Wallet } from "ethers";
import { Role, accountConsent } from "../helpers/governance";
import { NodeKind, nodeConsent, nodeKey, pipeWorld } from "../helpers/registries";

const N = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"); // secp256k1 order

/** The other valid signature of the same message: s' = n - s, v flipped (high s). */
function highS(sig: string): string {
  const s = Signature.from(sig);
  const flipped = ethers.toBeHex(N - BigInt(s.s), 32);
  return ethers.concat([s.r, flipped, s.v === 27 ? "0x1c" : "0x1b"]);
}

/** EIP-2098 compact form (64 bytes). */
const compact = (sig: string): string => ethers.concat([Signature.from(sig).r, Signature.from(sig).yParityAndS]);

/** `v` replaced by `v`. */
const withV = (sig: string, v: number): string => ethers.concat([ethers.dataSlice(sig, 0, 64), ethers.toBeHex(v, 1)]);

/**
 * Malleability: a second encoding of a valid signature must not count as another (or as any) consent. Only the
 * canonical 65-byte, low-s form with v 27 or 28 is accepted.
 */
describe("Security: signature malleability", function () {
  async function world() {
    const w = await pipeWorld();
    return { ...w, key: Wallet.createRandom(), node: nodeKey("malleable") };
  }

  it("an account consent in high-s, compact or with v 0, 1 or 29 form is refused; the canonical one passes", async function () {
    const w = await loadFixture(world);
    const args = [w.key.address, w.a.institution, Role.Business] as const;
    const [deadline, sig] = await accountConsent(w, w.key, w.a.institution, Role.Business);
    const v = Signature.from(sig).v;
    for (const variant of [
      highS(sig),
      compact(sig),
      withV(sig, v - 27),
      withV(sig, 29),
      withV(sig, v === 27 ? 28 : 27),
    ]) {
      await expect(w.membership.connect(w.a.admin).requestAccount(...args, deadline, variant))
        .to.be.revertedWithCustomError(w.membership, "AccountConsentInvalid")
        .withArgs(w.key.address);
    }
    await expect(w.membership.connect(w.a.admin).requestAccount(...args, deadline, sig)).to.emit(
      w.membership,
      "AccountRequested",
    );
  });

  it("a node consent in high-s, compact or with a wrong v is refused; the canonical one passes", async function () {
    const w = await loadFixture(world);
    const args = [NodeKind.Governance, w.node.publicKey, "n.example.org", 30303] as const;
    const [deadline, sig] = await nodeConsent(w, w.a.operator, ...args);
    const v = Signature.from(sig).v;
    for (const variant of [
      highS(sig),
      compact(sig),
      withV(sig, v - 27),
      withV(sig, 29),
      withV(sig, v === 27 ? 28 : 27),
    ]) {
      await expect(w.services.connect(w.a.operator).registerNode(...args, deadline, variant))
        .to.be.revertedWithCustomError(w.services, "NodeConsentInvalid")
        .withArgs(w.node.nodeId);
    }
    await expect(w.services.connect(w.a.operator).registerNode(...args, deadline, sig)).to.emit(
      w.services,
      "NodeRegistered",
    );
  });
});
