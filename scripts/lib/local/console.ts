/** The governance console beside a local consortium (`npm start`): served from this process, stopped with it. */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { configFromManifest } from "../../../console/server/config";
import { DIST_DIR, startConsoleServer, type ConsoleServer } from "../../../console/server/server";
import type { LocalConsortium } from "../local-consortium";
import { REPO_ROOT } from "./relayers";

const WEB_DIR = join(REPO_ROOT, "console", "web");

const newest = (dir: string): number =>
  Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
    ),
  );

/** Builds the page when it is missing or older than its sources (`npm run console:build`). */
function ensureBuilt(log: (line: string) => void): boolean {
  const index = join(DIST_DIR, "index.html");
  if (existsSync(index) && statSync(index).mtimeMs >= newest(WEB_DIR)) return true;
  log("building the governance console (npm run console:build)");
  const built = spawnSync("npm", ["run", "--silent", "console:build"], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return built.status === 0;
}

/** Starts the console on `CCGP_CONSOLE_PORT` (default: a free port); null when the page cannot be built. */
export async function startLocalConsole(
  c: LocalConsortium,
  log: (line: string) => void,
  seedTx?: string,
): Promise<ConsoleServer | null> {
  if (!ensureBuilt(log)) {
    log("governance console: the page did not build (npm run console:build); not served");
    return null;
  }
  const server = await startConsoleServer({
    config: configFromManifest(c.manifestPath),
    port: Number(process.env.CCGP_CONSOLE_PORT ?? 0),
  });
  log(
    `governance console: ${server.url} (open it in a browser; a wallet such as MetaMask on ` +
      `${c.chains.governance.url} signs governors' actions)`,
  );
  if (seedTx !== undefined) log(`  the seed transaction's timeline: ${server.url}/#/tx/${seedTx}`);
  return server;
}
