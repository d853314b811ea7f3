/**
 * The auditor's index at scale (perf, printed only):
 *
 * 1. Synthetic events: `AUDITOR_BENCH_EVENTS` (default 1,000,000) decoded governance events, shaped as the indexer
 *    writes them (ledger lifecycles, credit reports, packets with their signers, service heartbeats), committed
 *    through the indexer's write path (`IndexStore.commit`, 1,000 blocks a commit); then trace-by-id, a list and
 *    the anomaly report are timed at that size. Target: a trace under 10 ms at 1,000,000 events.
 * 2. Real events: a governance chain in an anvil process (the whole consortium deployed by `deployGovernance`, a pipe
 *    between two institutions whose sub-chains are two more anvil processes), `AUDITOR_BENCH_REAL_TXS` (default 100)
 *    cross-chain transactions run through the real ledger (open with signed packets, write on the target gateway,
 *    record, two endorsements), then `AUDITOR_BENCH_SCAN_EVENTS` (default 30,000) service heartbeats, 100 a block.
 *    The indexer reads it all over JSON-RPC. For sampled transactions, the trace from the index is timed against a
 *    plain `eth_getLogs` scan of the node giving the same answer (the ledger's logs with the transaction id as
 *    topic 1, the credit contract's logs from the open's block kept by their reports' id (one log a call, its
 *    reports packed), the opening transaction's calldata and its two signers
 *    recovered), and the answers are compared. The scan is timed over the blocks before the heartbeats and over the
 *    whole chain: the two points fit a line (fixed cost + cost per event on the chain), extrapolated to the synthetic
 *    size and labelled so.
 */
import { rmSync, statSync } from "node:fs";
import type { Address, Hex, PublicClient } from "viem";
import {
  EventDecoder,
  GovernanceIndexer,
  IndexStore,
  PacketRecovery,
  governanceAbis,
  traceTransaction,
  type EventRow,
  type IndexedBlock,
  type JsonValue,
} from "../auditor/src";
import { listTransactions } from "../auditor/src/list";
import { findAnomalies } from "../auditor/src/anomalies";
import { startAnvil } from "../scripts/lib/anvil";
import { contractsOf, tempDb } from "../test/auditor/helpers";
import {
  buildWorld,
  confirm,
  depositPayload,
  execute,
  nodeChain,
  open,
  record,
  startSubchain,
  stopSubchain,
  type World,
} from "../test/auditor/world";
import type { BenchModule, Reporter } from "./lib/report";

const REAL_TXS = Number(process.env.AUDITOR_BENCH_REAL_TXS ?? 100);
const FILLER_EVENTS = Number(process.env.AUDITOR_BENCH_SCAN_EVENTS ?? 30_000);
const FILLER_PER_BLOCK = 100;
const SYNTHETIC_EVENTS = Number(process.env.AUDITOR_BENCH_EVENTS ?? 1_000_000);
const BLOCKS_PER_COMMIT = 1_000;
const SAMPLES = 1_000;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function timed<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const value = fn();
  return [value, performance.now() - start];
}

// ---------------------------------------------------------------- synthetic events

/** 32 pseudo-random bytes from a counter (cheap, deterministic, spread like real ids). */
function hex32(n: number, salt: number): Hex {
  let out = "0x";
  let x = (n * 0x9e3779b1 + salt * 0x85ebca6b) >>> 0;
  for (let i = 0; i < 8; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += x.toString(16).padStart(8, "0");
  }
  return out as Hex;
}

const address = (n: number): Address => `0x${hex32(n, 7).slice(2, 42)}` as Address;

type Add = (
  contract: string,
  address: Address,
  event: string,
  args: Record<string, JsonValue>,
  cols?: Partial<EventRow>,
) => void;

interface InFlight {
  n: number;
  id: Hex;
  pipe: number;
  stage: number;
}

/** Builds blocks of realistic decoded rows: ~10 events a block (a heartbeat, an opening, two lifecycles moving on). */
export class Synthesizer {
  private _block = 0;
  private _tx = 0;
  private readonly _flight: InFlight[] = [];
  private readonly _ledger = address(1);
  private readonly _credit = address(2);
  private readonly _services = address(3);
  readonly opened: Hex[] = [];

