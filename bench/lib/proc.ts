/**
 * What processes cost, read from /proc (Linux): resident memory, and CPU time, so a throughput phase can say where
 * each transaction's CPU went (nodes, relayers, the bench itself) and how busy the machine's cores were.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import type { Reporter } from "./report";

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux builds for x86 and arm). */
const TICKS_PER_SECOND = 100;

/** Resident set size and its peak (kB) of a process. */
export function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/** Resets a process's peak RSS (VmHWM) to its current RSS, so the peak measured is this phase's, not start-up's. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** CPU time (user + system, ms) a process has used so far. */
export function cpuMsOf(pid: number): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** Busy and total CPU time (ms) of the whole machine so far, over all cores. */
function machineCpuMs(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((s, t) => s + t, 0);
  const idle = ticks[3]! + (ticks[4] ?? 0); // idle + iowait
  return { busy: ((total - idle) * 1000) / TICKS_PER_SECOND, total: (total * 1000) / TICKS_PER_SECOND };
}

/** CPU used by named processes (and this one) between `start` and `report`. */
export class CpuMeter {
  private readonly _start: Map<string, number>;
  private readonly _self = process.cpuUsage();
  private readonly _machine = machineCpuMs();

  constructor(private readonly _pids: Record<string, number>) {
    this._start = new Map(Object.entries(_pids).map(([name, pid]) => [name, cpuMsOf(pid)]));
  }

  /** Prints CPU ms per transaction for each process, their sum, and how busy the cores were; returns each process's. */
  report(report: Reporter, phase: string, transactions: number): Record<string, number> {
    let sum = 0;
    const perTx: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this._pids)) {
      const used = cpuMsOf(pid) - this._start.get(name)!;
      sum += used;
      perTx[name] = used / transactions;
      report.figure(`${phase}: CPU per transaction, ${name}`, used / transactions, "ms");
    }
    const self = process.cpuUsage(this._self);
    const bench = (self.user + self.system) / 1000;
    report.figure(`${phase}: CPU per transaction, the bench process`, bench / transactions, "ms");
    report.figure(`${phase}: CPU per transaction, all of the above`, (sum + bench) / transactions, "ms");
    const machine = machineCpuMs();
    const busy = (machine.busy - this._machine.busy) / (machine.total - this._machine.total);
    report.figure(`${phase}: machine CPU busy (${cpus().length} cores)`, busy * 100, "%");
    return perTx;
  }
}
