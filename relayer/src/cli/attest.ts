/**
 * `ccgp attest`: an audit institution's auditor attests a sub-chain business contract on the governance chain
 * (ChainRegistry.attest) with the hash of the audit sandbox's JSON report. The report must be one the sandbox
 * wrote and its gate must have passed: a failing report is refused here, before anything is sent.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { hashReportFile } from "../../../audit/src/attestation";
import { REPORT_SCHEMA } from "../../../audit/src/report/model";
import { session, withCommon, type CommonOptions, type Env } from "./context";
import { failed, usage } from "./errors";
import { addressArg, idArg } from "./parse";
import { eventOf, submit } from "./submit";

interface AttestOptions extends CommonOptions {
  subchain: string;
  contract: string;
  report: string;
}

interface ReportGate {
  schema?: unknown;
  target?: unknown;
  gate?: { passed?: unknown; blocking?: unknown; failOn?: unknown };
}

/** The sandbox report at `path`, checked to be one (schema) whose gate passed. */
function passingReport(path: string): ReportGate {
  let report: ReportGate;
  try {
    report = JSON.parse(readFileSync(path, "utf8")) as ReportGate;
  } catch (err) {
    throw usage("--report", `cannot read ${path} as JSON: ${(err as Error).message}`);
  }
  if (report?.schema !== REPORT_SCHEMA) throw usage("--report", `${path} is not an audit sandbox report (schema ${REPORT_SCHEMA}; write it with npm run audit -- <path> --format json)`);
  const gate = report.gate;
  if (gate?.passed !== true) {
    throw failed(`the report's gate did not pass (${String(gate?.blocking)} open finding(s) at or above ${String(gate?.failOn)}): not attested`, {
      report: path,
      blocking: gate?.blocking,
      failOn: gate?.failOn,
    });
  }
  return report;
}

async function attest(opts: AttestOptions, ctx: Env): Promise<void> {
  const report = passingReport(opts.report);
  const reportHash = hashReportFile(opts.report);
  const s = await session(opts, ctx, true);
  const sent = await submit(s.out, "attest", () => s.gov.chains.attest(opts.subchain, opts.contract, reportHash));
  const ev = eventOf(sent, "ContractAttested");
  s.out.result([`contract ${opts.contract} on sub-chain ${opts.subchain} attested by ${ev.args.auditor} (institution ${ev.args.institution}): report ${reportHash} (${String(report.target)})`], {
    subchainId: opts.subchain,
    contract: opts.contract,
    auditor: ev.args.auditor,
    institution: ev.args.institution,
    reportHash,
    tx: sent.receipt.hash,
  });
}

export function addAttestCommand(root: Command, ctx: Env): void {
  withCommon(
    root
      .command("attest")
      .description("attest a sub-chain business contract with the hash of a passing audit sandbox report (ChainRegistry.attest; signed by an auditor)")
      .requiredOption("--subchain <id>", "sub-chain id (0x + 64 hex digits, or a label hashed with keccak256)", idArg)
      .requiredOption("--contract <address>", "the business contract's address on that sub-chain", addressArg)
      .requiredOption("--report <file>", "the sandbox's report.json (npm run audit -- <path> --format json --out <dir>)"),
  ).action((opts: AttestOptions) => attest(opts, ctx));
}
