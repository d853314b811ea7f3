/**
 * Gas of the transaction ledger against the real registries (`deployGovernance`'s PipeRegistry and CreditScore):
 * one complete two-step cross-chain transaction (open with one signed packet, a read result on the source chain, a
 * dependent write result on the target chain, two endorsements that confirm it and credit both institutions), per
 * call, in total and with batching; compared with a lower bound and with Hyperlane's published Mailbox.process
 * (2-of-3 multisig ISM): 159,736 gas.
 *
 * Lower bound of a call: what the EVM charges for recording anything at all in its own transaction: 21,000 intrinsic +
 * its calldata (4 per zero byte, 16 per other byte) + one new storage slot (22,100) + one log with two topics and a
 * word of data (1,381); open adds its two signature recoveries (2 x 3,000). About 45-50k per recorded result.
 *
 * A last section swaps cost-free stand-ins (ConstantPipeAuthorityMock, NullCreditScoreMock) in by vote, to show the
 * ledger's own share; those figures are printed only, never snapshotted.
 */
import { ethers } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import { Side, resultSetHash, type LedgerResult } from "../lib/domain/ledger-types";
import {
  makePacket,
  openTx,
  readStep,
  readThenWrite,
  registryLedgerFixture,
  result,
  sign,
  writeStep,
  type LedgerWorld,
  type Opened,
} from "../test/transactions/fixtures";
import { govern } from "../test/helpers/governance";
import { batchOf, PER_BATCH } from "./lib/ledger-batch";
import type { BenchModule, Reporter } from "./lib/report";

const HYPERLANE_PROCESS_MULTISIG_2_OF_3 = 159_736;
const TARGET_RATIO = 1.5;
const BATCH = 10;
const AMORTISED_TARGET = 180_000;
const TPS_TARGET = 80;
const BLOCK_GAS = 30_000_000;
const BLOCK_SECONDS = 2;

interface Measured {
  gas: bigint;
  bound: bigint;
}

type Complete = Record<"open" | "result0" | "result1" | "endorse" | "endorseConfirm", Measured>;

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

async function confirm(w: LedgerWorld, o: Opened, results: LedgerResult[]): Promise<[Measured, Measured]> {
  const hash = resultSetHash(results);
  // Weights 2, 1, 1: the first endorsement is exactly half (not confirmed), the second confirms.
  const first = await measure(w.ledger.connect(w.auditors[0]!.wallet).endorse(o.txId, hash));
  const second = await measure(w.ledger.connect(w.auditors[1]!.wallet).endorse(o.txId, hash));
  const state = (await w.ledger.statusOf(o.txId)).state;
  if (state !== 4n) throw new Error(`benchmark transaction not confirmed (state ${state})`);
  return [first, second];
}

