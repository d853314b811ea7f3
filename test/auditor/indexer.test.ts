import { expect } from "chai";
import Database from "better-sqlite3";
import { builtProcess } from "../../scripts/build";
import { requestConsent } from "../../scripts/lib/local/council";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { network } from "hardhat";
import { loadFixture, mine } from "@nomicfoundation/hardhat-network-helpers";
import { JsonRpcProvider, Wallet, type Signer } from "ethers";
import { createPublicClient, custom, http, keccak256, toHex, type Address, type PublicClient } from "viem";
import {
  AuditorError,
  AuditorErrorCode,
  EventDecoder,
  GovernanceIndexer,
  IndexStore,
  governanceAbis,
  type IndexedBlock,
} from "../../auditor/src";
import { deployGovernance } from "../../lib/deploy/governance";
import { loadConsortium } from "../../lib/domain/consortium-config";
import { Role, addAccount, deployConsortium, type Consortium } from "../helpers/governance";
import { startHardhatNode, type HardhatNode } from "../helpers/hardhat-node";
import { chainLogs, contractsOf, indexedLogs, tempDb } from "./helpers";

interface Life {
  blocks: number[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
}

/** Runs `auditor index` as a child process; SIGKILLs it once it reported `killAfter` committed blocks (never if null). */
function indexProcess(args: string[], killAfter: number | null): Promise<Life> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...builtProcess("auditor"), "index", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const life: Life = { blocks: [], code: null, signal: null, stdout: "" };
    let pending = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (life.stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      pending += d.toString();
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        const m = /^indexed block (\d+)/.exec(line);
        if (m) life.blocks.push(Number(m[1]));
      }
      if (killAfter !== null && life.blocks.length >= killAfter && !child.killed) child.kill("SIGKILL");
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal === null && code !== 0) return reject(new Error(`auditor index exited with ${code}: ${stderr}`));
      resolve({ ...life, code, signal });
    });
  });
}

/** Makes `count` account requests pass a vote on the node: about 7 governance events over 5 blocks each. */
async function governanceTraffic(provider: JsonRpcProvider, membership: string, count: number): Promise<void> {
  const { Membership__factory, VotingTickets__factory } = await import("../../typechain-types");
  const admin = await provider.getSigner(0);
  const governors = [await provider.getSigner(1), await provider.getSigner(3), await provider.getSigner(5)];
  const m = Membership__factory.connect(membership, admin);
  const voting = VotingTickets__factory.connect(await m.governance(), admin);
  for (let i = 0; i < count; i++) {
    const key = Wallet.createRandom();
    await (
      await m.requestAccount(key.address, 1, Role.Operator, ...(await requestConsent(m, admin, key, 1, Role.Operator)))
    ).wait();
    const id = await voting.proposalCount();
    for (const g of governors) await (await voting.connect(g).vote(id, true)).wait();
    await (await voting.execute(id)).wait();
  }
}

