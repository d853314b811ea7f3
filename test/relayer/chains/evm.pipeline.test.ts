import { expect } from "chai";
import { createPublicClient, http, keccak256, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { chainRegistry, RpcPools, type ChainPlugin } from "../../../relayer/src/chains";
import { JsonRpcHttp, MAX_BATCH } from "../../../relayer/src/chains/evm/rpc";
import { revertOf } from "../../../relayer/src/governance/contract";
import { silentLogger } from "../../../lib/infra/log";
import { deployEmitter, localChain, RELAYER_KEY, type Emitter } from "../helpers/emitter";
import { expectCcgpError } from "../helpers/errors";
import { startHardhatNode, type HardhatNode } from "../../helpers/hardhat-node";

/** Pipelined writes (local nonce, sends in call order) and the batched receipt waiter, on a real Hardhat node. */
describe("relayer/chains: EVM write pipeline and receipt waiter", function () {
  let node: HardhatNode;
  let emitter: Emitter;
  const relayer = privateKeyToAccount(RELAYER_KEY);

  const plugin = (): ChainPlugin =>
    chainRegistry.create(
      { kind: "evm", rpcUrl: node.url, chainId: 31337, gateway: emitter.address, pollIntervalMs: 20 },
      { name: "sub_a", signer: relayer, logger: silentLogger() },
    );
  const client = () => createPublicClient({ chain: localChain(node.url), transport: http(node.url) });
  const nonceOf = async (hash: Hex): Promise<number> => (await client().getTransaction({ hash })).nonce;
  const emit = (p: ChainPlugin, id: bigint, gas?: bigint) =>
    p.write({ to: emitter.address, data: emitter.calldata("emitEvent", [id, "0x"]), gas });
  const mine = (blocks = 1) => new JsonRpcHttp(node.url).request("hardhat_mine", [`0x${blocks.toString(16)}`]);

  before(async function () {
    node = await startHardhatNode();
    emitter = await deployEmitter(node.url);
  });
  after(async function () {
    await node?.stop();
  });

  it("sends concurrent writes in call order, with consecutive nonces", async function () {
    const p = plugin();
    const first = await client().getTransactionCount({ address: relayer.address });
    const hashes = await Promise.all(Array.from({ length: 12 }, (_, i) => emit(p, BigInt(100 + i))));
    const receipts = await Promise.all(hashes.map((h) => p.waitReceipt(h)));
    expect(receipts.every((r) => r.status === "success")).to.equal(true);
    expect(await Promise.all(hashes.map(nonceOf))).to.deep.equal(hashes.map((_, i) => first + i));
    // The chain's order is the call order.
    const order = receipts
      .map((r) => [r.blockNumber, BigInt(r.logs[0]!.topics[1]!)] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    expect(order.map(([, id]) => id)).to.deep.equal(hashes.map((_, i) => BigInt(100 + i)));
  });

  it("leaves no nonce gap when a send fails: the next write takes the nonce", async function () {
    const p = plugin();
    const first = await client().getTransactionCount({ address: relayer.address });
    // The middle write passes no estimation (gas given) and is refused by the node at send: intrinsic gas too low.
    const [a, b, c] = await Promise.allSettled([emit(p, 1n), emit(p, 2n, 1_000n), emit(p, 3n)]);
    expect(a.status).to.equal("fulfilled");
    expect(c.status).to.equal("fulfilled");
    expect(b.status).to.equal("rejected");
    expect(((b as PromiseRejectedResult).reason as { code?: string }).code).to.equal("CHAIN_WRITE_FAILED");
    const [ha, hc] = [(a as PromiseFulfilledResult<Hex>).value, (c as PromiseFulfilledResult<Hex>).value];
    expect((await p.waitReceipt(hc)).status).to.equal("success");
    expect([await nonceOf(ha), await nonceOf(hc)]).to.deep.equal([first, first + 1]);
    // And the writes after it go on from there.
    const later = await emit(p, 4n);
    expect((await p.waitReceipt(later)).status).to.equal("success");
    expect(await nonceOf(later)).to.equal(first + 2);
  });

  it("fails the waits for a transaction the node dropped and for those behind its nonce (CHAIN_TX_DROPPED); the next write fills the gap", async function () {
    // Found by the chaos run: a reorg beyond the confirmation depth dropped a ledger write, and every later write of
    // that relayer waited behind the gap in its nonces for ever.
    const p = plugin();
    const rpc = new JsonRpcHttp(node.url);
    const first = await client().getTransactionCount({ address: relayer.address });
    await rpc.request("evm_setAutomine", [false]);
    try {
      const dropped = await emit(p, 50n);
      const behind = await emit(p, 51n);
      expect([await nonceOf(dropped), await nonceOf(behind)]).to.deep.equal([first, first + 1]);
      await rpc.request("hardhat_dropTransaction", [dropped]);
      // The dropped one is unknown to the node; the one behind it is known, but waits behind the lost nonce.
      const waits = await Promise.allSettled([dropped, behind].map((h) => p.waitReceipt(h, { timeoutMs: 30_000 })));
      expect(
        waits.map((w) => (w.status === "rejected" ? (w.reason as { code?: string }).code : "mined")),
      ).to.deep.equal(["CHAIN_TX_DROPPED", "CHAIN_TX_DROPPED"]);
      const refill = await emit(p, 52n);
      expect(await nonceOf(refill)).to.equal(first);
      await mine();
      const receipts = await Promise.all([p.waitReceipt(refill), p.waitReceipt(behind)]);
      expect(receipts.map((r) => r.status)).to.deep.equal(["success", "success"]);
    } finally {
      await rpc.request("evm_setAutomine", [true]);
    }
  });

  it("takes no nonce for a write refused at estimation (a revert), and keeps the order of the others", async function () {
    const p = plugin();
    const first = await client().getTransactionCount({ address: relayer.address });
    const reverting = p.write({ to: emitter.address, data: "0xdeadbeef" as Hex });
    const [x, y] = [emit(p, 7n), emit(p, 8n)];
    await expectCcgpError(() => reverting, "CHAIN_WRITE_FAILED");
    const hashes = await Promise.all([x, y]);
    await Promise.all(hashes.map((h) => p.waitReceipt(h)));
    expect(await Promise.all(hashes.map(nonceOf))).to.deep.equal([first, first + 1]);
  });

  it("learns a function's gas from its first estimate and checks later writes with one call at that limit", async function () {
    const p = plugin();
    const gasOf = async (hash: Hex): Promise<bigint> => (await client().getTransaction({ hash })).gas;
    const first = await emit(p, 300n);
    await p.waitReceipt(first);
    // A longer payload would estimate higher: the same limit shows the learned gas was used, and it still fits.
    const second = await p.write({
      to: emitter.address,
      data: emitter.calldata("emitEvent", [301n, `0x${"ab".repeat(200)}`]),
    });
    expect((await p.waitReceipt(second)).status).to.equal("success");
    expect(await gasOf(second)).to.equal(await gasOf(first));
    // A need above the learned limit fails the call, so the write falls back to an estimate and raises what it learned.
    const big = await p.write({
      to: emitter.address,
      data: emitter.calldata("emitEvent", [302n, `0x${"cd".repeat(24_000)}`]),
    });
    expect((await p.waitReceipt(big)).status).to.equal("success");
    expect(await gasOf(big)).to.be.greaterThan(await gasOf(first));
    const after = await emit(p, 303n);
    expect(await gasOf(after)).to.equal(await gasOf(big));
  });

  it("refuses a revert of a function whose gas it learned, with the decoded reason, and takes no nonce", async function () {
    const p = plugin();
    const many = (firstId: bigint, count: bigint) =>
      p.write({ to: emitter.address, data: emitter.calldata("emitMany", [firstId, count]) });
    await p.waitReceipt(await many(0n, 1n));
    const nonce = await client().getTransactionCount({ address: relayer.address });
    // firstId + 1 overflows: Panic(0x11) in the call at the learned limit, then in the estimate that decodes it.
    const error = await expectCcgpError(() => many(2n ** 256n - 1n, 2n), "CHAIN_WRITE_FAILED");
    expect(revertOf(error, emitter.abi)).to.include({ name: "Panic" });
    expect(revertOf(error, emitter.abi)?.args).to.deep.equal([0x11n]);
    expect(await nonceOf(await emit(p, 304n))).to.equal(nonce);
  });

  it("sends a write only once its check resolves true; a false or failed check cancels it and takes no nonce", async function () {
    const p = plugin();
    const first = await client().getTransactionCount({ address: relayer.address });
    const data = (id: bigint) => emitter.calldata("emitEvent", [id, "0x"]);
    let pass!: (go: boolean) => void;
    const later = new Promise<boolean>((resolve) => (pass = resolve));
    const gated = p.write({ to: emitter.address, data: data(10n), proceed: later });
    const stopped = p.write({ to: emitter.address, data: data(11n), proceed: Promise.resolve(false) });
    const readFailed = Promise.reject(new Error("read failed"));
    readFailed.catch(() => undefined); // handled by the write; this only keeps node from warning before it is
    const failed = p.write({ to: emitter.address, data: data(12n), proceed: readFailed });
    // A refused estimate under a false check is a cancellation, not a failure: the work was found not needed.
    const revertsStopped = p.write({ to: emitter.address, data: "0xdeadbeef" as Hex, proceed: Promise.resolve(false) });
    const settled = await Promise.allSettled([stopped, revertsStopped, failed]);
    const codes = settled.map((s) => (s.status === "rejected" ? (s.reason as { code?: string }).code : "sent"));
    expect(codes).to.deep.equal(["CHAIN_WRITE_CANCELLED", "CHAIN_WRITE_CANCELLED", "CHAIN_WRITE_FAILED"]);
    pass(true);
    const sent = await gated;
    expect((await p.waitReceipt(sent)).status).to.equal("success");
    expect(await nonceOf(sent)).to.equal(first);
    expect(await nonceOf(await emit(p, 13n))).to.equal(first + 1);
  });

  it("resolves a receipt only once it is `confirmations` deep", async function () {
    const p = plugin();
    const hash = await emit(p, 9n);
    let resolved = false;
    const waiting = p.waitReceipt(hash, { confirmations: 3 }).then((r) => ((resolved = true), r));
    const mined = await p.waitReceipt(hash);
    await mine(1);
    // Several poll rounds with the receipt 2 deep: still waiting.
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 30));
    expect(resolved).to.equal(false);
    await mine(1);
    const receipt = await waiting;
    expect(receipt.transactionHash).to.equal(hash);
    expect(receipt.blockNumber).to.equal(mined.blockNumber);
    expect((await p.status()).height - receipt.blockNumber + 1n >= 3n).to.equal(true);
  });

  it("waits for many transactions at once, each with its own receipt", async function () {
    const p = plugin();
    const hashes = await Promise.all(Array.from({ length: 8 }, (_, i) => emit(p, BigInt(200 + i))));
    const waiting = Promise.all(hashes.map((h) => p.waitReceipt(h, { confirmations: 2 })));
    await mine(1); // the last one is 2 deep only under one more block
    const receipts = await waiting;
    expect(receipts.map((r) => r.transactionHash)).to.deep.equal(hashes);
    expect(receipts.map((r) => BigInt(r.logs[0]!.topics[1]!))).to.deep.equal(hashes.map((_, i) => BigInt(200 + i)));
  });

  it("looks for an awaited transaction again only after a new block, or once per poll interval", async function () {
    const rpc = new RpcPools();
    const p = chainRegistry.create(
      { kind: "evm", rpcUrl: node.url, chainId: 31337, gateway: emitter.address, pollIntervalMs: 50 },
      { name: "sub_a", signer: relayer, logger: silentLogger(), rpc },
    );
    const lookups = () => [...rpc.calls()].find((c) => c.method === "eth_getTransactionReceipt")?.count ?? 0;
    await new JsonRpcHttp(node.url).request("evm_setAutomine", [false]);
    try {
      const hash = await emit(p, 400n);
      const waiting = p.waitReceipt(hash);
      // 300 ms without a block: the quick rounds (every 5 ms) ask only for the head; the receipt is asked for at
      // once and then about every 50 ms (7 looks), where asking in every round would be about 25 more.
      await new Promise((r) => setTimeout(r, 300));
      const idle = lookups();
      expect(idle).to.be.within(1, 9);
      await mine(1);
      expect((await waiting).status).to.equal("success");
      expect(lookups()).to.be.greaterThan(idle);
    } finally {
      await new JsonRpcHttp(node.url).request("evm_setAutomine", [true]);
    }
  });
});

