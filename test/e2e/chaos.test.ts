/**
 * A short seeded chaos run on a real local consortium (`chaos/`; the full one is `npm run chaos`): about 100
 * transactions both ways (A -> B, B -> A) in both initiation modes and two-phase transfers (committed, refused by B,
 * expired) while the relayers are SIGKILLed at chosen moments (intake, countersigning, delivery, a store commit),
 * sub-chain B's node and the governance node restart with their state kept, sub-chain A reorganises beyond the
 * confirmation depth, and three links are cut past short deadlines: the peer link, B's answers to A, and A's link to
 * its node. Then a burst at ten times the rate limit and fuzzed AMDP
 * requests. The run's own checks are the assertions.
 */
import { expect } from "chai";
import { runChaos, type FaultKind } from "../../chaos/harness";

const FAULTS: FaultKind[] = [
  "kill-intake",
  "kill-countersign",
  "kill-delivery",
  "kill-commit",
  "node-restart-b",
  "node-restart-gov",
  "reorg-sub-beyond",
  "cut",
  "cut-answers",
  "cut-node-a",
];

describe("chaos: a short seeded run (kills, node restarts, a reorg, cuts, two-phase, overload, fuzz)", function () {
  this.timeout(600_000);

  it("every transaction final by itself, none lost or done twice, every fuzzed request refused by name", async function () {
    const lines: string[] = [];
    const t0 = Date.now();
    const report = await runChaos({
      log: (line) => lines.push(`[chaos ${Math.round((Date.now() - t0) / 1000)}s] ${line}`),
      transactions: 100,
      seed: 17,
      fuzzRequests: 1_000,
      faults: FAULTS,
      extraFaults: false,
      driveSeconds: 20,
      overloadSeconds: 2,
    });
    const summary = JSON.stringify({ ...report, timeline: undefined, fuzz: { ...report.fuzz, codes: undefined } });
    if (!report.passed) console.log(lines.join("\n"));
    expect(report.failures, summary).to.deep.equal([]);
    expect(report.lost, summary).to.equal(0);
    expect(report.duplicated, summary).to.deep.equal({
      executions: 0,
      results: 0,
      endorsements: 0,
      doneAndCompensated: 0,
    });
    expect(report.notFinal, summary).to.deep.equal([]);
    expect(report.manual, summary).to.equal(0);
    expect(report.unexpectedExits, summary).to.deep.equal([]);
    expect(report.recoveries, summary).to.equal(4);
    expect(report.fuzz.refused, summary).to.equal(report.fuzz.sent);
    expect(report.overload.refused429, summary).to.be.greaterThan(0);
    expect(report.overload.withRetryAfter, summary).to.equal(report.overload.refused429);
    expect(report.states.Expired ?? 0, summary).to.be.greaterThan(0);
    // B -> A: app-initiated writes that confirm and ones that compensate B's source step, and chain-initiated ones.
    expect(report.byKind["success (B -> A)"]?.Confirmed ?? 0, summary).to.be.greaterThan(0);
    expect(report.byKind["compensate (B -> A)"]?.Compensated ?? 0, summary).to.be.greaterThan(0);
    expect(report.byKind["chain (B -> A)"]?.Confirmed ?? 0, summary).to.be.greaterThan(0);
    // Two-phase transfers: some committed on both sides, some (refused by B, or expired) with nothing committed.
    expect(report.twoPhase.wrong, summary).to.deep.equal([]);
    expect(report.twoPhase.committed, summary).to.be.greaterThan(0);
    expect(report.twoPhase.undone, summary).to.be.greaterThan(0);
    expect(report.twoPhase.checked, summary).to.equal(report.twoPhase.committed + report.twoPhase.undone);
    expect(
      Object.values(report.faults).reduce((a, b) => a + b, 0),
      summary,
    ).to.equal(FAULTS.length);
  });
});
