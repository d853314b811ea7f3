/**
 * Runs an institution's attester as its own process: `node dist/attester.js --config <file>` (after `npm run build`).
 * It follows the ledger and signs each opened packet ahead, and answers relayers' requests at its listener, checking
 * each against the governance chain. A wrong config or an unopenable key exits 2 naming the field; SIGINT and
 * SIGTERM stop it cleanly (exit 0). `GET /health` answers 200 once it has read the ledger.
 */
import { Command } from "commander";
import { createLogger, moduleLogger, type Logger } from "../../../lib/infra/log";
import { exitWith, runProcess } from "../../../lib/infra/process";
import { configOrRefusal } from "../config/role";
import { loadSigner } from "../keys";
import type { Address } from "viem";
import { Attester } from "./attester";
import { attesterChain } from "./chain";
import { loadAttesterConfig, type AttesterConfig } from "./config";
import { startAttesterServer } from "./server";

export interface RunningAttester {
  attester: Attester;
  /** Where it serves (the URL to publish with `ccgp attesters endpoint`, or the TLS front's). */
  url: string;
  stop(): Promise<void>;
}

/** Opens the key, starts the listener and follows the ledger until stopped. */
export async function startAttester(config: AttesterConfig, log: Logger): Promise<RunningAttester> {
  const g = config.governance;
  const account = await loadSigner(config.key, { role: "key" });
  const governance = await attesterChain(g.rpcUrl, g.contracts.ledger as Address, account, {
    pollIntervalMs: g.followIntervalMs,
    log: moduleLogger(log, "chains.governance"),
  });
  const attester = new Attester({
    chain: governance.chain,
    ...g.contracts,
    account,
    fromBlock: BigInt(g.fromBlock),
    log: moduleLogger(log, "attester"),
  });
  let server;
  try {
    server = await startAttesterServer(attester, config.listen);
  } catch (error) {
    governance.close();
    throw error;
  }
  attester.start();
  log.info({ attester: attester.address, url: server.url }, "attester started");
  return {
    attester,
    url: server.url,
    stop: async () => {
      await attester.stop();
      await server.stop();
      governance.close();
    },
  };
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = new Command()
    .name("ccgp-attester")
    .description("CCGP attester: signs what the governance ledger opened, for the sub-chain gateways")
    .requiredOption("--config <file>", "attester config file")
    .exitOverride();
  program.parse([...argv]);
  const path = program.opts<{ config: string }>().config;
  return runProcess<AttesterConfig>({
    role: "attester",
    load: () => configOrRefusal("attester", () => loadAttesterConfig(path)),
    logger: (config) =>
      createLogger({ level: config.log.level, format: config.log.format, institutionId: config.institutionId }),
    start: (config, logger) => startAttester(config, logger),
  });
}

if (require.main === module) exitWith(main);
