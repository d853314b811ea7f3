/**
 * Property: under random sequences of endorsements (agreeing or conflicting), verifier accounts suspended and
 * reinstated by vote, verifiers removed and set again by vote (a new holding of an index), the ledger confirms a
 * transaction exactly when more than half of the weight of the verifiers valid now (set now, account active now)
 * endorsed the recorded result set with at least one valid verifier of neither party among them, and sends it to
 * Manual exactly when at least half of that weight endorsed another, or when a counting conflict stands and no valid
 * independent verifier endorsed the recorded set or is left to; the parties' own service verifiers (the source's
 * proxy, weight 2 here) can help reach the majority but never confirm without an independent one; a removed verifier set again starts with no endorsement. Credit: the scores move only by the outcomes
 * the model says the ledger recorded, and replaying every opened packet as a refusal changes nothing.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex, type Hex } from "viem";
import { TxState, VerifierKind, resultSetHash } from "../../lib/domain/ledger-types";
import { govern } from "../helpers/governance";
import { Outcome, executed, ledgerFixture, type World } from "./fixtures";

const SEEDS = 6;
const OPS_PER_SEED = 24;
/** The fixture's three independent auditors, then the source institution's proxy as a (party) service verifier. */
const WEIGHTS = [2, 1, 1, 2];
const PARTY = 3;

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface VerifierModel {
  present: boolean;
  active: boolean;
}

interface TxModel {
  txId: Hex;
  hash: Hex;
  signed: Parameters<World["ledger"]["reportRefusal"]>;
  state: TxState;
  /** Endorsements of the current holding of each verifier: true for the recorded hash. */
  endorsed: Map<number, boolean>;
}

async function withPartyVerifier(): Promise<World> {
  const w = await loadFixture(ledgerFixture);
  await govern(w.c, w.ledger, "setVerifier", [w.srcProxy.address, VerifierKind.Service, WEIGHTS[PARTY]!]);
  return w;
}

