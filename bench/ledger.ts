/**
 * Gas of the transaction ledger: one complete two-step cross-chain transaction (open with one signed packet, a read
 * result on the source chain, a dependent write result on the target chain, two endorsements that confirm it and
 * credit both institutions), per step, in total and with batching; compared with a lower bound and with Hyperlane's
 * published Mailbox.process (2-of-3 multisig ISM): 159,736 gas.
 *
 * Lower bound of a call: what the EVM charges for recording anything at all in its own transaction: 21,000 intrinsic +
 * its calldata (4 per zero byte, 16 per other byte) + one new storage slot (22,100) + one log with two topics and a
 * word of data (1,381); open adds its two signature recoveries (2 x 3,000). About 45-50k per recorded result.
 * The pipe authority and the credit contract are the test mocks, laid out as a registry would be.
 */
import { ethers } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import { Side, resultSetHash, type LedgerResult } from "../scripts/lib/ledger-types";
import {
  PIPE,
  ledgerFixture,
  makePacket,
  openTx,
  readStep,
  readThenWrite,
  result,
  sign,
  writeStep,
  type Opened,
  type World,
} from "../test/transactions/fixtures";
import { govern } from "../test/helpers/governance";
import type { BenchModule, Reporter } from "./lib/report";

const HYPERLANE_PROCESS_MULTISIG_2_OF_3 = 159_736;
const TARGET_RATIO = 1.5;
const BATCH = 10;

interface Measured {
  gas: bigint;
  bound: bigint;
}

function calldataGas(data: string): bigint {
  let gas = 0n;
  for (let i = 2; i < data.length; i += 2) gas += data.slice(i, i + 2) === "00" ? 4n : 16n;
  return gas;
}

/** The lower bound of a call that records one thing (see the header). */
function boundOf(data: string, recoveries = 0): bigint {
  return 21_000n + calldataGas(data) + 22_100n + 1_381n + 3_000n * BigInt(recoveries);
}

async function measure(tx: Promise<ContractTransactionResponse>, recoveries = 0): Promise<Measured> {
  const sent = await tx;
  const receipt = await sent.wait();
  if (!receipt || receipt.status !== 1) throw new Error("benchmark transaction failed");
  return { gas: receipt.gasUsed, bound: boundOf(sent.data, recoveries) };
}

async function confirm(w: World, o: Opened, results: LedgerResult[]): Promise<[Measured, Measured]> {
  const hash = resultSetHash(results);
  // Weights 2, 1, 1: the first endorsement is exactly half (not confirmed), the second confirms.
  const first = await measure(w.ledger.connect(w.auditors[0]!.wallet).endorse(o.txId, hash));
  const second = await measure(w.ledger.connect(w.auditors[1]!.wallet).endorse(o.txId, hash));
  return [first, second];
}

/** One complete transaction, each result in its own call. */
async function complete(w: World, steps = readThenWrite()) {
  const o = await openTx(w, { steps });
  const open = await measure(Promise.resolve(o.tx), 2);
  const r0 = result(o, 0, { stateVersion: 9n });
  const r1 = result(o, 1, { stateVersion: 9n });
  const recorder = (i: number) => (steps[i]!.side === Side.Source ? w.srcProxy : w.tgtProxy).wallet;
  const result0 = await measure(w.ledger.connect(recorder(0)).recordResult(r0));
  const result1 = await measure(w.ledger.connect(recorder(1)).recordResult(r1));
  const [endorse, endorseConfirm] = await confirm(w, o, [r0, r1]);
  return { open, result0, result1, endorse, endorseConfirm };
}

let saved: { pipes: string; credit: string } | undefined;

/** Swaps in a storage-free pipe authority and a no-op credit contract, by governed votes. */
async function swapDependencies(w: World): Promise<void> {
  saved = { pipes: await w.ledger.pipeAuthority(), credit: await w.ledger.creditScore() };
  const free = await ethers.deployContract("ConstantPipeAuthorityMock", [PIPE, w.route]);
  const none = await ethers.deployContract("NullCreditScoreMock");
  await govern(w.c, w.ledger, "setPipeAuthority", [await free.getAddress()]);
  await govern(w.c, w.ledger, "setCreditScore", [await none.getAddress()]);
}

async function restoreDependencies(w: World): Promise<void> {
  await govern(w.c, w.ledger, "setPipeAuthority", [saved!.pipes]);
  await govern(w.c, w.ledger, "setCreditScore", [saved!.credit]);
}

const sum = (xs: Measured[]) => xs.reduce((a, m) => ({ gas: a.gas + m.gas, bound: a.bound + m.bound }), { gas: 0n, bound: 0n });

