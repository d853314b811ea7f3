/**
 * The start-up every long-running CCGP process shares (the relayer, the independent verifier): read the config
 * (refused: exit 2, the message naming the field), open the logger, start, and stop cleanly on SIGINT or SIGTERM
 * (exit 0). A start-up failure exits 2 when it is the config's or its keystore's fault (a password variable unset, a
 * wrong password, no such file), 1 otherwise, as one line without a stack (`CCGP_DEBUG=1` adds it on a crash).
 */
import { CcgpError } from "./errors";
import { errorLine, type Logger } from "./log";

/** Start-up failures that are the config's (or its environment's) fault: exit 2, as a config the parser refuses. */
const BAD_CONFIG = new Set([
  "KEYSTORE_PASSWORD_MISSING",
  "KEYSTORE_BAD_PASSWORD",
  "KEYSTORE_NOT_FOUND",
  "KEYSTORE_INVALID",
]);

export interface ProcessSpec<C> {
  /** What the process is, in its log lines ("relayer", "verifier"). */
  role: string;
  /** The config, or the message naming what is wrong with it. */
  load(): { config: C } | { refused: string };
  logger(config: C): Logger;
  /** Starts everything; stopped once when the process is asked to stop. */
  start(config: C, logger: Logger, signal: AbortSignal): Promise<{ stop(): Promise<void> }>;
}

/** Runs `spec` until SIGINT or SIGTERM; the process's exit code. */
export async function runProcess<C>(spec: ProcessSpec<C>): Promise<number> {
  const loaded = spec.load();
  if ("refused" in loaded) {
    process.stderr.write(`${loaded.refused}\n`);
    return 2;
  }
  const { config } = loaded;
  const logger = spec.logger(config);
  const controller = new AbortController();
  const onSignal = (name: string) => () => {
    logger.info({ signal: name }, "stopping");
    controller.abort();
  };
  process.once("SIGINT", onSignal("SIGINT"));
  process.once("SIGTERM", onSignal("SIGTERM"));
  let running: { stop(): Promise<void> };
  try {
    running = await spec.start(config, logger, controller.signal);
  } catch (error) {
    const bad = error instanceof CcgpError && BAD_CONFIG.has(error.code);
    logger.fatal(
      { err: error, ...(error instanceof CcgpError ? { code: error.code, details: error.toJSON().details } : {}) },
      `${spec.role} did not start: ${errorLine(error)}`,
    );
    if (bad) process.stderr.write(`${(error as Error).message}\n`);
    controller.abort();
    return bad ? 2 : 1;
  }
  await new Promise<void>((resolve) => {
    if (controller.signal.aborted) resolve();
    else controller.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await running.stop();
  return 0;
}

/** Exits with what `main` returns; a crash is one line on stderr (exit 1). */
export function exitWith(main: () => Promise<number>): void {
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
