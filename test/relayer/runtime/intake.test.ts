/**
 * The app intake (stage 1) against real chains: every bad request is refused with its code and HTTP status, recorded
 * in the store and counted, and never reaches the ledger; a good one is countersigned, opened and carried through.
 * A plan of several target steps (read, then a write that depends on it) is carried through, or refused as stale.
 */
import { expect } from "chai";
import { JsonRpcProvider, Wallet } from "ethers";
import { keccak256, type Hex } from "viem";
import { ccgp, type CliRun } from "../../cli/helpers";
import { flipByte } from "../../helpers/amdp";
import { boundTxId, planOf } from "../../../lib/domain/plan";
import { decodeAcceptedPackets } from "../../../lib/domain/ledger-types";
import {
  accountOn,
  appSigned,
  batchOnA,
  countersigned,
  custodyLength,
  forgedAppSigned,
  custodyPacket,
  drug,
  metric,
  nextSequence,
  post,
  randomHex,
  refusalsOf,
  startSide,
  stateOf,
  stopSide,
  TxState,
  until,
  untilState,
  wire,
  wireObject,
  world,
  type World,
} from "./helpers/world";
import {
  AssetLedger__factory,
  DrugTraceability__factory,
  PipeRegistry__factory,
  SubchainGateway__factory,
} from "../../../typechain-types";

