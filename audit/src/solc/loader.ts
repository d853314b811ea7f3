import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { AuditError } from "../errors";

export interface SolcModule {
  version(): string;
  compile(input: string, callbacks?: { import: (path: string) => { contents: string } | { error: string } }): string;
}

/**
 * npm republished a few broken releases under `<version>-fixed`; the package to fetch for them.
 */
const FIXED_PACKAGES = new Set(["0.8.7", "0.8.14", "0.8.23"]);

/** Where fetched compilers are kept: $CCGP_SOLC_CACHE, else <user cache>/ccgp/solc. */
export function solcCacheDir(): string {
  if (process.env.CCGP_SOLC_CACHE) return process.env.CCGP_SOLC_CACHE;
  const base =
    process.env.XDG_CACHE_HOME ??
    (process.platform === "darwin"
      ? join(homedir(), "Library", "Caches")
      : process.platform === "win32"
        ? (process.env.LOCALAPPDATA ?? join(homedir(), "AppData", "Local"))
        : join(homedir(), ".cache"));
  return join(base, "ccgp", "solc");
}

const loaded = new Map<string, SolcModule>();

/** The version of the solc the sandbox depends on (no download needed for it). */
export function bundledSolcVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("solc/package.json") as { version: string }).version;
}

/**
 * solc `version` (x.y.z): the bundled npm solc when it is that version, else the `soljson.js` of the
 * npm `solc@<version>` package, fetched once with `npm pack` into the cache folder.
 */
export function loadSolc(version: string): SolcModule {
  const hit = loaded.get(version);
  if (hit) return hit;
  let solc: SolcModule;
  if (version === bundledSolcVersion()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    solc = require("solc") as SolcModule;
  } else {
    const soljson = fetchSoljson(version);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const setup = require("solc/wrapper") as (m: unknown) => SolcModule;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    solc = setup(require(soljson));
  }
  loaded.set(version, solc);
  return solc;
}

/** Path of the cached soljson.js of `version`, fetching it first when absent. */
export function fetchSoljson(version: string): string {
  const dir = join(solcCacheDir(), version);
  const file = join(dir, "soljson.js");
  if (existsSync(file)) return file;
  mkdirSync(solcCacheDir(), { recursive: true });
  const tmp = mkdtempSync(join(solcCacheDir(), `.fetch-${version}-`));
  const pkg = `solc@${FIXED_PACKAGES.has(version) ? `${version}-fixed` : version}`;
  try {
    const tgz = execFileSync("npm", ["pack", pkg, "--silent", "--pack-destination", tmp], {
      encoding: "utf8",
      timeout: 300_000,
      stdio: ["ignore", "pipe", "pipe"],
    })
      .trim()
      .split("\n")
      .pop()!;
    execFileSync("tar", ["xzf", join(tmp, tgz), "-C", tmp, "package/soljson.js"], { stdio: "pipe" });
    mkdirSync(dir, { recursive: true });
    // A rename, so that a concurrent audit never loads a half-written file.
    renameSync(join(tmp, "package", "soljson.js"), file);
    return file;
  } catch (cause) {
    const stderr = (cause as { stderr?: Buffer | string }).stderr?.toString().trim();
    throw new AuditError(`could not fetch solc ${version} (npm pack ${pkg})`, { details: stderr, cause });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
