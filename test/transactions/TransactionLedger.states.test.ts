import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionResponse } from "ethers";
import { keccak256, toHex } from "viem";
import { ALLOWED_TRANSITIONS, Side, TxState, VerifierKind, resultSetHash } from "../../lib/domain/ledger-types";
import { govern } from "../helpers/governance";
import {
  CHAIN_B,
  PIPE,
  movesOf,
  executed,
  ledgerFixture,
  newAuditor,
  openTx,
  readStep,
  record,
  recorderOf,
  result,
  writeStep,
  type Opened,
  type World,
} from "./fixtures";

const ALL = Object.values(TxState).filter((v): v is TxState => typeof v === "number");
const REACHABLE = ALL.filter((s) => s !== TxState.None);

describe("TransactionLedger: the transition table", () => {
  it("allows exactly the documented transitions (every pair, and out-of-range states)", async () => {
    const harness = await ethers.deployContract("LedgerStatesHarness");
    for (const from of ALL) {
      for (const to of ALL) {
        expect(await harness.allowed(from, to), `${TxState[from]} -> ${TxState[to]}`).to.equal(
          ALLOWED_TRANSITIONS[from].includes(to),
        );
      }
      expect(await harness.allowed(from, 12)).to.equal(false);
      expect(await harness.allowed(12, from)).to.equal(false);
    }
    // Final states have no way out: a confirmed transaction never compensates, a compensated one never confirms.
    for (const final of [TxState.Confirmed, TxState.Compensated, TxState.Resolved])
      expect(ALLOWED_TRANSITIONS[final]).to.deep.equal([]);
  });
});

describe("TransactionLedger: the record's slot, packed by hand", () => {
  it("keeps every field at its widest: 8 steps, a 64-bit read version, verifier index 15, large weights", async () => {
    const w = await loadFixture(ledgerFixture);
    // 13 more verifiers of weight 255 take indexes 3 to 15 (the mask's top bit).
    const heavy = [];
    for (let i = 0; i < 13; i++) {
      const { key: a } = await newAuditor(w.c, `Audit ${i + 4}`);
      await govern(w.c, w.ledger, "setVerifier", [a.address, VerifierKind.Auditor, 255]);
      heavy.push(a);
    }
    expect(await w.ledger.totalWeight()).to.equal(4n + 13n * 255n);
    // Four source reads, the target write and three source writes, each write depending on one read.
    const steps = [
      readStep(),
      readStep(),
      readStep(),
      readStep(),
      writeStep(Side.Target, 0),
      writeStep(Side.Source, 1),
    ];
    steps.push(writeStep(Side.Source, 2), writeStep(Side.Source, 3));
    const o = await openTx(w, { steps });
    const MAX64 = 2n ** 64n - 1n;
    const versions = [MAX64, MAX64 - 1n, 1n, 2n ** 63n];
    const results = steps.map((_, i) => result(o, i, { stateVersion: versions[i % 4]! }));
    for (const [i, r] of results.entries()) await w.ledger.connect(recorderOf(w, o, i).wallet).recordResult(r);
    for (const [i, v] of versions.entries()) expect(await w.ledger.readVersionOf(o.txId, i)).to.equal(v);
    // 7 x 255 = 1,785 of 3,319: the seventh heavy endorsement confirms; indexes 9 to 15 endorse.
    for (const a of heavy.slice(6)) await w.ledger.connect(a.wallet).endorse(o.txId, resultSetHash(results));
    const v = await w.ledger.transaction(o.txId);
    expect([v.state, v.stepCount, v.doneMask, v.writeMask, v.undoneMask]).to.deep.equal([
      BigInt(TxState.Confirmed),
      8n,
      0xffn,
      0xf0n,
      0n,
    ]);
    expect([v.deadline, v.pipeId, v.endorsedMask, v.weightFor, v.weightAgainst]).to.deep.equal([
      o.deadline,
      PIPE,
      0xfe00n,
      1785n,
      0n,
    ]);
    expect(await w.ledger.hasEndorsed(o.txId, heavy[12]!.address)).to.equal(true);
    const step7 = await w.ledger.stepOf(o.txId, 7);
    expect([step7.side, step7.operation, step7.dependsOn]).to.deep.equal([BigInt(Side.Source), 1n, 3n]);
  });
});

