/**
 * Ronin class: a proxy key that was revoked or suspended, or whose institution was suspended, keeps acting on the
 * ledger. The attacker holds the leaked key of a pipe's service signer and tries every call a proxy makes; nobody
 * calls `syncPipe` (the ledger keeps a pipe's service indexes, never their keys). Real registries and credit score.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { ethers } from "hardhat";
import { keccak256, toHex, type Hex } from "viem";
import { AccountStatus, InstitutionStatus } from "../../lib/abi/contracts";
import { Role, addAccount, govern } from "../helpers/governance";
import { Side, TxState } from "../../lib/domain/ledger-types";
import {
  Refusal,
  openTx,
  readStep,
  readThenWrite,
  record,
  newKey,
  now,
  registryLedgerFixture,
  result,
  sign,
  makePacket,
  writeStep,
  type Key,
  type Opened,
  type RegistryWorld,
} from "../transactions/fixtures";

describe("security: Ronin class (a revoked proxy key stops acting on the ledger at once)", () => {
  let w: RegistryWorld;
  beforeEach(async () => {
    w = await loadFixture(registryLedgerFixture);
  });

  /** A transaction whose target write is done and whose source read failed: the write waits for compensation. */
  async function compensating(): Promise<Opened> {
    const o = await openTx(w, { steps: [writeStep(Side.Target), readStep(Side.Source)] });
    await record(w, o, 0);
    await record(w, o, 1, { success: false });
    expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Compensating);
    return o;
  }

  const revocations = [
    {
      how: "revoked by its own institution",
      revoke: (x: RegistryWorld, who: "src" | "tgt") =>
        x.c.membership.connect(x[who].admin).revokeOwnAccount(x[who].proxy.address),
      error: "AccountNotActive",
      args: (x: RegistryWorld, who: "src" | "tgt") => [x[who].proxy.address, AccountStatus.Revoked],
    },
    {
      how: "suspended by vote",
      revoke: (x: RegistryWorld, who: "src" | "tgt") =>
        govern(x.c, x.c.membership, "suspendAccount", [x[who].proxy.address]),
      error: "AccountNotActive",
      args: (x: RegistryWorld, who: "src" | "tgt") => [x[who].proxy.address, AccountStatus.Suspended],
    },
    {
      how: "of an institution suspended by vote",
      revoke: (x: RegistryWorld, who: "src" | "tgt") =>
        govern(x.c, x.c.membership, "suspendInstitution", [x[who].institution]),
      error: "InstitutionNotActive",
      args: (x: RegistryWorld, who: "src" | "tgt") => [x[who].institution, InstitutionStatus.Suspended],
    },
  ] as const;

  for (const r of revocations) {
    describe(`a proxy key ${r.how}`, () => {
      it("records no result, alone or in a batch, and retries nothing", async () => {
        const o = await openTx(w);
        await r.revoke(w, "src");
        // Membership gives the reason; the pipe authority, told in the same transaction, folds it into `serving`.
        await expect(w.c.membership.requireActiveAccount(w.src.proxy.address, Role.Business))
          .to.be.revertedWithCustomError(w.c.membership, r.error)
          .withArgs(...r.args(w, "src"));
        const [, signer] = await w.ledger.pipeOf(w.pipeId);
        expect(signer).to.equal(w.src.proxy.address); // the ledger's copy still names the key: no sync happened
        const as = w.ledger.connect(w.src.proxy.wallet);
        await expect(as.recordResult(result(o, 0)))
          .to.be.revertedWithCustomError(w.ledger, "LedgerSignerNotServing")
          .withArgs(w.src.proxy.address);
        // A fake failure would cost the institution credit: refused the same way.
        await expect(as.recordResults([result(o, 0, { success: false })]))
          .to.be.revertedWithCustomError(w.ledger, "LedgerSignerNotServing")
          .withArgs(w.src.proxy.address);
        await expect(as.retryStep(o.txId, 0, "x"))
          .to.be.revertedWithCustomError(w.ledger, "LedgerSignerNotServing")
          .withArgs(w.src.proxy.address);
        await expect(as.escalate(o.txId, "everything to Manual"))
          .to.be.revertedWithCustomError(w.ledger, "LedgerSignerNotServing")
          .withArgs(w.src.proxy.address);
        expect((await w.ledger.transaction(o.txId)).state).to.equal(BigInt(TxState.Open));
        expect(await w.c.credit.scoreOf(w.source)).to.equal(1000);
      });

      it("claims no compensation done", async () => {
        const o = await compensating();
        await r.revoke(w, "tgt");
        const c = {
          txId: o.txId,
          step: 0,
          subchain: o.steps[0]!.subchain,
          subchainTx: keccak256(toHex("fake undo")),
          blockNumber: 1n,
          resultHash: keccak256(toHex("x")),
          success: true,
        };
        await expect(w.ledger.connect(w.tgt.proxy.wallet).recordCompensation(c))
          .to.be.revertedWithCustomError(w.ledger, "LedgerSignerNotServing")
          .withArgs(w.tgt.proxy.address);
        expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Compensating);
      });

      it("opens nothing: the pipe authority's answer refuses the route at once", async () => {
        await r.revoke(w, "src");
        // The registry, told by Membership in the revocation's own transaction, answers for the proxy's key.
        const expected = r.error === "InstitutionNotActive" ? Refusal.InstitutionNotActive : Refusal.KeyRevoked;
        await expect(openTx(w))
          .to.be.revertedWithCustomError(w.c.pipes, "PipeOperationRefused")
          .withArgs(w.pipeId, w.srcApp.address, expected);
      });
    });
  }

  it("the pipe authority's one answer folds the institution's standing, from the suspension's own block to the reinstatement's", async () => {
    const index = (await w.c.services.serviceRef(w.src.service)).index;
    const answers = async () => [
      (await w.c.pipes.serviceSigner(index))[1],
      await w.c.pipes.isServingSigner(w.src.proxy.address),
    ];
    expect(await answers()).to.deep.equal([true, true]);
    await govern(w.c, w.c.membership, "suspendInstitution", [w.src.institution]);
    expect(await answers()).to.deep.equal([false, false]);
    await govern(w.c, w.c.membership, "reinstateInstitution", [w.src.institution]);
    expect(await answers()).to.deep.equal([true, true]);
    const o = await openTx(w);
    await record(w, o, 0);
    expect((await w.ledger.transaction(o.txId)).doneMask).to.equal(1n);
  });

  it("the other side's proxy, still active, goes on; nothing needs a refresh call", async () => {
    const o = await openTx(w);
    await record(w, o, 0);
    await w.c.membership.connect(w.src.admin).revokeOwnAccount(w.src.proxy.address);
    await record(w, o, 1);
    expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Executed);
  });

  describe("a service signer rotated out, or of a disabled service (the ledger keeps the service, never its key)", () => {
    /** Rotates `who`'s service to a fresh business account of the same institution; returns the new key. */
    async function rotate(who: "src" | "tgt"): Promise<Key> {
      const next = await newKey();
      await addAccount(w.c, w[who].admin, next, w[who].institution, Role.Business);
      await w.c.services.connect(w[who].operator).rotateServiceSigner(w[who].service, next.address);
      return next;
    }
    const disable = (who: "src" | "tgt") => govern(w.c, w.c.services, "disableService", [w[who].service]);
    const fakeUndo = (o: Opened) => ({
      txId: o.txId,
      step: 0,
      subchain: o.steps[0]!.subchain,
      subchainTx: keccak256(toHex("fake undo")),
      blockNumber: 1n,
      resultHash: keccak256(toHex("x")),
      success: true,
    });

    it("rotated out by its operator: records, batches, retries and escalates nothing, at once and without syncPipe", async () => {
      const o = await openTx(w);
      const next = await rotate("src");
      const [, signer] = await w.ledger.pipeOf(w.pipeId);
      expect(signer).to.equal(next.address); // asked of the registry now: no sync happened
      const as = w.ledger.connect(w.src.proxy.wallet);
      const old = w.src.proxy.address;
      const unauthorized = (p: Promise<unknown>) =>
        expect(p)
          .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedRecorder")
          .withArgs(o.txId, 0, old, next.address);
      await unauthorized(as.recordResult(result(o, 0)));
      await unauthorized(as.recordResults([result(o, 0, { success: false })]));
      await unauthorized(as.retryStep(o.txId, 0, "x"));
      // Not a proxy of either side any more: escalating needs a governor.
      await expect(as.escalate(o.txId, "everything to Manual"))
        .to.be.revertedWithCustomError(w.c.membership, "AccountRoleMismatch")
        .withArgs(old, Role.Governor, Role.Business);
      expect((await w.ledger.transaction(o.txId)).state).to.equal(BigInt(TxState.Open));
      expect((await w.ledger.transaction(o.txId)).doneMask).to.equal(0n);
      expect(await w.c.credit.scoreOf(w.source)).to.equal(1000);
    });

    it("rotated out by its operator: claims no compensation done", async () => {
      const o = await compensating();
      const next = await rotate("tgt");
      await expect(w.ledger.connect(w.tgt.proxy.wallet).recordCompensation(fakeUndo(o)))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedRecorder")
        .withArgs(o.txId, 0, w.tgt.proxy.address, next.address);
      expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Compensating);
      // The new key undoes it at once, with no syncPipe.
      await w.ledger.connect(next.wallet).recordCompensation(fakeUndo(o));
      expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Compensated);
    });

    it("rotated in: the new key records, batches, retries and escalates at once, without syncPipe or a new open", async () => {
      const o = await openTx(w, { steps: [readStep(Side.Source), readStep(Side.Source), writeStep(Side.Target)] });
      const stuck = await openTx(w);
      const src = await rotate("src");
      const tgt = await rotate("tgt");
      await w.ledger.connect(src.wallet).retryStep(o.txId, 0, "busy");
      await w.ledger.connect(src.wallet).recordResults([result(o, 0), result(o, 1)]);
      // The other side's new key is refused for a step not its own, named with the current recorder.
      await expect(w.ledger.connect(tgt.wallet).recordResult(result(o, 0)))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedRecorder")
        .withArgs(o.txId, 0, tgt.address, src.address);
      await w.ledger.connect(tgt.wallet).recordResult(result(o, 2));
      expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Executed);
      await w.ledger.connect(tgt.wallet).escalate(stuck.txId, "target stuck");
      expect((await w.ledger.statusOf(stuck.txId)).state).to.equal(TxState.Manual);
    });

    it("of a service disabled by vote: records, batches, retries and escalates nothing, at once and without syncPipe", async () => {
      const o = await openTx(w);
      await disable("src");
      const as = w.ledger.connect(w.src.proxy.wallet);
      const old = w.src.proxy.address;
      const notServing = (p: Promise<unknown>) =>
        expect(p).to.be.revertedWithCustomError(w.ledger, "LedgerSignerNotServing").withArgs(old);
      await notServing(as.recordResult(result(o, 0)));
      await notServing(as.recordResults([result(o, 0, { success: false })]));
      await notServing(as.retryStep(o.txId, 0, "x"));
      await notServing(as.escalate(o.txId, "everything to Manual"));
      expect((await w.ledger.transaction(o.txId)).state).to.equal(BigInt(TxState.Open));
      expect(await w.c.credit.scoreOf(w.source)).to.equal(1000);
    });

    it("of a service disabled by vote: claims no compensation done", async () => {
      const o = await compensating();
      await disable("tgt");
      await expect(w.ledger.connect(w.tgt.proxy.wallet).recordCompensation(fakeUndo(o)))
        .to.be.revertedWithCustomError(w.ledger, "LedgerSignerNotServing")
        .withArgs(w.tgt.proxy.address);
      expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Compensating);
    });

    it("a disabled service's key counts again once the service is enabled by vote", async () => {
      const o = await openTx(w);
      await disable("src");
      await expect(record(w, o, 0)).to.be.revertedWithCustomError(w.ledger, "LedgerSignerNotServing");
      await govern(w.c, w.c.services, "enableService", [w.src.service]);
      await record(w, o, 0);
    });

    it("after a rotation the old key's countersignature opens nothing; the new key's opens and records, a flipped byte of it opens nothing", async () => {
      const next = await rotate("src");
      const steps = readThenWrite();
      const deadline = async () => (await now()) + 1800n;
      const oldSigned = await sign(w, await makePacket(w));
      // The open reads the route now: the rotated-out key is no longer the opener (nor a valid countersigner).
      await expect(w.ledger.connect(w.src.proxy.wallet).open([oldSigned], steps, await deadline()))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedOpener")
        .withArgs(w.pipeId, w.src.proxy.address, next.address);
      const asNext = w.ledger.connect(next.wallet);
      await expect(asNext.open([oldSigned], steps, await deadline())).to.be.revertedWithCustomError(
        w.ledger,
        "AmdpInvalidProxySignature",
      );
      const fresh = await sign(w, await makePacket(w), w.srcApp, next);
      const b = ethers.getBytes(fresh.proxySignature);
      b[63]! ^= 0x01; // the last byte of s: a valid-looking signature by some other key
      await expect(
        asNext.open([{ ...fresh, proxySignature: ethers.hexlify(b) as Hex }], steps, await deadline()),
      ).to.be.revertedWithCustomError(w.ledger, "AmdpInvalidProxySignature");
      await asNext.open([fresh], steps, await deadline());
      // The new key records; the old key is not the recorder any more.
      const o = { txId: fresh.packet.txId, steps };
      await expect(w.ledger.connect(w.src.proxy.wallet).recordResult(result(o, 0))).to.be.revertedWithCustomError(
        w.ledger,
        "LedgerUnauthorizedRecorder",
      );
      await asNext.recordResult(result(o, 0));
      await w.ledger.connect(w.tgt.proxy.wallet).recordResult(result(o, 1));
      expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Executed);
    });
  });
});
