/**
 * Credit integrity: nobody lowers an institution's credit with what that institution legitimately did. The attacker
 * replays public calldata (every opened packet), waits for a key rotation, reuses countersigned packets that never
 * opened, records the other side's steps, or calls the credit score directly. Real registries and credit score.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { hashPacket } from "../../lib/amdp";
import { Side, TxState } from "../../lib/domain/ledger-types";
import { govern } from "../helpers/governance";
import { id, newAppKey } from "../helpers/registries";
import { newKey } from "../helpers/pipes";
import {
  Outcome,
  Refusal,
  makePacket,
  writeStep,
  openTx,
  record,
  registryLedgerFixture,
  result,
  sign,
  type RegistryWorld,
  type SignedInput,
} from "../transactions/fixtures";
import { expectRecord } from "../helpers/records";

describe("security: credit integrity (only a proven refusal or a recorded outcome moves a score)", () => {
  let w: RegistryWorld;
  beforeEach(async () => {
    w = await loadFixture(registryLedgerFixture);
  });

  const report = (s: SignedInput) =>
    w.ledger.connect(w.c.others[9]!).reportRefusal(s.packet, s.appSignature, s.proxySignature);
  const scores = async () => [await w.c.credit.scoreOf(w.source), await w.c.credit.scoreOf(w.target)];

  it("after an app key rotation, replaying every packet the institution opened costs it nothing", async () => {
    const opened = [];
    for (let i = 0; i < 5; i++) opened.push((await openTx(w)).signed);
    const before = await scores();
    // A routine rotation: the old key is revoked, the pipes take the new one.
    const fresh = await newKey();
    await w.c.chains
      .connect(w.src.operator)
      .rotateAppKey(w.src.appId, ...(await newAppKey(w.c, w.src.operator, w.src.appId, fresh.wallet)));
    await w.c.pipes.syncPipeKey(w.pipeId);
    for (const s of opened) {
      await expect(report(s))
        .to.be.revertedWithCustomError(w.ledger, "LedgerNotRefusable")
        .withArgs(hashPacket(s.packet));
    }
    expect(await scores()).to.deep.equal(before);
    expect(await w.c.credit.isRestricted(w.source)).to.equal(false);
  });

  it("a countersigned packet that never opened, signed before a rotation, costs nothing either", async () => {
    const signed = await sign(w, await makePacket(w));
    await w.c.chains
      .connect(w.src.operator)
      .rotateAppKey(w.src.appId, ...(await newAppKey(w.c, w.src.operator, w.src.appId, (await newKey()).wallet)));
    await w.c.pipes.syncPipeKey(w.pipeId);
    await expect(report(signed))
      .to.be.revertedWithCustomError(w.ledger, "LedgerNotRefusable")
      .withArgs(hashPacket(signed.packet));
    expect((await scores())[0]).to.equal(1000);
  });

  it("a countersigned packet overtaken by a later sequence (its open failed) is no replay", async () => {
    // The relayer signed sequence n, the open did not go through, the next transaction used n + 1.
    const stale = await sign(w, await makePacket(w));
    await openTx(w);
    await expect(report(stale))
      .to.be.revertedWithCustomError(w.ledger, "LedgerNotRefusable")
      .withArgs(hashPacket(stale.packet));
    expect((await scores())[0]).to.equal(1000);
  });

  it("nobody but the ledger reports outcomes to the credit score", async () => {
    const attacker = w.c.others[9]!;
    await expect(w.c.credit.connect(attacker).reportOutcome(w.source, Outcome.Failed, id("fake")))
      .to.be.revertedWithCustomError(w.c.credit, "CreditUnauthorizedReporter")
      .withArgs(await attacker.getAddress());
    await expect(w.c.credit.connect(w.src.proxy.wallet).reportOutcome(w.target, Outcome.TimedOut, id("fake")))
      .to.be.revertedWithCustomError(w.c.credit, "CreditUnauthorizedReporter")
      .withArgs(w.src.proxy.address);
  });

  it("one side cannot fail the other side's step to cost it credit", async () => {
    const o = await openTx(w);
    await record(w, o, 0);
    // The source proxy records a failure of the target's step: refused, the target's score is untouched.
    await expect(w.ledger.connect(w.src.proxy.wallet).recordResult(result(o, 1, { success: false })))
      .to.be.revertedWithCustomError(w.ledger, "LedgerUnauthorizedRecorder")
      .withArgs(o.txId, 1, w.src.proxy.address, w.tgt.proxy.address);
    expect((await scores())[1]).to.equal(1000);
  });

  it("a result the proxy records after the deadline cannot turn an overdue transaction into a confirmed one", async () => {
    const o = await openTx(w);
    await record(w, o, 0);
    await time.increaseTo(o.deadline + 1n);
    await expect(record(w, o, 1))
      .to.be.revertedWithCustomError(w.ledger, "LedgerDeadlinePassed")
      .withArgs(o.txId, o.deadline, o.deadline + 2n);
    // It expires, charged once. The refused result left no trace, so nothing shows the packet reached the target:
    // the source, which had to deliver it, is the one reported.
    await expectRecord(
      w.ledger.expire(o.txId),
      w.c.credit,
      "OutcomeReported",
      w.source,
      Outcome.TimedOut,
      o.txId,
      -10,
      990,
      await w.ledger.getAddress(),
    );
    expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Expired);
    expect(await scores()).to.deep.equal([990, 1000]);
  });

  it("a source that never delivers its packet cannot make the target time out", async () => {
    // The attacker opens (its own proxy, its own credit at stake) and never sends the packet to the target.
    const o = await openTx(w, { steps: [writeStep(Side.Target)] });
    await time.increaseTo(o.deadline + 1n);
    await expectRecord(
      w.ledger.connect(w.c.others[9]!).expire(o.txId),
      w.c.credit,
      "OutcomeReported",
      w.source,
      Outcome.TimedOut,
      o.txId,
      -10,
      990,
      await w.ledger.getAddress(),
    );
    expect(await scores()).to.deep.equal([990, 1000]);
  });

  it("a target that acknowledged the transaction and then idles is the one that timed out", async () => {
    const o = await openTx(w);
    await record(w, o, 0);
    await w.ledger.connect(w.tgt.proxy.wallet).retryStep(o.txId, 1, "sub-chain busy");
    await time.increaseTo(o.deadline + 1n);
    await w.ledger.expire(o.txId);
    expect(await scores()).to.deep.equal([1000, 990]);
  });

  it("a parameter change reaches every institution's restriction at once: no stale verdict to rely on", async () => {
    // The source falls to 800. Governance raises the threshold to 900: restricted now, with no refresh call.
    const p = await w.c.credit.params();
    const params = {
      initialScore: p.initialScore,
      maxScore: p.maxScore,
      restrictionThreshold: p.restrictionThreshold,
      expulsionThreshold: p.expulsionThreshold,
      completed: p.completed,
      failed: p.failed,
      timedOut: p.timedOut,
      badSignature: p.badSignature,
      replay: p.replay,
    };
    await govern(w.c, w.c.credit, "adjustScore", [w.source, -200, "dispute"]);
    expect(await w.c.credit.isRestricted(w.source)).to.equal(false);
    await govern(w.c, w.c.credit, "setParams", [{ ...params, restrictionThreshold: 900 }]);
    expect(await w.c.credit.isRestricted(w.source)).to.equal(true);
    expect((await w.c.credit.creditOf(w.source)).restricted).to.equal(true);
    expect(await w.c.credit.isRestricted(w.target)).to.equal(false);
    // Every pipe of the institution refuses at once too: the pipe registry asks the credit score, holds no copy.
    expect(await w.c.pipes.checkOperation(w.pipeId, w.srcApp.address, 1, w.selector)).to.equal(
      Refusal.InstitutionRestricted,
    );
    expect(await w.c.pipes.institutionUsability(w.source)).to.deep.equal([true, true]);
    await expect(openTx(w))
      .to.be.revertedWithCustomError(w.c.pipes, "PipeOperationRefused")
      .withArgs(w.pipeId, w.srcApp.address, Refusal.InstitutionRestricted);
    // And back: lowering it frees the institution at once, with no refresh call either.
    await govern(w.c, w.c.credit, "setParams", [{ ...params, restrictionThreshold: 700 }]);
    expect(await w.c.credit.isRestricted(w.source)).to.equal(false);
    expect(await w.c.pipes.checkOperation(w.pipeId, w.srcApp.address, 1, w.selector)).to.equal(Refusal.Allowed);
    await openTx(w);
  });
});
