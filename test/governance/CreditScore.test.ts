import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { CreditScore__factory } from "../../typechain-types";
import type { ICreditRegistry } from "../../typechain-types/contracts/governance/CreditScore";
import { IStatus, PState, govern, pass } from "../helpers/governance";
import {
  OPERATION_WRITE,
  Outcome,
  Refusal,
  SEL_WRITE,
  allowReporter,
  id,
  pipeWorld,
  report,
} from "../helpers/registries";
import { expectRecord, recordsOf } from "../helpers/records";

/** Default parameters from config/consortium.local.json (schema defaults). */
const DEFAULTS = {
  initialScore: 1000,
  maxScore: 2000,
  restrictionThreshold: 600,
  expulsionThreshold: 300,
  completed: 1,
  failed: -20,
  timedOut: -10,
  badSignature: -100,
  replay: -100,
};

/** The pipe world with a reporter (standing in for the transaction ledger). */
async function world() {
  const w = await pipeWorld();
  const reporter = w.spare1;
  await allowReporter(w, reporter.address);
  return { ...w, reporter };
}

const paramsOf = (p: ICreditRegistry.CreditParamsStructOutput) => ({
  initialScore: Number(p.initialScore),
  maxScore: Number(p.maxScore),
  restrictionThreshold: Number(p.restrictionThreshold),
  expulsionThreshold: Number(p.expulsionThreshold),
  completed: Number(p.completed),
  failed: Number(p.failed),
  timedOut: Number(p.timedOut),
  badSignature: Number(p.badSignature),
  replay: Number(p.replay),
});

