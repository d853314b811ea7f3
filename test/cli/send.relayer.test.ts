/**
 * `ccgp send` against the relayer runtime: a local consortium (setupLocalConsortium: three anvil chains, both
 * business institutions, pipes, verifiers) with both institutions' relayers running (startRelayer). The CLI signs
 * the request with the app's keystore and posts it to relayer A's app intake; the relayers carry it to sub-chain B,
 * record it on the ledger, the verifiers endorse it, and `--wait` follows it to Confirmed.
 */
import { expect } from "chai";
import type { Hex } from "viem";
import { ccgp, type CliRun } from "./helpers";
import { batchOnA, custodyLength, drug, randomHex, startSide, world, type World } from "../relayer/runtime/helpers/world";

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
        "send", kind,
        "--relayer", intake,
        "--pipe", w.c.pipes.aToB.id,
        "--app-keystore", w.c.business.a.app.key.keystore,
        "--rpc", w.c.chains.governance.url,
        "--deployments", w.c.runDir,
        ...rest,
      ],
      { CCGP_KEYSTORE_PASSWORD: w.c.password },
    );
  const txIdOf = (run: CliRun): Hex => run.stdout.trim().split(" ")[0] as Hex;

  it("a custody write A -> B: carried by both relayers, executed on B, confirmed on the ledger", async function () {
    const { batchId } = await batchOnA(w);
    const args = JSON.stringify([batchId, w.c.business.b.accounts.operator.address, randomHex()]);
    const run = await send("write", "--function", "continueCustody(bytes32,address,bytes32)", "--args", args, "--wait", "--poll-ms", "250");
    expect(run.code, run.stderr).to.equal(0);
    const txId = txIdOf(run);
    expect(run.stdout.trim()).to.equal(`${txId} Confirmed`);
    expect(run.stderr).to.include("accepted by the relayer").and.include(`${txId}: ledger Confirmed (1/1 steps)`);
    expect(await custodyLength(w, "b", batchId)).to.equal(1n);

    const shown = await ccgp(["tx", "show", txId, "--rpc", w.c.chains.governance.url, "--deployments", w.c.runDir, "--json"]);
    expect(shown.code, shown.stderr).to.equal(0);
    const tx = shown.json<{ state: string; results: { success: boolean }[]; endorsements: { kind: string }[]; verification: { weightFor: number } }>();
    expect(tx.state).to.equal("Confirmed");
    expect(tx.results.map((r) => r.success)).to.deep.equal([true]);
    expect(tx.endorsements.every((e) => e.kind === "Endorsed")).to.equal(true);
    expect(tx.verification.weightFor).to.be.greaterThan(0);
  });

  it("a read on B after a source read on A, the source step bound to the transaction id", async function () {
    const { batchId } = await batchOnA(w);
    const steps = JSON.stringify([{ side: "source", operation: "read", contract: w.c.business.a.contracts.names.drugTraceability, data: drug.encodeFunctionData("batch", [batchId]) }, { side: "target" }]);
    const run = await send("read", "--function", "custodyLength(bytes32)", "--args", JSON.stringify([batchId]), "--steps", steps, "--wait", "--poll-ms", "250");
    expect(run.code, run.stderr).to.equal(0);
    const txId = txIdOf(run);
    expect(run.stdout.trim()).to.equal(`${txId} Confirmed`);
    expect((await w.k.ledger.transaction(txId)).stepCount).to.equal(2n);
  });

  it("a sequence already used on the pipe: the relayer refuses it with its code (exit 1)", async function () {
    const { batchId } = await batchOnA(w);
    const run = await send("read", "--function", "custodyLength(bytes32)", "--args", JSON.stringify([batchId]), "--sequence", "1");
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stderr.trim().split("\n").at(-1)).to.match(/the relayer refused the request: (REPLAY|DUPLICATE): /);
  });

  it("source steps with a chosen transaction id: bad input (exit 2, --tx-id)", async function () {
    const steps = JSON.stringify([{ side: "source", operation: "read", contract: "DrugTraceability", data: drug.encodeFunctionData("batch", [randomHex()]) }, { side: "target" }]);
    const run = await send("read", "--function", "custodyLength(bytes32)", "--args", JSON.stringify([randomHex()]), "--steps", steps, "--tx-id", randomHex());
    expect(run.code, run.stderr).to.equal(2);
    expect(run.stderr).to.include("--tx-id: cannot be chosen with source steps");
  });
});
