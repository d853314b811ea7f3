/**
 * Runs the independent verifier as a process: `ts-node relayer/src/verifier/main.ts --config <file>`. A wrong config
 * or an unopenable key exits 2 naming the field; SIGINT and SIGTERM stop it cleanly (exit 0). `GET /health` on the
 * configured listener answers 200 with what it has checked once it has read the ledger.
 */
import { createServer, type Server } from "node:http";
import type { Address } from "viem";
import { Command } from "commander";
import { chainRegistry, EvmChainPlugin, RPC_TIMEOUT_MS, RpcPools, sleep, type ChainPlugin } from "../chains";
import { ConfigError } from "../config/load";
import { CcgpError } from "../../../lib/infra/errors";
import { chainRegistryAbi, ledgerAbi } from "../../../lib/abi/contracts";
import { Contract } from "../governance/contract";
import { LogReader } from "../governance/logs";
import { loadSigner } from "../keys";
import { createLogger, errorLine, moduleLogger, type Logger } from "../../../lib/infra/log";
import { sendJson } from "../../../lib/infra/http";
import { loadVerifierConfig, type VerifierConfig } from "./config";
import { IndependentVerifier } from "./verifier";

const BAD_CONFIG = new Set([
  "KEYSTORE_PASSWORD_MISSING",
  "KEYSTORE_BAD_PASSWORD",
  "KEYSTORE_NOT_FOUND",
  "KEYSTORE_INVALID",
]);

export interface RunningVerifier {
  verifier: IndependentVerifier;
  healthUrl?: string;
  stop(): Promise<void>;
}

/** Connects to the governance chain and every configured sub-chain, then polls until `signal` aborts. */
export async function startVerifier(
  config: VerifierConfig,
  log: Logger,
  signal: AbortSignal,
): Promise<RunningVerifier> {
  const account = await loadSigner(config.key, { role: "key" });
  const rpc = new RpcPools({ timeoutMs: RPC_TIMEOUT_MS });
  const g = config.governance;
  const gov = new EvmChainPlugin(
    // The plugin's `gateway` is unused on the governance chain; the ledger stands in for it.
    {
      kind: "evm",
      rpcUrl: g.rpcUrl,
      chainId: g.chainId,
      gateway: g.contracts.ledger,
      confirmations: g.confirmations,
      startBlock: 0,
      pollIntervalMs: g.pollIntervalMs,
      maxBlockRange: 1_000,
      reorgWindow: 128,
    },
    { name: "governance", signer: account, logger: moduleLogger(log, "chains.governance"), rpc },
  );
  await gov.connect();
  const chains = new Map<bigint, { chain: ChainPlugin; gateway: Address; confirmations: number }>();
  for (const [name, c] of Object.entries(config.chains)) {
    const chain = chainRegistry.create(c, { name, logger: moduleLogger(log, `chains.${name}`), rpc });
    await chain.connect();
    chains.set(BigInt(c.chainId), { chain, gateway: c.gateway as Address, confirmations: c.confirmations });
  }
  const verifier = new IndependentVerifier({
    ledger: new Contract(gov, g.contracts.ledger as Address, ledgerAbi, "TransactionLedger"),
    registry: new Contract(gov, g.contracts.chains as Address, chainRegistryAbi, "ChainRegistry"),
    govLogs: new LogReader(gov),
    chains,
    me: account.address,
    fromBlock: BigInt(g.fromBlock),
    log: moduleLogger(log, "verifier"),
  });
  let polled = false;
  const loop = (async () => {
    while (!signal.aborted) {
      await verifier.poll().then(
        () => (polled = true),
        (error: unknown) => log.warn({ err: error }, "verifier round failed; trying again"),
      );
      await sleep(g.pollIntervalMs, signal).catch(() => undefined);
    }
  })();
  let server: Server | undefined;
  let healthUrl: string | undefined;
  if (config.health) {
    server = createServer((req, res) => {
      if (req.method !== "GET" || req.url !== "/health")
        return sendJson(res, 404, { error: { code: "NOT_FOUND", message: `no route ${req.method} ${req.url}` } });
      sendJson(res, polled ? 200 : 503, { role: "verifier", ready: polled, ...verifier.status() });
    });
    await new Promise<void>((resolve, reject) => {
      server!.once("error", reject);
      server!.listen(config.health!.port, config.health!.host, () => resolve());
    });
    healthUrl = `http://${config.health.host}:${config.health.port}/health`;
  }
  log.info(
    { verifier: account.address, chains: [...chains.keys()].map(String), health: healthUrl },
    "independent verifier started",
  );
  return {
    verifier,
    healthUrl,
    stop: async () => {
      await loop;
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      rpc.close();
    },
  };
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = new Command()
    .name("ccgp-verifier")
    .description("CCGP independent verifier: checks both sub-chains of every executed transaction and endorses")
    .requiredOption("--config <file>", "verifier config file")
    .exitOverride();
  program.parse([...argv]);
  let config: VerifierConfig;
  try {
    config = loadVerifierConfig(program.opts<{ config: string }>().config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message.replace(/^relayer config/, "verifier config")}\n`);
      return 2;
    }
    throw error;
  }
  const log = createLogger({ level: config.log.level, format: config.log.format, institutionId: config.institutionId });
  const controller = new AbortController();
  for (const name of ["SIGINT", "SIGTERM"] as const) process.once(name, () => controller.abort());
  let running: RunningVerifier;
  try {
    running = await startVerifier(config, log, controller.signal);
  } catch (error) {
    const bad = error instanceof CcgpError && BAD_CONFIG.has(error.code);
    log.fatal({ err: error }, `verifier did not start: ${errorLine(error)}`);
    if (bad) process.stderr.write(`${(error as Error).message}\n`);
    controller.abort();
    return bad ? 2 : 1;
  }
  await new Promise<void>((resolve) =>
    controller.signal.aborted
      ? resolve()
      : controller.signal.addEventListener("abort", () => resolve(), { once: true }),
  );
  await running.stop();
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${errorLine(error)}\n`);
      process.exit(1);
    },
  );
}
