/**
 * Governance of the ledger, attacked: a governor or an outsider calls the governed setters directly, a verifier
 * removed or expelled keeps endorsing, a suspended governor resolves, a governor escalates past the deadline to race
 * the expirer, someone calls the recovery module around the ledger.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { TxState, VerifierKind, resultSetHash } from "../../lib/domain/ledger-types";
import { govern } from "../helpers/governance";
import { executed, ledgerFixture, openTx, record, result, type World } from "../transactions/fixtures";

describe("security: ledger governance", () => {
  let w: World;
  beforeEach(async () => {
    w = await loadFixture(ledgerFixture);
  });

  it("no single governor, and no outsider, sets a verifier, the credit contract, the pipe authority or the retry bound", async () => {
    const governor = w.c.governors[0]!;
    const by = await governor.getAddress();
    const ledger = w.ledger.connect(governor);
    await expect(ledger.setVerifier(by, VerifierKind.Auditor, 255))
      .to.be.revertedWithCustomError(w.ledger, "GovernanceOnly")
      .withArgs(by);
    await expect(ledger.setCreditScore(await w.c.voting.getAddress()))
      .to.be.revertedWithCustomError(w.ledger, "GovernanceOnly")
      .withArgs(by);
    await expect(ledger.setPipeAuthority(await w.c.voting.getAddress()))
      .to.be.revertedWithCustomError(w.ledger, "GovernanceOnly")
      .withArgs(by);
    await expect(ledger.setMaxRetries(0)).to.be.revertedWithCustomError(w.ledger, "GovernanceOnly").withArgs(by);
    // Around the ledger: the recovery module refuses to run on its own storage.
    await expect(w.recovery.connect(governor).setVerifier(by, VerifierKind.Auditor, 255)).to.be.revertedWithCustomError(
      w.recovery,
      "LedgerDirectCall",
    );
    expect(await w.ledger.totalWeight()).to.equal(4n);
  });

  it("a removed verifier cannot endorse any more", async () => {
    const o = await executed(w);
    await govern(w.c, w.ledger, "setVerifier", [w.auditors[0]!.address, VerifierKind.None, 0]);
    await expect(w.ledger.connect(w.auditors[0]!.wallet).endorse(o.txId, resultSetHash(o.results)))
      .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownVerifier")
      .withArgs(w.auditors[0]!.address);
  });

  it("a verifier of an expelled institution cannot endorse, and its earlier endorsement stops counting", async () => {
    const o = await executed(w);
    const hash = resultSetHash(o.results);
    await w.ledger.connect(w.auditors[0]!.wallet).endorse(o.txId, hash);
    await govern(w.c, w.c.membership, "expelInstitution", [w.audits[0]!]);
    await expect(w.ledger.connect(w.auditors[0]!.wallet).endorse(o.txId, hash)).to.be.revertedWithCustomError(
      w.c.membership,
      "InstitutionNotActive",
    );
    // The mark stays (its holder still holds the index), its weight counts nowhere.
    const view = await w.ledger.transaction(o.txId);
    expect([view.weightFor, view.endorsedMask]).to.deep.equal([0n, 1n]);
    // The two remaining verifiers are the whole valid weight: both are needed.
    await w.ledger.connect(w.auditors[1]!.wallet).endorse(o.txId, hash);
    expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Executed);
    await w.ledger.connect(w.auditors[2]!.wallet).endorse(o.txId, hash);
    expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Confirmed);
  });

  it("past the deadline nobody escalates a running transaction: it can only expire, whoever comes first", async () => {
    const o = await openTx(w);
    await record(w, o, 0);
    await time.increaseTo(o.deadline + 1n);
    for (const by of [w.c.governors[0]!, w.srcProxy.wallet, w.tgtProxy.wallet]) {
      await expect(w.ledger.connect(by).escalate(o.txId, "race the expirer")).to.be.revertedWithCustomError(
        w.ledger,
        "LedgerDeadlinePassed",
      );
    }
    await expect(w.ledger.connect(w.tgtProxy.wallet).retryStep(o.txId, 1, "late")).to.be.revertedWithCustomError(
      w.ledger,
      "LedgerDeadlinePassed",
    );
    await expect(w.ledger.connect(w.tgtProxy.wallet).recordResults([result(o, 1)])).to.be.revertedWithCustomError(
      w.ledger,
      "LedgerDeadlinePassed",
    );
    await w.ledger.connect(w.outsider).expire(o.txId);
    expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Expired);
  });

  it("a governor records no result and an outsider escalates nothing", async () => {
    const o = await openTx(w);
    await expect(w.ledger.connect(w.c.governors[0]!).recordResult(result(o, 0))).to.be.revertedWithCustomError(
      w.ledger,
      "LedgerUnauthorizedRecorder",
    );
    await expect(w.ledger.connect(w.outsider).escalate(o.txId, "x")).to.be.revertedWithCustomError(
      w.c.membership,
      "AccountNotActive",
    );
    expect((await w.ledger.statusOf(o.txId)).state).to.equal(TxState.Open);
  });
});
