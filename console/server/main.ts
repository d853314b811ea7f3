/**
 * `npm run console`: serves the governance console for a consortium. By default it reads the newest local run
 * (`.ccgp/local/<run>/consortium.json`, written by `npm start`); `--manifest <file>` picks another, `--port` and
 * `--host` say where to listen (127.0.0.1 and 8600 by default).
 */
import { resolve } from "node:path";
import { Command } from "commander";
import { configFromManifest, newestManifest } from "./config";
import { startConsoleServer } from "./server";

const REPO_ROOT = resolve(__dirname, "..", "..");

async function main(): Promise<void> {
  const opts = new Command("console")
    .option("--manifest <file>", "a consortium.json (default: the newest run under .ccgp/local or $CCGP_RUNS_DIR)")
    .option("--port <n>", "port to listen on", "8600")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .parse()
    .opts<{ manifest?: string; port: string; host: string }>();
  const manifest = opts.manifest ?? newestManifest(process.env.CCGP_RUNS_DIR ?? resolve(REPO_ROOT, ".ccgp", "local"));
  if (manifest === null)
    throw new Error("no local consortium run found: start one with `npm start`, or give --manifest <consortium.json>");
  const server = await startConsoleServer({
    config: configFromManifest(manifest),
    port: Number(opts.port),
    host: opts.host,
  });
  console.log(`governance console: ${server.url} (consortium ${manifest})`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error(`console: ${(error as Error).message}`);
  process.exit(1);
});
