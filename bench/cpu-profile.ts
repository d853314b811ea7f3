/**
 * Where a relayer's CPU goes, from V8 CPU profiles (`node --cpu-prof`): the e2e bench run with
 * CCGP_RELAYER_NODE_ARGS="--cpu-prof --cpu-prof-dir=<dir>" leaves one `.cpuprofile` per relayer in <dir>, and the
 * throughput phase's window beside them (bench/lib/profile-window.ts). This prints, over that window's samples:
 * the busy time by activity (EIP-712 hashing, signature recovery, ABI, JSON-RPC transport, SQLite, ...), by module
 * (package, node built-in, or the relayer's source file through the build's source map), by function (self time),
 * and by relayer function (inclusive).
 *   npx ts-node --transpile-only bench/cpu-profile.ts <dir> [--phase throughput] [--txs 100] [--top 25]
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { basename, join, relative, resolve } from "node:path";
import { classify, type Frame } from "./lib/cpu-categories";

interface ProfileNode {
  id: number;
  callFrame: Frame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Maps a frame of a bundle in dist/ to its source file (relative to the repository), through the bundle's map. */
class SourceFiles {
  private readonly _maps = new Map<string, SourceMap | null>();

  fileOf(frame: Frame): string | undefined {
    const url = frame.url.startsWith("file://") ? frame.url.slice(7) : frame.url;
    if (!url.includes("/dist/")) return undefined;
    let map = this._maps.get(url);
    if (map === undefined) {
      const path = `${url}.map`;
      map = existsSync(path) ? new SourceMap(JSON.parse(readFileSync(path, "utf8"))) : null;
      this._maps.set(url, map);
    }
    const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string } | undefined;
    if (entry?.originalSource === undefined) return undefined;
    const source = entry.originalSource.startsWith("file://") ? entry.originalSource.slice(7) : entry.originalSource;
    // Relative to the checkout the bundle was built in (dist/ is one level below its root).
    return relative(resolve(url, "..", ".."), resolve(join(url, ".."), source));
  }
}

/** The module a frame belongs to: a package, a node built-in, a source file of the repository, or V8's own. */
function moduleOf(frame: Frame, sources: SourceFiles): string {
  if (frame.url === "") return frame.functionName.startsWith("(") ? frame.functionName : "";
  if (frame.url.startsWith("node:")) return frame.url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (pkg) return pkg[1]!;
  return sources.fileOf(frame) ?? frame.url;
}

class Tally {
  readonly ms = new Map<string, number>();
  add(key: string, ms: number): void {
    this.ms.set(key, (this.ms.get(key) ?? 0) + ms);
  }
  print(title: string, busyMs: number, txs: number, top: number, full = false): void {
    console.log(`\n${title}`);
    console.log(`  ${"".padEnd(78)} ${"share".padStart(7)} ${"ms/tx".padStart(7)}`);
    const rows = [...this.ms].sort((a, b) => b[1] - a[1]).slice(0, top);
    for (const [key, ms] of rows)
      console.log(
        `  ${(full ? key : key.slice(0, 78)).padEnd(78)} ${((100 * ms) / busyMs).toFixed(1).padStart(6)}% ${(ms / txs).toFixed(2).padStart(7)}`,
      );
  }
}

function args(): { dir: string; phase: string; txs: number; top: number; stacksOf?: RegExp } {
  const argv = process.argv.slice(2);
  const opt = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv.splice(i, 2)[1]! : fallback;
  };
  const phase = opt("phase", "throughput");
  const txs = Number(opt("txs", "1"));
  const top = Number(opt("top", "25"));
  const stacks = opt("stacks", "");
  if (argv[0] === undefined) throw new Error("usage: bench/cpu-profile.ts <dir> [--phase p] [--txs n] [--top n]");
  return { dir: argv[0], phase, txs, top, stacksOf: stacks === "" ? undefined : new RegExp(stacks) };
}

