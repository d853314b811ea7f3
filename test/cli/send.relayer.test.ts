/**
 * `ccgp send` against the relayer runtime: a local consortium (setupLocalConsortium: three anvil chains, both
 * business institutions, pipes, verifiers) with both institutions' relayers running (startRelayer). The CLI signs
 * the request with the app's keystore and posts it to relayer A's app intake; the relayers carry it to sub-chain B,
 * record it on the ledger, the verifiers endorse it, and `--wait` follows it to Confirmed.
 */
import { expect } from "chai";
import type { Hex } from "viem";
import { ccgp, type CliRun } from "./helpers";
import { keccak256 } from "viem";
import {
  batchOnA,
  custodyLength,
  drug,
  randomHex,
  sideConfig,
  startSide,
  stopSide,
  world,
  type World,
} from "../relayer/runtime/helpers/world";
import { startRelayer } from "../../relayer/src/relayer";
import { createLogger } from "../../lib/infra/log";
import { PeerClient, loadTlsMaterial, pinSet } from "../../relayer/src/server";

describe("ccgp send against the relayer runtime", function () {
  this.timeout(300_000);
  let w: World;
  let intake: string;

  before(async function () {
    w = await world({ relayerLogLevel: "warn" });
    intake = `http://127.0.0.1:${(await startSide(w, "a")).ports.app}`;
    await startSide(w, "b");
  });
  after(async function () {
    await w?.stop();
  });

  const send = (kind: "read" | "write", ...rest: string[]): Promise<CliRun> =>
    ccgp(
      [
        "send",
        kind,
        "--relayer",
        intake,
        "--pipe",
        w.c.pipes.aToB.id,
        "--app-keystore",
        w.c.business.a.app.key.keystore,
        "--rpc",
        w.c.chains.governance.url,
        "--deployments",
        w.c.runDir,
        ...rest,
      ],
      { CCGP_KEYSTORE_PASSWORD: w.c.password },
    );
  const txIdOf = (run: CliRun): Hex => run.stdout.trim().split(" ")[0] as Hex;

  it("a custody write A -> B: carried by both relayers, executed on B, confirmed on the ledger", async function () {
    const { batchId } = await batchOnA(w);
    const args = JSON.stringify([batchId, w.c.business.b.accounts.operator.address, randomHex()]);
    const run = await send(
      "write",
      "--function",
      "continueCustody(bytes32,address,bytes32)",
      "--args",
      args,
      "--wait",
      "--poll-ms",
      "250",
    );
    expect(run.code, run.stderr).to.equal(0);
    const txId = txIdOf(run);
    expect(run.stdout.trim()).to.equal(`${txId} Confirmed`);
    expect(run.stderr).to.include("accepted by the relayer").and.include(`${txId}: ledger Confirmed (1/1 steps)`);
    expect(await custodyLength(w, "b", batchId)).to.equal(1n);

    const shown = await ccgp([
      "tx",
      "show",
      txId,
      "--rpc",
      w.c.chains.governance.url,
      "--deployments",
      w.c.runDir,
      "--json",
    ]);
    expect(shown.code, shown.stderr).to.equal(0);
    const tx = shown.json<{
      state: string;
      results: { success: boolean }[];
      endorsements: { kind: string }[];
      verification: { weightFor: number };
    }>();
    expect(tx.state).to.equal("Confirmed");
    expect(tx.results.map((r) => r.success)).to.deep.equal([true]);
    expect(tx.endorsements.every((e) => e.kind === "Endorsed")).to.equal(true);
    expect(tx.verification.weightFor).to.be.greaterThan(0);
  });

  it("a read on B after a source read on A, the source step bound to the transaction id: both values, decoded", async function () {
    const { batchId, dataHash } = await batchOnA(w);
    const steps = JSON.stringify([
      {
        side: "source",
        operation: "read",
        contract: w.c.business.a.contracts.names.drugTraceability,
        data: drug.encodeFunctionData("batch", [batchId]),
      },
      { side: "target" },
    ]);
    const run = await send(
      "read",
      "--function",
      "custodyLength(bytes32)",
      "--args",
      JSON.stringify([batchId]),
      "--steps",
      steps,
      "--wait",
      "--poll-ms",
      "250",
    );
    expect(run.code, run.stderr).to.equal(0);
    const txId = txIdOf(run);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).to.equal(`${txId} Confirmed`);
    expect(lines[1])
      .to.match(/^step 0 \(source read batch, version \d+\): \{/)
      .and.include(dataHash);
    // The batch is on A only: B has no custody step for it.
    expect(lines[2]).to.match(/^step 1 \(target read custodyLength, version \d+\): "0"$/);
    expect((await w.k.ledger.transaction(txId)).stepCount).to.equal(2n);
  });

  it("send read --wait --json: the value, decoded by the contract's ABI, hashes to the result hash the ledger recorded", async function () {
    const { batchId } = await batchOnA(w);
    const write = await send(
      "write",
      "--function",
      "continueCustody(bytes32,address,bytes32)",
      "--args",
      JSON.stringify([batchId, w.c.business.b.accounts.operator.address, randomHex()]),
      "--wait",
      "--poll-ms",
      "250",
    );
    expect(write.code, write.stderr).to.equal(0);
    const run = await send(
      "read",
      "--function",
      "custodyLength(bytes32)",
      "--args",
      JSON.stringify([batchId]),
      "--wait",
      "--poll-ms",
      "250",
      "--json",
    );
    expect(run.code, run.stderr).to.equal(0);
    const out = run.json<{
      txId: Hex;
      state: string;
      reads: { step: number; side: string; raw: Hex; decoded: unknown; function: string; resultHash: Hex }[];
    }>();
    expect(out.state).to.equal("Confirmed");
    expect(out.reads).to.have.length(1);
    const [read] = out.reads;
    expect(read!.side).to.equal("target");
    expect(read!.function).to.equal("custodyLength");
    expect(read!.decoded).to.equal("1");
    // Proven by the ledger: the recorded (and endorsed) result hash is the value's hash.
    const recorded = await w.k.ledger.queryFilter(w.k.ledger.filters.ResultRecorded(out.txId));
    expect(recorded.map((e) => e.args.resultHash)).to.deep.equal([keccak256(read!.raw)]);
    expect(read!.resultHash).to.equal(keccak256(read!.raw));

    // The intake answers the same value.
    const res = await fetch(`${intake}/v1/transactions/${out.txId}`);
    const view = (await res.json()) as { reads: { decoded: unknown }[] };
    expect(view.reads.map((r) => r.decoded)).to.deep.equal(["1"]);

    // B serves the value only to the pipe's source service: B's own certificate (pinned, enabled) is refused.
    const askB = async (as: "a" | "b") => {
      const side = w.c.business[as];
      const client = new PeerClient({
        tls: loadTlsMaterial({ cert: side.tls.cert, key: side.tls.key, ca: side.tls.ca }),
        isPinned: pinSet([w.c.business.b.tls.fingerprint]),
      });
      return client.call(`https://127.0.0.1:${w.c.business.b.ports.peer}/v1/results`, { body: { txId: out.txId } });
    };
    const refused = await askB("b");
    expect(refused.status).to.equal(403);
    expect((refused.body as { error: { code: string } }).error.code).to.equal("PEER_MISMATCH");
    const served = await askB("a");
    expect(served.status).to.equal(200);
    expect((served.body as { results: { returnData: Hex }[] }).results.map((r) => r.returnData)).to.deep.equal([
      read!.raw,
    ]);
  });

  it("a value above the target relayer's limits.maxResultBytes is not carried: RESULT_TOO_LARGE with its size, the transaction still confirms", async function () {
    await stopSide(w, "b");
    const config = sideConfig(w.c.business.b);
    w.relayers.b = await startRelayer(
      { ...config, limits: { ...config.limits, maxResultBytes: 32 } },
      { logger: createLogger({ level: "silent" }) },
    );
    try {
      const { batchId } = await batchOnA(w);
      const run = await send(
        "read",
        "--function",
        "batch(bytes32)",
        "--args",
        JSON.stringify([batchId]),
        "--wait",
        "--poll-ms",
        "250",
        "--json",
      );
      expect(run.code, run.stderr).to.equal(0);
      const out = run.json<{ state: string; reads: { raw?: Hex; error?: { code: string; message: string } }[] }>();
      expect(out.state).to.equal("Confirmed");
      expect(out.reads[0]!.raw).to.equal(undefined);
      expect(out.reads[0]!.error!.code).to.equal("RESULT_TOO_LARGE");
      expect(out.reads[0]!.error!.message).to.match(/is \d+ bytes, above the limit of 32 \(limits.maxResultBytes\)/);
    } finally {
      await stopSide(w, "b");
      await startSide(w, "b");
    }
  });

  it("a sequence already used on the pipe: the relayer refuses it with its code (exit 1)", async function () {
    const { batchId } = await batchOnA(w);
    const run = await send(
      "read",
      "--function",
      "custodyLength(bytes32)",
      "--args",
      JSON.stringify([batchId]),
      "--sequence",
      "1",
    );
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stderr.trim().split("\n").at(-1)).to.match(/the relayer refused the request: (REPLAY|DUPLICATE): /);
  });

  it("source steps with a chosen transaction id: bad input (exit 2, --tx-id)", async function () {
    const steps = JSON.stringify([
      {
        side: "source",
        operation: "read",
        contract: "DrugTraceability",
        data: drug.encodeFunctionData("batch", [randomHex()]),
      },
      { side: "target" },
    ]);
    const run = await send(
      "read",
      "--function",
      "custodyLength(bytes32)",
      "--args",
      JSON.stringify([randomHex()]),
      "--steps",
      steps,
      "--tx-id",
      randomHex(),
    );
    expect(run.code, run.stderr).to.equal(2);
    expect(run.stderr).to.include("--tx-id: cannot be chosen with source steps");
  });
});