describe("relayer/chains: JSON-RPC over kept-alive HTTP", function () {
  let node: HardhatNode;
  before(async function () {
    node = await startHardhatNode();
  });
  after(async function () {
    await node?.stop();
  });

  it("sends calls made together as one batch and answers each in order, errors per call", async function () {
    const rpc = new JsonRpcHttp(node.url);
    const before = rpc.requests;
    const [chainId, head, bad] = await Promise.allSettled([
      rpc.request("eth_chainId"),
      rpc.request("eth_blockNumber"),
      rpc.request("eth_noSuchMethod"),
    ]);
    expect(rpc.requests - before).to.equal(1);
    expect(chainId).to.deep.equal({ status: "fulfilled", value: "0x7a69" });
    expect(head.status).to.equal("fulfilled");
    expect(bad.status).to.equal("rejected");
    expect(((bad as PromiseRejectedResult).reason as Error).name).to.equal("RpcRequestError");
    rpc.close();
  });

  it("splits a burst of calls into batches of at most MAX_BATCH (nodes bound a batch), each answered in order", async function () {
    const rpc = new JsonRpcHttp(node.url);
    const n = MAX_BATCH * 2 + 5;
    const inputs = Array.from({ length: n }, (_, i) => toHex(i, { size: 32 }));
    const answers = await Promise.all(inputs.map((input) => rpc.request("web3_sha3", [input])));
    expect(rpc.requests).to.equal(3);
    expect(answers).to.deep.equal(inputs.map((input) => keccak256(input)));
    rpc.close();
  });
});
