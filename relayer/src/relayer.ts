/**
 * One relayer process: the sub-chain proxy (gateway events, app intake, executions on its gateway) and the
 * cross-chain proxy (governance view, AMDP stages, peer endpoint, transaction driver), started from one config.
 *
 * `startRelayer(config, { logger, signal })` returns `{ stop, ports }` once every listener is up. Everything that
 * must survive a crash is in the store (journal, outbox, inbox, checkpoints), so a relayer killed at any point and
 * started again finishes what it had begun, and runs nothing twice (the gateway and the ledger refuse duplicates).
 */
import { AttestationsAhead } from "./attest/ahead";
import { RegistryAttesterEndpoints } from "./attest/endpoints";
import { keccak256, toHex, type Hex, type LocalAccount } from "viem";
import { chainRegistry, RPC_TIMEOUT_MS, RpcPools, type ChainPlugin } from "./chains";
import type { RelayerConfig } from "./config/schema";
import { CcgpError } from "../../lib/infra/errors";
import { Backlog, FlowControl } from "./flow";
import { governanceChain } from "./governance/chain";
import { governanceContracts, type GovernanceContracts } from "./governance/contracts";
import { sendHeartbeats } from "./governance/heartbeat";
import { LogReader } from "./governance/logs";
import { GovernanceSync } from "./governance/sync";
import { GovernanceView } from "./governance/view";
import { PipeStatus } from "../../lib/abi/contracts";
import { isRevert } from "./governance/contract";
import { LedgerWriter } from "./governance/writer";
import { loadSigner } from "./keys";
import { createLogger, moduleLogger, type Logger } from "../../lib/infra/log";
import { RelayerMetrics } from "./metrics";
import { OpsServer, chainCheck, loadTlsMaterial, peerHeartbeatCheck, type OpsServerOptions } from "./server";
import { RelayerStore } from "./store";
import { Refusals } from "./crosschain/refusal";
import { peerServer } from "./tx/peer";
import { Gateway } from "./crosschain/gateway";
import { AppIntake } from "./subchain/intake";
import { followRequests } from "./subchain/requests";
import { Journal } from "./tx/journal";
import { Reconciler } from "./tx/reconcile";
import { registerHandlers } from "./tx/handlers";
import type { HeldAppKey, SubchainBinding } from "./tx/context";
import type { Runtime } from "./runtime";
import { Worker } from "./tx/worker";

export interface RelayerPorts {
  peer: number;
  ops: number;
  app: number;
}

export interface RunningRelayer {
  stop(): Promise<void>;
  ports: RelayerPorts;
  /** For tests and tools: the running parts. */
  runtime: Runtime;
}

export interface StartOptions {
  logger?: Logger;
  /** Aborting it stops the relayer, as `stop()` does. */
  signal?: AbortSignal;
  /** Milliseconds since the epoch (tests). */
  clock?: () => number;
}

export async function startRelayer(config: RelayerConfig, options: StartOptions = {}): Promise<RunningRelayer> {
  const log =
    options.logger ??
    createLogger({ level: config.log.level, format: config.log.format, institutionId: config.institutionId });
  const controller = new AbortController();
  const signal = controller.signal;
  options.signal?.addEventListener("abort", () => controller.abort(), { once: true });
  const metrics = new RelayerMetrics({ prefix: config.metrics.prefix, processMetrics: true });
  const [service, business] = await Promise.all([
    loadSigner(config.keys.service, { role: "service" }),
    loadSigner(config.keys.business, { role: "business" }),
  ]);
  // One connection per node for the whole relayer (the auditor's long scans keep their own: see auditor/mount.ts).
  const rpc = new RpcPools({ timeoutMs: RPC_TIMEOUT_MS });
  metrics.observeRpc(() => rpc.calls());
  const govChain = governanceChain(config.governance, business, log, rpc);
  await govChain.connect();
  const gov = governanceContracts(govChain, config.governance);
  const view = new GovernanceView(gov, moduleLogger(log, "governance"));
  const sync = new GovernanceSync(view, govChain, moduleLogger(log, "governance"), {
    confirmations: config.governance.confirmations,
    metrics,
  });
  const { following } = await sync.start(signal);
  const store = RelayerStore.open({
    path: config.store.path,
    maxAttempts: config.runtime.retry.maxAttempts,
    leaseMs: 300_000,
  });
  try {
    const rt = await buildRuntime(config, {
      log,
      metrics,
      store,
      gov,
      govChain,
      view,
      service,
      business,
      rpc,
      clock: options.clock,
    });
    return await run(rt, { controller, following, rpc });
  } catch (error) {
    controller.abort();
    store.close();
    rpc.close();
    throw error;
  }
}

