import { runChaos, type FaultKind } from "./harness";
const FAULTS: FaultKind[] = [
  "kill-countersign",
  "kill-delivery",
  "kill-commit",
  "node-restart",
  "reorg-sub-beyond",
  "cut",
  "cut-answers",
  "cut-node-a",
];
const t0 = Date.now();
runChaos({
  log: (line) => console.log(`[chaos ${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`),
  transactions: Number(process.env.TX ?? 60),
  seed: 17,
  fuzzRequests: 1_000,
  faults: FAULTS,
  extraFaults: false,
  driveSeconds: 20,
  overloadSeconds: 2,
}).then((r) => {
  console.log(JSON.stringify({ ...r, timeline: undefined, fuzz: { ...r.fuzz, codes: undefined } }));
  console.log(`TOTAL ${(Date.now() - t0) / 1000}s`);
  process.exit(r.passed ? 0 : 1);
});
