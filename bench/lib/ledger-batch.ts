/**
 * The inputs of one round of the ledger's batched calls: `n` two-step transactions (source read -> dependent target
 * write), each one signed packet, with the results of both steps and the endorsement of their result set. The gas
 * bench (`BENCH_ONLY=ledger`) measures the round and `npm run gas:lines` traces it, from the same batch.
 */
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { Hex } from "viem";
import { resultSetHash } from "../../lib/domain/ledger-types";
import { makePacket, readThenWrite, result, sign, type LedgerWorld } from "../../test/transactions/fixtures";

/** Transactions in a batched round, in the bench and in the trace alike. */
export const PER_BATCH = 16;

export async function batchOf(w: LedgerWorld, n: number = PER_BATCH) {
  const steps = readThenWrite();
  const requests = [];
  for (let i = 0; i < n; i++) {
    const signed = await sign(w, await makePacket(w));
    requests.push({ packets: [signed], steps, deadline: BigInt(await time.latest()) + 1800n });
  }
  const opened = requests.map((r) => ({ txId: r.packets[0]!.packet.txId as Hex, steps }));
  const reads = opened.map((o) => result(o, 0, { stateVersion: 9n }));
  const writes = opened.map((o) => result(o, 1, { stateVersion: 9n }));
  const endorsements = opened.map((o, i) => ({ txId: o.txId, resultSetHash: resultSetHash([reads[i]!, writes[i]!]) }));
  return { requests, opened, reads, writes, endorsements };
}
