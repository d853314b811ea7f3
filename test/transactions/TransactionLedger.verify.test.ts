import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex } from "viem";
import { Issue, Reason, TxState, VerifierKind, resultSetHash } from "../../lib/domain/ledger-types";
import { Role, addAccount, govern, proposalIdOf } from "../helpers/governance";
import { Outcome, executed, ledgerFixture, newAuditor, newKey, openTx, record, type World } from "./fixtures";
import { expectRecord, expectNoRecord } from "../helpers/records";

describe("TransactionLedger: weighted verification", () => {
  let w: World;
  beforeEach(async () => {
    w = await loadFixture(ledgerFixture);
  });

  const endorse = (i: number, txId: string, hash: string) =>
    w.ledger.connect(w.auditors[i]!.wallet).endorse(txId, hash);
  const stateOf = async (txId: string) => (await w.ledger.statusOf(txId)).state;

  it("is not confirmed at exactly half of the weight, and confirmed just above", async () => {
    // Weights 2, 1, 1: total 4.
    expect(await w.ledger.totalWeight()).to.equal(4n);
    const o = await executed(w);
    const hash = resultSetHash(o.results);
    await expect(endorse(0, o.txId, hash))
      .to.emit(w.ledger, "Endorsed")
      .withArgs(o.txId, w.auditors[0]!.address, TxState.None, hash, 2, 2, 4);
    expect(await stateOf(o.txId)).to.equal(TxState.Executed); // 2 of 4: exactly 50%
    const tx = await endorse(1, o.txId, hash);
    // The confirmation is told by the Endorsed that made it (`to`), no TxTransitioned of its own.
    await expect(tx)
      .to.emit(w.ledger, "Endorsed")
      .withArgs(o.txId, w.auditors[1]!.address, TxState.Confirmed, hash, 1, 3, 4);
    await expect(tx).not.to.emit(w.ledger, "TxTransitioned");
    expect(await stateOf(o.txId)).to.equal(TxState.Confirmed);
    // Both institutions are credited with a completed transaction.
    const ledger = await w.ledger.getAddress();
    await expectRecord(tx, w.credit, "OutcomeReported", w.source, Outcome.Completed, o.txId, 1, 101, ledger);
    await expectRecord(tx, w.credit, "OutcomeReported", w.target, Outcome.Completed, o.txId, 1, 101, ledger);
    expect(await w.ledger.hasEndorsed(o.txId, w.auditors[0]!.address)).to.equal(true);
    expect(await w.ledger.hasEndorsed(o.txId, w.auditors[2]!.address)).to.equal(false);
    // Confirmed is final: a late endorsement is refused.
    await expect(endorse(2, o.txId, hash))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
      .withArgs(o.txId, TxState.Confirmed, TxState.Confirmed);
  });

  it("two light verifiers at exactly half are not enough either", async () => {
    const o = await executed(w);
    const hash = resultSetHash(o.results);
    await endorse(1, o.txId, hash);
    await endorse(2, o.txId, hash);
    expect(await stateOf(o.txId)).to.equal(TxState.Executed);
    expect((await w.ledger.transaction(o.txId)).weightFor).to.equal(2n);
    await endorse(0, o.txId, hash);
    expect(await stateOf(o.txId)).to.equal(TxState.Confirmed);
  });

  it("flags a conflicting endorsement and still confirms with the majority", async () => {
    const o = await executed(w);
    const hash = resultSetHash(o.results);
    const other = keccak256(toHex("what the chain really says"));
    await expect(endorse(2, o.txId, other))
      .to.emit(w.ledger, "EndorsementConflicted")
      .withArgs(o.txId, w.auditors[2]!.address, other, hash, 1, 1, 4);
    expect(await stateOf(o.txId)).to.equal(TxState.Executed);
    await endorse(0, o.txId, hash);
    await endorse(1, o.txId, hash);
    expect(await stateOf(o.txId)).to.equal(TxState.Confirmed);
    // The reconciliation view lists it as disputed.
    const items = await w.ledger.unresolvedAmong([o.txId]);
    expect(items.map((i) => [i.txId, Number(i.issue)])).to.deep.include([o.txId, Issue.Disputed]);
  });

  it("sends the transaction to Manual once conflicting weight makes confirmation impossible", async () => {
    const o = await executed(w);
    const other = keccak256(toHex("another result set"));
    await endorse(1, o.txId, other);
    expect(await stateOf(o.txId)).to.equal(TxState.Executed); // 1 of 4 against: still possible
    const tx = await endorse(2, o.txId, other); // 2 of 4 against: at most 2 of 4 for, never more than half
    await expect(tx)
      .to.emit(w.ledger, "TxTransitioned")
      .withArgs(o.txId, w.auditors[2]!.address, TxState.Manual, TxState.Executed, Reason.Conflict);
    await expect(endorse(0, o.txId, resultSetHash(o.results)))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
      .withArgs(o.txId, TxState.Manual, TxState.Confirmed);
    await expectNoRecord(tx, w.credit, "OutcomeReported");
  });

  it("takes one endorsement per verifier", async () => {
    const o = await executed(w);
    const hash = resultSetHash(o.results);
    await endorse(1, o.txId, hash);
    await expect(endorse(1, o.txId, hash))
      .to.be.revertedWithCustomError(w.ledger, "LedgerAlreadyEndorsed")
      .withArgs(o.txId, w.auditors[1]!.address);
    await expect(endorse(1, o.txId, keccak256(toHex("changed my mind"))))
      .to.be.revertedWithCustomError(w.ledger, "LedgerAlreadyEndorsed")
      .withArgs(o.txId, w.auditors[1]!.address);
  });

  it("refuses endorsements before the results are in, of unknown transactions, and by non-verifiers", async () => {
    const o = await openTx(w);
    await expect(endorse(0, o.txId, keccak256(toHex("x"))))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
      .withArgs(o.txId, TxState.Open, TxState.Confirmed);
    await record(w, o, 0);
    await expect(endorse(0, o.txId, keccak256(toHex("x"))))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
      .withArgs(o.txId, TxState.Executing, TxState.Confirmed);
    const unknown = keccak256(toHex("unknown"));
    await expect(endorse(0, unknown, unknown))
      .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownTx")
      .withArgs(unknown);
    await expect(w.ledger.connect(w.srcProxy.wallet).endorse(o.txId, unknown))
      .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownVerifier")
      .withArgs(w.srcProxy.address);
  });

  it("refuses a verifier whose account was suspended, at once", async () => {
    const o = await executed(w);
    await govern(w.c, w.c.membership, "suspendAccount", [w.auditors[0]!.address]);
    await expect(endorse(0, o.txId, resultSetHash(o.results)))
      .to.be.revertedWithCustomError(w.c.membership, "AccountNotActive")
      .withArgs(w.auditors[0]!.address, 3);
  });

  describe("governed verifier set", () => {
    it("a service verifier stops counting, for and in the total, once its key no longer serves (rotated out, service disabled)", async () => {
      const svc = await newKey();
      await addAccount(w.c, w.c.others[0]!, svc, BigInt(w.source), Role.Business);
      await w.pipes.setServing(svc.address, true);
      await govern(w.c, w.ledger, "setVerifier", [svc.address, VerifierKind.Service, 3]); // total 7
      const o = await executed(w);
      const hash = resultSetHash(o.results);
      await w.ledger.connect(svc.wallet).endorse(o.txId, hash);
      await w.pipes.setServing(svc.address, false);
      // Counted, 3 + 2 of 7 would confirm; without it, 2 of the valid 4 is not more than half.
      await endorse(0, o.txId, hash);
      expect(await stateOf(o.txId)).to.equal(TxState.Executed);
      await endorse(1, o.txId, hash);
      expect(await stateOf(o.txId)).to.equal(TxState.Confirmed);
    });

    it("adds a service verifier (a business account, as service signers are), changes weights and removes verifiers", async () => {
      const operator = await newKey();
      const [srcAdmin] = w.c.others;
      await addAccount(w.c, srcAdmin!, operator, BigInt(w.source), Role.Business);
      await w.pipes.setServing(operator.address, true); // a service verifier is a service's signing key
      await expect(govern(w.c, w.ledger, "setVerifier", [operator.address, VerifierKind.Service, 3]))
        .to.emit(w.ledger, "VerifierSet")
        .withArgs(operator.address, VerifierKind.Service, 3, 3, 7);
      expect(await w.ledger.verifier(operator.address)).to.deep.equal([BigInt(VerifierKind.Service), 3n, 3n]);
      // Total 7: the operator (3) and auditor 0 (2) = 5 > 3.5 confirm.
      const o = await executed(w);
      const hash = resultSetHash(o.results);
      await w.ledger.connect(operator.wallet).endorse(o.txId, hash);
      await endorse(0, o.txId, hash);
      expect(await stateOf(o.txId)).to.equal(TxState.Confirmed);
      // Change a weight, then remove: the index is freed and reused.
      await expect(govern(w.c, w.ledger, "setVerifier", [operator.address, VerifierKind.Service, 1]))
        .to.emit(w.ledger, "VerifierSet")
        .withArgs(operator.address, VerifierKind.Service, 1, 3, 5);
      await expect(govern(w.c, w.ledger, "setVerifier", [w.auditors[1]!.address, VerifierKind.None, 0]))
        .to.emit(w.ledger, "VerifierSet")
        .withArgs(w.auditors[1]!.address, VerifierKind.None, 0, 1, 4);
      expect((await w.ledger.verifier(w.auditors[1]!.address)).weight).to.equal(0n);
      // Auditor 1's institution may hold a seat again, and its new auditor takes the freed index.
      const another = await newKey();
      await addAccount(w.c, w.auditAdmins[1]!, another, BigInt(w.audits[1]!), Role.Auditor);
      await expect(govern(w.c, w.ledger, "setVerifier", [another.address, VerifierKind.Auditor, 2]))
        .to.emit(w.ledger, "VerifierSet")
        .withArgs(another.address, VerifierKind.Auditor, 2, 1, 6);
    });

    it("refuses an account of the wrong role, an unknown removal, the kind None, the zero address", async () => {
      const ledger = w.ledger.interface;
      const target = await w.ledger.getAddress();
      const propose = async (args: [string, number, number]) => {
        const data = ledger.encodeFunctionData("setVerifier", args);
        const id = await proposalIdOf(w.c.voting, w.c.voting.connect(w.c.governors[0]!).propose(target, data, ""));
        for (const g of w.c.governors) await w.c.voting.connect(g).vote(id, true);
        return w.c.voting.execute(id);
      };
      // An auditor set as a service verifier: the Business role (a service signer) expected.
      await expect(propose([w.auditors[0]!.address, VerifierKind.Service, 1]))
        .to.be.revertedWithCustomError(w.c.membership, "AccountRoleMismatch")
        .withArgs(w.auditors[0]!.address, Role.Business, Role.Auditor);
      await expect(propose([w.intruder.address, VerifierKind.Auditor, 1]))
        .to.be.revertedWithCustomError(w.c.membership, "AccountNotActive")
        .withArgs(w.intruder.address, 0);
      await expect(propose([w.intruder.address, VerifierKind.None, 0]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownVerifier")
        .withArgs(w.intruder.address);
      await expect(propose([w.auditors[0]!.address, VerifierKind.None, 5]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidVerifierKind")
        .withArgs(w.auditors[0]!.address, VerifierKind.None);
      const zero = "0x0000000000000000000000000000000000000000";
      await expect(propose([zero, VerifierKind.Auditor, 1]))
        .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidAddress")
        .withArgs(zero);
    });

    it("only governance sets verifiers", async () => {
      await expect(w.ledger.connect(w.c.governors[0]!).setVerifier(w.auditors[0]!.address, VerifierKind.Auditor, 9))
        .to.be.revertedWithCustomError(w.ledger, "GovernanceOnly")
        .withArgs(await w.c.governors[0]!.getAddress());
    });

    it("refuses a verifier beyond MAX_VERIFIERS", async () => {
      const max = Number(await w.ledger.MAX_VERIFIERS());
      const target = await w.ledger.getAddress();
      // Fill the remaining indexes with auditor accounts, then one more.
      let last = "";
      for (let i = 3; i <= max; i++) {
        const { key: k } = await newAuditor(w.c, `Audit ${i}`);
        last = k.address;
        if (i === max) break;
        await govern(w.c, w.ledger, "setVerifier", [k.address, VerifierKind.Auditor, 1]);
      }
      const data = w.ledger.interface.encodeFunctionData("setVerifier", [last, VerifierKind.Auditor, 1]);
      const id = await proposalIdOf(w.c.voting, w.c.voting.connect(w.c.governors[0]!).propose(target, data, ""));
      for (const g of w.c.governors) await w.c.voting.connect(g).vote(id, true);
      await expect(w.c.voting.execute(id))
        .to.be.revertedWithCustomError(w.ledger, "LedgerTooManyVerifiers")
        .withArgs(max);
    });
  });
});
