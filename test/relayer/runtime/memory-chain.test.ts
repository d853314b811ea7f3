/**
 * Runtime parts over a chain that is not an EVM node: the in-memory plugin, through the same `ChainPlugin` interface.
 * The chain-initiated intake follows the gateway's requests into the store (and rewinds on a reorg), and the event
 * reader finds a transaction's events by indexed argument, with no viem client and no JSON-RPC anywhere.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, toHex, type Address, type Hex } from "viem";
import { gatewayAbi } from "../../../lib/abi/contracts";
import { silentLogger } from "../../../lib/infra/log";
import { LogReader } from "../../../relayer/src/governance/logs";
import { RelayerStore } from "../../../relayer/src/store";
import { followRequests } from "../../../relayer/src/subchain/requests";
import { workOf } from "../../../relayer/src/work/items";
import { MemoryChain, type MemoryEvent } from "../helpers/memory-chain";

const GATEWAY: Address = "0x0000000000000000000000000000000000000a7e";
const OTHER: Address = "0x00000000000000000000000000000000000000ff";
const id = (label: string): Hex => keccak256(toHex(label));

const requested = (label: string, address: Address = GATEWAY): MemoryEvent => ({
  address,
  eventName: "CrossChainRequested",
  args: {
    requestId: id(label),
    pipeId: id("pipe"),
    sender: OTHER,
    contractName: id("Custody"),
    operation: 1,
    payload: "0x01",
    nonce: 7n,
  },
});

describe("relayer runtime over an in-memory chain (no EVM)", function () {
  let dir: string;
  let store: RelayerStore;
  let chain: MemoryChain;
  let stop: AbortController;
  let following: Promise<void>;
  let processed: bigint;
  let kicks: number;

  /** Resolves once the follower has stored every block up to `height` (it polls every 5 ms). */
  const until = async (height: bigint): Promise<void> => {
    for (let i = 0; i < 2_000 && processed < height; i++) await new Promise((r) => setTimeout(r, 5));
    expect(processed >= height, `stored up to ${processed}, waited for ${height}`).to.equal(true);
  };

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), "ccgp-memory-"));
    store = RelayerStore.open({ path: join(dir, "s.sqlite") });
    chain = new MemoryChain("sub_m");
    processed = -1n;
    kicks = 0;
    stop = new AbortController();
    following = followRequests(
      {
        subchain: { name: "sub_m", chain, confirmations: 2, gateway: { address: GATEWAY } },
        config: { chains: { sub_m: { startBlock: 1 } } },
        store,
        metrics: {
          record: (m) => {
            if (m.type === "chainProgress") processed = m.processed;
          },
        },
        log: silentLogger(),
        worker: { kick: () => (kicks += 1) },
      },
      stop.signal,
    );
  });
  afterEach(async function () {
    stop.abort();
    await following;
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores each confirmed request once, as a typed work item, and only the gateway's", async function () {
    chain.mine(requested("r1"), requested("elsewhere", OTHER));
    chain.mine(requested("r2"));
    for (let k = 0; k < 3; k++) chain.mine();
    await until(3n);
    const r1 = store.getOutbox(`req:sub_m:${id("r1")}`);
    expect(workOf(r1!)).to.deep.include({ type: "chain-request", chain: "sub_m", requestId: id("r1"), nonce: "7" });
    expect(store.getOutbox(`req:sub_m:${id("r2")}`)!.status).to.equal("pending");
    expect(store.getOutbox(`req:sub_m:${id("elsewhere")}`)).to.equal(null);
    expect(store.checkpoint("sub_m")!.height).to.equal((await chain.head()) - 2n);
    expect(kicks).to.equal(2);
  });

  it("rewinds on a reorg: a request the new branch dropped is orphaned, one it added is stored", async function () {
    chain.mine(requested("kept"));
    const forked = chain.mine(requested("dropped"));
    for (let k = 0; k < 2; k++) chain.mine();
    await until(forked);
    expect(store.getOutbox(`req:sub_m:${id("dropped")}`)!.status).to.equal("pending");
    chain.reorg(forked);
    chain.mine(requested("added"));
    for (let k = 0; k < 3; k++) chain.mine();
    await until(forked + 1n);
    expect(store.getOutbox(`req:sub_m:${id("dropped")}`)!.status).to.equal("orphaned");
    expect(store.getOutbox(`req:sub_m:${id("added")}`)!.status).to.equal("pending");
    expect(store.getOutbox(`req:sub_m:${id("kept")}`)!.status).to.equal("pending");
    expect(store.checkpoint("sub_m")!.hash).to.not.equal(null);
  });

  it("reads past events by indexed argument and the chain's clock through the plugin", async function () {
    chain.mine(requested("a"));
    chain.mine(requested("b"), requested("a", OTHER));
    const reader = new LogReader(chain, 1n);
    const found = await reader.events({
      address: GATEWAY,
      abi: gatewayAbi,
      eventName: "CrossChainRequested",
      args: { requestId: id("a") },
      fromBlock: 0n,
    });
    expect(found.map((l) => [l.blockNumber, l.args.requestId])).to.deep.equal([[1n, id("a")]]);
    expect(await reader.head()).to.equal(2n);
    expect(await reader.timestamp()).to.equal(1_700_000_004n);
  });
});
