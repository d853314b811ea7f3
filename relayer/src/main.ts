/**
 * Runs one relayer as a process: `ts-node relayer/src/main.ts --config <file>` (or `$CCGP_CONFIG`). A config that is
 * wrong is refused at start naming each bad field (exit 2), and so is a keystore it names that cannot be opened (its
 * password variable unset, a wrong password, no such file); SIGINT and SIGTERM stop it cleanly through an
 * AbortController (exit 0); a failure to start exits 1. `kill -9` loses nothing: the state is in the store.
 */
import { Command } from "commander";
import { loadConfig } from "./config";
import { ConfigError } from "./config/load";
import { CcgpError } from "../../lib/infra/errors";
import { createLogger, errorLine } from "../../lib/infra/log";

/** Start-up failures that are the config's (or its environment's) fault: exit 2, as a config the parser refuses. */
const BAD_CONFIG = new Set([
  "KEYSTORE_PASSWORD_MISSING",
  "KEYSTORE_BAD_PASSWORD",
  "KEYSTORE_NOT_FOUND",
  "KEYSTORE_INVALID",
]);
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
  const logger = createLogger({
    level: config.log.level,
    format: config.log.format,
    institutionId: config.institutionId,
  });
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
    // One line, no stack (the log level debug adds it): what failed, and for a bad config the field to fix.
    const bad = error instanceof CcgpError && BAD_CONFIG.has(error.code);
    logger.fatal(
      { err: error, ...(error instanceof CcgpError ? { code: error.code, details: error.toJSON().details } : {}) },
      `relayer did not start: ${errorLine(error)}`,
    );
    if (bad) process.stderr.write(`${(error as Error).message}\n`);
    return bad ? 2 : 1;
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
      process.stderr.write(
        `${errorLine(error)}${process.env.CCGP_DEBUG === "1" && error instanceof Error ? `\n${error.stack}` : ""}\n`,
      );
      process.exit(1);
    },
  );
}