describe("auditor: the governance indexer", function () {
  describe("a real node process, the indexer SIGKILLed mid-index", function () {
    this.timeout(300_000);
    let node: HardhatNode;
    let db: { dir: string; path: string };
    let provider: JsonRpcProvider;
    let contracts: Awaited<ReturnType<typeof contractsOf>>;
    before(async () => {
      node = await startHardhatNode();
      db = tempDb("kill");
      provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
      const deployer: Signer = await provider.getSigner(0);
      const g = await deployGovernance(deployer, loadConsortium("config/consortium.local.json"), { network: "node" });
      await governanceTraffic(provider, await g.membership.getAddress(), 30);
      contracts = await contractsOf(g);
    });
    after(async () => {
      provider?.destroy();
      await node?.stop();
      rmSync(db.dir, { recursive: true, force: true });
    });

    it("resumes from its checkpoint with no gap and no duplicate", async () => {
      const args = [
        "--rpc",
        node.url,
        "--db",
        db.path,
        "--confirmations",
        "0",
        "--block-range",
        "2",
        "--poll-ms",
        "20",
        ...Object.entries(contracts).flatMap(([k, a]) => ["--contract", `${k}=${a}`]),
      ];

      // Three lives: killed at arbitrary points after 12, then 25 more committed blocks; the last runs to the end.
      const lives = [await indexProcess(args, 12), await indexProcess(args, 25), await indexProcess(args, null)];
      expect(lives.map((l) => l.signal)).to.deep.equal(["SIGKILL", "SIGKILL", null]);
      expect(lives[2]!.code).to.equal(0);
      // Each life started above the last block the previous one reported committed: nothing indexed twice.
      for (let i = 1; i < lives.length; i++)
        expect(lives[i]!.blocks[0]!).to.be.greaterThan(lives[i - 1]!.blocks.at(-1)!);

      const head = BigInt(await provider.getBlockNumber());
      const client = createPublicClient({ transport: http(node.url) });
      const truth = await chainLogs(client, Object.values(contracts), head);
      const store = IndexStore.open({ path: db.path, readonly: true });
      try {
        expect(store.db.pragma("integrity_check", { simple: true })).to.equal("ok");
        const indexed = indexedLogs(store.db);
        expect(new Set(indexed).size).to.equal(indexed.length);
        expect(indexed).to.deep.equal(truth);
        expect(truth.length).to.be.greaterThan(200);
        expect(store.checkpoint()!.height).to.equal(Number(head));
        expect(lives[2]!.stdout).to.include(`index at block ${head}: ${truth.length} events`);
        // Decoded, not just stored: every request, vote and activation is there by name (plus the 3 genesis governors).
        const names = store.db.prepare("SELECT event, COUNT(*) AS n FROM events GROUP BY event").all() as Array<{
          event: string;
          n: number;
        }>;
        const count = Object.fromEntries(names.map((r) => [r.event, r.n]));
        expect([count.AccountRequested, count.AccountActivated, count.VoteCast]).to.deep.equal([30, 33, 90]);
        expect(count.Unknown).to.equal(undefined);
      } finally {
        store.close();
      }
    });

    it("splits a range whose logs are too large for one answer", async () => {
      // A transport that takes at most 32 KiB per answer, as RPC providers cap eth_getLogs: far below the whole range,
      // above the largest single block (a batch of opens logs about 16.7 KiB in one block, which no split can shrink).
      let getLogsCalls = 0;
      const onFetchRequest = (_request: Request, init: RequestInit): void => {
        if (typeof init.body === "string" && init.body.includes('"eth_getLogs"')) getLogsCalls += 1;
      };
      const client = createPublicClient({
        transport: http(node.url, { maxResponseBodySize: 32_768, onFetchRequest }),
      }) as PublicClient;
      const small = tempDb("split");
      const store = IndexStore.open({ path: small.path });
      try {
        const indexer = await GovernanceIndexer.create({
          client,
          store,
          contracts,
          confirmations: 0,
          maxBlockRange: 100_000,
          pollIntervalMs: 10,
        });
        await indexer.sync(1);
        // The truth up to the indexer's own checkpoint: the node may mine after the range was read.
        const indexedTo = BigInt(store.checkpoint()!.height);
        const truth = await chainLogs(
          createPublicClient({ transport: http(node.url) }),
          Object.values(contracts),
          indexedTo,
        );
        expect(truth.length).to.be.greaterThan(200);
        expect(indexedLogs(store.db)).to.deep.equal(truth);
        // One answer would have held the whole range: more than one request shows the cap made the indexer split it.
        expect(getLogsCalls).to.be.greaterThan(1);
      } finally {
        store.close();
        rmSync(small.dir, { recursive: true, force: true });
      }
    });
  });

  describe("on the in-process chain", function () {
    async function consortium(): Promise<Consortium> {
      return deployConsortium(3);
    }
    const client = (): PublicClient => createPublicClient({ transport: custom(network.provider) }) as PublicClient;
    let db: { dir: string; path: string };
    let store: IndexStore;
    beforeEach(() => {
      db = tempDb("inproc");
      store = IndexStore.open({ path: db.path });
    });
    afterEach(() => {
      store.close();
      rmSync(db.dir, { recursive: true, force: true });
    });

    it("opens an index of schema 1 after `auditor index` upgrades it, its checkpoint carried over", () => {
      const path = `${db.path}.v1`;
      const v1 = new Database(path);
      v1.exec(`
        CREATE TABLE checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), height INTEGER NOT NULL, hash TEXT NOT NULL,
          timestamp INTEGER NOT NULL) STRICT;
        CREATE TABLE recent_blocks (height INTEGER PRIMARY KEY, hash TEXT NOT NULL, timestamp INTEGER NOT NULL) STRICT;
      `);
      const h = (n: number): string => keccak256(toHex(n));
      v1.prepare("INSERT INTO checkpoint VALUES (1, 9, ?, 900)").run(h(9));
      for (const n of [8, 9]) v1.prepare("INSERT INTO recent_blocks VALUES (?, ?, ?)").run(n, h(n), n * 100);
      v1.pragma("user_version = 1");
      v1.close();
      expect(() => IndexStore.open({ path, readonly: true })).to.throw(/has schema 1: run `auditor index` once/);
      const upgraded = IndexStore.open({ path });
      try {
        expect(upgraded.checkpoint()).to.deep.equal({ height: 9, hash: h(9), timestamp: 900 });
        expect(upgraded.recentBlocks().map((b) => b.height)).to.deep.equal([8n, 9n]);
        expect(upgraded.rewind(9).checkpoint).to.deep.equal({ height: 8, hash: h(8), timestamp: 800 });
      } finally {
        upgraded.close();
      }
    });

    it("opens an index of schema 2 after `auditor index` upgrades it, its events kept at position 0", () => {
      const path = `${db.path}.v2`;
      const v2 = new Database(path);
      v2.exec(`
        CREATE TABLE events (id INTEGER PRIMARY KEY CHECK (id = block * 1048576 + log_index AND log_index < 1048576),
          block INTEGER NOT NULL, log_index INTEGER NOT NULL, tx_hash TEXT NOT NULL, timestamp INTEGER NOT NULL,
          contract TEXT NOT NULL, event TEXT NOT NULL, args TEXT NOT NULL, tx_id TEXT, pipe_id TEXT,
          institution INTEGER, account TEXT, state INTEGER) STRICT;
        CREATE TABLE blocks (height INTEGER PRIMARY KEY, hash TEXT NOT NULL, block_time INTEGER NOT NULL) STRICT;
      `);
      const h = keccak256(toHex(5));
      v2.prepare("INSERT INTO blocks VALUES (5, ?, 500)").run(h);
      v2.prepare(
        `INSERT INTO events VALUES (5 * 1048576 + 2, 5, 2, ?, 500, 'credit', 'OutcomeReported', '{"delta":"-10"}',
          NULL, NULL, 3, NULL, NULL)`,
      ).run(h);
      v2.pragma("user_version = 2");
      v2.close();
      expect(() => IndexStore.open({ path, readonly: true })).to.throw(/has schema 2: run `auditor index` once/);
      const upgraded = IndexStore.open({ path });
      try {
        const [row, ...rest] = upgraded.eventsWhere("e.institution = ?", [3]);
        expect(rest).to.deep.equal([]);
        expect([row!.block, row!.logIndex, row!.event, row!.position]).to.deep.equal([
          5,
          2,
          "OutcomeReported",
          undefined,
        ]);
        expect(upgraded.db.pragma("user_version", { simple: true })).to.equal(3);
      } finally {
        upgraded.close();
        rmSync(path, { force: true });
      }
    });

    it("stays behind the confirmation depth", async () => {
      const c = await loadFixture(consortium);
      const contracts = await contractsOf(c);
      const indexer = await GovernanceIndexer.create({
        client: client(),
        store,
        contracts,
        confirmations: 3,
        pollIntervalMs: 10,
      });
      await addAccount(c, c.admins[0]!, Wallet.createRandom(), 1n, Role.Operator);
      const head = BigInt((await network.provider.request({ method: "eth_blockNumber" })) as string);
      const progress = await indexer.sync();
      expect(progress.checkpoint).to.equal(Number(head) - 3);
      expect(indexedLogs(store.db)).to.deep.equal(await chainLogs(client(), Object.values(contracts), head - 3n));
      await mine(3);
      await indexer.sync();
      expect(indexedLogs(store.db)).to.deep.equal(await chainLogs(client(), Object.values(contracts), head));
    });

    it("rewinds what a reorg removed and indexes the new branch", async () => {
      const c = await loadFixture(consortium);
      const contracts = await contractsOf(c);
      const indexer = await GovernanceIndexer.create({
        client: client(),
        store,
        contracts,
        confirmations: 0,
        pollIntervalMs: 10,
      });
      await indexer.sync();
      const fork = (await network.provider.request({ method: "evm_snapshot" })) as string;
      const goneKey = Wallet.createRandom();
      const gone = goneKey.address;
      await addAccount(c, c.admins[0]!, goneKey, 1n, Role.Operator);
      await indexer.sync();
      expect(store.eventsWhere("account = ?", [gone])).to.have.length(2); // requested, activated
      // The branch is replaced by a longer one holding other events.
      await network.provider.request({ method: "evm_revert", params: [fork] });
      const keptKey = Wallet.createRandom();
      const kept = keptKey.address;
      await addAccount(c, c.admins[1]!, keptKey, 2n, Role.Operator);
      await mine(2);
      await indexer.sync();
      const head = BigInt((await network.provider.request({ method: "eth_blockNumber" })) as string);
      expect(store.eventsWhere("account = ?", [gone])).to.deep.equal([]);
      expect(store.eventsWhere("account = ?", [kept])).to.have.length(2);
      expect(indexedLogs(store.db)).to.deep.equal(await chainLogs(client(), Object.values(contracts), head));
      expect(store.checkpoint()!.height).to.equal(Number(head));
    });

    it("refuses an index built for other contracts or another chain", async () => {
      const c = await loadFixture(consortium);
      const contracts = await contractsOf(c);
      await GovernanceIndexer.create({ client: client(), store, contracts, confirmations: 0 });
      const other = { ...contracts, ledger: Wallet.createRandom().address as Address };
      const err = await GovernanceIndexer.create({ client: client(), store, contracts: other }).catch(
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(AuditorError);
      expect((err as AuditorError).code).to.equal(AuditorErrorCode.IndexMismatch);
      expect((err as AuditorError).message).to.include(`ledger ${contracts.ledger}, not ${other.ledger}`);
      expect(() => store.bindIdentity({ chainId: 1, contracts })).to.throw(/chain id 31337, not 1/);
    });

    it("commits a block only above the checkpoint, and a log only once", async () => {
      const block = (height: number, logIndex = 0): IndexedBlock => ({
        height,
        hash: keccak256(toHex(height)),
        timestamp: 1_700_000_000 + height,
        packets: [],
        events: [
          {
            block: height,
            logIndex,
            txHash: keccak256(toHex(`tx${height}`)),
            blockHash: keccak256(toHex(height)),
            timestamp: 1_700_000_000 + height,
            contract: "voting",
            address: Wallet.createRandom().address as Address,
            event: "VoteCast",
            args: { id: "1" },
            txId: null,
            pipeId: null,
            institution: 1,
            account: null,
            state: null,
          },
        ],
      });
      store.commit([block(5), block(6)]);
      for (const again of [block(6), block(4)]) {
        const err = (() => {
          try {
            store.commit([again]);
          } catch (e) {
            return e;
          }
        })();
        expect((err as AuditorError).code).to.equal(AuditorErrorCode.Checkpoint);
      }
      // The same (block, log index) twice inside one batch: refused as a whole, nothing of the batch is kept.
      const twice = block(7);
      twice.events.push({ ...twice.events[0]! });
      expect(() => store.commit([twice])).to.throw(/UNIQUE constraint failed/);
      expect(store.checkpoint()!.height).to.equal(6);
      expect(store.eventCount()).to.equal(2);
    });

    it("keeps a log the ABI does not know, with its raw topics and data", async () => {
      const c = await loadFixture(consortium);
      const contracts = await contractsOf(c);
      const decoder = new EventDecoder(contracts, governanceAbis());
      const topics = [keccak256(toHex("NotAnEvent(uint256)")), keccak256(toHex("x"))] as const;
      const row = decoder.decode(
        {
          blockNumber: 9n,
          blockHash: keccak256(toHex("b")),
          transactionHash: keccak256(toHex("t")),
          logIndex: 3,
          address: contracts.ledger,
          topics: [...topics],
          data: "0x01",
        },
        1_700_000_000,
      );
      expect([row.contract, row.event, row.args]).to.deep.equal([
        "ledger",
        "Unknown",
        { topics: [...topics], data: "0x01" },
      ]);
    });
  });
});
