/**
 * Ronin class: a proxy key that was revoked or suspended, or whose institution was suspended, keeps acting on the
 * ledger. The attacker holds the leaked key of a pipe's service signer and tries every call a proxy makes; nobody
 * calls `syncPipe` (the ledger's copy of the pipe still names the key). Real registries and credit score.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex } from "viem";
import { AccountStatus, InstitutionStatus } from "../../relayer/src/governance/abi";
import { govern } from "../helpers/governance";
import { Side, TxState } from "../../lib/domain/ledger-types";
import {
  Refusal,
  openTx,
  readStep,
  record,
  registryLedgerFixture,
  result,
  writeStep,
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
      revoke: (x: RegistryWorld, who: "src" | "tgt") => x.c.membership.connect(x[who].admin).revokeOwnAccount(x[who].proxy.address),
      error: "AccountNotActive",
      args: (x: RegistryWorld, who: "src" | "tgt") => [x[who].proxy.address, AccountStatus.Revoked],
    },
    {
      how: "suspended by vote",
      revoke: (x: RegistryWorld, who: "src" | "tgt") => govern(x.c, x.c.membership, "suspendAccount", [x[who].proxy.address]),
      error: "AccountNotActive",
      args: (x: RegistryWorld, who: "src" | "tgt") => [x[who].proxy.address, AccountStatus.Suspended],
    },
    {
      how: "of an institution suspended by vote",
      revoke: (x: RegistryWorld, who: "src" | "tgt") => govern(x.c, x.c.membership, "suspendInstitution", [x[who].institution]),
      error: "InstitutionNotActive",
      args: (x: RegistryWorld, who: "src" | "tgt") => [x[who].institution, InstitutionStatus.Suspended],
    },
  ] as const;

  for (const r of revocations) {
    describe(`a proxy key ${r.how}`, () => {
      it("records no result, alone or in a batch, and retries nothing", async () => {
        const o = await openTx(w);
        await r.revoke(w, "src");
        const [, signer] = await w.ledger.pipeOf(w.pipeId);
        expect(signer).to.equal(w.src.proxy.address); // the ledger's copy still names the key: no sync happened
        const as = w.ledger.connect(w.src.proxy.wallet);
        await expect(as.recordResult(result(o, 0)))
          .to.be.revertedWithCustomError(w.c.membership, r.error)
          .withArgs(...r.args(w, "src"));
        // A fake failure would cost the institution credit: refused the same way.
        await expect(as.recordResults([result(o, 0, { success: false })]))
          .to.be.revertedWithCustomError(w.c.membership, r.error)
          .withArgs(...r.args(w, "src"));
        await expect(as.retryStep(o.txId, 0, "x"))
          .to.be.revertedWithCustomError(w.c.membership, r.error)
          .withArgs(...r.args(w, "src"));
        await expect(as.escalate(o.txId, "everything to Manual"))
          .to.be.revertedWithCustomError(w.c.membership, r.error)
          .withArgs(...r.args(w, "src"));
        expect((await w.ledger.transaction(o.txId)).state).to.equal(BigInt(TxState.Open));
        expect(await w.c.credit.scoreOf(w.source)).to.equal(1000);
      });

      it("claims no compensation done", async () => {
        const o = await compensating();
        await r.revoke(w, "tgt");
        const c = { txId: o.txId, step: 0, subchain: o.steps[0]!.subchain, subchainTx: keccak256(toHex("fake undo")), blockNumber: 1n, resultHash: keccak256(toHex("x")), success: true };
        await expect(w.ledger.connect(w.tgt.proxy.wallet).recordCompensation(c))
          .to.be.revertedWithCustomError(w.c.membership, r.error)
          .withArgs(...r.args(w, "tgt"));
        expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Compensating);
      });

      it("opens nothing: the pipe authority's answer refuses the route at once", async () => {
        await r.revoke(w, "src");
        // The registry, told by Membership in the revocation's own transaction, answers for the proxy's key.
        const expected = r.error === "InstitutionNotActive" ? Refusal.InstitutionNotActive : Refusal.KeyRevoked;
        await expect(openTx(w)).to.be.revertedWithCustomError(w.c.pipes, "PipeOperationRefused").withArgs(w.pipeId, w.srcApp.address, expected);
      });
    });
  }

  it("the other side's proxy, still active, goes on; nothing needs a refresh call", async () => {
    const o = await openTx(w);
    await record(w, o, 0);
    await w.c.membership.connect(w.src.admin).revokeOwnAccount(w.src.proxy.address);
    await record(w, o, 1);
    expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Executed);
  });
});
