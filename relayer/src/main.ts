/**
 * Runs one relayer as a process: `ts-node relayer/src/main.ts --config <file>` (or `$CCGP_CONFIG`). A config that is
 * wrong is refused at start naming each bad field (exit 2), and so is a keystore it names that cannot be opened (its
 * password variable unset, a wrong password, no such file); SIGINT and SIGTERM stop it cleanly through an
 * AbortController (exit 0); a failure to start exits 1. `kill -9` loses nothing: the state is in the store.
 */
import { Command } from "commander";
import { loadConfig } from "./config";
import { ConfigError } from "./config/load";
import type { RelayerConfig } from "./config/schema";
import { createLogger } from "../../lib/infra/log";
import { exitWith, runProcess } from "../../lib/infra/process";
import { startRelayer } from "./relayer";

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = new Command()
    .name("ccgp-relayer")
    .description("CCGP relayer: sub-chain proxy and cross-chain proxy of one institution")
    .option("--config <file>", "relayer config file (default: $CCGP_CONFIG)")
    .exitOverride();
  program.parse([...argv]);
  const { config: path } = program.opts<{ config?: string }>();
  return runProcess<RelayerConfig>({
    role: "relayer",
    load: () => {
      try {
        return { config: loadConfig({ path }) };
      } catch (error) {
        if (error instanceof ConfigError) return { refused: error.message };
        throw error;
      }
    },
    logger: (config) =>
      createLogger({ level: config.log.level, format: config.log.format, institutionId: config.institutionId }),
    start: (config, logger, signal) => startRelayer(config, { logger, signal }),
  });
}

if (require.main === module) exitWith(main);
