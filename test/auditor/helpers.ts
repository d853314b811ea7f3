import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BaseContract } from "ethers";
import type { Address, PublicClient } from "viem";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import {
  AuditorQueries,
  CONTRACT_KEYS,
  GovernanceIndexer,
  IndexStore,
  SubchainReader,
  type ContractKey,
} from "../../auditor/src";
import {
  buildWorld,
  populate,
  startSubchain,
  stopSubchain,
  subchainClient,
  type Population,
  type Subchain,
  type World,
} from "./world";

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

/** The same, from the index (a batch log's records, one row each, are one log). */
export function indexedLogs(db: { prepare(sql: string): { all(): unknown[] } }): string[] {
  return (
    db.prepare("SELECT DISTINCT block, log_index, tx_hash FROM events ORDER BY block, log_index").all() as Array<{
      block: number;
      log_index: number;
      tx_hash: string;
    }>
  ).map((r) => `${r.block}:${r.log_index}:${r.tx_hash}`);
}

/** Two sub-chains, a populated consortium on Hardhat's network, and its index, synced, with queries over it. */
export interface IndexedConsortium {
  a: Subchain;
  b: Subchain;
  w: World;
  p: Population;
  db: { dir: string; path: string };
  store: IndexStore;
  queries: AuditorQueries;
  /** The populated consortium as a Hardhat fixture: `loadFixture(fixture)` undoes what a test changed on chain. */
  fixture: () => Promise<{ world: World; population: Population }>;
  close(): Promise<void>;
}

export async function indexedConsortium(
  tag: string,
  [aChainId, bChainId]: [number, number],
): Promise<IndexedConsortium> {
  const [a, b] = await Promise.all([startSubchain("a", aChainId), startSubchain("b", bChainId)]);
  const fixture = async () => {
    const world = await buildWorld(a, b);
    return { world, population: await populate(world) };
  };
  const { world: w, population: p } = await loadFixture(fixture);
  const db = tempDb(tag);
  const store = IndexStore.open({ path: db.path });
  await (
    await GovernanceIndexer.create({
      client: w.client,
      store,
      contracts: await contractsOf(w.c),
      confirmations: 0,
      pollIntervalMs: 10,
    })
  ).sync();
  const reader = new SubchainReader(
    new Map([
      [aChainId, subchainClient(a)],
      [bChainId, subchainClient(b)],
    ]),
  );
  const queries = new AuditorQueries({ store, reader, ledger: w.c.ledger });
  return {
    a,
    b,
    w,
    p,
    db,
    store,
    queries,
    fixture,
    async close() {
      store.close();
      rmSync(db.dir, { recursive: true, force: true });
      await Promise.all([stopSubchain(a), stopSubchain(b)]);
    },
  };
}
