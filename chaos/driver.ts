/**
 * Drives a chaos run's transactions through the real intakes and the business contracts, tracks each to a final state
 * on the ledger, applies the faults that act on chains (reorgs), and checks the ledger against both sub-chains. Custody
 * writes (compensation mode) go both ways, A -> B and B -> A, app-initiated and chain-initiated; beside them it sends
 * two-phase asset transfers (a debit prepared on A, a credit on B, then both committed): ones that commit, ones B
 * refuses (A's prepared debit rolled back) and ones that expire.
 */
import { readFileSync } from "node:fs";
import { Contract, JsonRpcProvider, Wallet, ZeroAddress, hexlify, id, randomBytes, type Signer } from "ethers";
import { encodePacket, toWire, type SignedPacket } from "../lib/amdp";
import { boundTxId, planOf } from "../lib/domain/plan";
import type { LocalAccount } from "viem";
import type { LocalConsortium, PipeInfo, SideKey } from "../scripts/lib/local-consortium";
import { appAccount, nextSequence, signCustodyRequest, TX_STATES } from "../scripts/lib/local/scenario";
import { newAccount, signTransfer } from "../scripts/lib/local/transfer";
import {
  AssetLedger__factory,
  DrugTraceability__factory,
  SubchainGateway__factory,
  TransactionLedger__factory,
} from "../typechain-types";
import type { Cluster } from "./cluster";
import { fuzz, type FuzzResult } from "./fuzz";
import type { Rng } from "./rng";

export type Kind = "success" | "compensate" | "expire" | "chain" | "transfer" | "transfer-refused" | "transfer-expire";
/** A two-phase transfer's accounts: a debit of `amount` from `from` on A, a credit to `to` on B. */
export interface Transfer {
  from: string;
  to: string;
  amount: bigint;
}
export interface Tracked {
  txId: string;
  kind: Kind;
  /** The side that initiated it (its pipe's source). */
  from: SideKey;
  transfer?: Transfer;
  acceptedAt: number;
  state: string;
  /** When it was first seen in a final state (ms since the epoch). */
  finalAt?: number;
}

export interface OverloadResult {
  sent: number;
  accepted: number;
  refused429: number;
  withRetryAfter: number;
  /**
   * REPLAY: a pre-signed request overtaken by a higher sequence of the same burst, journaled first (the requests run
   * concurrently). The intake checks the rate limits before the sequence, so these passed the limit, then were refused
   * on their sequence, whatever the load: not a refusal of the overload.
   */
  overtaken: number;
  /** Other refusals by code (none expected). */
  otherRefusals: Record<string, number>;
  /** Requests that reached the rate limit's turn: sent, less the other refusals. */
  reachedLimit: number;
  /** Rate of sending, over the burst's own window (first to last send). */
  ratePerSecond: number;
  /**
   * Accepted per second, from the first send to the last acceptance (a request is admitted after its checks, so
   * later than it is sent): at most the limit, plus its burst spread over that window, if the limit holds.
   */
  acceptedPerSecond: number;
  /** The most the limit admits in that window: the rate over the window plus the burst (the bucket's capacity). */
  limitAdmits: number;
  limitPerSecond: number;
}

export interface Duplicates {
  executions: number;
  results: number;
  endorsements: number;
  doneAndCompensated: number;
}

/** What the sub-chains hold of the two-phase transfers against their ledger states. */
export interface TwoPhaseCheck {
  checked: number;
  /** Committed on both sides with both balances moved once (and no lock left): every Confirmed transfer. */
  committed: number;
  /** Nothing committed on either side, both balances as before, no lock left: every transfer not Confirmed. */
  undone: number;
  /** Transfers that are neither (named with what is wrong): a failure of the run. */
  wrong: string[];
}

/** Issued to each transfer's payer on A; each transfer moves `TRANSFER_AMOUNT` of it. */
const TRANSFER_ISSUED = 100n;
const TRANSFER_AMOUNT = 25n;
const NO_LOCK = `0x${"00".repeat(32)}`;
/** `ISubchainGateway.TwoPhaseStatus`: 2 committed. */
const COMMITTED = 2;