function main(): void {
  const { dir, phase, txs, top, stacksOf } = args();
  const windowFile = join(dir, `window-${phase}.json`);
  const window = existsSync(windowFile)
    ? (JSON.parse(readFileSync(windowFile, "utf8")) as { startUs: number; endUs: number })
    : { startUs: -Infinity, endUs: Infinity };
  if (!existsSync(windowFile)) console.log(`no ${windowFile}: every sample counts`);
  const sources = new SourceFiles();
  const [byActivity, byModule, byFunction, inclusive, stacks] = [
    new Tally(),
    new Tally(),
    new Tally(),
    new Tally(),
    new Tally(),
  ];
  let busyMs = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
    const parent = new Map<number, number>();
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    // Per node: its stack (root first) and what it is charged to, computed once.
    const charged = new Map<
      number,
      { activity: string; module: string; fn: string; callers: string[]; path: string }
    >();
    const chargeOf = (id: number) => {
      let c = charged.get(id);
      if (c !== undefined) return c;
      const stack: Frame[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
        stack.unshift(nodes.get(at)!.callFrame);
      const modules = stack.map((f) => moduleOf(f, sources));
      // A native function (no URL) counts in the module of the JavaScript that called it.
      let leafModule = modules[modules.length - 1]!;
      for (let i = modules.length - 1; leafModule === "" && i > 0; i--) leafModule = modules[i - 1]!;
      const leaf = stack[stack.length - 1]!;
      const where = leaf.url.includes("node_modules/") ? leaf.url.replace(/^.*node_modules\//, "") : leafModule;
      const fn = `${leaf.functionName || "(anonymous)"} ${where}${leaf.url === "" ? "" : `:${leaf.lineNumber + 1}`}`;
      const path = stack
        .map((f, i) => `${f.functionName || "(anon)"}@${modules[i]!.replace(/^.*\//, "")}`)
        .filter((x) => !/^\(root\)/.test(x))
        .slice(-12)
        .join(" < ");
      const callers = [
        ...new Set(
          stack
            .map((f, i) => ({ f, m: modules[i]! }))
            .filter(({ m }) => /^(relayer|lib)\//.test(m))
            .map(({ f, m }) => `${f.functionName || "(anonymous)"} ${m}`),
        ),
      ];
      c = { activity: classify(stack, modules, leafModule), module: leafModule, fn, callers, path };
      charged.set(id, c);
      return c;
    };
    let t = profile.startTime;
    let busy = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      const dt = profile.timeDeltas[i + 1] ?? 0; // a sample stands for the time up to the next one
      t += profile.timeDeltas[i]!;
      if (t < window.startUs || t > window.endUs) continue;
      const node = nodes.get(profile.samples[i]!)!;
      if (node.callFrame.functionName === "(idle)") continue;
      const c = chargeOf(node.id);
      const ms = dt / 1000;
      busy += ms;
      byActivity.add(c.activity, ms);
      byModule.add(c.module, ms);
      byFunction.add(c.fn, ms);
      for (const caller of c.callers) inclusive.add(caller, ms);
      if (stacksOf !== undefined && stacksOf.test(c.path)) stacks.add(c.path, ms);
    }
    console.log(
      `${basename(file)}: ${busy.toFixed(0)} ms busy in the ${phase} window, ${(busy / txs).toFixed(2)} ms/tx`,
    );
    busyMs += busy;
  }
  console.log(`all profiles: ${busyMs.toFixed(0)} ms busy, ${(busyMs / txs).toFixed(2)} ms per transaction`);
  byActivity.print("by activity (each sample once: the outermost activity on its stack)", busyMs, txs, top);
  byModule.print("by module (self time; native functions in their caller's module)", busyMs, txs, top);
  byFunction.print("by function (self time)", busyMs, txs, top);
  inclusive.print("by relayer function (inclusive)", busyMs, txs, top);
  if (stacksOf !== undefined) stacks.print(`stacks matching ${stacksOf.source} (leaf last)`, busyMs, txs, top, true);
}

main();
