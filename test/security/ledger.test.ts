/**
 * Attacks on the ledger's verification, as an attacker would try them: an endorsement that outlives its verifier
 * (removed by vote, account suspended or revoked, institution suspended), a freed verifier index reused with its
 * former holder's bits, and one institution holding several verifier seats.
 *
 * Verifiers (ledgerFixture): auditors 0, 1, 2 of three audit institutions, weights 2, 1, 1 (total 4).
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex } from "viem";
import { Role, addAccount, govern, proposalIdOf } from "../helpers/governance";
import { TxState, VerifierKind, resultSetHash } from "../../lib/domain/ledger-types";
import { executed, ledgerFixture, newAuditor, newKey, type World } from "../transactions/fixtures";

describe("security: ledger verification (Ronin class: what was removed no longer counts)", () => {
  let w: World;
  beforeEach(async () => {
    w = await loadFixture(ledgerFixture);
  });

  const endorse = (i: number, txId: string, hash: string) =>
    w.ledger.connect(w.auditors[i]!.wallet).endorse(txId, hash);
  const stateOf = async (txId: string) => (await w.ledger.statusOf(txId)).state;
  const OTHER = keccak256(toHex("a result set the chains never produced"));

  it("a removed verifier's endorsement stops counting: 1 of the 2 valid weight does not confirm", async () => {
    const o = await executed(w);
    const hash = resultSetHash(o.results);
    await endorse(0, o.txId, hash); // weight 2 of 4
    await govern(w.c, w.ledger, "setVerifier", [w.auditors[0]!.address, VerifierKind.None, 0]);
    await endorse(1, o.txId, hash); // 1 of the 2 still valid: exactly half
    expect(await stateOf(o.txId)).to.equal(TxState.Executed);
    const view = await w.ledger.transaction(o.txId);
    expect([view.weightFor, view.endorsedMask]).to.deep.equal([1n, 0b010n]);
    await expect(endorse(2, o.txId, hash))
      .to.emit(w.ledger, "Endorsed")
      .withArgs(o.txId, w.auditors[2]!.address, TxState.Confirmed, hash, 1, 2, 2);
  });

  for (const [how, revoke] of [
    [
      "its account suspended by vote",
      (x: World) => govern(x.c, x.c.membership, "suspendAccount", [x.auditors[0]!.address]),
    ],
    [
      "its account revoked by its own institution",
      (x: World) => x.c.membership.connect(x.auditAdmins[0]!).revokeOwnAccount(x.auditors[0]!.address),
    ],
    ["its institution suspended", (x: World) => govern(x.c, x.c.membership, "suspendInstitution", [x.audits[0]!])],
  ] as const) {
    it(`an endorsement stops counting at once with ${how}, and the valid weight is what is left`, async () => {
      const o = await executed(w);
      const hash = resultSetHash(o.results);
      await endorse(0, o.txId, hash);
      await revoke(w);
      // Weight 2 no longer counts, in favour or in the total: 1 of 2 is not a majority, 2 of 2 is.
      await endorse(1, o.txId, hash);
      expect(await stateOf(o.txId)).to.equal(TxState.Executed);
      expect((await w.ledger.transaction(o.txId)).weightFor).to.equal(1n);
      await endorse(2, o.txId, hash);
      expect(await stateOf(o.txId)).to.equal(TxState.Confirmed);
    });
  }

  it("a removed verifier's conflicting endorsement stops counting towards Manual", async () => {
    const o = await executed(w);
    await endorse(1, o.txId, OTHER); // 1 of 4 against
    await govern(w.c, w.ledger, "setVerifier", [w.auditors[1]!.address, VerifierKind.None, 0]);
    // Counting the removed verifier, 2 of 4 against would send it to Manual; 1 of the 3 valid does not.
    await endorse(2, o.txId, OTHER);
    expect(await stateOf(o.txId)).to.equal(TxState.Executed);
    expect((await w.ledger.transaction(o.txId)).weightAgainst).to.equal(1n);
    // The remaining majority still confirms.
    await endorse(0, o.txId, resultSetHash(o.results));
    expect(await stateOf(o.txId)).to.equal(TxState.Confirmed);
  });

  it("a freed index reused by a new verifier carries none of its former holder's endorsements", async () => {
    const o = await executed(w);
    const hash = resultSetHash(o.results);
    await endorse(1, o.txId, hash); // index 1
    await govern(w.c, w.ledger, "setVerifier", [w.auditors[1]!.address, VerifierKind.None, 0]);
    const { key: newcomer } = await newAuditor(w.c, "Newcomer Audit");
    await govern(w.c, w.ledger, "setVerifier", [newcomer.address, VerifierKind.Auditor, 1]);
    expect((await w.ledger.verifier(newcomer.address)).index).to.equal(1n);
    // It has not endorsed what it never saw, and its own endorsement is taken.
    expect(await w.ledger.hasEndorsed(o.txId, newcomer.address)).to.equal(false);
    expect((await w.ledger.transaction(o.txId)).endorsedMask).to.equal(0n);
    await w.ledger.connect(newcomer.wallet).endorse(o.txId, hash);
    expect(await w.ledger.hasEndorsed(o.txId, newcomer.address)).to.equal(true);
    // 1 of 4 (the former holder's bit is gone): no confirmation yet; the weight-2 auditor makes 3 of 4.
    expect(await stateOf(o.txId)).to.equal(TxState.Executed);
    await endorse(0, o.txId, hash);
    expect(await stateOf(o.txId)).to.equal(TxState.Confirmed);
    expect((await w.ledger.transaction(o.txId)).weightFor).to.equal(3n);
  });

  it("a former holder's conflicting bit does not count for the new holder of its index either", async () => {
    const o = await executed(w);
    await endorse(2, o.txId, OTHER); // index 2, against
    await govern(w.c, w.ledger, "setVerifier", [w.auditors[2]!.address, VerifierKind.None, 0]);
    const { key: newcomer } = await newAuditor(w.c, "Newcomer Audit");
    await govern(w.c, w.ledger, "setVerifier", [newcomer.address, VerifierKind.Auditor, 1]);
    expect((await w.ledger.transaction(o.txId)).weightAgainst).to.equal(0n);
    await w.ledger.connect(newcomer.wallet).endorse(o.txId, resultSetHash(o.results));
    await endorse(0, o.txId, resultSetHash(o.results));
    const view = await w.ledger.transaction(o.txId);
    expect([view.state, view.weightFor, view.weightAgainst]).to.deep.equal([BigInt(TxState.Confirmed), 3n, 0n]);
  });

  it("one institution holds one verifier seat: a second key of the same institution is refused", async () => {
    const second = await newKey();
    await addAccount(w.c, w.auditAdmins[0]!, second, BigInt(w.audits[0]!), Role.Auditor);
    const target = await w.ledger.getAddress();
    const data = w.ledger.interface.encodeFunctionData("setVerifier", [second.address, VerifierKind.Auditor, 1]);
    const id = await proposalIdOf(w.c.voting, w.c.voting.connect(w.c.governors[0]!).propose(target, data, ""));
    for (const g of w.c.governors) await w.c.voting.connect(g).vote(id, true);
    await expect(w.c.voting.execute(id))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInstitutionHasVerifier")
      .withArgs(w.audits[0]!, w.auditors[0]!.address);
    expect(await w.ledger.totalWeight()).to.equal(4n);
    // Once its seat is given up, the institution may seat another key.
    await govern(w.c, w.ledger, "setVerifier", [w.auditors[0]!.address, VerifierKind.None, 0]);
    await govern(w.c, w.ledger, "setVerifier", [second.address, VerifierKind.Auditor, 1]);
    expect((await w.ledger.verifier(second.address)).weight).to.equal(1n);
  });

  it("a business institution's second service signer is refused too: seats are counted by institution, whatever the kind", async () => {
    const signer = await newKey();
    await addAccount(w.c, w.c.others[0]!, signer, BigInt(w.source), Role.Business);
    await govern(w.c, w.ledger, "setVerifier", [signer.address, VerifierKind.Service, 1]);
    const another = await newKey();
    await addAccount(w.c, w.c.others[0]!, another, BigInt(w.source), Role.Business);
    const target = await w.ledger.getAddress();
    const data = w.ledger.interface.encodeFunctionData("setVerifier", [another.address, VerifierKind.Service, 1]);
    const id = await proposalIdOf(w.c.voting, w.c.voting.connect(w.c.governors[0]!).propose(target, data, ""));
    for (const g of w.c.governors) await w.c.voting.connect(g).vote(id, true);
    await expect(w.c.voting.execute(id))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInstitutionHasVerifier")
      .withArgs(w.source, signer.address);
  });

  it("a verifier re-weighted by vote after it endorsed counts with its weight now, not the one it endorsed with", async () => {
    const o = await executed(w);
    const hash = resultSetHash(o.results);
    await endorse(0, o.txId, hash); // weight 2 of 4
    // Lowered to 1 (total 3): its endorsement now weighs 1.
    await govern(w.c, w.ledger, "setVerifier", [w.auditors[0]!.address, VerifierKind.Auditor, 1]);
    expect((await w.ledger.transaction(o.txId)).weightFor).to.equal(1n);
    // Raising another verifier after the fact counts too: auditor 1 at 3 (total 5) endorses: 4 of 5 confirms.
    await govern(w.c, w.ledger, "setVerifier", [w.auditors[1]!.address, VerifierKind.Auditor, 3]);
    await expect(endorse(1, o.txId, hash))
      .to.emit(w.ledger, "Endorsed")
      .withArgs(o.txId, w.auditors[1]!.address, TxState.Confirmed, hash, 3, 4, 5);
    expect(await stateOf(o.txId)).to.equal(TxState.Confirmed);
  });
});
