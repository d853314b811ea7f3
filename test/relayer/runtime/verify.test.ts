/**
 * Verification against the sub-chain, with in-process relayers on real chains: a verifier endorses what its own
 * sub-chain shows, not what was recorded. The endorsement of the recorded hash is prepared while the sub-chain is
 * observed and sent only if they agree; here they do not (the execution was rolled back on B after its result was
 * recorded), so B's endorsement conflicts. An execution a reorg mined again in a later block is the same execution:
 * B endorses it.
 */
import { expect } from "chai";
import type { Hex } from "viem";
import { toWire } from "../../../lib/amdp";
import {
  appSigned,
  batchOnA,
  custodyPacket,
  post,
  startSide,
  stateOf,
  stopSide,
  until,
  world,
  type World,
} from "./helpers/world";

describe("relayer runtime: verification against the sub-chain", function () {
  this.timeout(180_000);
  let w: World;

  before(async function () {
    // The parties' own verification only: the Audit Office's independent verifier would confirm before B is back.
    w = await world({ verifier: false });
    await startSide(w, "a");
    // B executes and records, but does not verify yet.
    await startSide(w, "b", { verify: false });
  });
  after(async () => w?.stop());

  it("endorses what its sub-chain shows: a recorded execution that B's chain no longer has gets a conflicting endorsement", async function () {
    const { batchId } = await batchOnA(w);
    const snapshot = (await w.k.b.provider.send("evm_snapshot", [])) as string;
    const { packet, payload } = await custodyPacket(w, batchId);
    const txId = packet.txId as Hex;
    const answer = await post(w, "a", toWire(await appSigned(w, packet, payload)));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    const [a, b] = [w.proxies.a.address, w.proxies.b.address];
    // A takes results on other sub-chains as recorded: it endorses (1 of 3 weight: still Executed).
    await until(() => w.k.ledger.hasEndorsed(txId, a), "A's endorsement");
    expect(await stateOf(w, txId)).to.equal("Executed");
    const recorded = (await w.k.ledger.transaction(txId)).resultSetHash;

    // B's execution is rolled back on its chain; B comes back with verification on.
    await stopSide(w, "b");
    expect(await w.k.b.provider.send("evm_revert", [snapshot])).to.equal(true);
    await startSide(w, "b");
    await until(() => w.k.ledger.hasEndorsed(txId, b), "B's endorsement");

    const [endorsed] = await w.k.ledger.queryFilter(w.k.ledger.filters.Endorsed(txId));
    const [conflicted] = await w.k.ledger.queryFilter(w.k.ledger.filters.EndorsementConflicted(txId));
    expect(endorsed?.args.verifier).to.equal(a);
    expect(conflicted?.args.verifier).to.equal(b);
    expect(conflicted?.args.endorsedHash).to.not.equal(recorded);
    expect(conflicted?.args.recordedHash).to.equal(recorded);
    // One against, one for, of three: neither side has its majority yet.
    expect(await stateOf(w, txId)).to.equal("Executed");
  });

  it("takes an execution a reorg mined again in a later block as the recorded one: B endorses it, no conflict", async function () {
    await stopSide(w, "b");
    await startSide(w, "b", { verify: false });
    const { batchId } = await batchOnA(w);
    const bNode = w.k.b.provider;
    const before = BigInt(await bNode.getBlockNumber());
    const snapshot = (await bNode.send("evm_snapshot", [])) as string;
    const { packet, payload } = await custodyPacket(w, batchId);
    const txId = packet.txId as Hex;
    const answer = await post(w, "a", toWire(await appSigned(w, packet, payload)));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    await until(() => w.k.ledger.hasEndorsed(txId, w.proxies.a.address), "A's endorsement");
    await stopSide(w, "b");

    // Every transaction B's chain took since the snapshot (B's execution among them), mined again one block later.
    const head = BigInt(await bNode.getBlockNumber());
    const raw: Hex[] = [];
    const first = new Map<Hex, bigint>();
    for (let n = before + 1n; n <= head; n++) {
      const block = (await bNode.send("eth_getBlockByNumber", [`0x${n.toString(16)}`, false])) as {
        transactions: Hex[];
      };
      for (const hash of block.transactions) {
        raw.push((await bNode.send("eth_getRawTransactionByHash", [hash])) as Hex);
        first.set(hash, n);
      }
    }
    expect(raw.length, "B's execution on its chain").to.be.greaterThan(0);
    expect(await bNode.send("evm_revert", [snapshot])).to.equal(true);
    await bNode.send("evm_mine", []);
    for (const tx of raw) await bNode.send("eth_sendRawTransaction", [tx]);
    for (const [hash, n] of first) {
      const receipt = await bNode.getTransactionReceipt(hash);
      expect(BigInt(receipt!.blockNumber), hash).to.be.greaterThan(n);
    }

    await startSide(w, "b");
    await until(() => w.k.ledger.hasEndorsed(txId, w.proxies.b.address), "B's endorsement");
    expect(await w.k.ledger.queryFilter(w.k.ledger.filters.EndorsementConflicted(txId))).to.deep.equal([]);
    // Both parties for: Confirmed waits only for a non-party's check (none runs in this world).
    expect(await stateOf(w, txId)).to.equal("Executed");
  });
});
