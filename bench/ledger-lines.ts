/**
 * `npm run gas:lines`: where the gas of the batched two-step transaction goes, by Solidity source line. The bench's
 * batched round (`BENCH_ONLY=ledger`: PER_BATCH opens, the source reads, the target writes, two endorsements, the
 * second confirming) runs twice on the real registries; the second (steady state) is traced, and each call prints its
 * most expensive lines per transaction. Compiler-made code (ABI decoding, cleanup) counts on the last line of its
 * frame, marked "+". Intrinsic gas and calldata are in the call's total, not in the lines.
 * LINES_ONLY=openMany,reads,writes,endorse,confirm picks calls; LINES_TOP (default 30) the rows per call.
 */
import { registryLedgerFixture } from "../test/transactions/fixtures";
import { gasByLine, printTop } from "./lib/gas-lines";
import { batchOf, PER_BATCH } from "./lib/ledger-batch";

async function main(): Promise<void> {
  const w = await registryLedgerFixture();
  const round = async () => {
    const { requests, reads, writes, endorsements: ends } = await batchOf(w, PER_BATCH);
    return {
      openMany: await w.ledger.connect(w.srcProxy.wallet).openMany(requests),
      reads: await w.ledger.connect(w.srcProxy.wallet).recordResults(reads),
      writes: await w.ledger.connect(w.tgtProxy.wallet).recordResults(writes),
      endorse: await w.ledger.connect(w.auditors[0]!.wallet).endorseMany(ends),
      confirm: await w.ledger.connect(w.auditors[1]!.wallet).endorseMany(ends),
    };
  };
  await round(); // warm-up: the pipe's copy and the credit records exist, as in steady state
  const txs = await round();
  const only = process.env.LINES_ONLY?.split(",");
  let all = 0;
  for (const [name, tx] of Object.entries(txs)) {
    const receipt = await tx.wait();
    const gas = Number(receipt!.gasUsed);
    all += gas;
    if (only && !only.includes(name)) continue;
    const { lines, total } = await gasByLine(tx.hash);
    const title = `${name}: ${gas} gas, ${(gas / PER_BATCH).toFixed(0)} a transaction (execution ${total})`;
    printTop(title, lines, PER_BATCH, Number(process.env.LINES_TOP ?? 30));
  }
  console.log(`two-step transaction amortised over ${PER_BATCH}: ${(all / PER_BATCH).toFixed(0)} gas`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