describe("CreditScore", function () {
  describe("construction and parameters", function () {
    it("starts every institution at the initial score, unrestricted, with no write", async function () {
      const w = await loadFixture(world);
      expect(paramsOf(await w.credit.params())).to.deep.equal(DEFAULTS);
      for (const inst of [1n, w.a.institution, w.b.institution, 999n]) {
        expect(await w.credit.scoreOf(inst)).to.equal(1000);
        expect(await w.credit.isRestricted(inst)).to.equal(false);
      }
      const r = await w.credit.creditOf(w.a.institution);
      expect([r.delta, r.restricted, r.expulsionOpened, r.lastReportAt]).to.deep.equal([0n, false, false, 0n]);
      expect(await w.credit.weightOf(Outcome.Completed)).to.equal(1);
      expect(await w.credit.weightOf(Outcome.Replay)).to.equal(-100);
      expect(await w.credit.governance()).to.equal(await w.voting.getAddress());
    });

    it("refuses zero addresses and incoherent parameters at construction", async function () {
      const w = await loadFixture(world);
      const f = new CreditScore__factory(w.deployer);
      const [m, v, p] = [await w.membership.getAddress(), await w.voting.getAddress(), await w.pipes.getAddress()];
      await expect(f.deploy(ethers.ZeroAddress, v, p, DEFAULTS)).to.be.revertedWithCustomError(f, "CreditZeroAddress");
      await expect(f.deploy(m, ethers.ZeroAddress, p, DEFAULTS)).to.be.revertedWithCustomError(f, "CreditZeroAddress");
      await expect(f.deploy(m, v, ethers.ZeroAddress, DEFAULTS)).to.be.revertedWithCustomError(f, "CreditZeroAddress");
      await expect(f.deploy(m, v, p, { ...DEFAULTS, expulsionThreshold: 600 })).to.be.revertedWithCustomError(
        f,
        "CreditInvalidParams",
      );
    });

    it("changes parameters by vote, refusing incoherent ones", async function () {
      const w = await loadFixture(world);
      const next = { ...DEFAULTS, restrictionThreshold: 900, failed: -50 };
      await expect(govern(w, w.credit, "setParams", [next]))
        .to.emit(w.credit, "CreditParamsChanged")
        .withArgs(Object.values(next), await w.voting.getAddress());
      expect(paramsOf(await w.credit.params())).to.deep.equal(next);
      for (const bad of [
        { maxScore: 0, initialScore: 0, restrictionThreshold: 0, expulsionThreshold: 0 },
        { initialScore: 2001 },
        { restrictionThreshold: 1001 },
        { expulsionThreshold: 600 },
        { completed: -1 },
        { failed: 1 },
        { timedOut: 1 },
        { badSignature: 1 },
        { replay: 1 },
      ]) {
        const p = { ...DEFAULTS, ...bad };
        await expect(govern(w, w.credit, "setParams", [p]))
          .to.be.revertedWithCustomError(w.credit, "CreditInvalidParams")
          .withArgs(Object.values(p));
      }
    });

    it("refuses the governed functions called directly", async function () {
      const w = await loadFixture(world);
      const gov = await w.governors[0].getAddress();
      const c = w.credit.connect(w.governors[0]);
      await expect(c.setParams(DEFAULTS)).to.be.revertedWithCustomError(w.credit, "GovernanceOnly").withArgs(gov);
      await expect(c.setReporter(gov, true)).to.be.revertedWithCustomError(w.credit, "GovernanceOnly").withArgs(gov);
      await expect(c.adjustScore(4, 1, ""))
        .to.be.revertedWithCustomError(w.credit, "GovernanceOnly")
        .withArgs(gov);
    });
  });

  describe("reporters", function () {
    it("allows and disallows reporters by vote", async function () {
      const w = await loadFixture(world);
      const v = await w.voting.getAddress();
      expect(await w.credit.isReporter(w.reporter.address)).to.equal(true);
      await expect(govern(w, w.credit, "setReporter", [w.reporter.address, false]))
        .to.emit(w.credit, "CreditReporterChanged")
        .withArgs(w.reporter.address, false, v);
      await expect(w.credit.connect(w.reporter).reportOutcome(4, Outcome.Completed, id("t")))
        .to.be.revertedWithCustomError(w.credit, "CreditUnauthorizedReporter")
        .withArgs(w.reporter.address);
      await expect(govern(w, w.credit, "setReporter", [ethers.ZeroAddress, true])).to.be.revertedWithCustomError(
        w.credit,
        "CreditZeroAddress",
      );
    });
  });

  describe("reportOutcome", function () {
    it("moves the score by each outcome's weight; a refusal outcome once per institution and transaction", async function () {
      const w = await loadFixture(world);
      const inst = w.a.institution;
      let score = 1000;
      for (const [outcome, weight, refusal] of [
        [Outcome.Completed, 1, false],
        [Outcome.Failed, -20, false],
        [Outcome.TimedOut, -10, false],
        [Outcome.BadSignature, -100, true],
        [Outcome.Replay, -100, true],
      ] as const) {
        score += weight;
        await expectRecord(
          w.credit.connect(w.reporter).reportOutcome(inst, outcome, id("tx-1")),
          w.credit,
          "OutcomeReported",
          inst,
          outcome,
          id("tx-1"),
          weight,
          score,
          w.reporter.address,
        );
        // Only refusal outcomes are recorded: the ledger's state machine reports each transaction outcome once.
        expect(await w.credit.isReported(inst, id("tx-1"), outcome)).to.equal(refusal);
      }
      expect(await w.credit.scoreOf(inst)).to.equal(score);
      const r = await w.credit.creditOf(inst);
      expect([r.delta, r.lastReportAt]).to.deep.equal([BigInt(score - 1000), BigInt(await time.latest())]);
      for (const outcome of [Outcome.BadSignature, Outcome.Replay]) {
        await expect(w.credit.connect(w.reporter).reportOutcome(inst, outcome, id("tx-1")))
          .to.be.revertedWithCustomError(w.credit, "CreditOutcomeAlreadyReported")
          .withArgs(inst, id("tx-1"), outcome);
      }
      // the same refused transaction for the other party is another report
      const again = w.credit.connect(w.reporter).reportOutcome(w.b.institution, Outcome.BadSignature, id("tx-1"));
      expect(await recordsOf(again, w.credit, "OutcomeReported")).to.have.length(1);
    });

    it("applies a transaction outcome each time it is reported (its reporter, the ledger, reports it once)", async function () {
      const w = await loadFixture(world);
      const inst = w.a.institution;
      await w.credit.connect(w.reporter).reportOutcome(inst, Outcome.Failed, id("tx-2"));
      await expectRecord(
        w.credit.connect(w.reporter).reportOutcome(inst, Outcome.Failed, id("tx-2")),
        w.credit,
        "OutcomeReported",
        inst,
        Outcome.Failed,
        id("tx-2"),
        -20,
        960,
        w.reporter.address,
      );
      expect(await w.credit.isReported(inst, id("tx-2"), Outcome.Failed)).to.equal(false);
    });

    it("keeps the score within [0, maxScore]", async function () {
      const w = await loadFixture(world);
      await govern(w, w.credit, "setParams", [{ ...DEFAULTS, initialScore: 1999, completed: 5 }]);
      await expectRecord(
        w.credit.connect(w.reporter).reportOutcome(4, Outcome.Completed, id("a")),
        w.credit,
        "OutcomeReported",
        4,
        Outcome.Completed,
        id("a"),
        1,
        2000,
        w.reporter.address,
      );
      await govern(w, w.credit, "setParams", [{ ...DEFAULTS, badSignature: -30_000 }]);
      await expectRecord(
        w.credit.connect(w.reporter).reportOutcome(5, Outcome.BadSignature, id("b")),
        w.credit,
        "OutcomeReported",
        5,
        Outcome.BadSignature,
        id("b"),
        -1000,
        0,
        w.reporter.address,
      );
      expect(await w.credit.scoreOf(5)).to.equal(0);
    });

    it("refuses a zero transaction id and an unknown institution", async function () {
      const w = await loadFixture(world);
      await expect(
        w.credit.connect(w.reporter).reportOutcome(4, Outcome.Failed, ethers.ZeroHash),
      ).to.be.revertedWithCustomError(w.credit, "CreditZeroTxId");
      for (const inst of [0, 999]) {
        for (const outcome of Object.values(Outcome)) {
          await expect(w.credit.connect(w.reporter).reportOutcome(inst, outcome, id("t")))
            .to.be.revertedWithCustomError(w.credit, "CreditUnknownInstitution")
            .withArgs(inst);
        }
      }
      // A known institution stays known: once it has a record, its reports skip the membership call.
      await w.credit.connect(w.reporter).reportOutcome(w.a.institution, Outcome.Completed, id("t"));
      await govern(w, w.membership, "expelInstitution", [w.a.institution]);
      await expectRecord(
        w.credit.connect(w.reporter).reportOutcome(w.a.institution, Outcome.Failed, id("t")),
        w.credit,
        "OutcomeReported",
        w.a.institution,
        Outcome.Failed,
        id("t"),
        -20,
        981,
        w.reporter.address,
      );
    });
  });

  describe("reportOutcomes", function () {
    it("reports each outcome in order as reportOutcome would, all or none", async function () {
      const w = await loadFixture(world);
      const [a, b] = [w.a.institution, w.b.institution];
      const report = (institution: bigint | number, outcome: bigint | number, tx: string) => ({
        institution,
        outcome,
        txId: id(tx),
      });
      const batch = w.credit
        .connect(w.reporter)
        .reportOutcomes([
          report(a, Outcome.Completed, "m1"),
          report(b, Outcome.Failed, "m1"),
          report(a, Outcome.Completed, "m2"),
        ]);
      // One log for the call, its reports in order.
      const by = w.reporter.address;
      const [completed, failed] = [Number(Outcome.Completed), Number(Outcome.Failed)];
      expect(await recordsOf(batch, w.credit, "OutcomeReported")).to.deep.equal([
        [Number(a), completed, id("m1"), 1n, 1001n, by],
        [Number(b), failed, id("m1"), -20n, 980n, by],
        [Number(a), completed, id("m2"), 1n, 1002n, by],
      ]);
      expect((await (await batch).wait())!.logs).to.have.length(1);
      // A refusal outcome reported twice in one batch: the second is refused, and so is the whole batch.
      const twice = [
        report(a, Outcome.Replay, "m3"),
        report(b, Outcome.Completed, "m3"),
        report(a, Outcome.Replay, "m3"),
      ];
      await expect(w.credit.connect(w.reporter).reportOutcomes(twice))
        .to.be.revertedWithCustomError(w.credit, "CreditOutcomeAlreadyReported")
        .withArgs(a, id("m3"), Outcome.Replay);
      expect([await w.credit.scoreOf(a), await w.credit.scoreOf(b)]).to.deep.equal([1002n, 980n]);
      expect(await w.credit.isReported(a, id("m3"), Outcome.Replay)).to.equal(false);
      await expect(w.credit.connect(w.reporter).reportOutcomes([report(999, Outcome.Completed, "m4")]))
        .to.be.revertedWithCustomError(w.credit, "CreditUnknownInstitution")
        .withArgs(999);
      await expect(
        w.credit
          .connect(w.reporter)
          .reportOutcomes([report(a, Outcome.Completed, "")].map((r) => ({ ...r, txId: ethers.ZeroHash }))),
      ).to.be.revertedWithCustomError(w.credit, "CreditZeroTxId");
    });

    it("refuses a caller that is not a reporter", async function () {
      const w = await loadFixture(world);
      await expect(
        w.credit
          .connect(w.spare2)
          .reportOutcomes([{ institution: w.a.institution, outcome: Outcome.Completed, txId: id("x") }]),
      )
        .to.be.revertedWithCustomError(w.credit, "CreditUnauthorizedReporter")
        .withArgs(w.spare2.address);
    });
  });

  describe("restriction", function () {
    it("restricts below the threshold, refusing the institution's pipes at once, and restores it above", async function () {
      const w = await loadFixture(world);
      const inst = w.a.institution;
      await report(w, w.reporter, inst, Outcome.BadSignature, 4);
      expect(await w.credit.scoreOf(inst)).to.equal(600);
      expect(await w.credit.isRestricted(inst)).to.equal(false);
      await expect(w.credit.connect(w.reporter).reportOutcome(inst, Outcome.Failed, id("fall")))
        .to.emit(w.credit, "CreditRestricted")
        .withArgs(inst, 580)
        .and.to.emit(w.pipes, "InstitutionUsabilitySynced")
        .withArgs(inst, true, true);
      expect(await w.credit.isRestricted(inst)).to.equal(true);
      expect(await w.pipes.checkOperation(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE)).to.equal(
        Refusal.InstitutionRestricted,
      );
      await report(w, w.reporter, inst, Outcome.Completed, 19);
      expect(await w.credit.isRestricted(inst)).to.equal(true);
      await expect(w.credit.connect(w.reporter).reportOutcome(inst, Outcome.Completed, id("climb")))
        .to.emit(w.credit, "CreditRestored")
        .withArgs(inst, 600)
        .and.to.emit(w.pipes, "InstitutionUsabilitySynced")
        .withArgs(inst, true, false);
      expect(await w.pipes.checkOperation(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE)).to.equal(
        Refusal.Allowed,
      );
    });

    it("restores by vote (adjustScore) as well", async function () {
      const w = await loadFixture(world);
      await report(w, w.reporter, w.b.institution, Outcome.BadSignature, 5);
      expect(await w.credit.isRestricted(w.b.institution)).to.equal(true);
      const v = await w.voting.getAddress();
      await expect(govern(w, w.credit, "adjustScore", [w.b.institution, 400, "dispute settled"]))
        .to.emit(w.credit, "CreditAdjusted")
        .withArgs(w.b.institution, v, 400, 900, "dispute settled")
        .and.to.emit(w.credit, "CreditRestored")
        .withArgs(w.b.institution, 900);
      expect(await w.pipes.checkOperation(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE)).to.equal(
        Refusal.Allowed,
      );
      await expect(govern(w, w.credit, "adjustScore", [999, 1, ""]))
        .to.be.revertedWithCustomError(w.credit, "CreditUnknownInstitution")
        .withArgs(999);
    });

    it("applies a parameter change to every institution at once, both ways, with no write per institution", async function () {
      const w = await loadFixture(world);
      await report(w, w.reporter, w.a.institution, Outcome.TimedOut, 20); // 800
      await report(w, w.reporter, w.b.institution, Outcome.BadSignature, 5); // 500: restricted
      expect(await w.credit.isRestricted(w.b.institution)).to.equal(true);
      await govern(w, w.credit, "setParams", [{ ...DEFAULTS, restrictionThreshold: 900, expulsionThreshold: 200 }]);
      // No refresh: the answer comes from the score and the current parameters.
      expect(await w.credit.isRestricted(w.a.institution)).to.equal(true);
      expect((await w.credit.creditOf(w.a.institution)).restricted).to.equal(true);
      expect(await w.credit.isRestricted(w.b.institution)).to.equal(true);
      expect(await w.credit.isRestricted(999)).to.equal(false); // 1000, never reported
      await govern(w, w.credit, "setParams", [{ ...DEFAULTS, restrictionThreshold: 400, expulsionThreshold: 200 }]);
      expect(await w.credit.isRestricted(w.a.institution)).to.equal(false);
      expect(await w.credit.isRestricted(w.b.institution)).to.equal(false);
      expect((await w.credit.creditOf(w.b.institution)).restricted).to.equal(false);
      // Raising the initial score moves every score: 500 -> 1400 - 500 = 900, still at once.
      await govern(w, w.credit, "setParams", [
        { ...DEFAULTS, initialScore: 1400, restrictionThreshold: 1000, expulsionThreshold: 200 },
      ]);
      expect(await w.credit.scoreOf(w.b.institution)).to.equal(900);
      expect(await w.credit.isRestricted(w.b.institution)).to.equal(true);
      expect(await w.credit.isRestricted(w.a.institution)).to.equal(false); // 1200
    });

    it("pushes the new verdict to the pipe registry at the institution's next outcome or when anyone refreshes it", async function () {
      const w = await loadFixture(world);
      await report(w, w.reporter, w.a.institution, Outcome.TimedOut, 20); // 800
      await govern(w, w.credit, "setParams", [{ ...DEFAULTS, restrictionThreshold: 900 }]);
      expect(await w.credit.isRestricted(w.a.institution)).to.equal(true);
      await expect(w.credit.connect(w.stranger).refresh(w.a.institution))
        .to.emit(w.credit, "CreditRestricted")
        .withArgs(w.a.institution, 800);
      expect(await w.pipes.checkOperation(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE)).to.equal(
        Refusal.InstitutionRestricted,
      );
      await expect(w.credit.refresh(w.a.institution)).not.to.emit(w.credit, "CreditRestricted");
      // Back under the old threshold: the next outcome itself restores it in the registry.
      await govern(w, w.credit, "setParams", [DEFAULTS]);
      expect(await w.credit.isRestricted(w.a.institution)).to.equal(false);
      await expect(w.credit.connect(w.reporter).reportOutcome(w.a.institution, Outcome.Completed, id("next")))
        .to.emit(w.credit, "CreditRestored")
        .withArgs(w.a.institution, 801);
      expect(await w.pipes.checkOperation(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE)).to.equal(
        Refusal.Allowed,
      );
      await expect(w.credit.refresh(0)).to.be.revertedWithCustomError(w.credit, "CreditUnknownInstitution").withArgs(0);
    });
  });

  describe("expulsion", function () {
    it("opens one expulsion proposal per fall below the threshold", async function () {
      const w = await loadFixture(world);
      const inst = w.a.institution;
      await report(w, w.reporter, inst, Outcome.BadSignature, 7); // 300
      const next = (await w.voting.proposalCount()) + 1n;
      await expect(w.credit.connect(w.reporter).reportOutcome(inst, Outcome.Failed, id("fall-1")))
        .to.emit(w.credit, "CreditExpulsionProposed")
        .withArgs(inst, next, 280)
        .and.to.emit(w.voting, "ProposalCreated");
      const p = await w.voting.proposal(next);
      expect([p.proposer, p.target, p.data]).to.deep.equal([
        await w.credit.getAddress(),
        await w.membership.getAddress(),
        w.membership.interface.encodeFunctionData("expelInstitution", [inst]),
      ]);
      expect((await w.credit.creditOf(inst)).expulsionOpened).to.equal(true);
      // still below: no second proposal
      await report(w, w.reporter, inst, Outcome.Failed, 3, "more");
      expect(await w.voting.proposalCount()).to.equal(next);
      // back to the threshold, then below again: a second one
      await govern(w, w.credit, "adjustScore", [inst, 100, "appeal"]);
      expect((await w.credit.creditOf(inst)).expulsionOpened).to.equal(false);
      const count = await w.voting.proposalCount();
      await expect(w.credit.connect(w.reporter).reportOutcome(inst, Outcome.BadSignature, id("fall-2")))
        .to.emit(w.credit, "CreditExpulsionProposed")
        .withArgs(inst, count + 1n, 220);
    });

    it("a vote that ends without expelling does not shield the institution: the next fall below opens a new one", async function () {
      const w = await loadFixture(world);
      const inst = w.a.institution;
      await report(w, w.reporter, inst, Outcome.BadSignature, 7); // 300
      await w.credit.connect(w.reporter).reportOutcome(inst, Outcome.Failed, id("fall-1")); // 280: proposal opened
      const first = await w.voting.proposalCount();
      // Rejected by every other governor: votes still count until the deadline, so no second proposal yet.
      for (const g of w.governors.slice(1)) await w.voting.connect(g).vote(first, false);
      expect(await w.voting.state(first)).to.equal(PState.Rejected);
      await report(w, w.reporter, inst, Outcome.Failed, 1, "rejected");
      expect(await w.voting.proposalCount()).to.equal(first);
      expect((await w.credit.creditOf(inst)).expulsionOpened).to.equal(true);
      // The vote ended without expelling: the record says so at once, and the next fall opens a new proposal.
      await time.increase(8 * 24 * 3600);
      expect(await w.voting.state(first)).to.equal(PState.Expired);
      expect((await w.credit.creditOf(inst)).expulsionOpened).to.equal(false);
      await expect(w.credit.connect(w.reporter).reportOutcome(inst, Outcome.Failed, id("fall-2")))
        .to.emit(w.credit, "CreditExpulsionProposed")
        .withArgs(inst, first + 1n, 240);
      expect((await w.credit.creditOf(inst)).expulsionOpened).to.equal(true);
      // ...and only one while that one can still pass.
      await report(w, w.reporter, inst, Outcome.Failed, 1, "again");
      expect(await w.voting.proposalCount()).to.equal(first + 1n);
    });

    it("the vote expels the institution, whose pipes then refuse", async function () {
      const w = await loadFixture(world);
      const inst = w.b.institution;
      await report(w, w.reporter, inst, Outcome.Replay, 8); // 200
      const pid = await w.voting.proposalCount();
      expect(await w.voting.state(pid)).to.equal(PState.Active);
      await pass(w, pid);
      expect((await w.membership.institution(inst)).status).to.equal(IStatus.Expelled);
      expect(await w.pipes.checkOperation(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE)).to.equal(
        Refusal.InstitutionNotActive,
      );
      // an expelled institution gets no new proposal when its score moves below the threshold again
      await govern(w, w.credit, "adjustScore", [inst, 200, ""]);
      const count = await w.voting.proposalCount();
      await report(w, w.reporter, inst, Outcome.Replay, 2, "after");
      expect(await w.voting.proposalCount()).to.equal(count);
    });
  });
});