  next(): IndexedBlock {
    const height = ++this._block;
    const block: IndexedBlock = {
      height,
      hash: hex32(height, 1),
      timestamp: 1_700_000_000 + height * 2,
      events: [],
      packets: [],
    };
    const add: Add = (contract, address, event, args, cols = {}) =>
      block.events.push({
        block: height,
        logIndex: block.events.length,
        txHash: hex32(height * 16 + block.events.length, 2),
        blockHash: block.hash,
        timestamp: block.timestamp,
        contract,
        address,
        event,
        args,
        txId: null,
        pipeId: null,
        institution: null,
        account: null,
        state: null,
        ...cols,
      });
    const svc = height % 40;
    add(
      "services",
      this._services,
      "ServiceHeartbeat",
      { serviceId: hex32(svc, 3), signer: address(100 + svc), at: block.timestamp },
      { account: address(100 + svc) },
    );
    this._open(block, add);
    for (const t of this._flight.splice(0, 2)) if (this._advance(t, add)) this._flight.push(t);
    return block;
  }

  private _open(block: IndexedBlock, add: Add): void {
    const t: InFlight = { n: ++this._tx, id: hex32(this._tx, 4), pipe: this._tx % 50, stage: 0 };
    const pipeId = hex32(t.pipe, 5);
    const sequence = String(t.n);
    add(
      "ledger",
      this._ledger,
      "PacketAccepted",
      { txId: t.id, pipeId, sequence, packetHash: hex32(t.n, 6), operation: 1, selector: "0x2f0c7b1a" },
      { txId: t.id, pipeId },
    );
    add(
      "ledger",
      this._ledger,
      "TxOpened",
      {
        txId: t.id,
        pipeId,
        opener: address(200 + t.pipe),
        number: sequence,
        deadline: String(block.timestamp + 1800),
        stepCount: 1,
        steps: 3,
      },
      { txId: t.id, pipeId, account: address(200 + t.pipe), state: 1 },
    );
    block.packets.push({
      block: block.height,
      logIndex: block.events.length - 1,
      position: 0,
      kind: "open",
      txId: t.id,
      pipeId,
      sequence,
      packetHash: hex32(t.n, 6),
      packet: { pipeId, txId: t.id, sequence, signer: address(300 + t.pipe), operation: 1 },
      appSignature: `0x${"ab".repeat(65)}`,
      proxySignature: `0x${"cd".repeat(65)}`,
      declaredSigner: address(300 + t.pipe),
      appSigner: address(300 + t.pipe),
      proxyClaimed: address(200 + t.pipe),
      proxySigner: address(200 + t.pipe),
      problem: null,
    });
    this._flight.push(t);
    this.opened.push(t.id);
  }

  /** Moves a transaction one stage on; false once it is finished. */
  private _advance(t: InFlight, add: Add): boolean {
    const cols = { txId: t.id, pipeId: hex32(t.pipe, 5) };
    const moved = (from: number, to: number, actor: Address) =>
      add(
        "ledger",
        this._ledger,
        "TxTransitioned",
        { txId: t.id, actor, to, from, reason: to === 5 ? 1 : 0 },
        { ...cols, account: actor, state: to },
      );
    const credit = (institution: number, outcome: number, delta: number) =>
      add(
        "credit",
        this._credit,
        "OutcomeReported",
        { institution, outcome, txId: t.id, delta: String(delta), score: String(1000 + delta), reporter: this._ledger },
        { txId: t.id, institution, account: this._ledger },
      );
    t.stage += 1;
    if (t.stage === 1) {
      const ok = t.n % 10 !== 0;
      add(
        "ledger",
        this._ledger,
        "ResultRecorded",
        {
          txId: t.id,
          step: 0,
          to: ok ? 3 : 0, // Executed, through Executing (a failure moves by TxTransitioned)
          recorder: address(400 + t.pipe),
          subchain: hex32(t.pipe, 8),
          subchainTx: hex32(t.n, 9),
          blockNumber: String(t.n),
          resultHash: hex32(t.n, 10),
          operation: 1,
          success: ok,
          stateVersion: "1",
          resultSetHash: hex32(t.n, 11),
        },
        { ...cols, account: address(400 + t.pipe), state: ok ? 3 : null },
      );
      if (!ok) moved(1, 5, address(400 + t.pipe));
      if (!ok) credit(4 + (t.pipe % 20), 1, -20);
      return ok;
    }
    const verifier = address(t.stage === 2 ? 500 : 501);
    add(
      "ledger",
      this._ledger,
      "Endorsed",
      {
        txId: t.id,
        verifier,
        to: t.stage === 2 ? 0 : 4, // the second confirms
        resultSetHash: hex32(t.n, 11),
        weight: t.stage === 2 ? 2 : 1,
        weightFor: t.stage === 2 ? 2 : 3,
        totalWeight: 4,
      },
      { ...cols, account: verifier, state: t.stage === 2 ? null : 4 },
    );
    if (t.stage === 2) return true;
    credit(4 + (t.pipe % 20), 0, 1);
    credit(24 + (t.pipe % 20), 0, 1);
    return false;
  }
}

