/**
 * Runs the independent verifier as a process: `ts-node relayer/src/verifier/main.ts --config <file>`. A wrong config
 * or an unopenable key exits 2 naming the field; SIGINT and SIGTERM stop it cleanly (exit 0). `GET /health` on the
 * configured listener answers 200 with what it has checked once it has read the ledger.
 */
import { createServer, type Server } from "node:http";
import { getAbiItem, type Address } from "viem";
import { Command } from "commander";
import { chainRegistry, RPC_TIMEOUT_MS, RpcPools, sleep, type ChainPlugin } from "../chains";
import { governanceChain } from "../governance/chain";
import { configOrRefusal } from "../config/role";
import { chainRegistryAbi, ledgerAbi } from "../../../lib/abi/contracts";
import { Contract } from "../governance/contract";
import { LogReader } from "../governance/logs";
import { loadSigner } from "../keys";
import { createLogger, moduleLogger, type Logger } from "../../../lib/infra/log";
import { exitWith, runProcess } from "../../../lib/infra/process";
import { sendJson } from "../../../lib/infra/http";
import { loadVerifierConfig, type VerifierConfig } from "./config";
import { IndependentVerifier } from "./verifier";

/** `ITransactionLedger.ResultRecorded`: its `to` tells the move to Executed. */
const RESULT_RECORDED = getAbiItem({ abi: ledgerAbi, name: "ResultRecorded" });

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
  const gov = governanceChain(g, account, log, rpc);
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
  // The ledger's moves to Executed are followed through the plugin's subscription (woken by pushed heads where the
  // node has them): each is verified as soon as its block is delivered. The rounds retry what was not decidable yet.
  const ledger = g.contracts.ledger as Address;
  const startHead = await gov.head();
  let caughtUp = false;
  let polled = false;
  let wake: (() => void) | undefined;
  const following = (async () => {
    while (!signal.aborted) {
      try {
        await gov.subscribe(
          {
            fromBlock: BigInt(g.fromBlock),
            // At the head, as the parties' relayers see it (the governance chain, QBFT, is final).
            confirmations: 0,
            address: ledger,
            events: [RESULT_RECORDED],
            onError: (error) => log.warn({ err: error }, "could not read the ledger's results; trying again"),
          },
          (event) => {
            if (event.type !== "block") return;
            verifier.executed(event.logs, event.height);
            // Read up to the head at start: the next round makes it ready (`/health`).
            if (!caughtUp && event.height >= startHead) ((caughtUp = true), wake?.());
          },
          signal,
        );
      } catch (error) {
        // A reorganisation deeper than the subscription remembers: follow afresh (what was endorsed is skipped).
        log.warn({ err: error }, "following the ledger failed; following it again");
        await sleep(g.pollIntervalMs, signal).catch(() => undefined);
      }
    }
  })();
  const loop = (async () => {
    while (!signal.aborted) {
      await verifier.round().then(
        () => (polled ||= caughtUp),
        (error: unknown) => log.warn({ err: error }, "verifier round failed; trying again"),
      );
      const stop = new AbortController();
      wake = () => stop.abort();
      const onAbort = (): void => stop.abort();
      signal.addEventListener("abort", onAbort, { once: true });
      await sleep(g.pollIntervalMs, stop.signal).catch(() => undefined);
      signal.removeEventListener("abort", onAbort);
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
      await Promise.all([loop, following]);
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
  const path = program.opts<{ config: string }>().config;
  return runProcess<VerifierConfig>({
    role: "verifier",
    load: () => configOrRefusal("verifier", () => loadVerifierConfig(path)),
    logger: (config) =>
      createLogger({ level: config.log.level, format: config.log.format, institutionId: config.institutionId }),
    start: (config, logger, signal) => startVerifier(config, logger, signal),
  });
}

if (require.main === module) exitWith(main);
