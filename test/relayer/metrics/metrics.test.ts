import { expect } from "chai";
import { createLogger, moduleLogger } from "../../../lib/infra/log";
import { RelayerMetrics } from "../../../relayer/src/metrics";
import { ManualClock } from "../helpers/errors";

/** The value of one series in a Prometheus text exposition, or undefined if absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("relayer/metrics", function () {
  it("counts packets in, out and refused by reason", async function () {
    const metrics = new RelayerMetrics();
    metrics.record({ type: "packetIn", pipeId: "p1" });
    metrics.record({ type: "packetIn", pipeId: "p1" });
    metrics.record({ type: "packetOut", pipeId: "p2" });
    metrics.record({ type: "packetRefused", reason: "AMDP_BAD_SIGNATURE", pipeId: "p1" });
    metrics.record({ type: "packetRefused", reason: "PEER_NOT_PINNED" });
    metrics.record({ type: "packetRefused", reason: "PEER_NOT_PINNED" });
    const text = await metrics.text();
    expect(sample(text, 'ccgp_packets_in_total{pipe="p1"}')).to.equal(2);
    expect(sample(text, 'ccgp_packets_out_total{pipe="p2"}')).to.equal(1);
    expect(sample(text, 'ccgp_packets_refused_total{reason="AMDP_BAD_SIGNATURE",pipe="p1"}')).to.equal(1);
    expect(sample(text, 'ccgp_packets_refused_total{reason="PEER_NOT_PINNED",pipe=""}')).to.equal(2);
  });

  it("tracks ledger writes, chain lag, reorgs, queue depth and the outbox", async function () {
    const metrics = new RelayerMetrics();
    metrics.record({ type: "ledgerWrite", operation: "recordResult", outcome: "ok" });
    metrics.record({ type: "ledgerWrite", operation: "recordResult", outcome: "failed" });
    metrics.record({ type: "chainProgress", chain: "sub_a", head: 120n, processed: 100n });
    metrics.record({ type: "chainProgress", chain: "sub_a", head: 121n, processed: 119n });
    metrics.record({ type: "reorg", chain: "sub_a", forkHeight: 118n });
    metrics.record({ type: "queueDepth", queue: "inbound", depth: 7 });
    metrics.record({ type: "outboxPending", count: 3 });
    const text = await metrics.text();
    expect(sample(text, 'ccgp_ledger_writes_total{operation="recordResult",outcome="ok"}')).to.equal(1);
    expect(sample(text, 'ccgp_ledger_writes_total{operation="recordResult",outcome="failed"}')).to.equal(1);
    expect(sample(text, 'ccgp_chain_lag_blocks{chain="sub_a"}')).to.equal(2);
    expect(sample(text, 'ccgp_chain_head_block{chain="sub_a"}')).to.equal(121);
    expect(sample(text, 'ccgp_chain_processed_block{chain="sub_a"}')).to.equal(119);
    expect(sample(text, 'ccgp_reorgs_total{chain="sub_a"}')).to.equal(1);
    expect(sample(text, 'ccgp_queue_depth{queue="inbound"}')).to.equal(7);
    expect(sample(text, "ccgp_outbox_pending")).to.equal(3);
  });

  it("exports the attestation collection time as quantiles", async function () {
    const metrics = new RelayerMetrics();
    for (const ms of [4, 5, 6, 7, 40]) metrics.record({ type: "attestationsCollected", seconds: ms / 1000 });
    const text = await metrics.text();
    expect(sample(text, 'ccgp_attestation_collect_seconds{quantile="0.5"}')).to.equal(0.006);
    expect(sample(text, "ccgp_attestation_collect_seconds_count")).to.equal(5);
  });

  it("counts the steps that took the collection started ahead, apart from those that collected at the step", async function () {
    const metrics = new RelayerMetrics();
    metrics.record({ type: "attestationsWaited", seconds: 0.001, collection: "ahead" });
    metrics.record({ type: "attestationsWaited", seconds: 0.002, collection: "ahead" });
    metrics.record({ type: "attestationsWaited", seconds: 0.03, collection: "step" });
    const text = await metrics.text();
    expect(sample(text, 'ccgp_attestation_steps_total{collection="ahead"}')).to.equal(2);
    expect(sample(text, 'ccgp_attestation_steps_total{collection="step"}')).to.equal(1);
    expect(sample(text, "ccgp_attestation_wait_seconds_count")).to.equal(3);
  });

  it("exports the JSON-RPC calls of each node by method, read when scraped", async function () {
    const metrics = new RelayerMetrics();
    const calls = [{ chain: "governance", method: "eth_call", count: 3 }];
    metrics.observeRpc(() => calls);
    expect(sample(await metrics.text(), 'ccgp_rpc_calls_total{chain="governance",method="eth_call"}')).to.equal(3);
    calls.push({ chain: "sub_a", method: "eth_blockNumber", count: 1 });
    calls[0]!.count = 5;
    const text = await metrics.text();
    expect(sample(text, 'ccgp_rpc_calls_total{chain="governance",method="eth_call"}')).to.equal(5);
    expect(sample(text, 'ccgp_rpc_calls_total{chain="sub_a",method="eth_blockNumber"}')).to.equal(1);
  });

  it("computes peer heartbeat age at scrape time, so a silent peer ages", async function () {
    const clock = new ManualClock();
    const metrics = new RelayerMetrics({ clock: clock.read });
    metrics.record({ type: "peerHeartbeat", peer: "inst-2", at: clock.now });
    clock.advance(4_000);
    expect(sample(await metrics.text(), 'ccgp_peer_heartbeat_age_seconds{peer="inst-2"}')).to.equal(4);
    clock.advance(26_000);
    expect(sample(await metrics.text(), 'ccgp_peer_heartbeat_age_seconds{peer="inst-2"}')).to.equal(30);
    metrics.record({ type: "peerHeartbeat", peer: "inst-2", at: clock.now - 60_000 }); // late, older beat: ignored
    expect(sample(await metrics.text(), 'ccgp_peer_heartbeat_age_seconds{peer="inst-2"}')).to.equal(30);
    metrics.record({ type: "peerHeartbeat", peer: "inst-2", at: clock.now });
    expect(sample(await metrics.text(), 'ccgp_peer_heartbeat_age_seconds{peer="inst-2"}')).to.equal(0);
  });

  it("uses the configured prefix and can add process metrics", async function () {
    const metrics = new RelayerMetrics({ prefix: "relayer_b_", processMetrics: true });
    metrics.record({ type: "packetIn", pipeId: "p" });
    const text = await metrics.text();
    expect(sample(text, 'relayer_b_packets_in_total{pipe="p"}')).to.equal(1);
    expect(text).to.include("relayer_b_process_cpu_user_seconds_total");
    expect(text).to.not.include("ccgp_");
    expect(metrics.contentType).to.include("text/plain");
  });
});

describe("relayer/log", function () {
  function capture(level: "info" | "debug"): {
    lines: Array<Record<string, unknown>>;
    log: ReturnType<typeof createLogger>;
  } {
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({
      level,
      institutionId: 3,
      destination: { write: (s: string) => lines.push(JSON.parse(s)) },
    });
    return { lines, log };
  }

  it("writes JSON lines with the module of each child logger and the institution", function () {
    const { lines, log } = capture("info");
    moduleLogger(log, "store").info({ height: 12 }, "checkpoint advanced");
    moduleLogger(log, "chains", { chain: "sub_a" }).warn("reorg");
    expect(lines[0]).to.include({ module: "store", height: 12, msg: "checkpoint advanced", institution: 3, level: 30 });
    expect(lines[1]).to.include({ module: "chains", chain: "sub_a", msg: "reorg", level: 40 });
    expect(lines[0].time).to.be.a("string");
  });

  it("drops lines below the configured level", function () {
    const info = capture("info");
    info.log.debug("hidden");
    expect(info.lines).to.deep.equal([]);
    const debug = capture("debug");
    debug.log.debug("shown");
    expect(debug.lines).to.have.length(1);
  });

  it("never writes a password or a private key, even when passed by mistake", function () {
    const { lines, log } = capture("info");
    log.info({ password: "hunter22", signer: { privateKey: "0xabc", address: "0x1" } }, "unlocking");
    const text = JSON.stringify(lines);
    expect(text).to.not.include("hunter22");
    expect(text).to.not.include("0xabc");
    expect(lines[0]).to.deep.include({ password: "[redacted]", signer: { privateKey: "[redacted]", address: "0x1" } });
  });
});
