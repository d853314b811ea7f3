import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { AuditInputError } from "./errors";

/** Path relative to `root`, with forward slashes (the form used in every report). */
export function toReportPath(root: string, absPath: string): string {
  return relative(root, absPath).split(sep).join("/");
}

/** The .sol files to audit under `target` (a file or a folder), absolute and sorted. */
export interface TargetFiles {
  /** Absolute path of the target as given. */
  target: string;
  files: string[];
}

const SKIPPED_DIRS = new Set(["node_modules", ".git", "artifacts", "cache", "typechain-types", "coverage"]);

/**
 * Lists the Solidity files of `target`. `exclude` holds paths (relative to `root` or absolute) whose
 * files are left out, e.g. `contracts/mocks`. Throws AuditInputError naming the path when it does not
 * exist, is not a .sol file, or holds no .sol file.
 */
export function collectSolidityFiles(
  target: string,
  root: string,
  exclude: string[] = [],
  shown = target,
): TargetFiles {
  const abs = resolve(root, target);
  if (!existsSync(abs)) throw new AuditInputError(`path does not exist: ${shown}`);
  const excluded = exclude.map((e) => resolve(root, e));
  const isExcluded = (p: string): boolean => excluded.some((e) => p === e || p.startsWith(e + sep));
  const stat = statSync(abs);
  if (stat.isFile()) {
    if (!abs.endsWith(".sol")) throw new AuditInputError(`not a Solidity file (expected .sol): ${shown}`);
    return { target: abs, files: [abs] };
  }
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (isExcluded(p)) continue;
      if (entry.isDirectory()) {
        // Dependencies and build output are not the author's sources; node_modules is searched for imports only.
        if (!SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith(".")) walk(p);
      } else if (entry.isFile() && entry.name.endsWith(".sol")) files.push(p);
    }
  };
  walk(abs);
  if (files.length === 0) {
    const note = exclude.length > 0 ? ` (after excluding ${exclude.join(", ")})` : "";
    throw new AuditInputError(`no .sol files found in ${shown}${note}`);
  }
  files.sort();
  return { target: abs, files };
}
