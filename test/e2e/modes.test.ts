/**
 * Read, then write that depends on it, end to end on real chains: a local consortium (three anvil chains) with both
 * institutions' relayers, and `ccgp send` as the app. One transaction, several packets (each signed by the app): a
 * versioned read of a batch's custody on sub-chain B, then a custody write on B that depends on it (`dependsOn`,
 * `versionKey` = the batch id). When the batch changes between the read and the write, B's gateway refuses the write
 * (`SubchainGatewayStaleRead`), the ledger records `StaleReadRejected`, and the completed writes are undone.
 */
import { expect } from "chai";
import { keccak256, type Hex } from "viem";
import { DrugTraceability__factory } from "../../typechain-types";
import { ccgp, type CliRun } from "../cli/helpers";
import { accountOn, batchOnA, custodyLength, randomHex, startSide, until, untilState, world, type World } from "../relayer/runtime/helpers/world";

describe("transaction modes end to end: read, then a write that depends on it", function () {
  this.timeout(300_000);
  let w: World;
  let intake: string;

  before(async function () {
    w = await world({ relayerLogLevel: "warn" });
    intake = `http://127.0.0.1:${(await startSide(w, "a", {}, "warn")).ports.app}`;
    await startSide(w, "b", {}, "warn");
  });
  after(async function () {
    await w?.stop();
  });

  const send = (kind: "read" | "write", ...rest: string[]): Promise<CliRun> =>
    ccgp(
      [
        "send", kind,
        "--relayer", intake,
        "--pipe", w.c.pipes.aToB.id,
        "--app-keystore", w.c.business.a.app.key.keystore,
        "--rpc", w.c.chains.governance.url,
        "--deployments", w.c.runDir,
        "--poll-ms", "250",
        ...rest,
      ],
      { CCGP_KEYSTORE_PASSWORD: w.c.password },
    );
  const custody = (batchId: Hex) => ["continueCustody(bytes32,address,bytes32)", JSON.stringify([batchId, w.c.business.b.accounts.operator.address, randomHex()])] as const;
  const results = async (txId: Hex) => (await w.k.ledger.queryFilter(w.k.ledger.filters.ResultRecorded(txId))).map((e) => e.args);

  it("succeeds: the read's value and version come back, the write ran on the version it read", async function () {
    const { batchId } = await batchOnA(w);
    const [fn, args] = custody(batchId);
    const steps = JSON.stringify([{ side: "target" }, { side: "target", operation: "write", function: fn, args: JSON.parse(args), dependsOn: 0, versionKey: batchId }]);
    const run = await send("read", "--function", "custodyState(bytes32)", "--args", JSON.stringify([batchId]), "--steps", steps, "--wait", "--json");
    expect(run.code, run.stderr).to.equal(0);
    const out = run.json<{ txId: Hex; state: string; reads: { step: number; decoded: { length: string; version: string }; raw: Hex; stateVersion: string }[] }>();
    expect(out.state).to.equal("Confirmed");
    expect(await custodyLength(w, "b", batchId)).to.equal(1n);
    // The read saw no custody step here, at the batch's version on B (0: never changed there), and recorded it.
    const [read] = out.reads;
    expect(read!.decoded.length).to.equal("0");
    expect(read!.stateVersion).to.equal(read!.decoded.version);
    const recorded = await results(out.txId);
    expect(recorded.map((r) => [Number(r.step), Number(r.operation), r.success])).to.deep.equal([[0, 0, true], [1, 1, true]]);
    expect(recorded[0]!.resultHash).to.equal(keccak256(read!.raw));
    expect(recorded[1]!.stateVersion).to.equal(recorded[0]!.stateVersion);
  });

  it("goes stale: the batch changes on B between the read and the write; refused, StaleReadRejected, the earlier write undone", async function () {
    const { batchId } = await batchOnA(w);
    const [fn, args] = custody(batchId);
    // A custody write, the versioned read, and the dependent write: all on B, three packets.
    const steps = JSON.stringify([
      { side: "target" },
      { side: "target", operation: "read", function: "custodyState(bytes32)", args: [batchId] },
      { side: "target", operation: "write", function: fn, args: JSON.parse(custody(batchId)[1]), dependsOn: 1, versionKey: batchId },
    ]);
    const sequence = (await w.k.ledger.pipeOf(w.c.pipes.aToB.id)).lastSequence + 1n;
    const running = send("write", "--function", fn, "--args", args, "--steps", steps, "--sequence", sequence.toString(), "--json");
    // The test's own transaction on B, as soon as the read ran there: the batch's version moves.
    await until(async () => (await w.k.b.gateway.inboundRecord(w.c.pipes.aToB.id, sequence + 1n)).target !== "0x0000000000000000000000000000000000000000", "the read on B", 120_000);
    const operator = await accountOn(w, w.c.business.b.accounts.operator.keystore, "b");
    await (await DrugTraceability__factory.connect(w.c.business.b.contracts.drugTraceability, operator).recordBatch(batchId, w.c.business.b.accounts.operator.address, randomHex())).wait();

    const run = await running;
    expect(run.code, run.stderr).to.equal(0);
    const txId = run.json<{ txId: Hex }>().txId;
    await untilState(w, txId, "Compensated", 120_000);
    const stale = await w.k.ledger.queryFilter(w.k.ledger.filters.StaleReadRejected(txId));
    expect(stale.map((e) => [Number(e.args.step), Number(e.args.readStep)])).to.deep.equal([[2, 1]]);
    expect(stale[0]!.args.readVersion).to.not.equal(stale[0]!.args.seenVersion);
    const recorded = await results(txId);
    expect(recorded.map((r) => [Number(r.step), r.success])).to.deep.equal([[0, true], [1, true], [2, false]]);
    // Nothing the transaction did is left: the first custody write was undone, the dependent one never ran.
    expect(await custodyLength(w, "b", batchId)).to.equal(0n);
    expect((await w.k.b.gateway.inboundRecord(w.c.pipes.aToB.id, sequence + 2n)).target).to.equal("0x0000000000000000000000000000000000000000");
    expect((await w.k.b.gateway.inboundRecord(w.c.pipes.aToB.id, sequence)).compensated).to.equal(true);
  });
});
