import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { AuditInputError } from "./errors";

/** A solc remapping: `context:prefix=target`, target an absolute path. */
export interface Remapping {
  context: string;
  prefix: string;
  target: string;
}

/** The project an audited path belongs to: where its imports come from. */
export interface Project {
  root: string;
  kind: "hardhat" | "foundry" | "npm" | "plain";
  /** What made `root` the project root (a file name), or why none was found. */
  marker: string;
  remappings: Remapping[];
  /** Compiler versions the project configures (hardhat.config, foundry.toml), newest first not implied. */
  compilers: string[];
}

const HARDHAT_CONFIGS = ["hardhat.config.ts", "hardhat.config.js", "hardhat.config.cjs", "hardhat.config.mjs"];
const MARKERS = [...HARDHAT_CONFIGS, "foundry.toml", "remappings.txt", "package.json", "node_modules"];

/**
 * The project around `target`: the nearest folder (the target's own, then its parents) holding a
 * Hardhat config, foundry.toml, remappings.txt, package.json or node_modules; `root` when given.
 * With none, the target's folder: imports never come from a folder that is not the project's.
 */
export function detectProject(target: string, opts: { root?: string; remap?: string[] } = {}): Project {
  const start = statSync(target).isDirectory() ? resolve(target) : dirname(resolve(target));
  let root = opts.root ? resolve(opts.root) : undefined;
  let marker = "--root";
  if (root && !existsSync(root)) throw new AuditInputError(`--root does not exist: ${opts.root}`);
  if (!root) {
    for (let dir = start; ; dir = dirname(dir)) {
      const found = MARKERS.find((m) => existsSync(join(dir, m)));
      if (found) {
        root = dir;
        marker = found;
        break;
      }
      if (dirname(dir) === dir) break;
    }
  }
  if (!root) {
    root = start;
    marker = "none found: the audited folder";
  }
  const has = (f: string): boolean => existsSync(join(root, f));
  const kind = HARDHAT_CONFIGS.some(has)
    ? "hardhat"
    : has("foundry.toml")
      ? "foundry"
      : has("package.json")
        ? "npm"
        : "plain";
  const remappings = [
    ...(kind === "foundry" ? foundryRemappings(root) : []),
    ...(has("remappings.txt")
      ? parseRemappings(readFileSync(join(root, "remappings.txt"), "utf8"), root, "remappings.txt")
      : []),
    ...(opts.remap ?? []).flatMap((r) => parseRemappings(r, root, "--remap")),
  ];
  return { root, kind, marker, remappings: dedupeRemappings(remappings), compilers: configuredCompilers(root, kind) };
}

/** `prefix=target` lines (optionally `context:prefix=target`); targets relative to `root`. */
export function parseRemappings(text: string, root: string, origin: string): Remapping[] {
  const out: Remapping[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:([^:=]+):)?([^=]+)=(.*)$/.exec(line);
    if (!m || m[3].trim() === "") throw new AuditInputError(`${origin}: not a remapping (prefix=target): ${line}`);
    const target = m[3].trim();
    const abs = isAbsolute(target) ? target : resolve(root, target);
    out.push({ context: m[1]?.trim() ?? "", prefix: m[2].trim(), target: target.endsWith("/") ? `${abs}/` : abs });
  }
  return out;
}

/** Later remappings of the same context and prefix win (`--remap` over the project's files). */
function dedupeRemappings(list: Remapping[]): Remapping[] {
  const byKey = new Map<string, Remapping>();
  for (const r of list) byKey.set(`${r.context}:${r.prefix}`, r);
  return [...byKey.values()];
}

/** foundry.toml `remappings = [...]`, then `<lib>/<name>/=<lib>/<name>/src/` for each library as forge guesses. */
function foundryRemappings(root: string): Remapping[] {
  const toml = readFileSync(join(root, "foundry.toml"), "utf8");
  const listed = /remappings\s*=\s*\[([\s\S]*?)\]/.exec(toml)?.[1] ?? "";
  const explicit = [...listed.matchAll(/["']([^"']+)["']/g)].map((m) => m[1]).join("\n");
  const libs = /libs\s*=\s*\[([^\]]*)\]/.exec(toml)?.[1];
  const libDirs = libs ? [...libs.matchAll(/["']([^"']+)["']/g)].map((m) => m[1]) : ["lib"];
  const guessed: string[] = [];
  for (const lib of libDirs) {
    const dir = join(root, lib);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const pkg = join(dir, name);
      if (!statSync(pkg).isDirectory()) continue;
      const src = existsSync(join(pkg, "src"))
        ? join(pkg, "src")
        : existsSync(join(pkg, "contracts"))
          ? join(pkg, "contracts")
          : pkg;
      guessed.push(`${name}/=${relative(root, src).split(sep).join("/")}/`);
    }
  }
  return [
    ...parseRemappings(guessed.join("\n"), root, "foundry libs"),
    ...parseRemappings(explicit, root, "foundry.toml"),
  ];
}

/** Compiler versions written in the project's configuration (`version: "0.8.28"`, `solc = "0.8.20"`). */
function configuredCompilers(root: string, kind: Project["kind"]): string[] {
  const files = kind === "hardhat" ? HARDHAT_CONFIGS : kind === "foundry" ? ["foundry.toml"] : [];
  const out = new Set<string>();
  for (const f of files) {
    const p = join(root, f);
    if (!existsSync(p)) continue;
    for (const m of readFileSync(p, "utf8").matchAll(/["'](?:v)?(0\.\d+\.\d+)["']/g)) out.add(m[1]);
  }
  return [...out];
}

/** node_modules folders from `dir` up to the project root (never above it), nearest first. */
export function projectNodeModules(project: Project, dirs: string[]): string[] {
  const out: string[] = [];
  for (const start of dirs) {
    let dir = resolve(start);
    if (!isInside(dir, project.root)) dir = project.root;
    for (;;) {
      const nm = join(dir, "node_modules");
      if (!out.includes(nm) && existsSync(nm)) out.push(nm);
      if (dir === project.root) break;
      dir = dirname(dir);
    }
  }
  return out;
}

export function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}