/** States a transaction reaches by itself and stays in. Manual is not one: it waits for a person. */
export const FINAL = new Set(["Confirmed", "Compensated", "Expired", "Failed", "Resolved"]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface Postable {
  status: number;
  retryAfter: number;
  code: string;
}

async function post(url: string, body: string): Promise<Postable> {
  try {
    const res = await fetch(`${url}/v1/requests`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    const json = (await res.json().catch(() => ({}))) as { code?: string };
    return { status: res.status, retryAfter: Number(res.headers.get("retry-after") ?? 0), code: json.code ?? "" };
  } catch {
    return { status: 0, retryAfter: 0, code: "TRANSPORT" };
  }
}

/** Milliseconds spent, summed over the drive's workers. */
export interface DriveProfile {
  /** Signing app requests (EIP-712, twice for a request with a source step). */
  sign: number;
  /** Mining a batch of its own on A for a request whose source step is undone. */
  ownBatch: number;
  /** Posts to the intake that got an answer (accepted, or a refusal to act on). */
  post: number;
  /** Waiting on an intake that was down, busy (429) or not ready (5xx): a relayer killed and restarting. */
  intakeDown: number;
  /** Posts refused REPLAY (a chain-initiated request took the sequence) and re-signed. */
  replays: number;
  /** Chain-initiated requests: sent and mined on A. */
  chainRequest: number;
}

/** Runs tasks one at a time, in the order they ask. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** One initiating side: its pipe to the other, its app's intake and key, its operator on its own sub-chain. */
interface Lane {
  key: SideKey;
  pipe: PipeInfo;
  intake: string;
  /** The next sequence of its pipe. */
  sequence: bigint;
  /** Its app requests are signed and posted one at a time: each takes the next sequence, so none overtakes another. */
  posting: Serial;
  /** Its operator's transactions are sent one at a time (each takes the next nonce); receipts are awaited apart. */
  sending: Serial;
  operator: Signer;
  app: LocalAccount;
  /** The batch its custody writes continue (recorded on its own sub-chain at the start). */
  batchId: string;
}

/** The byKind key of a transaction: B-initiated ones apart. */
const kindName = (t: Pick<Tracked, "kind" | "from">): string => (t.from === "b" ? `${t.kind} (B -> A)` : t.kind);

export class Driver {
  readonly tracked = new Map<string, Tracked>();
  readonly gov: JsonRpcProvider;
  readonly subA: JsonRpcProvider;
  readonly subB: JsonRpcProvider;
  private readonly ledger: Contract;
  /** The next sequence of the assets pipe (two-phase transfers). */
  private assetSequence = 0n;
  private readonly dataHash = id("chaos-data");
  private readonly lanes = {} as Record<SideKey, Lane>;
  /** Called once, right after the next app request is posted (while the relayer handles it). */
  private _onPosted: (() => void) | undefined;
  /** Short-deadline requests refused DEADLINE_PASSED before any intake took them (never accepted, not tracked). */
  deadlineBeforeAcceptance = 0;
  /** Requests of the run sent so far (accepted by the intake, or mined on A for chain-initiated ones). */
  submitted = 0;
  /** The drive sends request i only once i is below this (the faults keep pace with the transactions). */
  allowed: () => number = () => Infinity;
  /** Where the drive's time goes, in ms summed over the workers: see {@link DriveProfile}. */
  readonly profile: DriveProfile = { sign: 0, ownBatch: 0, post: 0, intakeDown: 0, replays: 0, chainRequest: 0 };
  /** The assets pipe's requests are posted one at a time too (its own sequence). */
  private readonly postingAssets = new Serial();

  constructor(
    private readonly c: LocalConsortium,
    private readonly rng: Rng,
    private readonly log: (line: string) => void,
    private readonly limitPerSecond: number,
    /** The limit's burst (bucket capacity): the local relayer configs take twice the rate. */
    private readonly limitBurst = limitPerSecond * 2,
  ) {
    const p = (url: string) => new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    this.gov = p(c.chains.governance.url);
    this.subA = p(c.chains.a.url);
    this.subB = p(c.chains.b.url);
    this.ledger = TransactionLedger__factory.connect(c.governance.ledger, this.gov) as unknown as Contract;
  }

  async prepare(): Promise<void> {
    for (const key of ["a", "b"] as const) {
      const pipe = key === "a" ? this.c.pipes.aToB : this.c.pipes.bToA;
      const side = this.c.business[key];
      const wallet = Wallet.fromEncryptedJsonSync(
        readFileSync(side.accounts.operator.keystore, "utf8"),
        this.c.password,
      );
      const lane: Lane = {
        key,
        pipe,
        intake: `http://127.0.0.1:${side.ports.app}`,
        sequence: await nextSequence(this.c, pipe),
        posting: new Serial(),
        sending: new Serial(),
        operator: wallet.connect(key === "a" ? this.subA : this.subB),
        app: await appAccount(this.c, pipe),
        batchId: id(`chaos:${key}:${hexlify(randomBytes(8))}`),
      };
      this.lanes[key] = lane;
      const drug = DrugTraceability__factory.connect(side.contracts.drugTraceability, lane.operator);
      await this.mineOn(lane, "recordBatch", () =>
        drug.recordBatch(lane.batchId, side.accounts.operator.address, this.dataHash),
      );
    }
    this.assetSequence = await nextSequence(this.c, this.assetsPipe);
  }

  private get assetsPipe() {
    if (this.c.pipes.assets === undefined) throw new Error("the chaos consortium has no assets pipe");
    return this.c.pipes.assets;
  }

  /** The next app request posted to A's intake runs `fn` while it is in flight (a kill during intake). */
  onNextPost(fn: () => void): void {
    this._onPosted = fn;
  }

  /**
   * A batch of its own on A for a transaction whose source step must be undone: the business contract undoes only
   * a batch's last custody step, so compensations sharing one batch would refuse each other (and go to Manual).
   */
  private async ownBatch(lane: Lane): Promise<string> {
    const batchId = id(`chaos:own:${hexlify(randomBytes(8))}`);
    const side = this.c.business[lane.key];
    const drug = DrugTraceability__factory.connect(side.contracts.drugTraceability, lane.operator);
    const address = side.accounts.operator.address;
    await this.mineOn(lane, "recordBatch", () => drug.recordBatch(batchId, address, this.dataHash));
    return batchId;
  }

  private async signed(
    kind: Kind,
    lane: Lane,
    ttlSeconds = 600,
    own?: string,
  ): Promise<{ body: string; txId: string }> {
    const { pipe, app } = lane;
    const source = this.c.business[lane.key];
    const custodian = kind === "compensate" ? ZeroAddress : this.c.business[pipe.target].accounts.operator.address;
    const batchId = kind === "compensate" ? (own ?? (await this.ownBatch(lane))) : lane.batchId;
    const request = { pipe, batchId, custodian, dataHash: this.dataHash, ttlSeconds };
    const s = await signCustodyRequest(this.c, app, { ...request, sequence: lane.sequence++ });
    if (kind !== "compensate") return { body: encodePacket(s), txId: s.packet.txId };
    // A source step on the initiator's sub-chain (a custody write there) that must be undone when the target's reverts.
    const drug = DrugTraceability__factory.createInterface();
    const data = drug.encodeFunctionData("continueCustody", [batchId, source.accounts.operator.address, this.dataHash]);
    const steps = [
      { side: "source", operation: "write", contract: source.contracts.names.drugTraceability, data },
      { side: "target" },
    ];
    const salt = hexlify(randomBytes(32));
    const packet = { ...s.packet, txId: boundTxId(salt as `0x${string}`, planOf(s.packet, s.payload, steps).steps) };
    const again: SignedPacket = await signCustodyRequest(this.c, app, {
      ...request,
      sequence: packet.sequence,
      txId: packet.txId,
    });
    return { body: JSON.stringify({ ...toWire(again), steps, salt }), txId: packet.txId };
  }

  private track(txId: string, kind: Kind, from: SideKey, transfer?: Transfer): void {
    if (!this.tracked.has(txId))
      this.tracked.set(txId, {
        txId,
        kind,
        from,
        acceptedAt: Date.now(),
        state: "None",
        ...(transfer ? { transfer } : {}),
      });
  }

  /**
   * Posts one app request until it is accepted (202, or 409 DUPLICATE: accepted before), re-sending it as it is: a
   * post without an answer (the relayer died) is sent again unchanged, as the intake docs ask.
   */
  private async submit(kind: Kind, ttlSeconds?: number, from: SideKey = "a"): Promise<void> {
    const lane = this.lanes[from];
    let t = Date.now();
    /** Adds the time since the last lap to `key` (none: the time is not counted). */
    const lap = (key?: keyof DriveProfile): void => {
      const now = Date.now();
      if (key !== undefined) this.profile[key] += now - t;
      t = now;
    };
    // The slow part of a compensating request (its own batch mined on A) is done before its turn to post.
    const own = kind === "compensate" ? await this.ownBatch(lane) : undefined;
    if (own !== undefined) lap("ownBatch");
    await this.posted(
      lane,
      lane.posting,
      () => this.signed(kind, lane, ttlSeconds, own),
      async () => {
        const opened = await nextSequence(this.c, lane.pipe).catch(() => 0n);
        lane.sequence = opened > lane.sequence ? opened : lane.sequence + BigInt(this.rng.int(1, 3));
      },
      (txId) => this.track(txId, kind, from),
      lap,
      ttlSeconds !== undefined,
    );
  }

  /**
   * A two-phase transfer of `TRANSFER_AMOUNT` from a fresh account on A (issued `TRANSFER_ISSUED` first) to a fresh one
   * on B; "transfer-refused" credits account zero, which B's AssetLedger refuses to stage, so A's prepared debit must
   * be rolled back.
   */
  async transfer(kind: "transfer" | "transfer-refused" | "transfer-expire", ttlSeconds?: number): Promise<void> {
    let t = Date.now();
    /** Adds the time since the last lap to `key` (none: the time is not counted). */
    const lap = (key?: keyof DriveProfile): void => {
      const now = Date.now();
      if (key !== undefined) this.profile[key] += now - t;
      t = now;
    };
    const from = newAccount("chaos-a");
    const to = kind === "transfer-refused" ? NO_LOCK : newAccount("chaos-b");
    const lane = this.lanes.a;
    const assets = AssetLedger__factory.connect(this.c.business.a.contracts.assetLedger!, lane.operator);
    await this.mineOn(lane, "issue", () => assets.issue(from, TRANSFER_ISSUED));
    lap("ownBatch");
    const pipe = this.assetsPipe;
    await this.posted(
      lane,
      this.postingAssets,
      async () => {
        const app = await appAccount(this.c, pipe);
        const { signed, fields } = await signTransfer(this.c, app, {
          from: from as `0x${string}`,
          to: to as `0x${string}`,
          amount: TRANSFER_AMOUNT,
          mode: "two-phase",
          sequence: this.assetSequence++,
          ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
        });
        return { body: JSON.stringify({ ...toWire(signed), ...fields }), txId: signed.packet.txId };
      },
      async () => {
        const opened = await nextSequence(this.c, pipe).catch(() => 0n);
        this.assetSequence = opened > this.assetSequence ? opened : this.assetSequence + BigInt(this.rng.int(1, 3));
      },
      (txId) => this.track(txId, kind, "a", { from, to, amount: TRANSFER_AMOUNT }),
      lap,
      ttlSeconds !== undefined,
    );
  }

  /** One transaction of a side's operator, sent in nonce order and mined, retried while its node is away. */
  private async mineOn(
    lane: Lane,
    what: string,
    send: () => Promise<{ wait(confirms: number, timeout: number): Promise<unknown> }>,
  ) {
    for (let attempt = 0; attempt < 60; attempt++) {
      try {
        const sent = await lane.sending.run(send);
        await sent.wait(1, 60_000);
        return;
      } catch (error) {
        this.log(`${what} failed (${(error as Error).message.slice(0, 80)}); again`);
        await sleep(1_000);
      }
    }
    throw new Error(`${what} never mined`);
  }

  /**
   * Signs and posts one app request in `queue`'s turn until it is accepted (202, or 409 DUPLICATE: accepted before),
   * re-sending it as it is; a REPLAY (the sequence taken) is signed again after `stepSequence`.
   */
  private async posted(
    lane: Lane,
    queue: Serial,
    sign: () => Promise<{ body: string; txId: string }>,
    stepSequence: () => Promise<void>,
    accepted: (txId: string) => void,
    lap: (key?: keyof DriveProfile) => void,
    expiresSoon: boolean,
  ): Promise<void> {
    await queue.run(async () => {
      lap();
      let { body, txId } = await sign();
      lap("sign");
      for (let attempt = 0; attempt < 1200; attempt++) {
        const pending = post(lane.intake, body);
        const hook = lane.key === "a" ? this._onPosted : undefined;
        if (lane.key === "a") this._onPosted = undefined;
        hook?.();
        const answer = await pending;
        if (answer.status === 202 || answer.code === "DUPLICATE") {
          lap("post");
          accepted(txId);
          return;
        }
        if (answer.code === "REPLAY") {
          // A chain-initiated request took the sequence (the relayer numbers those): a fresh packet, never accepted,
          // with a higher one. The ledger's last opened sequence may trail the relayer's, so step up from ours too.
          await stepSequence();
          ({ body, txId } = await sign());
          lap("replays");
          continue;
        }
        if (answer.code === "DEADLINE_PASSED" && expiresSoon) {
          // A short-deadline request the intake could not take in time (its relayer's node cut away): never
          // accepted, so nothing to track; counted apart.
          this.deadlineBeforeAcceptance += 1;
          this.log(`a short-deadline request reached its deadline before it was accepted (${answer.status})`);
          return;
        }
        if (answer.status !== 0 && answer.status !== 429 && answer.status < 500)
          throw new Error(`request refused: ${answer.status} ${answer.code}`);
        await sleep(answer.retryAfter > 0 ? answer.retryAfter * 1000 : 250);
        lap("intakeDown");
      }
      throw new Error(`request ${txId} never accepted`);
    });
  }

  /** A custody transfer requested by the business contract on a side's sub-chain (chain-initiated). */
  private async chainRequest(from: SideKey): Promise<void> {
    const lane = this.lanes[from];
    const drug = DrugTraceability__factory.connect(this.c.business[from].contracts.drugTraceability, lane.operator);
    const t0 = Date.now();
    for (let attempt = 0; attempt < 60; attempt++) {
      try {
        const tx = await lane.sending.run(() =>
          drug.requestCustodyTransfer(
            lane.pipe.id,
            lane.pipe.contractNameHash,
            lane.batchId,
            this.c.business[lane.pipe.target].accounts.operator.address,
            this.dataHash,
          ),
        );
        const receipt = await tx.wait(1, 60_000);
        const parsed = receipt!.logs
          .map((l) => drug.interface.parseLog(l))
          .find((p) => p?.name === "CustodyTransferRequested");
        this.track(parsed!.args.requestId as string, "chain", from);
        this.profile.chainRequest += Date.now() - t0;
        return;
      } catch (error) {
        this.log(`chain request failed (${(error as Error).message.slice(0, 80)}); again`);
        await sleep(1_000);
      }
    }
    throw new Error("chain request never mined");
  }

  /**
   * `n` requests in both initiation modes, spread over at least `minSeconds`, by `concurrency` workers: app requests
   * still post one at a time in sequence order, but a chain-initiated request or a compensating one's own batch is
   * mined on A meanwhile, and a relayer down for a restart holds up only the app requests. The kinds are drawn from
   * the seed up front, so the same seed sends the same mix whatever the timing.
   */
  async run(n: number, minSeconds = 0, concurrency = 4): Promise<void> {
    // About a quarter of the custody writes go B -> A (the two-phase transfers go A -> B only: one assets pipe).
    const kinds: Array<[Kind, SideKey]> = Array.from({ length: n }, () => {
      const roll = this.rng.next();
      if (roll < 0.13) return ["chain", "a"];
      if (roll < 0.18) return ["chain", "b"];
      if (roll < 0.25) return ["compensate", "a"];
      if (roll < 0.28) return ["compensate", "b"];
      if (roll < 0.36) return ["transfer", "a"];
      if (roll < 0.39) return ["transfer-refused", "a"];
      if (roll < 0.52) return ["success", "b"];
      return ["success", "a"];
    });
    // A short run may draw none of a kind: one each, at seeded places.
    const must: Array<[Kind, SideKey]> = [
      ["transfer", "a"],
      ["transfer-refused", "a"],
      ["chain", "b"],
      ["compensate", "b"],
      ["success", "b"],
    ];
    for (const [kind, from] of must)
      if (n >= 10 && !kinds.some(([k, f]) => k === kind && f === from)) kinds[this.rng.int(0, n - 1)] = [kind, from];
    const t0 = Date.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        const i = next++;
        await sleep(t0 + (i * minSeconds * 1000) / n - Date.now());
        while (i >= this.allowed()) await sleep(200);
        const [kind, from] = kinds[i]!;
        if (kind === "chain") await this.chainRequest(from);
        else if (kind === "transfer" || kind === "transfer-refused") await this.transfer(kind);
        else await this.submit(kind, undefined, from);
        this.submitted += 1;
        if (this.submitted % 50 === 0)
          this.log(
            `${this.submitted}/${n} submitted; ${JSON.stringify(this.counts())}; ms: ${JSON.stringify(this.profile)}`,
          );
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  }

  /** One more request outside the run's count: work in flight for a kill aimed at it, once the run is driven. */
  async extra(): Promise<void> {
    try {
      await this.submit("success");
    } catch (error) {
      this.log(`extra request failed: ${(error as Error).message}`);
    }
  }

  /**
   * Requests with a short deadline, sent while a link is cut: `k` custody writes from `from`, and a two-phase transfer
   * when A sends them. They must end final either way: expired with nothing to undo (or, for the transfer, A's prepared debit rolled back), or
   * confirmed when they got through, never half done.
   */
  async expiring(k: number, ttlSeconds: number, from: SideKey = "a"): Promise<void> {
    for (let i = 0; i < k; i++) await this.submit("expire", ttlSeconds, from);
    if (from === "a") await this.transfer("transfer-expire", ttlSeconds);
  }

  /**
   * Replaces the last `depth` blocks of a chain (anvil_reorg), as a fork choice would, then sends their transactions
   * again so that they are mined in other blocks (as a node returns a reorged block's transactions to its pool).
   */
  async reorg(provider: JsonRpcProvider, depth: number): Promise<number> {
    // Holding A's operator's sends: one sent between the reorg and the re-sends would take the nonce of a reorged
    // request of ours, which would then never be mined again (the harness's doing, counted as lost).
    const lane = provider === this.subB ? this.lanes.b : this.lanes.a;
    return lane.sending.run(() => this.replaceBlocks(provider, depth));
  }

  private async replaceBlocks(provider: JsonRpcProvider, depth: number): Promise<number> {
    // Read at once, then reorganise at once: a transaction mined in between would be lost with its block, which is
    // the node's doing, not the reorg's (a node returns a reorged block's transactions to its pool).
    const head = await provider.getBlockNumber();
    const heights = Array.from({ length: depth }, (_, i) => head - depth + 1 + i).filter((n) => n >= 1);
    const blocks = await Promise.all(heights.map((n) => provider.getBlock(n, false)));
    const hashes = blocks.flatMap((b) => [...(b?.transactions ?? [])]);
    const raws = await Promise.all(
      hashes.map((hash) => provider.send("eth_getRawTransactionByHash", [hash]) as Promise<string>),
    );
    const now = await provider.getBlockNumber();
    // Blocks mined since the read are replaced too, with their transactions sent again.
    for (let n = head + 1; n <= now; n++)
      for (const hash of (await provider.getBlock(n, false))?.transactions ?? [])
        raws.push((await provider.send("eth_getRawTransactionByHash", [hash])) as string);
    await provider.send("anvil_reorg", [depth + (now - head), []]);
    for (const raw of raws) {
      try {
        await provider.send("eth_sendRawTransaction", [raw]);
      } catch {
        // its sender sent it again already, or a later one took the nonce
      }
    }
    return raws.length;
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of this.tracked.values()) out[t.state] = (out[t.state] ?? 0) + 1;
    return out;
  }

  countsByKind(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const t of this.tracked.values()) {
      const kind = (out[kindName(t)] ??= {});
      kind[t.state] = (kind[t.state] ?? 0) + 1;
    }
    return out;
  }

  allFinal(): boolean {
    return [...this.tracked.values()].every((t) => FINAL.has(t.state) || t.state === "Manual");
  }

  async refresh(): Promise<void> {
    const open = [...this.tracked.values()].filter((t) => !FINAL.has(t.state) && t.state !== "Manual");
    for (let i = 0; i < open.length; i += 50)
      await Promise.all(
        open.slice(i, i + 50).map(async (t) => {
          try {
            const [state] = (await this.ledger.statusOf(t.txId)) as [bigint];
            t.state = TX_STATES[Number(state)] ?? String(state);
            if (FINAL.has(t.state)) t.finalAt = Date.now();
          } catch {
            // the governance node is busy or restarting: next round
          }
        }),
      );
  }

  /** `ratePerSecond` requests a second for `seconds`, pre-signed with ascending sequences and sent without waiting. */
  async overload(ratePerSecond: number, seconds: number): Promise<OverloadResult> {
    const out: OverloadResult = {
      sent: 0,
      accepted: 0,
      refused429: 0,
      withRetryAfter: 0,
      overtaken: 0,
      otherRefusals: {},
      reachedLimit: 0,
      ratePerSecond: 0,
      acceptedPerSecond: 0,
      limitAdmits: 0,
      limitPerSecond: this.limitPerSecond,
    };
    let lastSent = 0;
    let lastAccepted = 0;
    const signed = [];
    for (let i = 0; i < ratePerSecond * seconds; i++) signed.push(await this.signed("success", this.lanes.a));
    const t0 = Date.now();
    const answers = signed.map(async ({ body, txId }, i) => {
      await sleep(t0 + (i * 1000) / ratePerSecond - Date.now());
      out.sent += 1;
      lastSent = Math.max(lastSent, Date.now());
      const answer = await post(this.lanes.a.intake, body);
      if (answer.status === 202) {
        out.accepted += 1;
        lastAccepted = Math.max(lastAccepted, Date.now());
        this.track(txId, "success", "a");
      } else if (answer.status === 429) {
        out.refused429 += 1;
        if (answer.retryAfter > 0) out.withRetryAfter += 1;
      } else if (answer.code === "REPLAY") {
        out.overtaken += 1;
      } else {
        const code = answer.code || String(answer.status);
        out.otherRefusals[code] = (out.otherRefusals[code] ?? 0) + 1;
      }
    });
    await Promise.all(answers);
    // The window in which the requests were sent (the last one is sent at about `seconds`), not until the last answer.
    const window = Math.max(1, lastSent - t0 + 1000 / ratePerSecond) / 1000;
    const others = Object.values(out.otherRefusals).reduce((a, b) => a + b, 0);
    out.reachedLimit = out.sent - others;
    out.ratePerSecond = Math.round((out.sent / window) * 10) / 10;
    const admitting = Math.max(1, lastAccepted - t0) / 1000;
    out.acceptedPerSecond = Math.round((out.accepted / admitting) * 10) / 10;
    out.limitAdmits = Math.floor(this.limitPerSecond * admitting + this.limitBurst);
    return out;
  }

  async fuzz(n: number, cluster: Cluster): Promise<FuzzResult> {
    const accepted = [...this.tracked.values()].find(
      (t) => t.kind === "success" && t.from === "a" && t.state === "Confirmed",
    );
    if (accepted === undefined) throw new Error("no confirmed transaction to fuzz from");
    const intakeBase = await this.baseOf(accepted.txId, "a");
    const peerBase = await this.baseOf(accepted.txId, "b");
    const a = this.c.business.a.tls;
    // Both targets at once: they are two processes (A's intake, B's peer endpoint), so neither waits on the other.
    const result: FuzzResult = { sent: 0, refused: 0, codes: {}, findings: [], notRefused: 0, rates: {} };
    await Promise.all([
      fuzz(
        { name: "intake", url: `${this.lanes.a.intake}/v1/requests`, base: intakeBase },
        Math.ceil(n / 2),
        this.rng,
        16,
        result,
      ),
      fuzz(
        {
          name: "peer",
          url: `https://127.0.0.1:${cluster.c.business.b.ports.peer}/v1/packets`,
          base: peerBase,
          tls: { cert: a.cert, key: a.key, ca: a.ca },
        },
        Math.floor(n / 2),
        this.rng,
        16,
        result,
      ),
    ]);
    return result;
  }

  /** The wire packet a relayer journaled for a transaction: stage 1 only for the intake, countersigned for the peer. */
  private async baseOf(txId: string, key: SideKey): Promise<Record<string, unknown>> {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(this.c.business[key].storePath, { readonly: true });
    try {
      const row = db.prepare("SELECT packet FROM relayer_tx WHERE tx_id = ?").get(txId.toLowerCase()) as
        { packet: string } | undefined;
      if (row === undefined) throw new Error(`transaction ${txId} not journaled by ${key}`);
      const wire = JSON.parse(row.packet) as { signatures: Record<string, unknown> };
      if (key === "a") wire.signatures = { app: wire.signatures.app };
      return wire as unknown as Record<string, unknown>;
    } finally {
      db.close();
    }
  }

  /** Zero lost, zero duplicated, all final: the ledger against both sub-chains. */
  async check(): Promise<{ lost: number; duplicated: Duplicates; notFinal: string[]; twoPhase: TwoPhaseCheck }> {
    await this.refresh();
    const lost = [...this.tracked.values()].filter((t) => t.state === "None").length;
    const notFinal = [...this.tracked.values()]
      .filter((t) => !FINAL.has(t.state) && t.state !== "Manual")
      .map((t) => `${t.txId.slice(0, 10)} ${t.state}`);
    const gatewayB = SubchainGateway__factory.connect(this.c.business.b.contracts.gateway, this.subB);
    const gatewayA = SubchainGateway__factory.connect(this.c.business.a.contracts.gateway, this.subA);
    const ledger = TransactionLedger__factory.connect(this.c.governance.ledger, this.gov);
    const dupes = (keys: string[]) => keys.length - new Set(keys).size;
    const [execB, execA, results, endorsements, compensations] = await Promise.all([
      gatewayB.queryFilter(gatewayB.filters.InboundExecuted(), 0),
      gatewayA.queryFilter(gatewayA.filters.InboundExecuted(), 0),
      ledger.queryFilter(ledger.filters.ResultRecorded(), 0),
      ledger.queryFilter(ledger.filters.Endorsed(), 0),
      ledger.queryFilter(ledger.filters.CompensationRecorded(), 0),
    ]);
    const executions =
      dupes(execB.map((e) => `${e.args.pipeId}:${e.args.sequence}`)) +
      dupes(execA.map((e) => `${e.args.pipeId}:${e.args.sequence}`));
    // A two-phase step is recorded twice, its prepare and then its commit (or a refused prepare once): more is a duplicate.
    const twoPhase = new Set([...this.tracked.values()].filter((t) => t.transfer).map((t) => t.txId.toLowerCase()));
    const recorded = new Map<string, number>();
    for (const e of results) {
      const key = `${String(e.args.txId).toLowerCase()}:${e.args.step}`;
      recorded.set(key, (recorded.get(key) ?? 0) + 1);
    }
    const resultDupes = [...recorded].reduce(
      (n, [key, times]) => n + Math.max(0, times - (twoPhase.has(key.split(":")[0]!) ? 2 : 1)),
      0,
    );
    const endorsementDupes = dupes(endorsements.map((e) => `${e.args.txId}:${e.args.verifier}`));
    const undone = new Set(compensations.filter((e) => e.args.success).map((e) => String(e.args.txId)));
    const doneAndCompensated = [...this.tracked.values()].filter(
      (t) => t.state === "Confirmed" && undone.has(t.txId),
    ).length;
    return {
      lost,
      duplicated: { executions, results: resultDupes, endorsements: endorsementDupes, doneAndCompensated },
      notFinal,
      twoPhase: await this.checkTransfers(gatewayA, gatewayB),
    };
  }

  /**
   * Each two-phase transfer against both sub-chains: a Confirmed one committed on both sides, its debit and credit
   * applied once each; any other ended with nothing committed and both balances as issued; no lock left either way.
   */
  private async checkTransfers(
    gatewayA: ReturnType<typeof SubchainGateway__factory.connect>,
    gatewayB: ReturnType<typeof SubchainGateway__factory.connect>,
  ): Promise<TwoPhaseCheck> {
    const out: TwoPhaseCheck = { checked: 0, committed: 0, undone: 0, wrong: [] };
    const ledgerA = AssetLedger__factory.connect(this.c.business.a.contracts.assetLedger!, this.subA);
    const ledgerB = AssetLedger__factory.connect(this.c.business.b.contracts.assetLedger!, this.subB);
    const assetA = await ledgerA.getAddress();
    const assetB = await ledgerB.getAddress();
    const transfers = [...this.tracked.values()].filter((t) => t.transfer !== undefined);
    for (let i = 0; i < transfers.length; i += 20)
      await Promise.all(
        transfers.slice(i, i + 20).map(async (t) => {
          const { from, to, amount } = t.transfer!;
          const toZero = to === NO_LOCK;
          const [[, statusA], [, statusB], paid, got, lockA, lockB] = await Promise.all([
            gatewayA.twoPhaseTx(t.txId),
            gatewayB.twoPhaseTx(t.txId),
            ledgerA.balanceOf(from),
            toZero ? Promise.resolve(0n) : ledgerB.balanceOf(to),
            gatewayA.lockHolder(assetA, from),
            toZero ? Promise.resolve(NO_LOCK) : gatewayB.lockHolder(assetB, to),
          ]);
          out.checked += 1;
          const sides = [Number(statusA), Number(statusB)];
          const problems: string[] = [];
          if (lockA !== NO_LOCK) problems.push("A's lock held");
          if (lockB !== NO_LOCK) problems.push("B's lock held");
          if (t.state === "Confirmed") {
            if (sides[0] !== COMMITTED || sides[1] !== COMMITTED)
              problems.push(`sides ${sides.join("/")}, not committed`);
            if (paid !== TRANSFER_ISSUED - amount || got !== amount) problems.push(`balances ${paid}/${got}`);
            if (problems.length === 0) out.committed += 1;
          } else {
            if (sides.includes(COMMITTED)) problems.push(`sides ${sides.join("/")}: committed while ${t.state}`);
            if (paid !== TRANSFER_ISSUED || got !== 0n) problems.push(`balances ${paid}/${got} while ${t.state}`);
            if (problems.length === 0) out.undone += 1;
          }
          if (problems.length > 0)
            out.wrong.push(`${t.txId.slice(0, 10)} (${kindName(t)}, ${t.state}): ${problems.join(", ")}`);
        }),
      );
    return out;
  }
}
