/**
 * Verifier independence: the two institutions of a transaction may endorse, but their weight alone never confirms
 * it; the valid majority must include a verifier of neither institution, valid at the moment of confirmation. Once a
 * conflict stands and no valid non-party endorsed or is left to, the transaction goes to Manual at once.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex } from "viem";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { Reason, TxState, VerifierKind, resultSetHash } from "../../lib/domain/ledger-types";
import { govern } from "../helpers/governance";
import { Outcome, executed, ledgerFixture, type World } from "./fixtures";

/** The fixture's auditors (2, 1, 1) and both parties' proxies as service verifiers of weight 3: total 10. */
async function partiesVerify(): Promise<World> {
  const w = await loadFixture(ledgerFixture);
  await govern(w.c, w.ledger, "setVerifier", [w.srcProxy.address, VerifierKind.Service, 3]);
  await govern(w.c, w.ledger, "setVerifier", [w.tgtProxy.address, VerifierKind.Service, 3]);
  return w;
}

describe("TransactionLedger: a non-party must be among the confirming majority", () => {
  let w: World;
  beforeEach(async () => {
    w = await loadFixture(partiesVerify);
  });
  const stateOf = async (txId: string) => (await w.ledger.statusOf(txId)).state;

  it("the parties' majority alone does not confirm; one independent endorsement does", async () => {
    expect(await w.ledger.totalWeight()).to.equal(10n);
    const o = await executed(w);
    const hash = resultSetHash(o.results);
    await w.ledger.connect(w.srcProxy.wallet).endorse(o.txId, hash);
    await expect(w.ledger.connect(w.tgtProxy.wallet).endorse(o.txId, hash))
      .to.emit(w.ledger, "Endorsed")
      .withArgs(o.txId, w.tgtProxy.address, TxState.None, hash, 3, 6, 10);
    // 6 of 10, more than half, but only the parties: still Executed.
    expect(await stateOf(o.txId)).to.equal(TxState.Executed);
    await expect(w.ledger.connect(w.auditors[2]!.wallet).endorse(o.txId, hash))
      .to.emit(w.ledger, "Endorsed")
      .withArgs(o.txId, w.auditors[2]!.address, TxState.Confirmed, hash, anyValue, anyValue, 10);
  });

  it("parties that recorded and endorse a false result set cannot confirm it: Manual once every independent verifier conflicted", async () => {
    const o = await executed(w);
    const recorded = resultSetHash(o.results); // what the parties recorded (say, false)
    const observed = keccak256(toHex("what the sub-chains show"));
    await w.ledger.connect(w.srcProxy.wallet).endorse(o.txId, recorded);
    await w.ledger.connect(w.tgtProxy.wallet).endorse(o.txId, recorded);
    await expect(w.ledger.connect(w.auditors[0]!.wallet).endorse(o.txId, observed))
      .to.emit(w.ledger, "EndorsementConflicted")
      .withArgs(o.txId, w.auditors[0]!.address, observed, recorded, 2, 2, 10);
    // Conflicting weight 2 of 10 against the parties' 6, and two independent verifiers still to check: it waits.
    expect(await stateOf(o.txId)).to.equal(TxState.Executed);
    await w.ledger.connect(w.auditors[1]!.wallet).endorse(o.txId, observed);
    expect(await stateOf(o.txId)).to.equal(TxState.Executed);
    // The last independent verifier conflicts too: 4 of 10 is under half, but no non-party is left to confirm.
    await expect(w.ledger.connect(w.auditors[2]!.wallet).endorse(o.txId, observed))
      .to.emit(w.ledger, "TxTransitioned")
      .withArgs(o.txId, w.auditors[2]!.address, TxState.Manual, TxState.Executed, Reason.Conflict);
    expect(await w.credit.countOf(w.source, Outcome.Completed)).to.equal(0n);
  });

  it("an independent conflict with the other independent verifiers suspended: the next party endorsement sends it to Manual", async () => {
    const o = await executed(w);
    const recorded = resultSetHash(o.results);
    await w.ledger.connect(w.auditors[0]!.wallet).endorse(o.txId, keccak256(toHex("observed")));
    expect(await stateOf(o.txId)).to.equal(TxState.Executed);
    await govern(w.c, w.c.membership, "suspendAccount", [w.auditors[1]!.address]);
    await govern(w.c, w.c.membership, "suspendAccount", [w.auditors[2]!.address]);
    // Valid weight 8: the parties' 6 would be a majority, but never one with a non-party in it.
    await expect(w.ledger.connect(w.srcProxy.wallet).endorse(o.txId, recorded))
      .to.emit(w.ledger, "TxTransitioned")
      .withArgs(o.txId, w.srcProxy.address, TxState.Manual, TxState.Executed, Reason.Conflict);
    await expect(w.ledger.connect(w.tgtProxy.wallet).endorse(o.txId, recorded))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
      .withArgs(o.txId, TxState.Manual, TxState.Confirmed);
  });

  it("without a conflict, the parties' majority waits for an independent verifier that is suspended, and confirms once it is back", async () => {
    const o = await executed(w);
    const hash = resultSetHash(o.results);
    for (const a of w.auditors) await govern(w.c, w.c.membership, "suspendAccount", [a.address]);
    await w.ledger.connect(w.srcProxy.wallet).endorse(o.txId, hash);
    await w.ledger.connect(w.tgtProxy.wallet).endorse(o.txId, hash);
    expect(await stateOf(o.txId)).to.equal(TxState.Executed);
    await govern(w.c, w.c.membership, "reinstateAccount", [w.auditors[1]!.address]);
    await w.ledger.connect(w.auditors[1]!.wallet).endorse(o.txId, hash);
    expect(await stateOf(o.txId)).to.equal(TxState.Confirmed);
  });

  it("a non-party that endorsed and is suspended before the majority does not count as the independent one", async () => {
    const o = await executed(w);
    const hash = resultSetHash(o.results);
    await w.ledger.connect(w.srcProxy.wallet).endorse(o.txId, hash);
    await w.ledger.connect(w.auditors[2]!.wallet).endorse(o.txId, hash);
    await govern(w.c, w.c.membership, "suspendAccount", [w.auditors[2]!.address]);
    // 6 of the valid 9, the suspended auditor's endorsement gone: parties only.
    await w.ledger.connect(w.tgtProxy.wallet).endorse(o.txId, hash);
    expect(await stateOf(o.txId)).to.equal(TxState.Executed);
    expect((await w.ledger.transaction(o.txId)).weightFor).to.equal(6n);
    await w.ledger.connect(w.auditors[1]!.wallet).endorse(o.txId, hash);
    expect(await stateOf(o.txId)).to.equal(TxState.Confirmed);
  });

  it("independent verifiers alone confirm with their majority", async () => {
    const o = await executed(w);
    const hash = resultSetHash(o.results);
    for (const a of w.auditors) await w.ledger.connect(a.wallet).endorse(o.txId, hash);
    // 4 of 10: not yet; a party's 3 makes 7.
    expect(await stateOf(o.txId)).to.equal(TxState.Executed);
    await w.ledger.connect(w.srcProxy.wallet).endorse(o.txId, hash);
    expect(await stateOf(o.txId)).to.equal(TxState.Confirmed);
  });
});
