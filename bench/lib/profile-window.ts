/**
 * Marks a bench phase for the relayers' CPU profiles: when the spawned relayers run with `--cpu-prof
 * --cpu-prof-dir=<dir>` (CCGP_RELAYER_NODE_ARGS), the phase's start and end go to `<dir>/window-<phase>.json` on the
 * monotonic clock V8's profiles use (microseconds), so `bench/cpu-profile.ts` can keep only that phase's samples.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The profile directory of the spawned relayers, if they are profiled. */
export function relayerProfileDir(args = process.env.CCGP_RELAYER_NODE_ARGS ?? ""): string | undefined {
  if (!args.split(" ").includes("--cpu-prof")) return undefined;
  return /--cpu-prof-dir=(\S+)/.exec(args)?.[1] ?? ".";
}

/** Now on V8's profile clock (CLOCK_MONOTONIC, microseconds). */
export function profileClockUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Starts a phase; the returned function ends it and writes the window, when the relayers are profiled. */
export function profileWindow(phase: string): () => void {
  const start = profileClockUs();
  return () => {
    const dir = relayerProfileDir();
    if (dir === undefined) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, `window-${phase}.json`),
      JSON.stringify({ phase, startUs: start, endUs: profileClockUs() }),
    );
  };
}