interface Parts {
  log: Logger;
  metrics: RelayerMetrics;
  store: RelayerStore;
  gov: GovernanceContracts;
  govChain: ChainPlugin;
  view: GovernanceView;
  service: LocalAccount;
  business: LocalAccount;
  rpc: RpcPools;
  clock?: () => number;
}

async function buildRuntime(config: RelayerConfig, p: Parts): Promise<Runtime> {
  const mine = p.view.serviceBySigner(p.business.address);
  if (mine === undefined)
    throw new CcgpError(
      "RELAYER_NOT_REGISTERED",
      `no service is registered with signer ${p.business.address} (config.keys.business)`,
      {
        signer: p.business.address,
      },
    );
  if (mine.institution !== config.institutionId)
    throw new CcgpError(
      "RELAYER_WRONG_INSTITUTION",
      `config.institutionId is ${config.institutionId}, the service's institution is ${mine.institution}`,
      {},
    );
  const subchain = await bindSubchain(config, p, mine.subchain);
  const govLogs = new LogReader(p.govChain);
  const clock = p.clock ?? Date.now;
  const refusals = new Refusals(p.store, moduleLogger(p.log, "refusals"), p.metrics);
  const worker = new Worker(p.store, {
    concurrency: config.runtime.concurrency,
    pollIntervalMs: config.runtime.pollIntervalMs,
    retry: config.runtime.retry,
    log: moduleLogger(p.log, "tx"),
    metrics: p.metrics,
    clock,
  });
  return {
    config,
    log: moduleLogger(p.log, "tx"),
    rootLog: p.log,
    metrics: p.metrics,
    store: p.store,
    journal: new Journal(p.store, clock),
    view: p.view,
    gov: p.gov,
    govChain: p.govChain,
    govLogs,
    writer: new LedgerWriter(p.gov, govLogs, p.business.address, moduleLogger(p.log, "ledger"), p.metrics),
    worker,
    refusals,
    flow: new FlowControl({ perPipe: config.limits.perPipe, perApp: config.limits.perApp }),
    backlog: new Backlog({ maxQueue: config.limits.maxQueue, count: () => p.store.pendingCount(), clock }),
    pipeRates: new Map(),
    me: { institution: mine.institution, service: mine, signer: p.business },
    subchain,
    tls: loadTlsMaterial(config.server.tls),
    apps: await heldApps(config, p.gov),
    attesterEndpoints: new RegistryAttesterEndpoints(
      (attester) => p.gov.services.read("attesterEndpoint", [attester]),
      config.attesters.endpointTtlMs,
      clock,
    ),
    attestationsAhead: new AttestationsAhead(60_000, config.limits.maxQueue, clock),
    clock,
  };
}

/** The configured chain that is the service's registered sub-chain (same chain id and gateway). */
async function bindSubchain(config: RelayerConfig, p: Parts, subchainId: Hex): Promise<SubchainBinding> {
  const registered = await p.gov.subchains.read("subchain", [subchainId]);
  const entry = Object.entries(config.chains).find(([, c]) => BigInt(c.chainId) === registered.chainId);
  if (entry === undefined)
    throw new CcgpError(
      "RELAYER_SUBCHAIN_NOT_CONFIGURED",
      `the service fronts sub-chain ${subchainId} (chain id ${registered.chainId}); config.chains has no chain with ` +
        `that id`,
      {
        subchainId,
      },
    );
  const [name, chainConfig] = entry;
  if (chainConfig.gateway.toLowerCase() !== registered.gateway.toLowerCase())
    throw new CcgpError(
      "RELAYER_GATEWAY_MISMATCH",
      `config.chains.${name}.gateway is ${chainConfig.gateway}, the registered gateway is ${registered.gateway}`,
      {},
    );
  const chain = chainRegistry.create(chainConfig, {
    name,
    signer: p.service,
    logger: moduleLogger(p.log, `chains.${name}`),
    rpc: p.rpc,
  });
  await chain.connect();
  const logs = new LogReader(chain, BigInt(chainConfig.maxBlockRange));
  const gateway = new Gateway(chain, registered.gateway, chainConfig.chainId, logs, chainConfig.confirmations);
  return { subchainId, name, chain, gateway, logs, confirmations: chainConfig.confirmations };
}