describe("TransactionLedger: every state against every call", () => {
  let w: World;

  /** A transaction brought to `state` by the ordinary calls. */
  async function inState(state: TxState): Promise<Opened> {
    switch (state) {
      case TxState.Open:
        return openTx(w);
      case TxState.Executing: {
        const o = await openTx(w);
        await record(w, o, 0);
        return o;
      }
      case TxState.Executed:
        return executed(w);
      case TxState.Confirmed: {
        const o = await executed(w);
        await w.ledger.connect(w.auditors[0]!.wallet).endorse(o.txId, resultSetHash(o.results));
        await w.ledger.connect(w.auditors[1]!.wallet).endorse(o.txId, resultSetHash(o.results));
        return o;
      }
      case TxState.Failed: {
        const o = await openTx(w);
        await record(w, o, 0, { success: false });
        return o;
      }
      case TxState.Compensating: {
        const o = await openTx(w, { steps: [writeStep(Side.Target), readStep(Side.Source)] });
        await record(w, o, 0);
        await record(w, o, 1, { success: false });
        return o;
      }
      case TxState.Compensated: {
        const o = await inState(TxState.Compensating);
        await undo(o);
        return o;
      }
      case TxState.Manual: {
        const o = await openTx(w);
        await w.ledger.connect(w.srcProxy.wallet).escalate(o.txId, "x");
        return o;
      }
      case TxState.Resolved: {
        const o = await inState(TxState.Manual);
        await w.ledger.connect(w.c.governors[0]!).resolve(o.txId, "x");
        return o;
      }
      case TxState.Expired: {
        const o = await openTx(w, { deadline: BigInt(await time.latest()) + 60n });
        await time.increase(120);
        await w.ledger.expire(o.txId);
        return o;
      }
      case TxState.Committing: {
        // Two-phase writes on both sides, both prepared.
        const steps = [writeStep(Side.Source), writeStep(Side.Target)].map((s) => ({ ...s, operation: 2 }));
        const o = await openTx(w, { steps });
        await record(w, o, 0, { operation: 1 });
        await record(w, o, 1, { operation: 1 });
        return o;
      }
      default:
        throw new Error(`no way to reach ${TxState[state]}`);
    }
  }

  const undo = (o: Opened) =>
    w.ledger.connect(w.tgtProxy.wallet).recordCompensation({
      txId: o.txId,
      step: 0,
      subchain: CHAIN_B,
      subchainTx: keccak256(toHex("undo")),
      blockNumber: 1n,
      resultHash: keccak256(toHex("undone")),
      success: true,
    });

  interface Call {
    name: string;
    /** The state the call leads to (the `to` of LedgerInvalidTransition). */
    to: TxState;
    /** States in which the call is accepted. */
    accepted: TxState[];
    run(o: Opened, state: TxState): Promise<ContractTransactionResponse>;
  }

  const CALLS: Call[] = [
    {
      name: "recordResult",
      to: TxState.Executing,
      // In Committing: the commit of a prepared write (the second leads to Executed).
      accepted: [TxState.Open, TxState.Executing, TxState.Committing],
      run: async (o, state) => {
        const step = state === TxState.Executing ? 1 : 0;
        const record = (k: number) =>
          w.ledger
            .connect(recorderOf(w, o, k).wallet)
            .recordResult(result(o, k, { operation: Math.min(1, o.steps[k]!.operation) }));
        if (state === TxState.Committing) await record(0);
        return record(state === TxState.Committing ? 1 : step);
      },
    },
    {
      name: "retryStep",
      to: TxState.Executing,
      accepted: [TxState.Open, TxState.Executing],
      run: (o) => w.ledger.connect(recorderOf(w, o, 1).wallet).retryStep(o.txId, 1, "x"),
    },
    {
      name: "endorse",
      to: TxState.Confirmed,
      accepted: [TxState.Executed],
      run: async (o) => {
        const hash = (await w.ledger.transaction(o.txId)).resultSetHash;
        await w.ledger
          .connect(w.auditors[0]!.wallet)
          .endorse(o.txId, hash)
          .catch(() => undefined);
        return w.ledger.connect(w.auditors[1]!.wallet).endorse(o.txId, hash);
      },
    },
    {
      name: "expire",
      to: TxState.Expired,
      accepted: [TxState.Open, TxState.Executing],
      run: async (o) => {
        if (BigInt(await time.latest()) <= o.deadline) await time.increaseTo(o.deadline + 1n);
        return w.ledger.expire(o.txId);
      },
    },
    {
      name: "recordCompensation",
      to: TxState.Compensated,
      accepted: [TxState.Compensating],
      run: (o) => undo(o),
    },
    {
      name: "escalate",
      to: TxState.Manual,
      accepted: [
        TxState.Open,
        TxState.Executing,
        TxState.Executed,
        TxState.Failed,
        TxState.Compensating,
        TxState.Expired,
        TxState.Committing,
      ],
      run: (o) => w.ledger.connect(w.c.governors[2]!).escalate(o.txId, "stuck"),
    },
    {
      name: "resolve",
      to: TxState.Resolved,
      accepted: [TxState.Manual],
      run: (o) => w.ledger.connect(w.c.governors[1]!).resolve(o.txId, "done by hand"),
    },
  ];

  for (const call of CALLS) {
    it(`${call.name}: accepted in ${call.accepted.map((s) => TxState[s]).join(", ")}; refused elsewhere with LedgerInvalidTransition`, async () => {
      w = await loadFixture(ledgerFixture);
      const txs = new Map<TxState, Opened>();
      for (const s of REACHABLE) txs.set(s, await inState(s));
      for (const s of REACHABLE) {
        const o = txs.get(s)!;
        const attempt = call.run(o, s);
        if (!call.accepted.includes(s)) {
          await expect(attempt, `${call.name} in ${TxState[s]}`)
            .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidTransition")
            .withArgs(o.txId, s, call.to);
          continue;
        }
        const moves = await movesOf(w, await attempt, s);
        // Each move is in the table, starts from the state the transaction was in, and leads where the call says.
        for (const [from, to] of moves)
          expect(ALLOWED_TRANSITIONS[from as TxState], `${call.name} in ${TxState[s]}`).to.include(to);
        if (call.name === "retryStep") {
          expect(moves).to.deep.equal([]);
          continue;
        }
        const executes = call.name === "recordResult" && (s === TxState.Executing || s === TxState.Committing);
        const next = executes ? TxState.Executed : call.to;
        expect(moves[0], `${call.name} in ${TxState[s]}`).to.deep.equal([s, next]);
      }
    });
  }
});