async function synthetic(report: Reporter): Promise<{ traceP50: number }> {
  report.section(
    `auditor: ${SYNTHETIC_EVENTS.toLocaleString("en-US")} synthetic events through the indexer's write path`,
  );
  const db = tempDb("bench-auditor");
  const store = IndexStore.open({ path: db.path });
  try {
    const synth = new Synthesizer();
    let events = 0;
    let commitMs = 0;
    const wall = performance.now();
    while (events < SYNTHETIC_EVENTS) {
      const blocks: IndexedBlock[] = [];
      for (let i = 0; i < BLOCKS_PER_COMMIT && events < SYNTHETIC_EVENTS; i++) {
        const b = synth.next();
        events += b.events.length;
        blocks.push(b);
      }
      commitMs += timed(() => store.commit(blocks))[1];
    }
    const wallMs = performance.now() - wall;
    report.figure("events indexed", events, "events");
    report.figure(
      `write path (rows, projections, checkpoint; a commit per ${BLOCKS_PER_COMMIT} blocks)`,
      (events * 1000) / commitMs,
      "events/s",
    );
    report.figure("end to end, generating the rows included", (events * 1000) / wallMs, "events/s");
    report.figure("index file (without WAL)", statSync(db.path).size / 1e6, "MB");
    const finished = synth.opened.slice(0, -100);
    const sample = Array.from(
      { length: SAMPLES },
      (_, i) => finished[Math.floor(((i * 7919) % SAMPLES) * (finished.length / SAMPLES))]!,
    );
    const latencies = sample.map((id) => timed(() => traceTransaction(store, id))[1]);
    report.figure(
      `trace by id at ${events.toLocaleString("en-US")} events, p50 (${SAMPLES} ids)`,
      percentile(latencies, 50),
      "ms",
    );
    report.figure("trace by id, p95", percentile(latencies, 95), "ms");
    report.figure("trace by id, p99", percentile(latencies, 99), "ms");
    report.figure("trace by id, max", Math.max(...latencies), "ms");
    report.figure("trace target", "10", "ms");
    report.figure(
      "list 100 transactions of an institution",
      timed(() => listTransactions(store, { institution: 7, limit: 100 }))[1],
      "ms",
    );
    report.figure(
      "anomaly report over the whole index",
      timed(() => findAnomalies(store, { now: 1_700_000_000 + 2 * synth.opened.length }))[1],
      "ms",
    );
    return { traceP50: percentile(latencies, 50) };
  } finally {
    store.close();
    rmSync(db.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- real events, trace against an eth_getLogs scan

interface RawLog {
  blockNumber: Hex;
  logIndex: Hex;
  transactionHash: Hex;
  blockHash: Hex;
  address: Address;
  topics: Hex[];
  data: Hex;
}

/** What an auditor without the index does for one transaction: scan the node's logs, decode, recover the signers. */
async function scanTrace(
  client: PublicClient,
  decoder: EventDecoder,
  packets: PacketRecovery,
  ledger: Address,
  credit: Address,
  txId: Hex,
  head: bigint,
): Promise<string[]> {
  const getLogs = (filter: { address: Address; topics: (Hex | null)[] }, fromBlock: Hex = "0x0") =>
    client.request({
      method: "eth_getLogs",
      params: [{ ...filter, fromBlock, toBlock: `0x${head.toString(16)}` }],
    } as never) as Promise<RawLog[]>;
  const decode = (logs: RawLog[]) =>
    logs.flatMap((l) =>
      decoder.decodeAll({ ...l, blockNumber: BigInt(l.blockNumber), logIndex: Number(l.logIndex) }, 0),
    );
  const ledgerLogs = await getLogs({ address: ledger, topics: [null, txId] });
  // The credit contract's reports come in one batch log a call: asked from the open's block, kept by their txId.
  const from = ledgerLogs.reduce((lo, l) => (BigInt(l.blockNumber) < lo ? BigInt(l.blockNumber) : lo), head);
  const creditLogs = await getLogs({ address: credit, topics: [] }, `0x${from.toString(16)}`);
  const creditRows = decode(creditLogs).filter((r) => r.txId === txId.toLowerCase());
  const rows = [...decode(ledgerLogs), ...creditRows];
  const opened = rows.find((r) => r.event === "TxOpened")!;
  const { input } = await client.getTransaction({ hash: opened.txHash });
  const recovered = await packets.opened(opened, input);
  if ("note" in recovered) throw new Error(`scan: ${recovered.note}`);
  return [
    ...rows.map((r) => `${r.block}:${r.logIndex}:${r.event}`).sort(),
    ...recovered.packets.map((p) => `${p.appSigner}/${p.proxySigner}`),
  ];
}

interface Scanned {
  scanMs: number[];
  traceMs: number[];
}

/**
 * The same transactions traced from the index and by scanning the node, first over the blocks holding only them,
 * then over the whole chain (after the heartbeats): two points of a linear fit of the scan's cost.
 */
async function compare(
  report: Reporter,
  o: { w: World; store: IndexStore; contracts: Record<string, Address>; small: bigint; head: bigint; events: number },
  traceP50AtScale: number,
): Promise<void> {
  const abis = governanceAbis();
  const ctx = {
    client: o.w.client,
    store: o.store,
    decoder: new EventDecoder(o.contracts, abis),
    packets: new PacketRecovery(abis.ledger, o.w.domain),
    contracts: o.contracts,
  };
  const ids = (o.store.db.prepare("SELECT tx_id FROM transactions ORDER BY number").all() as Array<{ tx_id: Hex }>).map(
    (r) => r.tx_id,
  );
  const sample = ids.filter((_id, i) => i % Math.max(1, Math.floor(ids.length / 40)) === 0);
  const smallEvents = (
    o.store.db.prepare("SELECT COUNT(*) AS n FROM events WHERE block <= ?").get(Number(o.small)) as { n: number }
  ).n;
  const before = await scanVersusIndex(ctx, sample, o.small);
  const after = await scanVersusIndex(ctx, sample, o.head);
  report.figure(`same answer, index and scan, for ${sample.length} sampled transactions`, "yes");
  report.figure(`trace from the index at ${o.events} events, p50`, percentile(after.traceMs, 50), "ms");
  const [t1, t2] = [percentile(before.scanMs, 50), percentile(after.scanMs, 50)];
  report.figure(`eth_getLogs scan over ${o.small} blocks (${smallEvents} events), p50`, t1, "ms");
  report.figure(`eth_getLogs scan over ${o.head} blocks (${o.events} events), p50`, t2, "ms");
  const perEvent = Math.max(0, (t2 - t1) / (o.events - smallEvents));
  report.figure("scan cost per 1,000 more events on the chain (fitted)", perEvent * 1000, "ms");
  const extrapolated = t2 + perEvent * (SYNTHETIC_EVENTS - o.events);
  report.figure(
    `eth_getLogs scan EXTRAPOLATED (linear fit) to ${SYNTHETIC_EVENTS.toLocaleString("en-US")} events`,
    extrapolated,
    "ms",
  );
  report.figure(
    `trace from the index at ${SYNTHETIC_EVENTS.toLocaleString("en-US")} events (measured above), p50`,
    traceP50AtScale,
    "ms",
  );
  report.figure("extrapolated scan / index trace", extrapolated / traceP50AtScale, "x");
}

/** Times the scan and the index for each id, over the node's blocks [0, head], and checks they give the same answer. */
async function scanVersusIndex(
  ctx: {
    client: PublicClient;
    store: IndexStore;
    decoder: EventDecoder;
    packets: PacketRecovery;
    contracts: Record<string, Address>;
  },
  ids: Hex[],
  head: bigint,
): Promise<Scanned> {
  const out: Scanned = { scanMs: [], traceMs: [] };
  for (const id of ids) {
    let t = performance.now();
    const scanned = await scanTrace(
      ctx.client,
      ctx.decoder,
      ctx.packets,
      ctx.contracts.ledger!,
      ctx.contracts.credit!,
      id,
      head,
    );
    out.scanMs.push(performance.now() - t);
    t = performance.now();
    const trace = traceTransaction(ctx.store, id)!;
    out.traceMs.push(performance.now() - t);
    const events = ctx.store
      .eventsWhere("tx_id = ?", [id])
      .map((e) => `${e.block}:${e.logIndex}:${e.event}`)
      .sort();
    const indexed = [...events, ...trace.packets.map((p) => `${p.appSigner}/${p.proxySigner}`)];
    if (JSON.stringify(indexed) !== JSON.stringify(scanned))
      throw new Error(`trace of ${id}: the index and the scan disagree\n${indexed.join(" ")}\n${scanned.join(" ")}`);
  }
  return out;
}

/**
 * Grows the node by `count` real governance events after the transactions: service heartbeats of both proxies,
 * `FILLER_PER_BLOCK` to a block (automine off, signed locally with consecutive nonces, then one block mined).
 */
async function heartbeats(w: World, count: number): Promise<void> {
  const send = (method: string, params: unknown[]) => w.chain.send(method, params);
  const signers = [w.source, w.target].map((p) => ({ key: p.proxy.wallet, service: p.service }));
  const nonces = await Promise.all(signers.map((s) => w.chain.provider.getTransactionCount(s.key.address)));
  const fee = await w.chain.provider.getFeeData();
  const services = w.c.services;
  await send("evm_setAutomine", [false]);
  try {
    for (let sent = 0; sent < count;) {
      const batch: Promise<unknown>[] = [];
      for (let i = 0; i < FILLER_PER_BLOCK && sent < count; i++, sent++) {
        const k = sent % 2;
        const data = services.interface.encodeFunctionData("heartbeat", [signers[k]!.service]);
        const raw = await signers[k]!.key.signTransaction({
          to: await services.getAddress(),
          data,
          nonce: nonces[k]!++,
          gasLimit: 120_000n,
          chainId: w.chain.chainId,
          maxFeePerGas: fee.maxFeePerGas! * 2n,
          maxPriorityFeePerGas: fee.maxPriorityFeePerGas!,
          type: 2,
        });
        batch.push(send("eth_sendRawTransaction", [raw]));
      }
      await Promise.all(batch);
      await send("evm_mine", []);
    }
  } finally {
    await send("evm_setAutomine", [true]);
  }
}

async function real(report: Reporter, traceP50AtScale: number): Promise<void> {
  report.section(`auditor: ${REAL_TXS} real transactions on a governance node (anvil), trace vs eth_getLogs scan`);
  const gov = await startAnvil({ name: "governance", chainId: 7331 });
  const [a, b] = await Promise.all([startSubchain("a", 7332), startSubchain("b", 7333)]);
  const chain = await nodeChain(gov.url);
  const db = tempDb("bench-auditor-real");
  const store = IndexStore.open({ path: db.path });
  try {
    const w = await buildWorld(a, b, chain);
    const start = performance.now();
    for (let i = 0; i < REAL_TXS; i++) {
      const o = await open(w, [depositPayload(`bench-${i}`)]);
      await record(w, o, await execute(w, o, 0));
      await confirm(w, o);
    }
    report.figure(
      "real transactions run (open, write, record, 2 endorsements)",
      (REAL_TXS * 1000) / (performance.now() - start),
      "tx/s",
    );
    const small = BigInt(await chain.provider.getBlockNumber());
    await heartbeats(w, FILLER_EVENTS);
    const contracts = await contractsOf(w.c);
    const indexStart = performance.now();
    const indexer = await GovernanceIndexer.create({
      client: chain.client,
      store,
      contracts,
      confirmations: 0,
      pollIntervalMs: 10,
    });
    const { events } = await indexer.sync();
    const head = BigInt(await chain.provider.getBlockNumber());
    report.figure(
      `indexer over JSON-RPC, signers recovered (${events} events, ${head} blocks)`,
      (events * 1000) / (performance.now() - indexStart),
      "events/s",
    );
    await compare(report, { w, store, contracts, small, head, events }, traceP50AtScale);
  } finally {
    store.close();
    rmSync(db.dir, { recursive: true, force: true });
    chain.provider.destroy();
    await Promise.all([stopSubchain(a), stopSubchain(b), gov.stop()]);
  }
}

export const auditorBench: BenchModule = {
  name: "auditor",
  kind: "perf",
  async run(report) {
    const { traceP50 } = await synthetic(report);
    if (REAL_TXS > 0) await real(report, traceP50);
  },
};