/** The app keys of `config.apps`, each found on chain by its address (`keyRecord`). */
async function heldApps(config: RelayerConfig, gov: GovernanceContracts): Promise<Map<Hex, HeldAppKey>> {
  const apps = new Map<Hex, HeldAppKey>();
  for (const [name, app] of Object.entries(config.apps)) {
    const account = await loadSigner(app.key, { role: `apps.${name}.key` });
    const record = await gov.apps.read("keyRecord", [account.address]);
    if (record.status !== 1)
      throw new CcgpError(
        "RELAYER_APP_KEY_UNKNOWN",
        `config.apps.${name}.key (${account.address}) is not an active app key on the governance chain`,
        {
          app: name,
        },
      );
    const contracts = app.contracts && new Set(app.contracts.map((c) => keccak256(toHex(c)).toLowerCase() as Hex));
    apps.set(record.app.toLowerCase() as Hex, { appId: record.app, account, contracts });
  }
  return apps;
}

async function run(
  rt: Runtime,
  parts: { controller: AbortController; following: Promise<void>; rpc: RpcPools },
): Promise<RunningRelayer> {
  const { controller } = parts;
  const signal = controller.signal;
  const reconciler = new Reconciler(rt, Math.max(2_000, rt.config.runtime.pollIntervalMs * 4));
  registerHandlers(rt);
  watchView(rt, reconciler);
  const released = rt.worker.releaseClaims();
  if (released > 0) rt.log.info({ released }, "work items of the previous run resumed");
  let failed: unknown;
  const loop = (name: string, promise: Promise<void>): Promise<void> =>
    promise.catch((error: unknown) => {
      failed = error;
      rt.log.error({ err: error, loop: name }, "relayer loop stopped");
    });
  const loops = [
    loop("governance", parts.following),
    loop("worker", rt.worker.run(signal)),
    loop("reconciler", reconciler.run(signal)),
    loop("requests", followRequests(rt, signal)),
    loop("heartbeats", sendHeartbeats(rt.gov, rt.me.service.id, rt.config.runtime.heartbeatSeconds, rt, signal)),
  ];
  // The auditor API (config.auditor): its modules are loaded only when it is configured.
  const auditor =
    rt.config.auditor === undefined
      ? undefined
      : await (await import("./auditor/mount")).mountAuditor({ ...rt.config, auditor: rt.config.auditor }, rt.rootLog);
  if (auditor !== undefined) loops.push(loop("auditor", auditor.run(signal)));
  const servers = await serve(rt, () => failed, auditor && { [auditor.prefix]: auditor.handler });
  rt.rootLog.info({ ports: servers.ports, service: rt.me.service.id, subchain: rt.subchain.name }, "relayer started");
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    if (stopped !== undefined) return stopped;
    stopped = (async () => {
      await null; // `stopped` is set before the abort below calls back into `stop`
      controller.abort();
      await servers.stop();
      await Promise.all(loops);
      auditor?.close();
      rt.store.close();
      parts.rpc.close();
      rt.rootLog.info("relayer stopped");
    })();
    return stopped;
  };
  signal.addEventListener("abort", () => void stop(), { once: true });
  return { stop, ports: servers.ports, runtime: rt };
}

