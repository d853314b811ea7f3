import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BaseContract } from "ethers";
import type { Address, PublicClient } from "viem";
import { CONTRACT_KEYS, type ContractKey } from "../../../audit/src/queries";

/** A fresh index path in its own temporary folder. */
export function tempDb(tag = "auditor"): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), `ccgp-${tag}-`));
  return { dir, path: join(dir, "index.sqlite") };
}

/** The governance contracts' addresses, by the auditor's keys. */
export async function contractsOf(c: Record<ContractKey, BaseContract>): Promise<Record<ContractKey, Address>> {
  const out = {} as Record<ContractKey, Address>;
  for (const k of CONTRACT_KEYS) out[k] = (await c[k].getAddress()) as Address;
  return out;
}

/** What the chain itself holds: every log of `addresses` up to `toBlock`, as "block:logIndex:txHash". */
export async function chainLogs(client: PublicClient, addresses: Address[], toBlock: bigint): Promise<string[]> {
  const logs = await client.getLogs({ address: addresses, fromBlock: 0n, toBlock });
  return logs.map((l) => `${l.blockNumber}:${l.logIndex}:${l.transactionHash}`);
}

/** The same, from the index. */
export function indexedLogs(db: { prepare(sql: string): { all(): unknown[] } }): string[] {
  return (db.prepare("SELECT block, log_index, tx_hash FROM events ORDER BY block, log_index").all() as Array<{ block: number; log_index: number; tx_hash: string }>).map(
    (r) => `${r.block}:${r.log_index}:${r.tx_hash}`,
  );
}
