/**
 * The transaction driver's failure paths against real chains, with in-process relayers: a transaction whose target
 * never answers expires at its deadline and the initiator's completed write is undone; a source step that fails
 * fails the transaction before anything is sent; a step whose attestations fail more often than the ledger records
 * retries still runs, and is never escalated; a confirmation a deep governance reorg undid is endorsed again.
 */
import { expect } from "chai";
import type { Hex } from "viem";
import { toWire, type Packet } from "../../../lib/amdp";
import { boundTxId, planOf, sourceSequence } from "../../../lib/domain/plan";
import { FaultProxy } from "../../../chaos/proxy";
import { freePort } from "../../../scripts/lib/anvil";
import { publishAttesterEndpoint } from "../../../scripts/lib/local/attesters";
import {
  appSigned,
  batchOnA,
  custodyLength,
  custodyPacket,
  drug,
  post,
  randomHex,
  refusalsOf,
  sideConfig,
  startSide,
  stateOf,
  stopSide,
  until,
  untilState,
  world,
  ZERO_ADDRESS,
  type World,
} from "./helpers/world";

describe("relayer runtime: expiry and failed steps", function () {
  this.timeout(120_000);
  let w: World;

  before(async function () {
    w = await world();
    await startSide(w, "a");
  });
  after(async () => w?.stop());

  /** Posts a request with one source write on A (custody handed to `custodianOnA`) before the target write on B. */
  async function withSourceStep(batchId: Hex, custodianOnA: string, deadline?: bigint): Promise<Hex> {
    const { packet, payload } = await custodyPacket(w, batchId, { deadline });
    const data = drug.encodeFunctionData("continueCustody", [batchId, custodianOnA, randomHex()]);
    const steps = [
      { side: "source", operation: "write", contract: w.c.business.a.contracts.names.drugTraceability, data },
      { side: "target" },
    ];
    const salt = randomHex();
    const bound = { ...packet, txId: boundTxId(salt, planOf(packet, payload, steps).steps) };
    const answer = await post(w, "a", { ...toWire(await appSigned(w, bound, payload)), steps, salt });
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    return bound.txId;
  }

  /**
   * A custody write from A to B (B started), Confirmed and closed by both relayers, with three blocks mined past its
   * last endorsement: a reorg back to any of its blocks is deeper than the confirmation depth, and every endorser had
   * its receipt before it.
   */
  async function confirmedAndClosed(): Promise<{ batchId: Hex; packet: Packet }> {
    const { batchId } = await batchOnA(w);
    const { packet, payload } = await custodyPacket(w, batchId);
    const answer = await post(w, "a", toWire(await appSigned(w, packet, payload)));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    await untilState(w, packet.txId, "Confirmed", 60_000);
    await until(
      () =>
        w.relayers.a!.runtime.journal.require(packet.txId, "initiator").status === "finished" &&
        w.relayers.b!.runtime.journal.require(packet.txId, "receiver").status === "finished",
      "both relayers to close the transaction",
    );
    const endorsed = await w.k.ledger.queryFilter(w.k.ledger.filters.Endorsed(packet.txId));
    const last = Math.max(...endorsed.map((e) => e.blockNumber));
    await until(async () => (await w.k.provider.getBlockNumber()) >= last + 3, "three blocks past the endorsements");
    return { batchId, packet };
  }

  it("expires a transaction whose target never answers, then undoes the initiator's completed write", async function () {
    const { batchId } = await batchOnA(w);
    const txId = await withSourceStep(
      batchId,
      w.c.business.a.accounts.operator.address,
      BigInt(Math.floor(Date.now() / 1000) + 8),
    );
    await until(async () => (await custodyLength(w, "a", batchId)) === 1n, "the source write on A");
    await untilState(w, txId, "Compensated");
    expect(await custodyLength(w, "a", batchId)).to.equal(0n);
    const transitions = await w.k.ledger.queryFilter(w.k.ledger.filters.TxTransitioned(txId));
    // Expired, Compensating, Compensated (the move to Executing is told by the ResultRecorded that made it)
    expect(transitions.map((t) => Number(t.args.to))).to.deep.equal([10, 6, 7]);
  });

  it("fails the transaction when a source step fails, and sends nothing", async function () {
    const { batchId } = await batchOnA(w);
    const txId = await withSourceStep(batchId, ZERO_ADDRESS);
    await untilState(w, txId, "Failed");
    const entry = w.relayers.a!.runtime.journal.require(txId, "initiator");
    await until(
      () => w.relayers.a!.runtime.journal.require(txId, "initiator").status === "finished",
      "the journal to close it",
    );
    expect(entry.status).to.be.oneOf(["opened", "finished"]);
    expect(w.relayers.a!.runtime.store.getOutbox(`tx:${txId}:deliver`)).to.equal(null);
    expect(await stateOf(w, txId)).to.equal("Failed");
  });

  it("sends again an open a reorg undid, retrying the receiver's TX_NOT_OPEN meanwhile: confirmed, run once, never escalated", async function () {
    // B behind a fault proxy on its registered peer port: A's delivery is held in the link while the governance chain
    // drops the block with the open, so B finds no such transaction and answers TX_NOT_OPEN.
    const bPort = await freePort();
    const link = new FaultProxy(w.c.business.b.ports.peer, bPort);
    await link.start();
    try {
      await startSide(w, "b", {}, "debug", { port: bPort });
      // Each chunk held 2.5 s: B reads the ledger several seconds after A's delivery connects, the reorg long before.
      link.set("delay", 2_500);
      const { batchId } = await batchOnA(w);
      const { packet, payload } = await custodyPacket(w, batchId);
      const answer = await post(w, "a", toWire(await appSigned(w, packet, payload)));
      expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
      let opened: Awaited<ReturnType<typeof w.k.ledger.queryFilter>>[number] | undefined;
      await until(async () => {
        [opened] = await w.k.ledger.queryFilter(w.k.ledger.filters.TxOpened(packet.txId));
        return opened !== undefined;
      }, "the open on the ledger");
      await until(() => link.connections > 0, "A's delivery in the link", 60_000);
      const head = await w.k.provider.getBlockNumber();
      await w.k.provider.send("anvil_reorg", [head - opened!.blockNumber + 1, []]);
      expect((await w.k.provider.getBlock(opened!.blockNumber))!.hash).to.not.equal(opened!.blockHash);
      await until(() => refusalsOf(w, "b", "TX_NOT_OPEN").length > 0, "B's TX_NOT_OPEN", 60_000);
      link.set("pass");
      await untilState(w, packet.txId, "Confirmed", 100_000);
      expect(await w.k.ledger.queryFilter(w.k.ledger.filters.TxOpened(packet.txId))).to.have.length(1);
      expect(await w.k.ledger.queryFilter(w.k.ledger.filters.TxEscalated(packet.txId))).to.have.length(0);
      const runs = await w.k.b.gateway.queryFilter(w.k.b.gateway.filters.InboundExecuted(undefined, packet.pipeId));
      expect(runs.filter((e) => e.args.sequence === packet.sequence)).to.have.length(1);
      expect(await custodyLength(w, "b", batchId)).to.equal(1n);
    } finally {
      await stopSide(w, "b");
      await link.stop();
    }
  });

  it("keeps running a step whose attestations fail past the ledger's retry bound: confirmed, run once, never escalated", async function () {
    // The attester's published endpoint behind a cut fault proxy: each of B's attempts fails before anything reaches
    // its gateway (ATTESTATIONS_INSUFFICIENT), more often than the ledger records retries.
    const auditor = w.c.accounts.auditor;
    const direct = await w.relayers.a!.runtime.gov.services.read("attesterEndpoint", [auditor.address as Hex]);
    const proxyPort = await freePort();
    const link = new FaultProxy(proxyPort, Number(new URL(direct).port));
    await link.start();
    link.set("cut");
    const attesters = {
      governanceRpc: w.c.chains.governance.url,
      deployments: w.c.runDir,
      passwordEnv: w.c.passwordEnv,
      password: w.c.password,
      subchainRpcs: [],
    };
    await publishAttesterEndpoint(attesters, auditor.keystore, `http://127.0.0.1:${proxyPort}`);
    try {
      const retry = { ...sideConfig(w.c.business.b).runtime.retry, baseDelayMs: 50, maxDelayMs: 300 };
      await startSide(w, "b", { retry });
      const bound = Number(await w.k.ledger.maxRetries());
      const { batchId } = await batchOnA(w);
      const { packet, payload } = await custodyPacket(w, batchId);
      const answer = await post(w, "a", toWire(await appSigned(w, packet, payload)));
      expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
      const stepItem = () => w.relayers.b?.runtime.store.getOutbox(`rx:${packet.txId}:exec:0`);
      await until(() => (stepItem()?.attempts ?? 0) > bound + 2, "B's step failing past the retry bound", 60_000);
      expect(stepItem()!.lastError).to.match(/ATTESTATIONS_INSUFFICIENT|attest/i);
      link.set("pass");
      await untilState(w, packet.txId, "Confirmed", 60_000);
      const retried = await w.k.ledger.queryFilter(w.k.ledger.filters.StepRetried(packet.txId));
      expect(retried).to.have.length(bound);
      expect(await w.k.ledger.queryFilter(w.k.ledger.filters.TxEscalated(packet.txId))).to.have.length(0);
      const runs = await w.k.b.gateway.queryFilter(w.k.b.gateway.filters.InboundExecuted(undefined, packet.pipeId));
      expect(runs.filter((e) => e.args.sequence === packet.sequence)).to.have.length(1);
    } finally {
      await publishAttesterEndpoint(attesters, auditor.keystore, direct);
      await stopSide(w, "b");
      await link.stop();
    }
  });

  it("endorses again a transaction a governance reorg past the confirmation depth took back from Confirmed: confirmed again, never escalated", async function () {
    await startSide(w, "b");
    try {
      const { batchId, packet } = await confirmedAndClosed();
      const endorsed = await w.k.ledger.queryFilter(w.k.ledger.filters.Endorsed(packet.txId));
      const first = Math.min(...endorsed.map((e) => e.blockNumber));
      // Every endorsement replaced by blocks without it, and none sent again: only the relayers and the verifier can
      // bring the transaction back to Confirmed.
      await w.k.provider.send("anvil_reorg", [(await w.k.provider.getBlockNumber()) - first + 1, []]);
      expect(await stateOf(w, packet.txId)).to.equal("Executed");
      await untilState(w, packet.txId, "Confirmed", 90_000);
      expect(await w.k.ledger.queryFilter(w.k.ledger.filters.TxEscalated(packet.txId))).to.have.length(0);
      expect(await custodyLength(w, "b", batchId)).to.equal(1n);
    } finally {
      await stopSide(w, "b");
    }
  });

  it("records again a step result a governance reorg past the confirmation depth removed: recorded once, run once, confirmed again", async function () {
    await startSide(w, "b");
    try {
      const { batchId, packet } = await confirmedAndClosed();
      const [opened] = await w.k.ledger.queryFilter(w.k.ledger.filters.TxOpened(packet.txId));
      const [recorded] = await w.k.ledger.queryFilter(w.k.ledger.filters.ResultRecorded(packet.txId));
      // B records only after it read the open: the open is in an earlier block and stays.
      expect(recorded!.blockNumber).to.be.greaterThan(opened!.blockNumber);
      // B's recorded result, its endorsements and the confirmation replaced by blocks without them, none sent again:
      // the open stands with no result, and only B's relayer can record it again (its step ran on B already).
      await w.k.provider.send("anvil_reorg", [(await w.k.provider.getBlockNumber()) - recorded!.blockNumber + 1, []]);
      expect(await w.k.ledger.queryFilter(w.k.ledger.filters.ResultRecorded(packet.txId))).to.have.length(0);
      expect(await stateOf(w, packet.txId)).to.be.oneOf(["Open", "Executing"]);
      await untilState(w, packet.txId, "Confirmed", 90_000);
      expect(await w.k.ledger.queryFilter(w.k.ledger.filters.ResultRecorded(packet.txId))).to.have.length(1);
      expect(await w.k.ledger.queryFilter(w.k.ledger.filters.TxEscalated(packet.txId))).to.have.length(0);
      const runs = await w.k.b.gateway.queryFilter(w.k.b.gateway.filters.InboundExecuted(undefined, packet.pipeId));
      expect(runs.filter((e) => e.args.sequence === packet.sequence)).to.have.length(1);
      expect(await custodyLength(w, "b", batchId)).to.equal(1n);
    } finally {
      await stopSide(w, "b");
    }
  });

  // Last: it moves A's clock ahead for the rest of the file.
  it("runs no source step on a sub-chain whose clock passed the deadline: the gateway refuses, the ledger expires it", async function () {
    const { batchId } = await batchOnA(w);
    await w.k.a.provider.send("evm_increaseTime", [120]);
    await w.k.a.provider.send("evm_mine", []);
    const txId = await withSourceStep(
      batchId,
      w.c.business.a.accounts.operator.address,
      BigInt(Math.floor(Date.now() / 1000) + 8),
    );
    await untilState(w, txId, "Expired");
    const rt = w.relayers.a!.runtime;
    const entry = rt.journal.require(txId, "initiator");
    expect((await rt.subchain.gateway.record(entry.pipeId, sourceSequence(entry.sequence, 0))).target).to.equal(
      ZERO_ADDRESS,
    );
    expect(await custodyLength(w, "a", batchId)).to.equal(0n);
    expect(rt.store.getOutbox(`tx:${txId}:deliver`)).to.equal(null);
    const transitions = await w.k.ledger.queryFilter(w.k.ledger.filters.TxTransitioned(txId));
    expect(transitions.map((t) => Number(t.args.to))).to.deep.equal([10]); // Expired, never escalated
  });
});