describe("relayer runtime: app intake (stage 1)", function () {
  this.timeout(120_000);
  let w: World;
  let batchId: Hex;

  before(async function () {
    w = await world({ assets: true });
    await startSide(w, "a");
    await startSide(w, "b");
    ({ batchId } = await batchOnA(w));
  });
  after(async () => w?.stop());

  /** Posts `body` and expects the refusal `code` with `status`, recorded and counted, and the txId unknown to the ledger. */
  async function refused(body: string | object, status: number, code: string, txId?: Hex): Promise<string> {
    const before = refusalsOf(w, "a", code).length;
    const counted = await metric(w, "a", `ccgp_packets_refused_total{reason="${code}"`);
    const answer = await post(w, "a", body);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(status);
    expect(answer.body.code).to.equal(code);
    expect(answer.body.message).to.be.a("string").and.not.equal("");
    expect(refusalsOf(w, "a", code).length).to.equal(before + 1);
    expect(await metric(w, "a", `ccgp_packets_refused_total{reason="${code}"`)).to.equal(counted + 1);
    if (txId !== undefined) expect(await stateOf(w, txId)).to.equal("None");
    return answer.body.message as string;
  }

  it("carries a good request through: 202, countersigned, opened before delivery, confirmed", async function () {
    const { packet, payload } = await custodyPacket(w, batchId);
    const answer = await post(w, "a", wire(await appSigned(w, packet, payload)));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    expect(answer.body).to.deep.equal({ txId: packet.txId, status: "accepted", sequence: packet.sequence.toString() });
    await untilState(w, packet.txId, "Confirmed");
    expect(await custodyLength(w, "b", batchId)).to.equal(1n);
    const view = (await (
      await fetch(`http://127.0.0.1:${w.c.business.a.ports.app}/v1/transactions/${packet.txId}`)
    ).json()) as {
      relayer: Array<{ role: string; status: string }>;
      ledger: { state: string };
    };
    expect(view.ledger.state).to.equal("Confirmed");
    expect(view.relayer[0]).to.deep.include({ role: "initiator" });
  });

  it("opens requests posted back to back in sequence order, and carries them all through", async function () {
    const first = (await w.k.ledger.pipeOf(w.c.pipes.aToB.id)).lastSequence + 1n;
    const txIds: Hex[] = [];
    for (let i = 0n; i < 6n; i++) {
      const { packet, payload } = await custodyPacket(w, batchId, { sequence: first + i });
      const answer = await post(w, "a", wire(await appSigned(w, packet, payload)));
      expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
      txIds.push(packet.txId);
    }
    for (const txId of txIds) await untilState(w, txId, "Confirmed");
    const sequences = (await acceptedSequences(w)).filter((s) => s >= first);
    expect(sequences).to.deep.equal([0n, 1n, 2n, 3n, 4n, 5n].map((i) => first + i));
  });

  it("a burst on one pipe, highest sequence first and all at once: every 202 opens and confirms, the rest are replays", async function () {
    const { batchId: own } = await batchOnA(w);
    const first = await nextSequence(w, w.c.pipes.aToB);
    const burst = await Promise.all(
      [5n, 4n, 3n, 2n, 1n, 0n].map(async (i) => {
        const { packet, payload } = await custodyPacket(w, own, { sequence: first + i });
        return { txId: packet.txId, sequence: packet.sequence, body: wire(await appSigned(w, packet, payload)) };
      }),
    );
    const answers = await Promise.all(burst.map((r) => post(w, "a", r.body)));
    // A lower sequence is taken only while nothing above it is: otherwise it is refused before any 202.
    expect(answers[0]!.status, JSON.stringify(answers[0]!.body)).to.equal(202);
    for (const a of answers)
      if (a.status !== 202) expect([a.status, a.body.code], JSON.stringify(a.body)).to.deep.equal([409, "REPLAY"]);
    const accepted = burst.filter((_, i) => answers[i]!.status === 202);
    for (const r of accepted) await untilState(w, r.txId, "Confirmed");
    for (const r of burst.filter((_, i) => answers[i]!.status !== 202))
      expect(await stateOf(w, r.txId)).to.equal("None");
    expect(await custodyLength(w, "b", own)).to.equal(BigInt(accepted.length));
    expect((await acceptedSequences(w)).filter((s) => s >= first)).to.deep.equal(
      accepted.map((r) => r.sequence).sort((x, y) => (x < y ? -1 : 1)),
    );
  });

  it("refuses malformed and oversized packets", async function () {
    await refused("{not json", 400, "MALFORMED_PACKET");
    const { packet, payload } = await custodyPacket(w, batchId);
    const good = wireObject(await appSigned(w, packet, payload));
    const message = await refused(
      { ...good, packet: { ...good.packet, sequence: 5 } },
      400,
      "MALFORMED_PACKET",
      packet.txId,
    );
    expect(message).to.contain("packet.sequence");
    await refused({ ...good, surprise: true }, 400, "MALFORMED_PACKET", packet.txId);
    // Above the pipe's 4,096-byte limit (the relayer's own is 64 KiB).
    const big = await custodyPacket(w, batchId, {
      payload: `${drug.getFunction("continueCustody")!.selector}${"00".repeat(5_000)}` as Hex,
    });
    await refused(wire(await appSigned(w, big.packet, big.payload)), 413, "OVERSIZED", big.packet.txId);
    // Above the relayer's own limit: refused by the codec before anything else.
    const huge = await custodyPacket(w, batchId, { payload: `0x12345678${"00".repeat(70_000)}` as Hex });
    await refused(
      JSON.stringify({ ...wireObject(await appSigned(w, huge.packet, huge.payload)) }),
      413,
      "OVERSIZED",
      huge.packet.txId,
    );
    // An app request carries only the app's signature.
    await refused(
      wire(await countersigned(w, await appSigned(w, packet, payload))),
      400,
      "MALFORMED_SIGNATURE",
      packet.txId,
    );
  });

  it("refuses unknown and paused pipes", async function () {
    const unknown = await custodyPacket(w, batchId, { packet: { pipeId: randomHex() } });
    await refused(
      wire(await appSigned(w, unknown.packet, unknown.payload, w.apps.a)),
      404,
      "PIPE_UNKNOWN",
      unknown.packet.txId,
    );
    const operator = await accountOn(w, w.c.business.a.accounts.operator.keystore, "governance");
    const pipes = PipeRegistry__factory.connect(w.c.governance.pipes, operator);
    await (await pipes.pausePipe(w.c.pipes.aToB.id)).wait();
    try {
      const paused = await custodyPacket(w, batchId);
      const message = await refused(
        wire(await appSigned(w, paused.packet, paused.payload)),
        409,
        "PIPE_NOT_ACTIVE",
        paused.packet.txId,
      );
      expect(message).to.match(/paused|PipeNotActive/);
    } finally {
      await (await pipes.resumePipe(w.c.pipes.aToB.id)).wait();
    }
  });

  it("refuses wrong signers and one flipped byte anywhere in what the app signed", async function () {
    const { packet, payload } = await custodyPacket(w, batchId);
    // Signed by another app's key, declaring it: not the key the pipe reserves.
    const other = await appSigned(w, { ...packet, signer: w.apps.b.address }, payload, w.apps.b);
    await refused(wire(other), 403, "SIGNER_MISMATCH", packet.txId);
    // Declaring the reserved key, signed by another: the signature does not recover to it.
    await refused(wire(await forgedAppSigned(packet, payload, w, w.apps.b)), 403, "BAD_APP_SIGNATURE", packet.txId);
    const good = await appSigned(w, packet, payload);
    await refused(
      wire({ ...good, signatures: { app: flipByte(good.signatures.app, 63) } }),
      403,
      "BAD_APP_SIGNATURE",
      packet.txId,
    );
    await refused(wire({ ...good, packet: { ...packet, txId: flipByte(packet.txId, 31) } }), 403, "BAD_APP_SIGNATURE");
    await refused(
      JSON.stringify({ ...wireObject(good), payload: flipByte(payload, 40) }),
      400,
      "PAYLOAD_MISMATCH",
      packet.txId,
    );
    // The declared function is not the payload's (both signed consistently by the app).
    const other2 = await custodyPacket(w, batchId, {
      packet: { selector: drug.getFunction("custodyLength")!.selector as Hex },
    });
    await refused(
      wire(await appSigned(w, other2.packet, other2.payload)),
      400,
      "SELECTOR_MISMATCH",
      other2.packet.txId,
    );
    // A packet whose parties are not the pipe's.
    const wrong = await custodyPacket(w, batchId, { packet: { targetInstitution: w.c.institutions.audit } });
    await refused(wire(await appSigned(w, wrong.packet, wrong.payload)), 400, "ROUTE_MISMATCH", wrong.packet.txId);
  });

  it("refuses expired and too distant deadlines", async function () {
    const expired = await custodyPacket(w, batchId, { deadline: BigInt(Math.floor(Date.now() / 1000) - 5) });
    await refused(
      wire(await appSigned(w, expired.packet, expired.payload)),
      400,
      "DEADLINE_PASSED",
      expired.packet.txId,
    );
    const far = await custodyPacket(w, batchId, { deadline: BigInt(Math.floor(Date.now() / 1000) + 7 * 86_400) });
    await refused(wire(await appSigned(w, far.packet, far.payload)), 400, "DEADLINE_TOO_FAR", far.packet.txId);
  });

  it("refuses replays: the same packet again, and another packet with a used sequence", async function () {
    const { packet, payload } = await custodyPacket(w, batchId);
    const signed = await appSigned(w, packet, payload);
    expect((await post(w, "a", wire(signed))).status).to.equal(202);
    await refused(wire(signed), 409, "DUPLICATE");
    await untilState(w, packet.txId, "Confirmed");
    const again = await custodyPacket(w, batchId, { sequence: packet.sequence });
    await refused(wire(await appSigned(w, again.packet, again.payload)), 409, "REPLAY", again.packet.txId);
    const lower = await custodyPacket(w, batchId, { sequence: 1n });
    await refused(wire(await appSigned(w, lower.packet, lower.payload)), 409, "REPLAY", lower.packet.txId);
    expect(await custodyLength(w, "b", batchId)).to.equal(8n);
  });

  it("refuses a packet of a pipe that does not start at this relayer", async function () {
    const { packet, payload } = await custodyPacket(w, batchId, { pipe: w.c.pipes.bToA });
    const answer = await post(w, "a", wire(await appSigned(w, packet, payload)));
    expect([answer.status, answer.body.code]).to.deep.equal([403, "WRONG_SERVICE"]);
    expect(await stateOf(w, packet.txId)).to.equal("None");
  });

  it("refuses source steps the app did not bind to its signed transaction id", async function () {
    const { packet, payload } = await custodyPacket(w, batchId);
    const data = drug.encodeFunctionData("continueCustody", [
      batchId,
      w.c.business.a.accounts.operator.address,
      randomHex(),
    ]);
    const steps = [
      { side: "source", operation: "write", contract: w.c.business.a.contracts.names.drugTraceability, data },
      { side: "target" },
    ];
    const signed = wireObject(await appSigned(w, packet, payload));
    await refused({ ...signed, steps }, 400, "STEPS_NOT_BOUND", packet.txId);
    const salt = randomHex();
    await refused({ ...signed, steps, salt }, 400, "STEPS_NOT_BOUND", packet.txId);
    await refused({ ...signed, steps: [{ side: "target" }, steps[0]] }, 400, "STEPS_INVALID", packet.txId);
    // Bound: the txId commits to the steps, the app signs it, and the source step runs on A before B.
    const bound = { ...packet, txId: boundTxId(salt, planOf(packet, payload, steps).steps) };
    const answer = await post(w, "a", { ...wireObject(await appSigned(w, bound, payload)), steps, salt });
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    await untilState(w, bound.txId, "Confirmed");
    expect(await custodyLength(w, "a", batchId)).to.equal(1n);
  });

  it("refuses a later packet of a several-packet plan that is not the app's, not of the transaction, or not above the first", async function () {
    const read = await custodyPacket(w, batchId, {
      payload: drug.encodeFunctionData("custodyState", [batchId]) as Hex,
      packet: { operation: 0 },
    });
    const write = await custodyPacket(w, batchId, { txId: read.packet.txId, sequence: read.packet.sequence + 1n });
    const steps = [{ side: "target" }, { side: "target", dependsOn: 0, versionKey: batchId }];
    const first = wireObject(await appSigned(w, read.packet, read.payload));
    const second = await appSigned(w, write.packet, write.payload);
    const flipped = wireObject({ ...second, signatures: { app: flipByte(second.signatures.app, 63) } });
    await refused({ ...first, steps, packets: [flipped] }, 403, "BAD_APP_SIGNATURE", read.packet.txId);
    const otherTx = await custodyPacket(w, batchId, { sequence: read.packet.sequence + 1n });
    await refused(
      { ...first, steps, packets: [wireObject(await appSigned(w, otherTx.packet, otherTx.payload))] },
      400,
      "ROUTE_MISMATCH",
      read.packet.txId,
    );
    const below = await custodyPacket(w, batchId, { txId: read.packet.txId, sequence: read.packet.sequence });
    await refused(
      { ...first, steps, packets: [wireObject(await appSigned(w, below.packet, below.payload))] },
      409,
      "REPLAY",
      read.packet.txId,
    );
    await refused(
      { ...first, steps: [{ side: "target" }], packets: [wireObject(second)] },
      400,
      "STEPS_INVALID",
      read.packet.txId,
    );
    // Well formed: both packets opened together, the write ran on the version its read saw.
    const answer = await post(w, "a", { ...first, steps, packets: [wireObject(second)] });
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    await untilState(w, read.packet.txId, "Confirmed");
  });

  /**
   * Read, then write that depends on it, through `ccgp send` as the app: a versioned read of a batch's custody on B,
   * then a custody write on B that depends on it (`dependsOn`, `versionKey` = the batch id). When the batch changes
   * between the read and the write, B's gateway refuses the write (`SubchainGatewayStaleRead`), the ledger records
   * `StaleReadRejected`, and the completed writes are undone.
   */
  describe("read, then a write that depends on it (ccgp send --steps)", function () {
    this.timeout(300_000);
    const send = (kind: "read" | "write", ...rest: string[]): Promise<CliRun> =>
      ccgp(
        [
          "send",
          kind,
          "--relayer",
          `http://127.0.0.1:${w.c.business.a.ports.app}`,
          "--pipe",
          w.c.pipes.aToB.id,
          "--app-keystore",
          w.c.business.a.app.key.keystore,
          "--rpc",
          w.c.chains.governance.url,
          "--deployments",
          w.c.runDir,
          "--poll-ms",
          "250",
          ...rest,
        ],
        { CCGP_KEYSTORE_PASSWORD: w.c.password },
      );
    const custody = (batchId: Hex) =>
      [
        "continueCustody(bytes32,address,bytes32)",
        JSON.stringify([batchId, w.c.business.b.accounts.operator.address, randomHex()]),
      ] as const;
    const results = async (txId: Hex) =>
      (await w.k.ledger.queryFilter(w.k.ledger.filters.ResultRecorded(txId))).map((e) => e.args);

    it("succeeds: the read's value and version come back, the write ran on the version it read", async function () {
      const { batchId } = await batchOnA(w);
      const [fn, args] = custody(batchId);
      const steps = JSON.stringify([
        { side: "target" },
        { side: "target", operation: "write", function: fn, args: JSON.parse(args), dependsOn: 0, versionKey: batchId },
      ]);
      const run = await send(
        "read",
        "--function",
        "custodyState(bytes32)",
        "--args",
        JSON.stringify([batchId]),
        "--steps",
        steps,
        "--wait",
        "--json",
      );
      expect(run.code, run.stderr).to.equal(0);
      const out = run.json<{
        txId: Hex;
        state: string;
        reads: { step: number; decoded: { length: string; version: string }; raw: Hex; stateVersion: string }[];
      }>();
      expect(out.state).to.equal("Confirmed");
      expect(await custodyLength(w, "b", batchId)).to.equal(1n);
      // The read saw no custody step here, at the batch's version on B (0: never changed there), and recorded it.
      const [read] = out.reads;
      expect(read!.decoded.length).to.equal("0");
      expect(read!.stateVersion).to.equal(read!.decoded.version);
      const recorded = await results(out.txId);
      expect(recorded.map((r) => [Number(r.step), Number(r.operation), r.success])).to.deep.equal([
        [0, 0, true],
        [1, 1, true],
      ]);
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
        {
          side: "target",
          operation: "write",
          function: fn,
          args: JSON.parse(custody(batchId)[1]),
          dependsOn: 1,
          versionKey: batchId,
        },
      ]);
      const sequence = (await w.k.ledger.pipeOf(w.c.pipes.aToB.id)).lastSequence + 1n;
      const running = send(
        "write",
        "--function",
        fn,
        "--args",
        args,
        "--steps",
        steps,
        "--sequence",
        sequence.toString(),
        "--json",
      );
      // The test's own transaction on B, as soon as the read ran there: the batch's version moves.
      await until(
        async () =>
          (await w.k.b.gateway.inboundRecord(w.c.pipes.aToB.id, sequence + 1n)).target !==
          "0x0000000000000000000000000000000000000000",
        "the read on B",
        120_000,
      );
      const operator = await accountOn(w, w.c.business.b.accounts.operator.keystore, "b");
      await (
        await DrugTraceability__factory.connect(w.c.business.b.contracts.drugTraceability, operator).recordBatch(
          batchId,
          w.c.business.b.accounts.operator.address,
          randomHex(),
        )
      ).wait();

      const run = await running;
      expect(run.code, run.stderr).to.equal(0);
      const txId = run.json<{ txId: Hex }>().txId;
      await untilState(w, txId, "Compensated", 120_000);
      const stale = await w.k.ledger.queryFilter(w.k.ledger.filters.StaleReadRejected(txId));
      expect(stale.map((e) => [Number(e.args.step), Number(e.args.readStep)])).to.deep.equal([[2, 1]]);
      expect(stale[0]!.args.readVersion).to.not.equal(stale[0]!.args.seenVersion);
      const recorded = await results(txId);
      expect(recorded.map((r) => [Number(r.step), r.success])).to.deep.equal([
        [0, true],
        [1, true],
        [2, false],
      ]);
      // Nothing the transaction did is left: the first custody write was undone, the dependent one never ran.
      expect(await custodyLength(w, "b", batchId)).to.equal(0n);
      expect((await w.k.b.gateway.inboundRecord(w.c.pipes.aToB.id, sequence + 2n)).target).to.equal(
        "0x0000000000000000000000000000000000000000",
      );
      expect((await w.k.b.gateway.inboundRecord(w.c.pipes.aToB.id, sequence)).compensated).to.equal(true);
    });
  });
  /**
   * Two-phase transfers on the AssetLedger pipe (A -> B): the debit on A is the source step, the credit on B the
   * packet's; each relayer prepares its side through its gateway, commits once the ledger is Committing, and rolls
   * back when the transaction fails or expires. No final state leaves one side applied and a lock held.
   */
  describe("two-phase transfers (ccgp send --mode two-phase)", function () {
    this.timeout(300_000);
    const asset = AssetLedger__factory.createInterface();
    const FREE = "0x0000000000000000000000000000000000000000000000000000000000000000";
    const ledgerOf = async (side: "a" | "b") =>
      AssetLedger__factory.connect(
        w.c.business[side].contracts.assetLedger!,
        await accountOn(w, w.c.business[side].accounts.operator.keystore, side),
      );
    const gatewayOf = async (side: "a" | "b") =>
      SubchainGateway__factory.connect(
        w.c.business[side].contracts.gateway,
        await accountOn(w, w.c.business[side].accounts.operator.keystore, side),
      );
    /** A funded account on A and a fresh one on B. */
    async function accounts(balance: bigint): Promise<{ from: Hex; to: Hex }> {
      const from = randomHex();
      await (await (await ledgerOf("a")).issue(from, balance)).wait();
      return { from, to: randomHex() };
    }
    const send = (from: Hex, to: Hex, amount: bigint, ...rest: string[]): Promise<CliRun> =>
      ccgp(
        [
          "send",
          "write",
          "--relayer",
          `http://127.0.0.1:${w.c.business.a.ports.app}`,
          "--pipe",
          w.c.pipes.assets!.id,
          "--app-keystore",
          w.c.business.a.app.key.keystore,
          "--rpc",
          w.c.chains.governance.url,
          "--deployments",
          w.c.runDir,
          "--poll-ms",
          "250",
          "--function",
          "credit(bytes32,uint256)",
          "--args",
          JSON.stringify([to, amount.toString()]),
          "--mode",
          "two-phase",
          "--steps",
          JSON.stringify([
            {
              side: "source",
              operation: "write",
              contract: w.c.business.a.contracts.names.assetLedger,
              data: asset.encodeFunctionData("debit", [from, amount]),
            },
            { side: "target" },
          ]),
          "--json",
          ...rest,
        ],
        { CCGP_KEYSTORE_PASSWORD: w.c.password },
      );
    /** The gateways' two-phase records of a transaction on A and B (status: 1 prepared, 2 committed, 3 rolled back). */
    const twoPhaseOf = async (txId: Hex) =>
      Promise.all(
        ["a", "b"].map(async (k) => Number((await (await gatewayOf(k as "a" | "b")).twoPhaseTx(txId)).status)),
      );
    const results = async (txId: Hex) =>
      (await w.k.ledger.queryFilter(w.k.ledger.filters.ResultRecorded(txId))).map((e) => [
        Number(e.args.step),
        Number(e.args.operation),
        e.args.success,
      ]);

    it("commits: both sides prepared, then both committed; the verifiers confirm it and no lock is left", async function () {
      const { from, to } = await accounts(100n);
      const run = await send(from, to, 25n, "--wait");
      expect(run.code, run.stderr).to.equal(0);
      const txId = run.json<{ txId: Hex; state: string }>().txId;
      expect(run.json<{ state: string }>().state).to.equal("Confirmed");
      expect([
        Number((await w.k.ledger.stepOf(txId, 0))[1]),
        Number((await w.k.ledger.stepOf(txId, 1))[1]),
      ]).to.deep.equal([2, 2]);
      // Prepares first (in step order), then each side's commit (in whatever order they came).
      const recorded = await results(txId);
      expect(recorded.slice(0, 2)).to.deep.equal([
        [0, 1, true],
        [1, 1, true],
      ]);
      expect(recorded.slice(2).sort()).to.deep.equal([
        [0, 1, true],
        [1, 1, true],
      ]);
      expect(await twoPhaseOf(txId)).to.deep.equal([2, 2]);
      expect(await (await ledgerOf("a")).balanceOf(from)).to.equal(75n);
      expect(await (await ledgerOf("b")).balanceOf(to)).to.equal(25n);
      expect(await (await gatewayOf("a")).lockHolder(w.c.business.a.contracts.assetLedger!, from)).to.equal(FREE);
      expect(await (await gatewayOf("b")).lockHolder(w.c.business.b.contracts.assetLedger!, to)).to.equal(FREE);
    });

    it("a refused second prepare: B refuses the credit, A's prepared debit is rolled back and its lock released", async function () {
      const { from } = await accounts(100n);
      // Account zero: B's AssetLedger refuses to stage the credit (AssetLedgerInvalidAccount).
      const run = await send(from, FREE, 25n);
      expect(run.code, run.stderr).to.equal(0);
      const txId = run.json<{ txId: Hex }>().txId;
      await untilState(w, txId, "Compensated", 120_000);
      expect(await results(txId)).to.deep.equal([
        [0, 1, true],
        [1, 1, false],
      ]);
      expect(await twoPhaseOf(txId)).to.deep.equal([3, 0]);
      expect(await (await ledgerOf("a")).balanceOf(from)).to.equal(100n);
      expect(await (await gatewayOf("a")).lockHolder(w.c.business.a.contracts.assetLedger!, from)).to.equal(FREE);
      // The account is free again: a local issue goes through.
      await (await (await ledgerOf("a")).issue(from, 1n)).wait();
    });

    it("the deadline passes while A is prepared (B's relayer down): expired, A rolled back, its lock released", async function () {
      const { from, to } = await accounts(100n);
      await stopSide(w, "b");
      try {
        const run = await send(from, to, 25n, "--deadline", "12");
        expect(run.code, run.stderr).to.equal(0);
        const txId = run.json<{ txId: Hex }>().txId;
        await until(async () => (await twoPhaseOf(txId))[0] === 1, "A's prepare", 60_000);
        expect(await (await gatewayOf("a")).lockHolder(w.c.business.a.contracts.assetLedger!, from)).to.equal(txId);
        await untilState(w, txId, "Compensated", 120_000);
        const expired = await w.k.ledger.queryFilter(w.k.ledger.filters.TxTransitioned(txId));
        expect(expired.map((e) => Number(e.args.to))).to.include(Number(TxState.indexOf("Expired")));
        expect(await twoPhaseOf(txId)).to.deep.equal([3, 0]);
        expect(await (await ledgerOf("a")).balanceOf(from)).to.equal(100n);
        expect(await (await ledgerOf("b")).balanceOf(to)).to.equal(0n);
        expect(await (await gatewayOf("a")).lockHolder(w.c.business.a.contracts.assetLedger!, from)).to.equal(FREE);
      } finally {
        await startSide(w, "b");
      }
    });

    // Last in the file: it moves sub-chain A's clock past deadline + grace.
    it("nobody acts while A is prepared (both relayers down): past deadline + grace anyone's rollbackExpired releases the lock, and A's relayer records that rollback", async function () {
      const { from, to } = await accounts(100n);
      await stopSide(w, "b");
      // No cache: ethers answers a request made again within 250 ms (the refused rollbackExpired, the head) from it.
      const chainA = new JsonRpcProvider(w.c.chains.a.url, w.c.chains.a.chainId, {
        staticNetwork: true,
        cacheTimeout: -1,
      });
      try {
        const run = await send(from, to, 25n, "--deadline", "12");
        expect(run.code, run.stderr).to.equal(0);
        const txId = run.json<{ txId: Hex }>().txId;
        // A's prepare is on its gateway and on the ledger; then A's relayer goes too: no relayer acts any more.
        await until(async () => (await results(txId)).length > 0, "A's prepare recorded", 60_000);
        await stopSide(w, "a");
        const gateway = await gatewayOf("a");
        const [, status, deadline] = await gateway.twoPhaseTx(txId);
        expect(Number(status)).to.equal(1);
        // Anyone: a fresh account, not a relayer of A's gateway, acting once A's clock is past deadline + grace.
        const anyone = Wallet.createRandom().connect(chainA);
        await chainA.send("anvil_setBalance", [anyone.address, "0xde0b6b3a7640000"]);
        const stranger = SubchainGateway__factory.connect(w.c.business.a.contracts.gateway, anyone);
        await expect(stranger.rollbackExpired(txId)).to.be.revertedWithCustomError(
          gateway,
          "SubchainGatewayTxNotExpired",
        );
        const clockA = async () => (await chainA.getBlock("latest"))!.timestamp;
        const releasable = Number(deadline + (await gateway.TWO_PHASE_GRACE())) + 1;
        await chainA.send("evm_increaseTime", [releasable - (await clockA())]);
        await chainA.send("evm_mine", []);
        expect(await clockA()).to.be.at.least(releasable);
        const released = await (await stranger.rollbackExpired(txId)).wait();
        const [event] = await gateway.queryFilter(gateway.filters.TwoPhaseRolledBack(txId));
        expect(event!.args.caller).to.equal(anyone.address);
        expect(await twoPhaseOf(txId)).to.deep.equal([3, 0]);
        expect(await (await gatewayOf("a")).lockHolder(w.c.business.a.contracts.assetLedger!, from)).to.equal(FREE);
        expect(await (await ledgerOf("a")).balanceOf(from)).to.equal(100n);

        // The relayers come back once the deadline passed on the governance chain too (only A's clock was moved):
        // the ledger expires the transaction, and A records the gateway's own rollback as its compensation (it reads
        // the gateway's record first, so it rolls back nothing twice).
        const governance = new JsonRpcProvider(w.c.chains.governance.url, w.c.chains.governance.chainId, {
          staticNetwork: true,
          cacheTimeout: -1,
        });
        try {
          await until(async () => (await governance.getBlock("latest"))!.timestamp > deadline, "the deadline", 60_000);
        } finally {
          governance.destroy();
        }
        await startSide(w, "a");
        await startSide(w, "b");
        await untilState(w, txId, "Compensated", 120_000);
        const [compensation] = await w.k.ledger.queryFilter(w.k.ledger.filters.CompensationRecorded(txId));
        expect([compensation!.args.step, compensation!.args.success]).to.deep.equal([0n, true]);
        expect(compensation!.args.subchainTx).to.equal(released!.hash);
        expect(await (await ledgerOf("b")).balanceOf(to)).to.equal(0n);
      } finally {
        chainA.destroy();
        if (w.relayers.a === undefined) await startSide(w, "a");
        if (w.relayers.b === undefined) await startSide(w, "b");
      }
    });
  });
});

/** The sequences the ledger accepted on the pipe from A to B, in order (the packets its `TxOpened` logs carry). */
async function acceptedSequences(w: World): Promise<bigint[]> {
  const opened = await w.k.ledger.queryFilter(w.k.ledger.filters.TxOpened(undefined, w.c.pipes.aToB.id));
  return opened.flatMap((e) => decodeAcceptedPackets(e.args.packets as Hex).map((p) => p.sequence));
}
