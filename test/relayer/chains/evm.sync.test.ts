import { expect } from "chai";
import { createPublicClient, http, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { chainRegistry, RpcPools, type ChainPlugin } from "../../../relayer/src/chains";
import { JsonRpcHttp } from "../../../relayer/src/chains/evm/rpc";
import { LogReader } from "../../../relayer/src/governance/logs";
import { EvmEvents } from "../../../relayer/src/chains/evm/events";
import { silentLogger } from "../../../lib/infra/log";
import { startAnvil, type LocalChain } from "../../../scripts/lib/anvil";
import { deployEmitter, localChain, RELAYER_KEY, type Emitter } from "../helpers/emitter";
import { startHardhatNode, type HardhatNode } from "../../helpers/hardhat-node";

const relayer = privateKeyToAccount(RELAYER_KEY);

/** A plugin on `url` with a pool of its own, so the test can count the calls it made by method. */
function pluginOn(
  url: string,
  emitter: Emitter,
  sendSync?: boolean,
): { plugin: ChainPlugin; calls: (method: string) => number } {
  const rpc = new RpcPools();
  const plugin = chainRegistry.create(
    { kind: "evm", rpcUrl: url, chainId: 31337, gateway: emitter.address, pollIntervalMs: 20, sendSync },
    { name: "sub_a", signer: relayer, logger: silentLogger(), rpc },
  );
  const calls = (method: string): number => [...rpc.calls()].find((c) => c.method === method)?.count ?? 0;
  return { plugin, calls };
}

const emit = (p: ChainPlugin, emitter: Emitter, id: bigint, gas?: bigint) =>
  p.write({ to: emitter.address, data: emitter.calldata("emitEvent", [id, "0x"]), gas });

/** Synchronous sends (EIP-7966 `eth_sendRawTransactionSync`) on a real anvil node, and the fallbacks. */
describe("relayer/chains: synchronous sends (eth_sendRawTransactionSync)", function () {
  let node: LocalChain;
  let emitter: Emitter;
  const client = () => createPublicClient({ chain: localChain(node.url), transport: http(node.url) });
  const nonceOf = async (hash: Hex): Promise<number> => (await client().getTransaction({ hash })).nonce;
  const rpc = () => new JsonRpcHttp(node.url);

  before(async function () {
    node = await startAnvil({ name: "sync", chainId: 31337 });
    emitter = await deployEmitter(node.url);
  });
  after(async function () {
    await node?.stop();
  });

  it("sends a lone write synchronously: the receipt comes back with the send, and is never polled for", async function () {
    const { plugin, calls } = pluginOn(node.url, emitter);
    const hash = await emit(plugin, emitter, 1n);
    const receipt = await plugin.waitReceipt(hash);
    expect(receipt.status).to.equal("success");
    expect(receipt.transactionHash).to.equal(hash);
    expect(BigInt(receipt.logs[0]!.topics[1]!)).to.equal(1n);
    expect(calls("eth_sendRawTransactionSync")).to.equal(1);
    expect(calls("eth_sendRawTransaction")).to.equal(0);
    expect(calls("eth_getTransactionReceipt")).to.equal(0);
    // Kept once: a second wait for the same hash asks the node.
    expect((await plugin.waitReceipt(hash)).blockNumber).to.equal(receipt.blockNumber);
    expect(calls("eth_getTransactionReceipt")).to.be.greaterThan(0);
  });

  it("keeps call order and consecutive nonces when writes overlap: those with writes behind them go plainly", async function () {
    const { plugin, calls } = pluginOn(node.url, emitter);
    const first = await client().getTransactionCount({ address: relayer.address });
    const hashes = await Promise.all(Array.from({ length: 12 }, (_, i) => emit(plugin, emitter, BigInt(100 + i))));
    const receipts = await Promise.all(hashes.map((h) => plugin.waitReceipt(h)));
    expect(receipts.every((r) => r.status === "success")).to.equal(true);
    expect(await Promise.all(hashes.map(nonceOf))).to.deep.equal(hashes.map((_, i) => first + i));
    const ids = receipts
      .map((r) => [r.blockNumber, BigInt(r.logs[0]!.topics[1]!)] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : 1));
    expect(ids.map(([, id]) => id)).to.deep.equal(hashes.map((_, i) => BigInt(100 + i)));
    // The last one had nobody behind it.
    expect(calls("eth_sendRawTransaction")).to.be.greaterThan(0);
    expect(calls("eth_sendRawTransactionSync")).to.be.greaterThan(0);
    expect(calls("eth_sendRawTransaction") + calls("eth_sendRawTransactionSync")).to.equal(12);
  });

  it("leaves no nonce gap when the node refuses a synchronous send: the next write takes the nonce", async function () {
    const { plugin } = pluginOn(node.url, emitter);
    const first = await client().getTransactionCount({ address: relayer.address });
    // Gas given (no estimate), below the intrinsic gas: the node refuses it at once.
    const refused = await emit(plugin, emitter, 2n, 1_000n).then(
      () => undefined,
      (error: { code?: string }) => error.code,
    );
    expect(refused).to.equal("CHAIN_WRITE_FAILED");
    const next = await emit(plugin, emitter, 3n);
    expect(await nonceOf(next)).to.equal(first);
    expect((await plugin.waitReceipt(next)).status).to.equal("success");
  });

  it("gives up waiting on a node that does not mine: the write is taken, its receipt polled, later writes sent plainly", async function () {
    const { plugin, calls } = pluginOn(node.url, emitter);
    await emit(plugin, emitter, 4n); // the node has the method
    await rpc().request("evm_setAutomine", [false]);
    try {
      const head = await client().getBlockNumber();
      const started = Date.now();
      const hash = await emit(plugin, emitter, 5n);
      expect(Date.now() - started).to.be.at.least(900); // the patience, not the node's 30 s
      // Taken as sent without a block: the node was seen to hold it (one lookup by hash), and nothing was mined.
      expect(calls("eth_getTransactionByHash")).to.equal(1);
      expect(await client().getBlockNumber()).to.equal(head);
      expect(await client().getTransaction({ hash })).to.include({ blockNumber: null });
      const second = await emit(plugin, emitter, 6n);
      expect(calls("eth_sendRawTransactionSync")).to.equal(2);
      expect(calls("eth_sendRawTransaction")).to.equal(1);
      await rpc().request("evm_mine", []);
      const [a, b] = await Promise.all([plugin.waitReceipt(hash), plugin.waitReceipt(second)]);
      expect([a.status, b.status]).to.deep.equal(["success", "success"]);
      expect(await nonceOf(second)).to.equal((await nonceOf(hash)) + 1);
    } finally {
      await rpc().request("evm_setAutomine", [true]);
    }
  });

  it("never asks when `sendSync` is false", async function () {
    const { plugin, calls } = pluginOn(node.url, emitter, false);
    await plugin.waitReceipt(await emit(plugin, emitter, 7n));
    expect(calls("eth_sendRawTransactionSync")).to.equal(0);
    expect(calls("eth_sendRawTransaction")).to.equal(1);
  });

  it("reads a transaction's recent events in one eth_getLogs to `latest` once it has seen the head, the same events as by ranges", async function () {
    const pool = new RpcPools();
    const fast = pool.get(node.url, "sub_a");
    // One connection per node URL, named by its first user.
    expect(pool.get(node.url, "again")).to.equal(fast);
    const reader = new LogReader(new EvmEvents(fast), 5_000n);
    const from = (await reader.head()) + 1n;
    for (const id of [900n, 901n, 902n]) await emitter.emit(id);
    const before = fast.calls.get("eth_blockNumber") ?? 0;
    const query = { address: emitter.address, abi: emitter.abi, eventName: "Emitted", fromBlock: from } as const;
    const quick = await reader.events(query);
    expect(fast.calls.get("eth_blockNumber") ?? 0).to.equal(before);
    expect(fast.calls.get("eth_getLogs")).to.equal(1);
    expect([...pool.calls()].every((c) => c.chain === "sub_a")).to.equal(true);
    // A reader that has seen no head reads by bounded ranges (head first), and finds the same.
    const ranged = await new LogReader(new EvmEvents(node.url), 2n).events(query);
    expect(quick.map((l) => l.transactionHash)).to.deep.equal(ranged.map((l) => l.transactionHash));
    expect(quick.map((l) => (l.args as { id: bigint }).id)).to.deep.equal([900n, 901n, 902n]);
  });
});

describe("relayer/chains: synchronous sends on a node without the method", function () {
  let node: HardhatNode;
  let emitter: Emitter;

  before(async function () {
    node = await startHardhatNode();
    emitter = await deployEmitter(node.url);
  });
  after(async function () {
    await node?.stop();
  });

  it("asks once (Hardhat answers 'not supported'), then sends plainly with receipts polled", async function () {
    const { plugin, calls } = pluginOn(node.url, emitter);
    const receipts = [
      await plugin.waitReceipt(await emit(plugin, emitter, 1n)),
      await plugin.waitReceipt(await emit(plugin, emitter, 2n)),
    ];
    expect(receipts.map((r) => r.status)).to.deep.equal(["success", "success"]);
    expect(calls("eth_sendRawTransactionSync")).to.equal(1);
    expect(calls("eth_sendRawTransaction")).to.equal(2);
  });
});