describe("TransactionLedger: endorsement and credit property (current valid weight only)", () => {
  it(`follows the model under ${SEEDS} seeds of ${OPS_PER_SEED} random calls`, async () => {
    let confirmations = 0;
    let manuals = 0;
    let partyOnly = 0;
    let outOfReach = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const w = await loadFixture(withPartyVerifier);
      const rand = prng(seed);
      const verifiers: VerifierModel[] = WEIGHTS.map(() => ({ present: true, active: true }));
      const completed = new Map<number, number>();
      const txs: TxModel[] = [];
      const valid = (v: number) => verifiers[v]!.present && verifiers[v]!.active;
      const newTx = async (): Promise<TxModel> => {
        const o = await executed(w);
        const t: TxModel = {
          txId: o.txId,
          hash: resultSetHash(o.results) as Hex,
          signed: [o.signed.packet, o.signed.appSignature, o.signed.proxySignature],
          state: TxState.Executed,
          endorsed: new Map(),
        };
        txs.push(t);
        return t;
      };
      let t = await newTx();
      for (let op = 0; op < OPS_PER_SEED; op++) {
        const what = `seed ${seed} op ${op}`;
        if (t.state !== TxState.Executed) t = await newTx();
        const v = Math.floor(rand() * WEIGHTS.length);
        const key = v === PARTY ? w.srcProxy : w.auditors[v]!;
        // The party's proxy also records results: it is never suspended or removed here.
        const roll = v === PARTY ? rand() * 0.6 : rand();
        if (roll < 0.6) {
          const agree = rand() < 0.75;
          const hash = agree ? t.hash : keccak256(toHex(`other:${seed}:${op}`));
          const call = w.ledger.connect(key.wallet).endorse(t.txId, hash);
          if (!verifiers[v]!.present) {
            await expect(call, what).to.be.revertedWithCustomError(w.ledger, "LedgerUnknownVerifier");
          } else if (!verifiers[v]!.active) {
            await expect(call, what).to.be.revertedWithCustomError(w.c.membership, "AccountNotActive");
          } else if (t.endorsed.has(v)) {
            await expect(call, what).to.be.revertedWithCustomError(w.ledger, "LedgerAlreadyEndorsed");
          } else {
            await (await call).wait();
            t.endorsed.set(v, agree);
            let [forW, againstW, total, independent] = [0, 0, 0, false];
            for (let i = 0; i < WEIGHTS.length; i++) {
              if (!valid(i)) continue;
              total += WEIGHTS[i]!;
              if (t.endorsed.get(i) === true) [forW, independent] = [forW + WEIGHTS[i]!, independent || i !== PARTY];
              if (t.endorsed.get(i) === false) againstW += WEIGHTS[i]!;
            }
            const independentLeft = WEIGHTS.some((_, i) => i !== PARTY && valid(i) && !t.endorsed.has(i));
            if (agree && forW * 2 > total && independent) {
              t.state = TxState.Confirmed;
              confirmations++;
              for (const inst of [w.source, w.target]) completed.set(inst, (completed.get(inst) ?? 0) + 1);
            } else if (!agree && againstW * 2 >= total) {
              t.state = TxState.Manual;
              manuals++;
            } else if (againstW > 0 && !independent && !independentLeft) {
              // A conflict stands and no independent verifier endorsed or is left to: confirmation is out of reach.
              t.state = TxState.Manual;
              outOfReach++;
            } else if (agree && forW * 2 > total) {
              partyOnly++;
            }
            const view = await w.ledger.transaction(t.txId);
            expect([Number(view.state), Number(view.weightFor), Number(view.weightAgainst)], what).to.deep.equal([
              t.state,
              forW,
              againstW,
            ]);
          }
        } else if (roll < 0.75) {
          if (!verifiers[v]!.active) continue;
          await govern(w.c, w.c.membership, "suspendAccount", [key.address]);
          verifiers[v]!.active = false;
        } else if (roll < 0.85) {
          if (verifiers[v]!.active) continue;
          await govern(w.c, w.c.membership, "reinstateAccount", [key.address]);
          verifiers[v]!.active = true;
        } else if (roll < 0.93) {
          if (!verifiers[v]!.present) continue;
          await govern(w.c, w.ledger, "setVerifier", [key.address, VerifierKind.None, 0]);
          verifiers[v]!.present = false;
        } else {
          if (verifiers[v]!.present || !verifiers[v]!.active) continue;
          // Set again: a new holding of an index, with none of the former endorsements.
          await govern(w.c, w.ledger, "setVerifier", [key.address, VerifierKind.Auditor, WEIGHTS[v]!]);
          verifiers[v]!.present = true;
          for (const x of txs) x.endorsed.delete(v);
          expect(await w.ledger.hasEndorsed(t.txId, key.address), what).to.equal(false);
        }
      }
      // Credit: replaying every opened packet as a refusal proves nothing and moves nothing.
      for (const x of txs)
        await expect(w.ledger.reportRefusal(...x.signed)).to.be.revertedWithCustomError(w.ledger, "LedgerNotRefusable");
      for (const inst of [w.source, w.target]) {
        expect(await w.credit.countOf(inst, Outcome.Completed), `seed ${seed} completed ${inst}`).to.equal(
          BigInt(completed.get(inst) ?? 0),
        );
        for (const outcome of [Outcome.Failed, Outcome.TimedOut, Outcome.BadSignature, Outcome.Replay]) {
          expect(await w.credit.countOf(inst, outcome), `seed ${seed} outcome ${outcome} ${inst}`).to.equal(0n);
        }
      }
    }
    // The walk reached both decisions, and a party-only majority that did not confirm.
    expect(partyOnly).to.be.greaterThan(0);
    expect(confirmations).to.be.greaterThan(0);
    expect(manuals).to.be.greaterThan(0);
    expect(outOfReach).to.be.greaterThan(0);
    console.log(
      `      (${confirmations} confirmed, ${manuals} Manual by conflict weight, ${outOfReach} Manual with no independent verifier left, ${partyOnly} party-only majorities waiting)`,
    );
  });
});
