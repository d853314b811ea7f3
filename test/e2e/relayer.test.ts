/**
 * End to end: a local consortium on three anvil node processes, and the two business institutions' relayers as
 * processes (`relayer/src/main.ts --config <file>`), driven only from outside: the app intake, the sub-chains, the
 * governance chain, the peer endpoint, `/health`, `/metrics`, and signals (SIGTERM, SIGKILL).
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Hex } from "viem";
import { toWire } from "../../lib/amdp";
import { boundTxId, planOf } from "../../lib/domain/plan";
import { REPO_ROOT, startRelayers, type RelayerProcess } from "../../scripts/lib/local/relayers";
import { builtProcess } from "../../scripts/build";
import { ChainRegistry__factory, DrugTraceability__factory } from "../../typechain-types";
import { JsonRpcProvider, keccak256, toUtf8Bytes } from "ethers";
import { flipByte } from "../helpers/amdp";
import { auditorDomain, HEADERS, signAuditorRequest } from "../../auditor/src/auth";
import { loadKeystore } from "../../relayer/src/keys";
import { auditorApiUrl, auditorGet, auditorTrace } from "../../scripts/lib/local/auditor";
import { TestPki, type Identity } from "../relayer/helpers/certs";
import {
  accountOn,
  appSigned,
  batchOnA,
  council,
  countersigned,
  custodyLength,
  custodyPacket,
  nextSequence,
  drug,
  metric,
  peerAs,
  post,
  randomHex,
  stateOf,
  until,
  untilState,
  wire,
  world,
  ZERO_ADDRESS,
  type World,
} from "../relayer/runtime/helpers/world";

type Key = "a" | "b";

describe("relayer end to end (two relayer processes, three anvil chains)", function () {
  this.timeout(180_000);
  let w: World;
  const procs: Partial<Record<Key, RelayerProcess>> = {};

  /** Starts a side's relayer process, optionally with `runtime` and `limits` overrides written to a config of its own. */
  async function start(
    key: Key,
    tuned?: { runtime?: Record<string, unknown>; limits?: Record<string, unknown> },
  ): Promise<RelayerProcess> {
    let side = w.c.business[key];
    if (tuned !== undefined) {
      const raw = JSON.parse(readFileSync(side.configPath, "utf8")) as Record<string, unknown>;
      const configPath = join(w.c.runDir, `relayer-${side.slug}-tuned.json`);
      const config = {
        ...raw,
        runtime: { ...(raw.runtime as object), ...tuned.runtime },
        limits: { ...(raw.limits as object), ...tuned.limits },
      };
      writeFileSync(configPath, JSON.stringify(config, null, 2));
      side = { ...side, configPath };
    }
    [procs[key]] = await startRelayers(w.c, [side]);
    return procs[key]!;
  }
  /** SIGTERM: the relayer stops through its AbortController and exits 0. */
  async function stop(key: Key): Promise<void> {
    const proc = procs[key];
    if (proc === undefined) return;
    await proc.stop();
    expect(await proc.exited, `exit of ${key}'s relayer on SIGTERM`).to.equal(0);
    delete procs[key];
  }
  async function kill9(key: Key): Promise<void> {
    const proc = procs[key]!;
    process.kill(proc.pid, "SIGKILL");
    expect(await proc.exited).to.equal("SIGKILL");
    delete procs[key];
  }
  /** Refusal rows in a side's store, read beside the running process (SQLite WAL allows it). */
  function refusals(key: Key, reason: string): number {
    const db = new Database(w.c.business[key].storePath, { readonly: true });
    try {
      return Number((db.prepare("SELECT COUNT(*) AS n FROM refusals WHERE reason = ?").get(reason) as { n: number }).n);
    } finally {
      db.close();
    }
  }
  async function appRequest(batchId: Hex): Promise<Hex> {
    const { packet, payload } = await custodyPacket(w, batchId);
    const answer = await post(w, "a", wire(await appSigned(w, packet, payload)));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    return packet.txId;
  }

  before(async function () {
    // Hospital B's second relayer is the A -> B pipe's alternate target route (started only by the failover case).
    w = await world({ alternateRoute: true });
    await start("a");
    await start("b");
  });
  after(async function () {
    await Promise.all((["a", "b"] as const).map((k) => stop(k)));
    await w?.stop();
  });

  it("app-initiated: the batch recorded on A continues its custody on B, the ledger confirms", async function () {
    const { batchId } = await batchOnA(w);
    const steps = (collection: string) => metric(w, "b", `ccgp_attestation_steps_total{collection="${collection}"}`);
    const [aheadBefore, atStepBefore] = [await steps("ahead"), await steps("step")];
    const txId = await appRequest(batchId);
    await untilState(w, txId, "Confirmed");
    expect(await custodyLength(w, "b", batchId)).to.equal(1n);
    // B's step took the attestations B started collecting when the packet's signatures checked out, not a second
    // collection of its own.
    expect(await steps("ahead")).to.equal(aheadBefore + 1);
    expect(await steps("step")).to.equal(atStepBefore);
    const view = (await (
      await fetch(`http://127.0.0.1:${w.c.business.b.ports.app}/v1/transactions/${txId}`)
    ).json()) as {
      relayer: Array<{ role: string; status: string }>;
      ledger: { state: string; weightFor: number };
    };
    // Both relayers and the independent verifier endorse; the confirming majority needs the verifier, so it is two
    // or three of three depending on who comes last.
    expect(view.ledger.state).to.equal("Confirmed");
    expect(view.ledger.weightFor).to.be.within(2, 3);
    expect(view.relayer.map((r) => r.role)).to.deep.equal(["receiver"]);
  });

  it("chain-initiated: a custody transfer requested on A's gateway is carried to B and confirmed", async function () {
    const { batchId, dataHash } = await batchOnA(w);
    const operator = await accountOn(w, w.c.business.a.accounts.operator.keystore, "a");
    const drugA = DrugTraceability__factory.connect(w.c.business.a.contracts.drugTraceability, operator);
    const receipt = await (
      await drugA.requestCustodyTransfer(
        w.c.pipes.aToB.id,
        w.c.pipes.aToB.contractNameHash,
        batchId,
        w.c.business.b.accounts.operator.address,
        dataHash,
      )
    ).wait();
    const requested = receipt!.logs
      .map((l) => drugA.interface.parseLog(l))
      .find((p) => p?.name === "CustodyTransferRequested");
    const txId = requested!.args.requestId as Hex;
    await untilState(w, txId, "Confirmed");
    const step = await w.k.b.drug.custodyStep(batchId, 0);
    expect(step.custodian).to.equal(w.c.business.b.accounts.operator.address);
  });

  it("a write on B that reverts: the ledger fails it and A's completed write is compensated", async function () {
    const { batchId } = await batchOnA(w);
    const { packet, payload } = await custodyPacket(w, batchId, {
      payload: drug.encodeFunctionData("continueCustody", [batchId, ZERO_ADDRESS, randomHex()]) as Hex,
    });
    const data = drug.encodeFunctionData("continueCustody", [
      batchId,
      w.c.business.a.accounts.operator.address,
      randomHex(),
    ]);
    const steps = [
      { side: "source", operation: "write", contract: w.c.business.a.contracts.names.drugTraceability, data },
      { side: "target" },
    ];
    const salt = randomHex();
    const bound = { ...packet, txId: boundTxId(salt, planOf(packet, payload, steps).steps) };
    const answer = await post(w, "a", { ...toWire(await appSigned(w, bound, payload)), steps, salt });
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    await untilState(w, bound.txId, "Compensated");
    expect(await custodyLength(w, "a", batchId)).to.equal(0n);
    expect(await custodyLength(w, "b", batchId)).to.equal(0n);
    const compensations = await w.k.ledger.queryFilter(w.k.ledger.filters.CompensationRecorded(bound.txId));
    expect(compensations.map((e) => [Number(e.args.step), e.args.success])).to.deep.equal([[0, true]]);
  });

  it("a relayer killed (SIGKILL) while its packet waits for a receiver that is down: restarted, it completes once", async function () {
    const { batchId } = await batchOnA(w);
    await stop("b");
    const txId = await appRequest(batchId);
    await untilState(w, txId, "Open");
    await until(
      () => readFileSync(procs.a!.logFile, "utf8").includes("work item failed; will retry"),
      "a failed delivery attempt",
    );
    await kill9("a");
    await start("b");
    await start("a");
    await untilState(w, txId, "Confirmed");
    expect(await custodyLength(w, "b", batchId)).to.equal(1n);
  });

  it("a receiver killed (SIGKILL) right after it accepted a packet: restarted, it executes it once", async function () {
    const { batchId } = await batchOnA(w);
    const log = procs.b!.logFile;
    const seen = readFileSync(log, "utf8").length;
    const txId = await appRequest(batchId);
    await until(
      () => readFileSync(log, "utf8").slice(seen).includes(`"txId":"${txId}","pipeId"`),
      "B accepting the packet",
      30_000,
    );
    await kill9("b");
    await start("b");
    await untilState(w, txId, "Confirmed");
    expect(await custodyLength(w, "b", batchId)).to.equal(1n);
    const executed = await w.k.b.gateway.queryFilter(
      w.k.b.gateway.filters.InboundExecuted(undefined, w.c.pipes.aToB.id),
    );
    const forThis = executed.filter((e) => e.args.sequence === (executed.at(-1)!.args.sequence as bigint));
    expect(forThis.length).to.equal(1);
  });

  /** Lines of a relayer's log written since `from` that contain `text`. */
  const logCount = (key: Key, from: number, text: string): number =>
    readFileSync(procs[key]!.logFile, "utf8").slice(from).split(text).length - 1;
  const escalations = async (txId: Hex) => (await w.k.ledger.queryFilter(w.k.ledger.filters.TxEscalated(txId))).length;
  /** A tight retry policy: the attempt bound is reached within a second, where it used to send a transaction to Manual. */
  const tight = { runtime: { retry: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 400 } } };

  it("the target relayer SIGKILLed with a second route registered: the transaction completes through it, once", async function () {
    const b2 = w.c.business.b2!;
    const [alternate] = await startRelayers(w.c, [b2]);
    const seen = readFileSync(procs.a!.logFile, "utf8").length;
    try {
      await kill9("b");
      const { batchId } = await batchOnA(w);
      const txId = await appRequest(batchId);
      await untilState(w, txId, "Confirmed");
      // Executed once on B (one custody step), and its result recorded once, by the second route's signer.
      expect(await custodyLength(w, "b", batchId)).to.equal(1n);
      const onB = (await w.k.ledger.queryFilter(w.k.ledger.filters.ResultRecorded(txId))).filter(
        (e) => e.args.subchain === w.c.business.b.subchain.id,
      );
      expect(onB.map((e) => e.args.recorder)).to.deep.equal([b2.accounts.business.address]);
      expect(readFileSync(procs.a!.logFile, "utf8").slice(seen)).to.include("answered by an alternate target route");
    } finally {
      await alternate.stop();
      await start("b");
    }
  });

  it("a receiver refusing connections while the deadline leaves time: retried past the attempt bound, never Manual, delivered once back", async function () {
    await stop("a");
    await start("a", tight);
    await stop("b");
    const { batchId } = await batchOnA(w);
    const seen = readFileSync(procs.a!.logFile, "utf8").length;
    const txId = await appRequest(batchId);
    await until(
      () => logCount("a", seen, "ECONNREFUSED") >= 5,
      "five refused deliveries (the attempt bound is 2)",
      30_000,
    );
    expect(await stateOf(w, txId)).to.equal("Open");
    await start("b");
    await untilState(w, txId, "Confirmed");
    expect(await custodyLength(w, "b", batchId)).to.equal(1n);
    expect(await escalations(txId)).to.equal(0);
  });

  it("a receiver down past the deadline: the transaction expires and A's completed write is compensated, not Manual", async function () {
    await stop("b");
    const { batchId } = await batchOnA(w);
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 8);
    const { packet, payload } = await custodyPacket(w, batchId, { deadline });
    const data = drug.encodeFunctionData("continueCustody", [
      batchId,
      w.c.business.a.accounts.operator.address,
      randomHex(),
    ]);
    const steps = [
      { side: "source", operation: "write", contract: w.c.business.a.contracts.names.drugTraceability, data },
      { side: "target" },
    ];
    const salt = randomHex();
    const bound = { ...packet, txId: boundTxId(salt, planOf(packet, payload, steps).steps) };
    const answer = await post(w, "a", { ...toWire(await appSigned(w, bound, payload)), steps, salt });
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    await untilState(w, bound.txId, "Compensated");
    expect(await custodyLength(w, "a", batchId)).to.equal(0n);
    expect(await escalations(bound.txId)).to.equal(0);
    await start("b");
    expect(await custodyLength(w, "b", batchId)).to.equal(0n);
  });

  it("back-pressure on a running relayer: a rate limit and a full backlog answer 429 with Retry-After; every 202 completes", async function () {
    await stop("a");
    await start("a", { ...tight, limits: { maxQueue: 2, perApp: { ratePerSecond: 0.5, burst: 1 } } });
    type Answer = { status: number; retryAfter: string | null; body: { code: string } };
    const raw = async (body: object): Promise<Answer> => {
      const res = await fetch(`http://127.0.0.1:${w.c.business.a.ports.app}/v1/requests`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return {
        status: res.status,
        retryAfter: res.headers.get("retry-after"),
        body: (await res.json()) as { code: string },
      };
    };
    /** What an app does with a 429: wait the Retry-After it names, then re-send the same request as it is. */
    const send = async (body: object): Promise<Answer> => {
      let answer = await raw(body);
      for (let i = 0; answer.status === 429 && i < 30; i++) {
        expect(Number(answer.retryAfter), JSON.stringify(answer)).to.be.within(1, 5);
        await new Promise((r) => setTimeout(r, Number(answer.retryAfter) * 1000));
        answer = await raw(body);
      }
      return answer;
    };
    const request = async (sequence?: bigint) => {
      const { batchId } = await batchOnA(w);
      const { packet, payload } = await custodyPacket(w, batchId, sequence === undefined ? {} : { sequence });
      return { txId: packet.txId, batchId, body: toWire(await appSigned(w, packet, payload)) };
    };
    const accepted: Array<{ txId: Hex; batchId: Hex }> = [];
    // The app's bucket holds one token (0.5/s): the second of two requests in a row is over the rate.
    const base = await nextSequence(w, w.c.pipes.aToB);
    const [r1, r2] = [await request(base), await request(base + 1n)];
    expect((await raw(r1.body)).status).to.equal(202);
    const limited = await raw(r2.body);
    expect([limited.status, limited.body.code], JSON.stringify(limited)).to.deep.equal([429, "RATE_LIMITED"]);
    expect(Number(limited.retryAfter)).to.be.within(1, 2);
    // Over the rate, a request meets the limit before its sequence is checked: in a burst, one overtaken by a higher
    // sequence journaled first is refused 429 too, not REPLAY, and costs no ledger read.
    const overtaken = await raw((await request(base)).body);
    expect([overtaken.status, overtaken.body.code], JSON.stringify(overtaken)).to.deep.equal([429, "RATE_LIMITED"]);
    expect((await send(r2.body)).status).to.equal(202);
    accepted.push(r1, r2);
    for (const a of accepted) await untilState(w, a.txId, "Confirmed");
    // B is down: each accepted transaction holds its delivery in A's outbox, the backlog (maxQueue 2).
    await stop("b");
    for (let i = 0; i < 2; i++) {
      const r = await request();
      expect((await send(r.body)).status).to.equal(202);
      accepted.push(r);
      await untilState(w, r.txId, "Open");
    }
    const last = await request();
    const full = await raw(last.body);
    expect([full.status, full.body.code, full.retryAfter]).to.deep.equal([429, "QUEUE_FULL", "1"]);
    expect(refusals("a", "QUEUE_FULL")).to.be.greaterThan(0);
    await start("b");
    expect((await send(last.body)).status).to.equal(202);
    accepted.push(last);
    for (const a of accepted) {
      await untilState(w, a.txId, "Confirmed");
      expect(await custodyLength(w, "b", a.batchId)).to.equal(1n);
    }
    await stop("a");
    await start("a");
  });

  it("refuses and records bad input at both proxies, and never executes it", async function () {
    const { batchId } = await batchOnA(w);
    const custody = await custodyLength(w, "b", batchId);
    const cases: Array<{
      key: Key;
      code: string;
      send: () => Promise<{ status: number; body: Record<string, unknown> }>;
    }> = [];
    const atIntake = (code: string, body: () => Promise<string | object>) =>
      cases.push({ key: "a", code, send: async () => post(w, "a", await body()) });
    const atPeer = (code: string, body: () => Promise<unknown>) =>
      cases.push({ key: "b", code, send: async () => peerAs(w, "b").call(await body()) });
    const signed = async (input = {}) => {
      const { packet, payload } = await custodyPacket(w, batchId, input);
      return appSigned(w, packet, payload, w.apps.a);
    };
    atIntake("MALFORMED_PACKET", async () => "{]");
    atIntake("OVERSIZED", async () => {
      const { packet, payload } = await custodyPacket(w, batchId, {
        payload: `0x12345678${"00".repeat(5_000)}` as Hex,
      });
      return wire(await appSigned(w, packet, payload));
    });
    atIntake("PIPE_UNKNOWN", async () => wire(await signed({ packet: { pipeId: randomHex() } })));
    atIntake("SIGNER_MISMATCH", async () => {
      const { packet, payload } = await custodyPacket(w, batchId, { packet: { signer: w.apps.b.address } });
      return wire(await appSigned(w, packet, payload, w.apps.b));
    });
    atIntake("BAD_APP_SIGNATURE", async () => {
      const good = await signed();
      return wire({ ...good, signatures: { app: flipByte(good.signatures.app, 63) } });
    });
    atIntake("DEADLINE_PASSED", async () =>
      wire(await signed({ deadline: BigInt(Math.floor(Date.now() / 1000) - 10) })),
    );
    // The pipe's last opened sequence (0 when this test runs alone): never above what the relayer took.
    atIntake("REPLAY", async () => wire(await signed({ sequence: (await nextSequence(w, w.c.pipes.aToB)) - 1n })));
    atPeer("MALFORMED_PACKET", async () => ({ version: 2 }));
    atPeer("PAYLOAD_MISMATCH", async () => {
      const good = toWire(await countersigned(w, await signed()));
      return { ...good, payload: flipByte(good.payload as Hex, 20) };
    });
    atPeer("BAD_PROXY_SIGNATURE", async () => toWire(await countersigned(w, await signed(), w.proxies.b)));
    atPeer("TX_NOT_OPEN", async () => toWire(await countersigned(w, await signed())));
    atPeer("DEADLINE_PASSED", async () =>
      toWire(await countersigned(w, await signed({ deadline: BigInt(Math.floor(Date.now() / 1000) - 10) }))),
    );
    for (const c of cases) {
      const before = [refusals(c.key, c.code), await metric(w, c.key, `ccgp_packets_refused_total{reason="${c.code}"`)];
      const answer = await c.send();
      const code = (answer.body.code ?? (answer.body.error as { code?: string } | undefined)?.code) as string;
      expect(code, `${c.key} ${c.code}: ${JSON.stringify(answer.body)}`).to.equal(c.code);
      expect(answer.status).to.be.within(400, 499);
      expect([
        refusals(c.key, c.code),
        await metric(w, c.key, `ccgp_packets_refused_total{reason="${c.code}"`),
      ]).to.deep.equal([before[0]! + 1, before[1]! + 1]);
    }
    expect(await custodyLength(w, "b", batchId)).to.equal(custody);
  });

  it("refuses a peer presenting a certificate whose fingerprint is not registered", async function () {
    const caDir = join(w.c.runDir, "tls");
    const ca: Identity = {
      name: "ca",
      certPath: join(caDir, "ca.crt"),
      keyPath: join(caDir, "ca.key"),
      cert: readFileSync(join(caDir, "ca.crt"), "utf8"),
      key: readFileSync(join(caDir, "ca.key"), "utf8"),
    };
    const impostor = new TestPki().leaf("impostor", ca);
    const { batchId } = await batchOnA(w);
    const { packet, payload } = await custodyPacket(w, batchId);
    const before = refusals("b", "PEER_NOT_PINNED");
    const answer = await peerAs(w, "b", { cert: impostor.cert, key: impostor.key, ca: ca.cert }).call(
      toWire(await countersigned(w, await appSigned(w, packet, payload))),
    );
    expect([answer.status, (answer.body.error as { code: string }).code]).to.deep.equal([403, "PEER_NOT_PINNED"]);
    expect(refusals("b", "PEER_NOT_PINNED")).to.equal(before + 1);
    expect(await metric(w, "b", 'ccgp_packets_refused_total{reason="PEER_NOT_PINNED"')).to.be.greaterThan(0);
  });

  it("refuses to start on a bad config, naming the field (exit 2)", async function () {
    const raw = JSON.parse(readFileSync(w.c.business.a.configPath, "utf8")) as Record<string, unknown>;
    const bad = join(w.c.runDir, "relayer-bad.json");
    writeFileSync(bad, JSON.stringify({ ...raw, server: { ...(raw.server as object), port: "eighty" } }));
    const child = spawnSync(process.execPath, [...builtProcess("relayer"), "--config", bad], {
      cwd: REPO_ROOT,
      env: process.env,
      encoding: "utf8",
    });
    expect(child.status).to.equal(2);
    expect(child.stderr).to.contain("config.server.port: expected a number, got string");
  });

  it("refuses to start when its keystore's password variable is not set: exit 2, one line naming it, no stack", async function () {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== w.c.passwordEnv));
    const child = spawnSync(process.execPath, [...builtProcess("relayer"), "--config", w.c.business.a.configPath], {
      cwd: REPO_ROOT,
      env,
      encoding: "utf8",
    });
    expect(child.status, child.stderr).to.equal(2);
    expect(child.stderr.trim().split("\n")).to.have.length(1);
    expect(child.stderr).to.match(new RegExp(`passwordEnv: environment variable ${w.c.passwordEnv} is not set`));
    expect(child.stdout + child.stderr).not.to.match(/\n\s+at /);
  });

  it("serves /health and Prometheus /metrics: packets, ledger writes, lag per chain, peer heartbeats", async function () {
    const { batchId } = await batchOnA(w);
    await untilState(w, await appRequest(batchId), "Confirmed");
    for (const key of ["a", "b"] as const) {
      const health = await fetch(procs[key]!.healthUrl);
      const report = (await health.json()) as { status: string; checks: Record<string, { ok: boolean }> };
      expect(health.status, JSON.stringify(report)).to.equal(200);
      expect(Object.keys(report.checks)).to.include.members(["governance", `subchain:sub_${key}`, "loops"]);
    }
    expect(await metric(w, "a", "ccgp_packets_out_total")).to.be.greaterThan(0);
    expect(await metric(w, "b", "ccgp_packets_in_total")).to.be.greaterThan(0);
    expect(await metric(w, "a", 'ccgp_ledger_writes_total{operation="open",outcome="ok"}')).to.be.greaterThan(0);
    await until(
      async () => (await metric(w, "a", 'ccgp_ledger_writes_total{operation="heartbeat",outcome="ok"}')) > 0,
      "a heartbeat",
    );
    const text = await (await fetch(procs.a!.metricsUrl)).text();
    expect(text).to.match(/ccgp_chain_lag_blocks\{chain="governance"\} \d+/);
    expect(text).to.match(/ccgp_chain_lag_blocks\{chain="sub_a"\} \d+/);
    await until(
      async () =>
        /ccgp_peer_heartbeat_age_seconds\{peer="0x[0-9a-f]{64}"\}/.test(
          await (await fetch(procs.a!.metricsUrl)).text(),
        ),
      "B's heartbeat seen by A",
    );
  });

  it("answers auditors on A's ops listener (/auditor): a signed active auditor only, the trace checked against B's receipts", async function () {
    const { batchId } = await batchOnA(w);
    const txId = await appRequest(batchId);
    await untilState(w, txId, "Confirmed");
    const trace = (await auditorTrace(w.c, txId, "Confirmed")) as {
      packets: Array<{ appSigner: string; proxySigner: string; signaturesValid: boolean }>;
      receipts: Array<{ ok: boolean; chainId: number }>;
    };
    expect(trace.packets).to.have.length(1);
    expect(trace.packets[0]).to.deep.include({
      signaturesValid: true,
      proxySigner: w.c.business.a.accounts.business.address,
    });
    expect(trace.receipts.map((r) => [r.chainId, r.ok])).to.deep.equal([[w.c.chains.b.chainId, true]]);

    const url = `${auditorApiUrl(w.c)}/v1/transactions/${txId}`;
    const unsigned = await fetch(url);
    expect(unsigned.status).to.equal(401);
    // A business account (B's operator) signs correctly but is no auditor: refused by Membership on chain.
    const operator = await loadKeystore(w.c.business.b.accounts.operator.keystore, w.c.password);
    const notAuditor = await auditorGet(w.c, `/v1/transactions/${txId}`, operator);
    expect(notAuditor.status).to.equal(403);
    expect(JSON.stringify(notAuditor.body)).to.contain("AccountRoleMismatch");
    // The auditor's own signature with one byte flipped.
    const auditor = await loadKeystore(w.c.accounts.auditor.keystore, w.c.password);
    const domain = auditorDomain(w.c.chains.governance.chainId, w.c.governance.membership as Hex);
    const headers = await signAuditorRequest(auditor, domain, { method: "GET", url });
    const flipped = await fetch(url, {
      headers: { ...headers, [HEADERS.signature]: flipByte(headers[HEADERS.signature] as Hex, 5) },
    });
    expect(flipped.status).to.equal(401);
    expect((await fetch(url, { headers })).status).to.equal(200);
    // The same signed request again is a replay.
    expect((await fetch(url, { headers })).status).to.equal(401);
  });

  // Last in the file: it leaves the consortium requiring attestation (with B's contract attested and its code back).
  it("refuses a pipe's contract with no attestation while governance requires one, and one whose code is not the attested code", async function () {
    const target = w.c.business.b;
    const address = target.contracts.drugTraceability;
    const chains = ChainRegistry__factory.connect(
      w.c.governance.chains,
      await accountOn(w, w.c.accounts.auditor.keystore, "governance"),
    );
    /** A's request for a fresh batch; B's answer is the named refusal, recorded once, and nothing runs on B. */
    const refusedAtB = async (code: string): Promise<void> => {
      const { batchId } = await batchOnA(w);
      const before = refusals("b", code);
      const txId = await appRequest(batchId);
      await until(async () => refusals("b", code) > before, `B's ${code} refusal`);
      await untilState(w, txId, "Manual");
      expect(await custodyLength(w, "b", batchId)).to.equal(0n);
    };
    await (await council(w)).decide(chains, "setAttestationRequired", [true], "attestation requirement");
    await refusedAtB("CONTRACT_NOT_ATTESTED");

    const b = new JsonRpcProvider(w.c.chains.b.url, w.c.chains.b.chainId, { staticNetwork: true });
    const code = await b.getCode(address);
    await (await chains.attest(target.subchain.id, address, keccak256(toUtf8Bytes("report")), keccak256(code))).wait();
    const { batchId } = await batchOnA(w);
    await untilState(w, await appRequest(batchId), "Confirmed");

    // The same address, other code (anvil_setCode: one more byte, which the contract never reaches): refused.
    await b.send("anvil_setCode", [address, `${code}00`]);
    try {
      await refusedAtB("CONTRACT_CODE_MISMATCH");
    } finally {
      await b.send("anvil_setCode", [address, code]);
      b.destroy();
    }
  });
});
