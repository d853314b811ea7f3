/**
 * Runs one relayer as a process: `ts-node relayer/src/main.ts --config <file>` (or `$CCGP_CONFIG`). A config that is
 * wrong is refused at start naming each bad field (exit 2); SIGINT and SIGTERM stop it cleanly through an
 * AbortController (exit 0); a failure to start exits 1. `kill -9` loses nothing: the state is in the store.
 */
import { Command } from "commander";
import { loadConfig } from "./config";
import { ConfigError } from "./config/load";
import { CcgpError } from "./errors";
import { createLogger } from "./log";
import { startRelayer } from "./relayer";

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = new Command()
    .name("ccgp-relayer")
    .description("CCGP relayer: sub-chain proxy and cross-chain proxy of one institution")
    .option("--config <file>", "relayer config file (default: $CCGP_CONFIG)")
    .exitOverride();
  program.parse([...argv]);
  const { config: path } = program.opts<{ config?: string }>();
  let config;
  try {
    config = loadConfig({ path });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger({ level: config.log.level, institutionId: config.institutionId });
  const controller = new AbortController();
  const onSignal = (name: string) => () => {
    logger.info({ signal: name }, "stopping");
    controller.abort();
  };
  process.once("SIGINT", onSignal("SIGINT"));
  process.once("SIGTERM", onSignal("SIGTERM"));
  let relayer;
  try {
    relayer = await startRelayer(config, { logger, signal: controller.signal });
  } catch (error) {
    const detail = error instanceof CcgpError ? error.toJSON() : { message: String(error) };
    logger.fatal({ err: error, ...detail }, "relayer did not start");
    return 1;
  }
  await new Promise<void>((resolve) => {
    if (controller.signal.aborted) resolve();
    else controller.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await relayer.stop();
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
