import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { keccak256, toHex, type Address, type Hex } from "viem";
import { main } from "../../auditor/main";
import {
  AuditorError,
  AuditorErrorCode,
  AuditorQueries,
  IndexStore,
  PacketRecovery,
  SubchainReader,
  governanceAbis,
  csvCell,
  exportEvents,
  exportTransactions,
  type TxTrace,
} from "../../auditor/src";
import { TxState, resultSetHash } from "../../lib/domain/ledger-types";
import { flipByte } from "../helpers/amdp";
import { indexedConsortium, type IndexedConsortium } from "./helpers";
import { subchainClient, type Population, type Subchain, type World } from "./world";

const A_CHAIN = 7311;
const B_CHAIN = 7312;

describe("auditor: queries over an indexed consortium", function () {
  this.timeout(300_000);
  let a: Subchain;
  let b: Subchain;
  let w: World;
  let p: Population;
  let db: { dir: string; path: string };
  let store: IndexStore;
  let q: AuditorQueries;
  let consortium: IndexedConsortium | undefined;

  before(async () => {
    consortium = await indexedConsortium("queries", [A_CHAIN, B_CHAIN]);
    ({ a, b, w, p, db, store, queries: q } = consortium);
  });
  after(async () => {
    await consortium?.close();
  });

  const gateway = async () => (await b.gateway.getAddress()) as Address;

  describe("trace", () => {
    it("follows a confirmed transaction end to end, with who signed and the sub-chain receipt", async () => {
      const t = await q.trace(p.confirmed.txId, { receipts: true });
      expect([t.state, t.reason, t.stepsDone, t.stepCount]).to.deep.equal(["Confirmed", "None", 1, 1]);
      expect([t.sourceInstitution, t.targetInstitution, t.pipeId, t.opener]).to.deep.equal([
        w.source.institution,
        w.target.institution,
        w.pipeId,
        w.source.proxy.address,
      ]);
      expect(t.steps).to.deep.equal([
        {
          index: 0,
          side: "Target",
          operation: "write",
          dependsOn: null,
          subchain: w.target.subchain,
          packet: 0,
          done: true,
          undone: false,
        },
      ]);
      const [packet] = t.packets;
      expect(t.packets).to.have.length(1);
      expect([
        packet!.sequence,
        packet!.declaredSigner,
        packet!.appSigner,
        packet!.proxySigner,
        packet!.signaturesValid,
      ]).to.deep.equal([
        p.confirmed.packets[0]!.packet.sequence.toString(),
        w.source.app.address,
        w.source.app.address,
        w.source.proxy.address,
        true,
      ]);
      const recorded = p.confirmed.results[0]!;
      expect(
        t.results.map((r) => [
          r.step,
          r.recorder,
          r.subchainTx,
          r.blockNumber,
          r.resultHash,
          r.success,
          r.resultSetHash,
        ]),
      ).to.deep.equal([
        [
          0,
          w.target.proxy.address,
          recorded.subchainTx,
          recorded.blockNumber.toString(),
          recorded.resultHash,
          true,
          resultSetHash(p.confirmed.results),
        ],
      ]);
      expect(t.retries.map((r) => [r.step, r.by, r.attempt, r.reason])).to.deep.equal([
        [0, w.target.proxy.address, 1, "sub-chain RPC timeout"],
      ]);
      expect(t.endorsements.map((e) => [e.verifier, e.weight, e.agrees, e.weightSoFar, e.totalWeight])).to.deep.equal([
        [w.auditors[0]!.address, 2, true, 2, 4],
        [w.auditors[1]!.address, 1, true, 3, 4],
      ]);
      expect(t.verification).to.deep.equal({
        resultSetHash: resultSetHash(p.confirmed.results),
        weightFor: 3,
        weightAgainst: 0,
        totalWeight: 4,
      });
      expect(t.transitions.map((x) => `${x.from}->${x.to}`)).to.deep.equal([
        "None->Open",
        "Open->Executing",
        "Executing->Executed",
        "Executed->Confirmed",
      ]);
      expect(t.transitions.at(-1)!.actor).to.equal(w.auditors[1]!.address);
      const times = t.transitions.map((x) => x.at);
      expect([...times].sort((x, y) => x - y)).to.deep.equal(times);
      expect(t.credit.map((c) => [c.institution, c.outcome, c.delta])).to.deep.equal([
        [w.source.institution, "Completed", "1"],
        [w.target.institution, "Completed", "1"],
      ]);
      expect(t.receipts).to.have.length(1);
      expect(t.receipts![0]).to.deep.include({
        kind: "result",
        chainId: B_CHAIN,
        ok: true,
        checked: true,
        gateway: await gateway(),
        problems: [],
        receiptBlock: recorded.blockNumber.toString(),
        eventResultHash: recorded.resultHash,
        sequence: p.confirmed.packets[0]!.packet.sequence.toString(),
      });
    });

    it("shows a failure, its compensation checked on the sub-chain, and the credit it cost", async () => {
      const t = await q.trace(p.compensated.txId, { receipts: true });
      expect([t.state, t.reason, t.writesInEffect]).to.deep.equal(["Compensated", "StepFailed", []]);
      expect(t.results.map((r) => r.success)).to.deep.equal([true, false]);
      expect(t.compensations.map((c) => [c.step, c.success, c.attempt, c.recorder])).to.deep.equal([
        [0, true, 1, w.target.proxy.address],
      ]);
      expect(t.transitions.map((x) => x.to)).to.deep.equal([
        "Open",
        "Executing",
        "Failed",
        "Compensating",
        "Compensated",
      ]);
      expect(t.steps.map((s) => [s.done, s.undone])).to.deep.equal([
        [true, true],
        [false, false],
      ]);
      expect(t.receipts!.map((r) => [r.kind, r.step, r.ok])).to.deep.equal([
        ["result", 0, true],
        ["result", 1, true],
        ["compensation", 0, true],
      ]);
      expect(t.credit.map((c) => [c.institution, c.outcome])).to.deep.equal([[w.target.institution, "Failed"]]);
    });

    it("shows escalation and manual resolution with their reasons", async () => {
      const t = await q.trace(p.resolved.txId);
      expect(t.state).to.equal("Resolved");
      expect(t.escalations.map((e) => [e.by, e.reason])).to.deep.equal([[w.source.proxy.address, "target node down"]]);
      expect(t.resolutions.map((r) => [r.governor, r.reason])).to.deep.equal([
        [await w.c.governors[0]!.getAddress(), "checked by hand: nothing ran"],
      ]);
      expect(t.transitions.map((x) => [x.to, x.reason])).to.deep.equal([
        ["Open", "None"],
        ["Manual", "Escalated"],
        ["Resolved", "Escalated"],
      ]);
    });

    it("flags a recorded result hash that is not the sub-chain's (tampered), and the verifier who disagreed", async () => {
      const t = await q.trace(p.tampered.txId, { receipts: true });
      expect(t.state).to.equal("Confirmed");
      const real = (await b.gateway.queryFilter(b.gateway.filters.InboundExecuted(undefined, w.pipeId))).find(
        (e) => e.args.sequence === p.tampered.packets[0]!.packet.sequence,
      )!;
      expect(t.receipts![0]!.ok).to.equal(false);
      expect(t.receipts![0]!.eventResultHash).to.equal(real.args.resultHash);
      expect(t.receipts![0]!.problems).to.deep.equal([
        {
          code: "result-hash-mismatch",
          message: `the gateway's result hash is ${real.args.resultHash}, the ledger recorded ${keccak256(toHex("forged result"))}`,
        },
      ]);
      expect(t.endorsements.map((e) => [e.verifier, e.agrees])).to.deep.equal([
        [w.auditors[2]!.address, false],
        [w.auditors[0]!.address, true],
        [w.auditors[1]!.address, true],
      ]);
      expect(t.verification.weightAgainst).to.equal(1);
    });

    it("refuses an unknown transaction and a malformed id, naming them", async () => {
      const unknown = keccak256(toHex("never opened"));
      const err = (await q.trace(unknown).catch((e: unknown) => e)) as AuditorError;
      expect([err.code, err.message]).to.deep.equal([
        AuditorErrorCode.UnknownTx,
        `no transaction ${unknown} in the index`,
      ]);
      const bad = (await q.trace("0x1234").catch((e: unknown) => e)) as AuditorError;
      expect([bad.code, bad.message]).to.deep.equal([
        AuditorErrorCode.BadInput,
        'transaction id "0x1234" is not 0x-prefixed 32-byte hex',
      ]);
    });

    // Byte 40 is inside s: (r, s') always recovers, to another key.
    it("flags a packet with one flipped byte in either signature, naming who the bytes recover to", async () => {
      const opened = store.eventsWhere("tx_id = ? AND event = 'TxOpened'", [p.confirmed.txId])[0]!;
      const recovery = new PacketRecovery(governanceAbis().ledger, w.domain);
      const { packet, appSignature, proxySignature } = p.confirmed.packets[0]!;
      const steps = [{ side: 1, subchain: w.target.subchain, operation: 1, dependsOn: 255 }];
      const input = (app: Hex, proxy: Hex) =>
        w.c.ledger.interface.encodeFunctionData("open", [
          [{ packet, appSignature: app, proxySignature: proxy }],
          steps,
          packet.deadline,
        ]) as Hex;
      const intact = await recovery.opened(opened, input(appSignature, proxySignature));
      expect("packets" in intact && intact.packets[0]!.problem).to.equal(null);
      for (const [app, proxy, stage] of [
        [flipByte(appSignature, 40), proxySignature, 1],
        [appSignature, flipByte(proxySignature, 40), 2],
      ] as const) {
        const found = await recovery.opened(opened, input(app, proxy));
        const row = "packets" in found ? found.packets[0]! : undefined;
        expect(row?.problem, `stage ${stage}`).to.be.a("string");
        if (stage === 1) {
          expect(row!.appSigner).to.not.equal(w.source.app.address);
          // The countersignature covers the exact stage-1 bytes: it no longer verifies either.
          expect(row!.problem).to.match(/^stage-1 signature is by 0x[0-9a-fA-F]{40}, not the declared signer/);
        } else
          expect([row!.appSigner, row!.problem]).to.deep.equal([
            w.source.app.address,
            `stage-2 countersignature is not by ${w.source.proxy.address}`,
          ]);
      }
    });

    it("recovers the refused packets and who signed them", () => {
      const rows = store.db
        .prepare(
          "SELECT tx_id, declared_signer, app_signer, proxy_signer, problem FROM packets WHERE kind = 'refusal' ORDER BY block",
        )
        .all() as Array<{
        tx_id: Hex;
        declared_signer: Address;
        app_signer: Address;
        proxy_signer: Address;
        problem: string;
      }>;
      expect(rows.map((r) => r.tx_id)).to.deep.equal(p.refusedPackets);
      for (const r of rows) {
        expect([r.declared_signer, r.proxy_signer]).to.deep.equal([w.source.app.address, w.source.proxy.address]);
        expect(r.app_signer).to.not.equal(w.source.app.address);
        expect(r.problem).to.equal(
          `stage-1 signature is by ${r.app_signer}, not the declared signer ${w.source.app.address}`,
        );
      }
    });
  });

  describe("list and export", () => {
    const ids = (rows: { txId: Hex }[]) => rows.map((r) => r.txId);
    const all = () =>
      [
        p.confirmed,
        p.compensated,
        p.tampered,
        p.missing,
        p.notUndone,
        p.failedClean,
        p.resolved,
        p.stuck,
        p.expired,
      ].map((o) => o.txId);

    it("lists by institution, pipe, account, state and time range", async () => {
      expect(ids(q.transactions())).to.deep.equal(all());
      expect(ids(q.transactions({ institution: w.source.institution }))).to.deep.equal(all());
      expect(ids(q.transactions({ institution: w.target.institution }))).to.deep.equal(all());
      expect(q.transactions({ institution: w.audit })).to.deep.equal([]);
      expect(ids(q.transactions({ pipe: w.pipeId }))).to.deep.equal(all());
      expect(q.transactions({ pipe: keccak256(toHex("other pipe")) })).to.deep.equal([]);
      expect(ids(q.transactions({ account: w.auditors[2]!.address }))).to.deep.equal([p.tampered.txId]);
      expect(ids(q.transactions({ account: (await w.c.governors[0]!.getAddress()) as Address }))).to.deep.equal([
        p.resolved.txId,
      ]);
      expect(ids(q.transactions({ states: [TxState.Confirmed] }))).to.deep.equal([
        p.confirmed.txId,
        p.tampered.txId,
        p.missing.txId,
      ]);
      expect(ids(q.transactions({ states: [TxState.Failed, TxState.Expired] }))).to.deep.equal([
        p.failedClean.txId,
        p.expired.txId,
      ]);
      const stuckAt = q.transactions({ states: [TxState.Open] })[0]!.openedAt;
      expect(ids(q.transactions({ from: stuckAt }))).to.deep.equal([p.stuck.txId, p.expired.txId]);
      expect(ids(q.transactions({ to: stuckAt - 1, states: [TxState.Compensated] }))).to.deep.equal([
        p.compensated.txId,
        p.notUndone.txId,
      ]);
      expect(ids(q.transactions({ limit: 2, offset: 1 }))).to.deep.equal(all().slice(1, 3));
      expect(() => q.transactions({ limit: 0 })).to.throw(AuditorError, "limit must be 1 to 100000");
    });

    it("lists events by transaction, name, institution and account", () => {
      const events = q.events({ txId: p.expired.txId });
      expect(events.map((e) => e.event)).to.deep.equal([
        "PacketAccepted",
        "TxOpened",
        "TxTransitioned",
        "OutcomeReported",
      ]);
      expect(events[2]!.state).to.equal(TxState.Expired);
      expect(q.events({ event: "RefusalRecorded" }).map((e) => e.txId)).to.deep.equal(p.refusedPackets);
      const credit = q.events({ contract: "credit", event: "OutcomeReported", institution: w.source.institution });
      expect(credit.map((e) => e.args.outcome)).to.deep.equal([0, 0, 0, 2, 3, 3, 3]); // the expired one is the source's: its target never acknowledged
      expect(q.events({ account: w.auditors[2]!.address, contract: "ledger" }).map((e) => e.event)).to.deep.equal([
        "VerifierSet",
        "EndorsementConflicted",
      ]);
    });

    it("exports CSV and JSON", () => {
      const rows = q.transactions({ states: [TxState.Confirmed] });
      const csv = exportTransactions(rows, "csv").split("\r\n");
      expect(csv[0]).to.equal(
        "number,txId,pipeId,state,reason,sourceInstitution,targetInstitution,opener,openedAt,openedBlock,deadline,updatedAt,stepCount,stepsDone,writesInEffect",
      );
      expect(csv).to.have.length(rows.length + 2); // header, rows, the final line break
      expect(csv[1]).to.equal(
        [
          rows[0]!.number,
          rows[0]!.txId,
          w.pipeId,
          "Confirmed",
          "None",
          w.source.institution,
          w.target.institution,
          w.source.proxy.address,
          new Date(rows[0]!.openedAt * 1000).toISOString(),
          rows[0]!.openedBlock,
          new Date(rows[0]!.deadline * 1000).toISOString(),
          new Date(rows[0]!.updatedAt * 1000).toISOString(),
          1,
          1,
          0,
        ].join(","),
      );
      expect(JSON.parse(exportTransactions(rows, "json"))).to.deep.equal(rows);
      const events = q.events({ txId: p.resolved.txId });
      const escalated = exportEvents(events, "csv")
        .trimEnd()
        .split("\r\n")
        .find((l) => l.includes(",TxEscalated,"))!;
      expect(escalated).to.include(`"{""txId"":""${p.resolved.txId}""`);
      expect(escalated).to.include('""reason"":""target node down""');
      expect(JSON.parse(exportEvents(events, "json"))).to.deep.equal(events);
    });

    it("quotes CSV cells and defuses spreadsheet formulas", () => {
      expect([
        csvCell('a "b", c'),
        csvCell("=HYPERLINK(1)"),
        csvCell("-20"),
        csvCell("@x"),
        csvCell(null),
        csvCell(7),
      ]).to.deep.equal(['"a ""b"", c"', "'=HYPERLINK(1)", "-20", "'@x", "", "7"]);
    });
  });

  describe("anomalies", () => {
    it("warns of stuck, failed, expired, conflicting, repeatedly refused and credit-losing", () => {
      const r = q.anomalies({ refusalThreshold: 3 });
      const of = (kind: string) => r.anomalies.filter((x) => x.kind === kind);
      expect(of("stuck").map((x) => x.txId)).to.deep.equal([p.stuck.txId]);
      expect(of("failed").map((x) => x.txId)).to.deep.equal([p.compensated.txId, p.notUndone.txId, p.failedClean.txId]);
      expect(of("expired").map((x) => x.txId)).to.deep.equal([p.expired.txId]);
      expect(of("escalated")).to.deep.equal([]); // resolved since
      expect(of("conflict").map((x) => [x.txId, x.signer])).to.deep.equal([[p.tampered.txId, w.auditors[2]!.address]]);
      expect(of("repeated-refusals").map((x) => [x.pipeId ?? x.signer, x.count])).to.deep.equal([
        [w.pipeId, 3],
        [w.source.app.address, 3],
      ]);
      expect(of("credit-drop").map((x) => [x.institution, x.count])).to.deep.equal([
        [w.target.institution, 3],
        [w.source.institution, 4],
      ]);
      expect(of("credit-drop").map((x) => x.message)).to.deep.equal([
        `institution ${w.target.institution} lost 60 credit points in 3 report(s), lowest score 943`,
        `institution ${w.source.institution} lost 310 credit points in 4 report(s), lowest score 693`,
      ]);
      expect(r.anomalies.filter((x) => x.severity === "high").map((x) => x.kind)).to.deep.equal([
        "stuck",
        "repeated-refusals",
        "repeated-refusals",
      ]);
    });

    it("takes its thresholds, its clock and its window as options", () => {
      expect(q.anomalies({ refusalThreshold: 4 }).counts["repeated-refusals"]).to.equal(0);
      expect(
        q
          .anomalies({ creditDropThreshold: 71 })
          .anomalies.filter((x) => x.kind === "credit-drop")
          .map((x) => x.institution),
      ).to.deep.equal([w.source.institution]);
      const stuck = q.transactions({ states: [TxState.Open] })[0]!;
      expect(q.anomalies({ now: stuck.deadline }).counts.stuck).to.equal(0);
      expect(q.anomalies({ now: stuck.deadline + 100, stuckGraceSeconds: 100 }).counts.stuck).to.equal(0);
      expect(q.anomalies({ now: stuck.deadline + 101, stuckGraceSeconds: 100 }).counts.stuck).to.equal(1);
      const late = q.anomalies({ from: stuck.openedAt });
      expect([late.counts.failed, late.counts.expired, late.counts["repeated-refusals"]]).to.deep.equal([0, 1, 2]);
      expect(() => q.anomalies({ refusalThreshold: 0 })).to.throw(
        AuditorError,
        "refusalThreshold must be a positive integer",
      );
    });
  });

  describe("reconciliation", () => {
    it("lists every transaction whose state disagrees between the ledger and the sub-chains, and the ledger's issues", async () => {
      const r = await q.reconcile();
      expect([r.scanned, r.missing, r.unchecked]).to.deep.equal([9, 0, []]);
      const cross = Object.fromEntries(r.crossChain.map((e) => [e.txId, e.problems.map((x) => `${x.step}:${x.code}`)]));
      expect(cross).to.deep.equal({
        [p.tampered.txId]: ["0:result-hash-mismatch"],
        [p.missing.txId]: ["0:receipt-missing", "0:write-missing"],
        [p.notUndone.txId]: ["0:receipt-missing", "0:write-not-undone"],
      });
      expect(r.crossChain.find((e) => e.txId === p.notUndone.txId)!.problems[1]!.message).to.equal(
        `write step 0 (pipe ${w.pipeId} sequence ${p.notUndone.packets[0]!.packet.sequence} on sub-chain ${B_CHAIN}) is recorded as undone on the ledger (Compensated) but not compensated on the sub-chain`,
      );
      expect(r.ledgerIssues.map((i) => [i.txId, i.issue, i.state])).to.deep.equal([
        [p.tampered.txId, "Disputed", "Confirmed"],
        [p.stuck.txId, "Overdue", "Open"],
      ]);
      expect(Number(r.ledgerIssues[1]!.secondsLate)).to.be.greaterThan(0);
    });

    it("notices a confirmed write undone on the sub-chain afterwards", async () => {
      await (await b.gateway.compensate(w.pipeId, p.confirmed.packets[0]!.packet.sequence)).wait();
      const r = await q.reconcile([p.confirmed.txId]);
      expect(r.crossChain.map((e) => e.problems.map((x) => x.code))).to.deep.equal([["write-undone"]]);
      expect(r.crossChain[0]!.problems[0]!.message).to.include(
        "was compensated on the sub-chain although the ledger confirmed it",
      );
    });

    it("says what it could not check instead of passing it", async () => {
      const blind = new AuditorQueries({
        store,
        reader: new SubchainReader(new Map([[A_CHAIN, subchainClient(a)]])),
        ledger: w.c.ledger,
      });
      const r = await blind.reconcile([p.compensated.txId]);
      expect(r.crossChain).to.deep.equal([]);
      expect(r.unchecked.map((u) => [u.step, u.message])).to.deep.equal([
        [0, `no RPC configured for sub-chain ${B_CHAIN}`],
        [1, `no RPC configured for sub-chain ${B_CHAIN}`],
        [0, `no RPC configured for sub-chain ${B_CHAIN}`],
        [0, `write step 0: no RPC configured for sub-chain ${B_CHAIN}`],
      ]);
      const wrong = new AuditorQueries({
        store,
        reader: new SubchainReader(new Map([[B_CHAIN, subchainClient(a)]])),
        ledger: w.c.ledger,
      });
      const t = (await wrong.trace(p.compensated.txId, { receipts: true })) as TxTrace & {
        receipts: { problems: { message: string }[] }[];
      };
      expect(t.receipts[0]!.problems[0]!.message).to.equal(
        `sub-chain ${B_CHAIN} RPC failed: the RPC configured for sub-chain ${B_CHAIN} serves chain ${A_CHAIN}`,
      );
    });
  });

  describe("the command line", () => {
    async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
      const out = { stdout: "", stderr: "" };
      const code = await main(args, { stdout: (t) => (out.stdout += t), stderr: (t) => (out.stderr += t) });
      return { code, ...out };
    }

    it("lists, exports, traces and warns from the index file", async () => {
      const file = join(db.dir, "confirmed.csv");
      const listed = await cli([
        "export",
        "transactions",
        "--db",
        db.path,
        "--state",
        "Confirmed",
        "--format",
        "csv",
        "--out",
        file,
      ]);
      expect(listed.code, listed.stderr).to.equal(0);
      expect(readFileSync(file, "utf8")).to.equal(
        exportTransactions(q.transactions({ states: [TxState.Confirmed] }), "csv"),
      );
      const events = await cli(["list", "events", "--db", db.path, "--event", "RefusalRecorded"]);
      expect(JSON.parse(events.stdout).map((e: { txId: Hex }) => e.txId)).to.deep.equal(p.refusedPackets);
      const trace = await cli(["trace", p.resolved.txId, "--db", db.path, "--format", "text"]);
      expect(trace.code).to.equal(0);
      expect(trace.stdout)
        .to.include(`by governor ${await w.c.governors[0]!.getAddress()}`)
        .and.include("Manual -> Resolved (Escalated)");
      const anomalies = await cli(["anomalies", "--db", db.path, "--refusal-threshold", "3"]);
      expect(anomalies.code).to.equal(1);
      expect(anomalies.stdout).to.include(`[high] stuck: ${p.stuck.txId} is Open`);
    });

    it("exits 2 naming a bad option, an unknown transaction, a missing index", async () => {
      const state = await cli(["list", "--db", db.path, "--state", "Finished"]);
      expect([state.code, state.stderr]).to.deep.equal([
        2,
        `auditor: error: unknown state "Finished": expected one of None, Open, Executing, Executed, Confirmed, Failed, Compensating, Compensated, Manual, Resolved, Expired, Committing\n`,
      ]);
      const unknown = keccak256(toHex("nope"));
      expect(await cli(["trace", unknown, "--db", db.path])).to.deep.include({
        code: 2,
        stderr: `auditor: error: no transaction ${unknown} in the index\n`,
      });
      const missing = await cli(["status", "--db", join(db.dir, "none.sqlite")]);
      expect(missing.code).to.equal(2);
      expect(missing.stderr).to.include("cannot open the index");
      const noContracts = await cli(["index", "--db", join(db.dir, "x.sqlite"), "--rpc", "http://127.0.0.1:9"]);
      expect(noContracts.stderr).to.include(
        "no governance contracts: give --deployment <record.json> or --contract <key>=<address>",
      );
    });
  });
});