async function run(report: Reporter): Promise<void> {
  const w = await ledgerFixture();
  // Warm-up: the pipe's copy, its sequence slot and the credit counters exist, as in steady state.
  await complete(w);

  report.section("ledger: one two-step transaction (source read -> dependent target write), one call per record");
  const c = await complete(w);
  report.gas("ledger: open (1 packet, 2 steps, both signatures)", c.open.gas);
  report.gas("ledger: recordResult (read, kept for a dependent write)", c.result0.gas);
  report.gas("ledger: recordResult (dependent write, stale-read check)", c.result1.gas);
  report.gas("ledger: endorse (below the threshold)", c.endorse.gas);
  report.gas("ledger: endorse (confirms, credits both institutions)", c.endorseConfirm.gas);
  const total = sum([c.open, c.result0, c.result1, c.endorse, c.endorseConfirm]);
  report.gas("ledger: two-step transaction total", total.gas);
  report.figure("lower bound of the same five calls", Number(total.bound), "gas");
  const ratio = Number(total.gas) / Number(total.bound);
  report.figure("ratio to the lower bound (target <= 1.5)", ratio, "x");
  report.figure("target met", ratio <= TARGET_RATIO ? "yes" : "NO");
  report.figure("per step (total / 2)", Number(total.gas) / 2, "gas");
  report.figure("ratio to Hyperlane Mailbox.process, 2-of-3 multisig ISM (159,736)", Number(total.gas) / HYPERLANE_PROCESS_MULTISIG_2_OF_3, "x");
  for (const [name, m] of Object.entries(c)) {
    report.figure(`  ${name}: measured / lower bound`, `${m.gas} / ${m.bound} = ${(Number(m.gas) / Number(m.bound)).toFixed(2)}`);
  }

  report.section("ledger: the ledger's own cost (a storage-free pipe authority and a no-op credit contract swapped in)");
  await swapDependencies(w);
  await complete(w);
  const own = await complete(w);
  const ownTotal = sum(Object.values(own));
  report.gas("ledger: two-step transaction total, free dependencies", ownTotal.gas);
  report.figure("ratio to the lower bound", Number(ownTotal.gas) / Number(ownTotal.bound), "x");
  report.figure("of the full total, spent inside the pipe authority and the credit contract", Number(total.gas - ownTotal.gas), "gas");
  for (const [name, m] of Object.entries(own)) {
    report.figure(`  ${name}: measured / lower bound`, `${m.gas} / ${m.bound} = ${(Number(m.gas) / Number(m.bound)).toFixed(2)}`);
  }
  await restoreDependencies(w);

  report.section("ledger: without the dependency (source read, independent target write)");
  const free = await complete(w, [readStep(Side.Source), writeStep(Side.Target)]);
  const freeTotal = sum(Object.values(free));
  report.gas("ledger: two-step transaction total, no dependency", freeTotal.gas);
  report.figure("ratio to the lower bound", Number(freeTotal.gas) / Number(freeTotal.bound), "x");

  report.section("ledger: batching");
  // Both steps on the target chain, recorded by its proxy in one call.
  const steps = [readStep(Side.Target), writeStep(Side.Target, 0)];
  const { ledger } = w;
  const read = await sign(w, await makePacket(w, { operation: 0 }));
  const write = await sign(w, await makePacket(w, { txId: read.packet.txId, operation: 1 }));
  const o = await openTx(w, { steps, packets: [read, write] });
  const open2 = await measure(Promise.resolve(o.tx), 4);
  const rs = [result(o, 0), result(o, 1)];
  const batch2 = await measure(ledger.connect(w.tgtProxy.wallet).recordResults(rs));
  const [e1, e2] = await confirm(w, o, rs);
  const batchedTotal = open2.gas + batch2.gas + e1.gas + e2.gas;
  report.gas("ledger: recordResults, both steps of one transaction", batch2.gas);
  report.gas("ledger: two-step transaction total, results batched (2 packets)", batchedTotal);

  const many: Opened[] = [];
  for (let i = 0; i < BATCH; i++) many.push(await openTx(w, { steps: [writeStep(Side.Target)] }));
  const single = await measure(ledger.connect(w.tgtProxy.wallet).recordResult(result(many[0]!, 0)));
  const batch = await measure(ledger.connect(w.tgtProxy.wallet).recordResults(many.slice(1).map((m) => result(m, 0))));
  report.gas("ledger: recordResult, one write alone", single.gas);
  report.gas(`ledger: recordResults, ${BATCH - 1} writes of ${BATCH - 1} transactions`, batch.gas);
  report.figure("per result in the batch", Number(batch.gas) / (BATCH - 1), "gas");
  report.figure("saving per result vs one call each", Number(single.gas) - Number(batch.gas) / (BATCH - 1), "gas");
}

export const ledgerBench: BenchModule = { name: "ledger", kind: "gas", run };