/** One complete transaction, each result in its own call. */
async function complete(w: LedgerWorld, steps = readThenWrite()): Promise<Complete> {
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

const sum = (xs: Measured[]) =>
  xs.reduce((a, m) => ({ gas: a.gas + m.gas, bound: a.bound + m.bound }), { gas: 0n, bound: 0n });
const ratioOf = (m: Measured) => Number(m.gas) / Number(m.bound);

function perCall(report: Reporter, c: Complete): void {
  for (const [name, m] of Object.entries(c)) {
    report.figure(`  ${name}: measured / lower bound`, `${m.gas} / ${m.bound} = ${ratioOf(m).toFixed(2)}`);
  }
}

async function headline(report: Reporter, w: LedgerWorld): Promise<Measured> {
  report.section(
    "ledger (real registries): one two-step transaction (source read -> dependent target write), one call per record",
  );
  const c = await complete(w);
  report.gas("ledger: open (1 packet, 2 steps, both signatures)", c.open.gas);
  report.gas("ledger: recordResult (read, kept for a dependent write)", c.result0.gas);
  report.gas("ledger: recordResult (dependent write, stale-read check)", c.result1.gas);
  report.gas("ledger: endorse (below the threshold)", c.endorse.gas);
  report.gas("ledger: endorse (confirms, credits both institutions)", c.endorseConfirm.gas);
  const total = sum(Object.values(c));
  report.gas("ledger: two-step transaction total", total.gas);
  report.figure("lower bound of the same five calls", Number(total.bound), "gas");
  const ratio = ratioOf(total);
  report.figure("ratio to the lower bound (target <= 1.5)", ratio, "x");
  report.figure("target met", ratio <= TARGET_RATIO ? "yes" : "NO");
  report.figure("per step (total / 2)", Number(total.gas) / 2, "gas");
  report.figure(
    "ratio to Hyperlane Mailbox.process, 2-of-3 multisig ISM (159,736)",
    Number(total.gas) / HYPERLANE_PROCESS_MULTISIG_2_OF_3,
    "x",
  );
  perCall(report, c);
  return total;
}

async function batching(report: Reporter, w: LedgerWorld): Promise<void> {
  report.section("ledger (real registries): batching");
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
  report.gas("ledger: recordResults, both steps of one transaction", batch2.gas);
  report.gas(
    "ledger: two-step transaction total, results batched (2 packets)",
    open2.gas + batch2.gas + e1.gas + e2.gas,
  );

  const many: Opened[] = [];
  for (let i = 0; i < BATCH; i++) many.push(await openTx(w, { steps: [writeStep(Side.Target)] }));
  const single = await measure(ledger.connect(w.tgtProxy.wallet).recordResult(result(many[0]!, 0)));
  const batch = await measure(ledger.connect(w.tgtProxy.wallet).recordResults(many.slice(1).map((m) => result(m, 0))));
  report.gas("ledger: recordResult, one write alone", single.gas);
  report.gas(`ledger: recordResults, ${BATCH - 1} writes of ${BATCH - 1} transactions`, batch.gas);
  report.figure("per result in the batch", Number(batch.gas) / (BATCH - 1), "gas");
  report.figure("saving per result vs one call each", Number(single.gas) - Number(batch.gas) / (BATCH - 1), "gas");
}

/**
 * PER_BATCH two-step transactions (source read -> dependent target write) through the batched calls: one openMany,
 * one recordResults per side, one endorseMany per endorsing verifier (the second confirms and credits). Amortised
 * per transaction, and the cross-chain tx/s that a 30M gas, 2 s block holds at that price.
 */
async function batched(report: Reporter, w: LedgerWorld): Promise<Measured> {
  report.section(`ledger (real registries): ${PER_BATCH} two-step transactions per batched call`);
  const { requests, opened, reads, writes, endorsements } = await batchOf(w, PER_BATCH);
  const calls = {
    openMany: await measure(w.ledger.connect(w.srcProxy.wallet).openMany(requests), 2 * PER_BATCH),
    readResults: await measure(w.ledger.connect(w.srcProxy.wallet).recordResults(reads)),
    writeResults: await measure(w.ledger.connect(w.tgtProxy.wallet).recordResults(writes)),
    endorseMany: await measure(w.ledger.connect(w.auditors[0]!.wallet).endorseMany(endorsements)),
    endorseManyConfirm: await measure(w.ledger.connect(w.auditors[1]!.wallet).endorseMany(endorsements)),
  };
  for (const o of opened) {
    if ((await w.ledger.statusOf(o.txId)).state !== 4n) throw new Error("benchmark batch not confirmed");
  }
  report.gas(`ledger: openMany, ${PER_BATCH} transactions (1 packet, 2 steps each)`, calls.openMany.gas);
  report.gas(
    `ledger: recordResults, ${PER_BATCH} dependent writes of ${PER_BATCH} transactions`,
    calls.writeResults.gas,
  );
  report.gas(`ledger: endorseMany, ${PER_BATCH} confirming (credits both institutions)`, calls.endorseManyConfirm.gas);
  const total = sum(Object.values(calls));
  const amortised = total.gas / BigInt(PER_BATCH);
  report.gas(`ledger: two-step transaction amortised, batches of ${PER_BATCH}`, amortised);
  for (const [name, m] of Object.entries(calls)) {
    report.figure(`  ${name}: per transaction`, Number(m.gas) / PER_BATCH, "gas");
  }
  report.figure(`amortised gas per two-step transaction (target <= ${AMORTISED_TARGET})`, Number(amortised), "gas");
  report.figure("target met", amortised <= BigInt(AMORTISED_TARGET) ? "yes" : "NO");
  report.target("gas", Number(amortised));
  const perSecond = BLOCK_GAS / BLOCK_SECONDS / Number(amortised);
  report.target("chainTps", perSecond);
  report.figure(`cross-chain tx/s at 30M gas per 2 s block (target >= ${TPS_TARGET})`, perSecond, "tx/s");
  report.figure("target met", perSecond >= TPS_TARGET ? "yes" : "NO");
  return total;
}

/** The ledger's own share: cost-free stand-ins swapped in by votes, then the registries restored. */
async function ownShare(report: Reporter, w: LedgerWorld, total: Measured): Promise<void> {
  report.section("ledger: its own share (cost-free pipe authority and credit stand-ins swapped in; printed only)");
  const saved = { pipes: await w.ledger.pipeAuthority(), credit: await w.ledger.creditScore() };
  const free = await ethers.deployContract("ConstantPipeAuthorityMock", [w.pipeId, w.route]);
  const none = await ethers.deployContract("NullCreditScoreMock");
  await govern(w.c, w.ledger, "setPipeAuthority", [await free.getAddress()]);
  await govern(w.c, w.ledger, "setCreditScore", [await none.getAddress()]);
  await complete(w);
  const own = await complete(w);
  const ownTotal = sum(Object.values(own));
  report.figure("two-step transaction total, cost-free stand-ins", Number(ownTotal.gas), "gas");
  report.figure("ratio to the lower bound", ratioOf(ownTotal), "x");
  report.figure(
    "of the real total, spent inside PipeRegistry and CreditScore",
    Number(total.gas - ownTotal.gas),
    "gas",
  );
  perCall(report, own);
  await govern(w.c, w.ledger, "setPipeAuthority", [saved.pipes]);
  await govern(w.c, w.ledger, "setCreditScore", [saved.credit]);
}

async function run(report: Reporter): Promise<void> {
  const w = await registryLedgerFixture();
  // Warm-up: the pipe's copy, its sequence slot and both institutions' credit records exist, as in steady state.
  await complete(w);
  const total = await headline(report, w);

  report.section("ledger (real registries): without the dependency (source read, independent target write)");
  const free = sum(Object.values(await complete(w, [readStep(Side.Source), writeStep(Side.Target)])));
  report.gas("ledger: two-step transaction total, no dependency", free.gas);
  report.figure("ratio to the lower bound", ratioOf(free), "x");

  await batching(report, w);
  await batched(report, w);
  await ownShare(report, w, total);
}

export const ledgerBench: BenchModule = { name: "ledger", kind: "gas", run };
