/**
 * `npm run bench`: runs every benchmark module and prints its figures. No figure is asserted here.
 * `BENCH_MODE=snapshot` writes the gas figures to snapshots/gas.json; `BENCH_MODE=check` runs only the
 * gas modules and exits non-zero when a figure rose more than 2% above the committed snapshot.
 */
import { ConsoleReporter, compareSnapshot, readSnapshot, writeSnapshot, type BenchModule } from "./lib/report";
import { modules } from "./modules";

async function main(): Promise<void> {
  const mode = process.env.BENCH_MODE ?? "print";
  const only = process.env.BENCH_ONLY?.split(",");
  const reporter = new ConsoleReporter();
  const selected: BenchModule[] = modules.filter(
    (m) => (mode === "print" || m.kind === "gas") && (!only || only.includes(m.name)),
  );
  for (const m of selected) {
    reporter.section(`${m.name} (${m.kind})`);
    await m.run(reporter);
  }
  if (mode === "print") reporter.printTargets();
  if (mode === "snapshot") {
    writeSnapshot(reporter.gasFigures);
    console.log(`\nwrote ${Object.keys(reporter.gasFigures).length} gas figures to snapshots/gas.json`);
  } else if (mode === "check") {
    const problems = compareSnapshot(reporter.gasFigures, readSnapshot());
    if (problems.length > 0) {
      console.error(`\ngas snapshot check failed:\n  ${problems.join("\n  ")}`);
      process.exitCode = 1;
    } else console.log(`\ngas snapshot: ${Object.keys(reporter.gasFigures).length} figures within 2%`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