/** Ledger events wake the reconciler; peers' heartbeats feed the metrics. */
function watchView(rt: Runtime, reconciler: Reconciler): void {
  const peers = new Set(rt.view.pipesOfService(rt.me.service.id).flatMap((p) => [p.sourceService, p.targetService]));
  peers.delete(rt.me.service.id);
  for (const id of peers) {
    const s = rt.view.services.get(id);
    if (s !== undefined && s.lastSeen > 0)
      rt.metrics.record({ type: "peerHeartbeat", peer: id, at: s.lastSeen * 1000 });
  }
  // Our own ledger writes wake it at once (their receipts are in hand before the follower sees their logs).
  rt.writer.onSent((txId, state) => reconciler.notify(txId, state));
  rt.view.onChange((change) => {
    // Only a state change calls for new work (the sweep still checks everything unfinished).
    if (change.type === "ledger" && change.state !== undefined) reconciler.notify(change.txId, change.state);
    if (change.type === "reorg") reconciler.reorged();
    if (change.type === "appKeyRotated") void syncPipeKeys(rt, change.appId);
    if (change.type === "heartbeat" && change.id !== rt.me.service.id)
      rt.metrics.record({ type: "peerHeartbeat", peer: change.id, at: change.at * 1000 });
  });
}

/**
 * After one of this institution's apps got a new key, each of its open pipes takes it (`syncPipeKey`, which anyone
 * may call): until then the pipe refuses the new key. A failure is logged; the next rotation event or an operator
 * retries it.
 */
async function syncPipeKeys(rt: Runtime, appId: Hex): Promise<void> {
  const pipes = [...rt.view.pipes.values()].filter(
    (p) => p.sourceApp === appId && p.sourceInstitution === rt.me.institution && p.status !== PipeStatus.Closed,
  );
  for (const pipe of pipes) {
    try {
      await rt.gov.pipes.write("syncPipeKey", [pipe.id]);
      rt.log.info({ pipeId: pipe.id, appId }, "pipe took the app's new key");
    } catch (error) {
      if (!isRevert(error, "PipeKeyUnchanged")) rt.log.error({ err: error, pipeId: pipe.id }, "syncPipeKey failed");
    }
  }
}

async function serve(
  rt: Runtime,
  failure: () => unknown,
  mounts?: OpsServerOptions["mounts"],
): Promise<{ ports: RelayerPorts; stop(): Promise<void> }> {
  const c = rt.config;
  const peer = peerServer(rt, { host: c.server.host, port: c.server.port });
  const peerAddress = await peer.start();
  const intake = c.intake.enabled ? new AppIntake(rt, c.intake) : undefined;
  const appAddress = await intake?.start();
  // A peer is stale once one heartbeat is missed: the interval, plus 5 s for its transaction to be mined and seen.
  const maxAge = c.runtime.heartbeatSeconds * 1_000 + 5_000;
  const peers = (): string[] =>
    rt.view
      .pipesOfService(rt.me.service.id)
      .flatMap((p) => [p.sourceService, p.targetService])
      // Only peers heard from at least once: a peer that has not started yet is not a failure of this relayer.
      .filter((id) => id !== rt.me.service.id && rt.metrics.lastHeartbeats().has(id));
  const ops = new OpsServer({
    host: c.metrics.host,
    port: c.metrics.port,
    metrics: rt.metrics,
    logger: moduleLogger(rt.rootLog, "ops"),
    ...(mounts ? { mounts } : {}),
    checks: {
      governance: chainCheck(rt.govChain),
      [`subchain:${rt.subchain.name}`]: chainCheck(rt.subchain.chain),
      ...(c.runtime.heartbeatSeconds > 0
        ? { peers: peerHeartbeatCheck(peers, () => rt.metrics.lastHeartbeats(), maxAge) }
        : {}),
      loops: () => ({ ok: failure() === undefined, detail: failure() === undefined ? undefined : String(failure()) }),
    },
  });
  const opsAddress = c.metrics.enabled ? await ops.start() : undefined;
  return {
    ports: { peer: peerAddress.port, ops: opsAddress?.port ?? 0, app: appAddress?.port ?? 0 },
    stop: async () => {
      await Promise.all([peer.stop(), intake?.stop(), ops.stop()]);
    },
  };
}
