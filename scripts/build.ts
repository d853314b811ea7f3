/**
 * `npm run build`'s second step: the processes the consortium runs, bundled from TypeScript into `dist/` (esbuild,
 * source maps beside them), so they start as plain node without ts-node and its compiler in memory. Packages stay in
 * node_modules (required at run time, native ones included); only the repository's own code is bundled.
 *
 * A build is never used stale: `dist/build.json` lists every source file that went in, and {@link ensureBuilt}
 * (which every spawn helper calls) rebuilds when any of them is newer than the build or gone. The `ccgp` launcher
 * makes the same check and falls back to ts-node.
 */
import { build, type BuildOptions, type Plugin } from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const REPO_ROOT = resolve(__dirname, "..");
export const DIST_DIR = join(REPO_ROOT, "dist");
const MANIFEST = join(DIST_DIR, "build.json");

/** Each process's entry point, by the name of its bundle (`dist/<name>.js`). */
export const ENTRIES = {
  relayer: "relayer/src/main.ts",
  verifier: "relayer/src/verifier/main.ts",
  attester: "relayer/src/attest/main.ts",
  ccgp: "relayer/src/cli/main.ts",
  auditor: "auditor/main.ts",
  audit: "audit/cli.ts",
  start: "scripts/start.ts",
} as const;
export type EntryName = keyof typeof ENTRIES;

/**
 * The node flags a process runs with besides `--enable-source-maps`. A relayer's young generation is capped at 4 MiB
 * a semi-space (V8 grows it to 16 MiB under load): idle RSS 133-134 -> 113.5-119 MiB on the e2e bench, with the CPU
 * per transaction within the run-to-run spread (relayer/RUNTIME.md).
 */
export const NODE_FLAGS: Partial<Record<EntryName, readonly string[]>> = { relayer: ["--max-semi-space-size=4"] };

/** The bundle of `name`, to run as `node --enable-source-maps <path>` (stack traces then point into the TypeScript). */
export const distEntry = (name: EntryName): string => join(DIST_DIR, `${name}.js`);

interface Manifest {
  builtAtMs: number;
  inputs: string[];
}

const ENTRY_PATHS = new Set(Object.values(ENTRIES).map((p) => join(REPO_ROOT, p)));

/**
 * What bundling would change, put back in each module of the repository:
 * - a module's `__dirname` would name dist/: it gets its source folder back, relative to the bundle (dist/ is one
 *   level below the root);
 * - `require.main === module` (a module that is also a script) would be true in every module of the bundle: it
 *   stays true only in the entry.
 */
const keepModuleSemantics = (entries: ReadonlySet<string>): Plugin => ({
  name: "keep-module-semantics",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes("node_modules")) return undefined;
      let source = readFileSync(args.path, "utf8");
      if (!entries.has(args.path)) source = source.replaceAll("require.main === module", "false");
      if (source.includes("__dirname")) {
        const dir = relative(REPO_ROOT, dirname(args.path)).split("\\").join("/");
        source = `const __dirname = require("node:path").join(__ccgpDistDir, "..", ${JSON.stringify(dir)});\n${source}`;
      }
      return { contents: source, loader: "ts" };
    });
  },
});

/** How every process is bundled (the entry points aside). */
const BUNDLE: BuildOptions = {
  absWorkingDir: REPO_ROOT,
  outdir: DIST_DIR,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  packages: "external",
  sourcemap: true,
  sourcesContent: false, // the maps point at the sources in the repository: smaller maps, less memory in every process
  logLevel: "warning",
  banner: { js: "const __ccgpDistDir = __dirname;" },
};

/** Bundles every entry into dist/ and writes the manifest; files appear whole (written aside, then renamed). */
export async function buildDist(): Promise<{ ms: number; inputs: number }> {
  const began = Date.now();
  const result = await build({
    ...BUNDLE,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, path]) => [name, path])),
    metafile: true,
    write: false,
    plugins: [keepModuleSemantics(ENTRY_PATHS)],
  });
  mkdirSync(DIST_DIR, { recursive: true });
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
  const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.includes("node_modules"));
  const manifest: Manifest = { builtAtMs: began, inputs };
  const tmp = `${MANIFEST}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(manifest, null, 1) + "\n");
  renameSync(tmp, MANIFEST);
  return { ms: Date.now() - began, inputs: inputs.length };
}

/** Why dist/ cannot be used as it is (missing, or a source newer than the build), or null when it is current. */
export function distStale(): string | null {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(MANIFEST, "utf8")) as Manifest;
  } catch {
    return "dist/ is not built";
  }
  for (const input of manifest.inputs) {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(join(REPO_ROOT, input)).mtimeMs;
    } catch {
      return `${input} is gone`;
    }
    if (mtimeMs >= manifest.builtAtMs) return `${input} changed after the build`;
  }
  return null;
}

/**
 * Builds dist/ when it is missing or stale, in a child process so that callers stay synchronous (a couple of
 * seconds, only then); a stat per source file when it is current.
 */
export function ensureBuilt(): void {
  if (distStale() === null) return;
  execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", join(REPO_ROOT, "scripts", "build.ts")], {
    cwd: REPO_ROOT,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

/** `node` arguments that run the process `name` from a current build (built first if it is not): spawn with these. */
export function builtProcess(name: EntryName): string[] {
  ensureBuilt();
  return [...(NODE_FLAGS[name] ?? []), "--enable-source-maps", distEntry(name)];
}

/**
 * `node` arguments that run a test-only process (a real process patched for a test, its entry under test/), bundled
 * now as `dist/test-<name>.js` the way the entries are. Never part of `npm run build`.
 */
export async function builtTestProcess(name: string, entry: string): Promise<string[]> {
  const plugins = [keepModuleSemantics(new Set([resolve(entry)]))];
  await build({ ...BUNDLE, entryPoints: { [`test-${name}`]: entry }, write: true, plugins });
  return ["--enable-source-maps", join(DIST_DIR, `test-${name}.js`)];
}

if (require.main === module) {
  buildDist().then(
    ({ ms, inputs }) =>
      console.log(`built dist/ (${Object.keys(ENTRIES).join(", ")}; ${inputs} source files) in ${ms} ms`),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
