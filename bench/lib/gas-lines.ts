/**
 * Gas of a mined transaction by Solidity source line: `debug_traceTransaction` on the Hardhat network, each step's
 * own cost (a call's cost without what its callee spent) attributed through the artifacts' source maps to the line of
 * the contract whose code ran it. Used to find where the ledger's gas goes (`npm run gas:lines`).
 */
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";

interface StructLog {
  pc: number;
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
}

interface CodeMap {
  name: string;
  /** pc -> "file:line" */
  lines: Map<number, string>;
}

interface CompiledContract {
  evm?: { deployedBytecode?: { object: string; sourceMap: string } };
}

const CALLS = new Set(["CALL", "STATICCALL", "DELEGATECALL", "CALLCODE", "CREATE", "CREATE2"]);

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** Every deployed contract of the build, keyed by its runtime bytecode (without the metadata tail). */
function loadMaps(): Map<string, CodeMap> {
  const dir = path.join(hre.config.paths.artifacts, "build-info");
  const maps = new Map<string, CodeMap>();
  for (const file of fs.readdirSync(dir)) {
    const info = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
    const sources: Record<string, { content: string }> = info.input.sources;
    const ids: string[] = [];
    for (const [name, s] of Object.entries(info.output.sources as Record<string, { id: number }>)) ids[s.id] = name;
    const starts = new Map<string, number[]>();
    for (const [unit, contracts] of Object.entries(
      info.output.contracts as Record<string, Record<string, CompiledContract>>,
    )) {
      for (const [name, c] of Object.entries(contracts)) {
        const code: string = c.evm?.deployedBytecode?.object ?? "";
        if (code.length === 0) continue;
        const map: string[] = c.evm!.deployedBytecode!.sourceMap.split(";");
        const lines = new Map<number, string>();
        const bytes = Buffer.from(code, "hex");
        let s = 0;
        let f = -1;
        let pc = 0;
        for (let i = 0; pc < bytes.length && i < map.length; i++) {
          const parts = map[i]!.split(":");
          if (parts[0]) s = Number(parts[0]);
          if (parts[2]) f = Number(parts[2]);
          const src = f >= 0 ? ids[f] : undefined;
          let where = "";
          if (src && sources[src]) {
            if (!starts.has(src)) starts.set(src, lineStarts(sources[src]!.content));
            where = `${path.basename(src)}:${lineOf(starts.get(src)!, s)}`;
          }
          lines.set(pc, where);
          const op = bytes[pc]!;
          pc += op >= 0x60 && op <= 0x7f ? op - 0x5e : 1;
        }
        maps.set(code.slice(0, 200), { name: `${path.basename(unit)}:${name}`, lines });
      }
    }
  }
  return maps;
}

let cached: Map<string, CodeMap> | undefined;

async function codeAt(address: string): Promise<CodeMap | undefined> {
  cached ??= loadMaps();
  const code: string = await hre.network.provider.send("eth_getCode", [address, "latest"]);
  const key = code.slice(2, 202);
  for (const [prefix, m] of cached) if (prefix.slice(0, 200) === key) return m;
  // Immutables differ: match on the longest common prefix.
  let best: CodeMap | undefined;
  let bestLen = 0;
  for (const [prefix, m] of cached) {
    let n = 0;
    while (n < key.length && prefix[n] === key[n]) n++;
    if (n > bestLen) [best, bestLen] = [m, n];
  }
  return bestLen > 40 ? best : undefined;
}

/** Gas by source line (and by contract) of one transaction. */
export async function gasByLine(hash: string): Promise<{ lines: Map<string, number>; total: number }> {
  const tx = await hre.network.provider.send("eth_getTransactionByHash", [hash]);
  const trace = await hre.network.provider.send("debug_traceTransaction", [
    hash,
    { disableMemory: true, disableStorage: true },
  ]);
  const logs: StructLog[] = trace.structLogs;
  const lines = new Map<string, number>();
  const add = (k: string, g: number) => lines.set(k, (lines.get(k) ?? 0) + g);
  // Frames: the code running at each depth (a delegatecall runs the callee's code).
  const frames: (CodeMap | undefined)[] = [await codeAt(tx.to)];
  const inner: number[] = [0];
  const pending: { index: number; line: string }[] = [];
  // Compiler-made code (ABI coding, cleanup) has no source: it is charged to the last line of its frame, marked "+".
  const last: string[] = [];
  for (let i = 0; i < logs.length; i++) {
    const l = logs[i]!;
    const code = frames[l.depth - 1];
    const mapped = code?.lines.get(l.pc);
    if (mapped) last[l.depth] = mapped;
    const line = mapped || `${last[l.depth] ?? code?.name ?? "?"} +`;
    const next = logs[i + 1];
    if (CALLS.has(l.op) && next && next.depth > l.depth) {
      const target = "0x" + l.stack![l.stack!.length - 2]!.slice(-40);
      frames[l.depth] = await codeAt(target);
      pending.push({ index: i, line });
      inner.push(0);
      continue;
    }
    if (next && next.depth < l.depth) {
      // The frame returns: charge its call op the gas the caller lost minus what the frame spent itself.
      add(line, l.gasCost);
      const spent = inner.pop()! + l.gasCost;
      const call = pending.pop()!;
      const own = logs[call.index]!.gas - next.gas - spent;
      add(call.line, own);
      inner[inner.length - 1]! += spent + own;
      continue;
    }
    const cost = next && next.depth === l.depth ? l.gas - next.gas : l.gasCost;
    add(line, cost);
    inner[inner.length - 1]! += cost;
  }
  const total = inner[0]!;
  return { lines, total };
}

export function printTop(title: string, lines: Map<string, number>, divisor = 1, top = 40): void {
  const rows = [...lines.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  console.log(`== ${title}`);
  for (const [k, g] of rows) console.log(`  ${(g / divisor).toFixed(0).padStart(8)}  ${k}`);
}
