/**
 * `ccgp attest`: an audit institution's auditor attests a sub-chain business contract on the governance chain
 * (ChainRegistry.attest), binding the hash of the audit sandbox's JSON report to the contract's runtime code hash.
 *
 * `ccgp attest <name> <version> <sources>` runs the sandbox on the sources itself; `--report <file>` with `--contract`
 * takes a report written earlier. Either way a report whose gate did not pass, or that left files uncompiled, is
 * refused before anything is sent. The code hash is read on the sub-chain through the auditor's own node
 * (`--subchain-rpc`, or the running `npm start`'s): relayers compare it with the code there before every execution.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { JsonRpcProvider, keccak256, Network, type Provider } from "ethers";
import { computeReportHash, hashReportFile } from "../../../audit/src/attestation";
import { runAudit, writeReports, type AuditResult } from "../../../audit/src/audit";
import { AuditInputError } from "../../../audit/src/errors";
import { parseFailOn, type FailOn } from "../../../audit/src/gate";
import { Progress } from "../../../audit/src/progress";
import { REPORT_SCHEMA } from "../../../audit/src/report/model";
import { chainIdOf, localRun, session, withCommon, type CommonOptions, type Env, type Session } from "./context";
import { failed, usage } from "./errors";
import { addressArg, idArg, positiveArg, scopedIdArg } from "./parse";
import { eventOf, read, submit } from "./submit";

interface AttestOptions extends CommonOptions {
  subchain: string;
  subchainRpc?: string;
  contract?: string;
  report?: string;
  out: string;
  failOn: string;
  slither: boolean;
  root?: string;
  remap: string[];
  exclude: string[];
}

interface ReportGate {
  schema?: unknown;
  target?: unknown;
  gate?: { passed?: unknown; blocking?: unknown; failOn?: unknown };
  compilation?: { failures?: unknown[] };
}

/** A report (read from a file or just made) checked to be a sandbox report whose gate passed on every file. */
function requirePassing(report: ReportGate, where: string): void {
  if (report?.schema !== REPORT_SCHEMA)
    throw usage(
      "--report",
      `${where} is not an audit sandbox report (schema ${REPORT_SCHEMA}; write it with npm run audit -- <path> ` +
        `--format json)`,
    );
  const gate = report.gate;
  if (gate?.passed !== true) {
    throw failed(
      `the report's gate did not pass (${String(gate?.blocking)} open finding(s) at or above ` +
        `${String(gate?.failOn)}): not attested`,
      {
        report: where,
        blocking: gate?.blocking,
        failOn: gate?.failOn,
      },
    );
  }
  const uncompiled = report.compilation?.failures?.length ?? 0;
  if (uncompiled > 0)
    throw failed(`${uncompiled} file(s) of the report did not compile and were not analysed: not attested`, {
      report: where,
      uncompiled,
    });
}

function readReport(path: string): { report: ReportGate; hash: string; file: string } {
  let report: ReportGate;
  try {
    report = JSON.parse(readFileSync(path, "utf8")) as ReportGate;
  } catch (err) {
    throw usage("--report", `cannot read ${path} as JSON: ${(err as Error).message}`);
  }
  requirePassing(report, path);
  return { report, hash: hashReportFile(path), file: path };
}

/**
 * Sandbox runs of this process, by their inputs: attesting several contracts built from the same sources (as
 * `npm start` does for its examples on both sub-chains) compiles and analyses them once.
 */
const audits = new Map<string, Promise<{ result: AuditResult; file: string }>>();

/** The sandbox's gate threshold; an attestation always needs one. */
function gateOf(value: string): Exclude<FailOn, "none"> {
  let failOn: FailOn;
  try {
    failOn = parseFailOn(value);
  } catch (err) {
    throw usage("--fail-on", (err as Error).message);
  }
  if (failOn === "none") throw usage("--fail-on", "an attestation needs the gate: high, medium, low or info");
  return failOn;
}

async function audited(
  sources: string,
  opts: AttestOptions,
  json: boolean,
): Promise<{ report: ReportGate; hash: string; file: string }> {
  const failOn = gateOf(opts.failOn);
  const out = resolve(opts.out);
  const key = JSON.stringify([resolve(sources), out, failOn, opts.slither, opts.root, opts.remap, opts.exclude]);
  let run = audits.get(key);
  if (run === undefined) {
    run = runAudit({
      target: sources,
      exclude: opts.exclude,
      failOn,
      slither: opts.slither,
      projectRoot: opts.root,
      remap: opts.remap,
      progress: json ? Progress.silent() : Progress.stderr(),
    })
      .catch((err: unknown) => {
        // The sources or an option of the sandbox are wrong (no such path, a bad remapping): bad input.
        throw err instanceof AuditInputError ? usage("<sources>", err.message) : err;
      })
      .then((result) => {
        writeReports(result.report, out, ["json", "md"]);
        return { result, file: join(out, "report.json") };
      });
    audits.set(key, run);
    run.catch(() => audits.delete(key));
  }
  const { result, file } = await run;
  requirePassing(result.report, file);
  return { report: result.report, hash: computeReportHash(result.report), file };
}

/** The sub-chain's node: `--subchain-rpc`, else the running `npm start`'s chain of the registered chain id. */
async function subchainNode(s: Session, opts: AttestOptions, env: NodeJS.ProcessEnv): Promise<Provider> {
  const registered = await read("sub-chain lookup", () => s.gov.chains.subchain(opts.subchain));
  if (registered.institution === 0n) throw usage("--subchain", `sub-chain ${opts.subchain} is not registered`);
  const chainId = Number(registered.chainId);
  const url = opts.subchainRpc ?? localRun(opts, env)?.chains.find((c) => c.chainId === chainId)?.url;
  if (url === undefined)
    throw usage(
      "--subchain-rpc",
      `give the RPC URL of a node of sub-chain ${opts.subchain} (chain id ${chainId}): the code hash is read there`,
    );
  const served = await chainIdOf(url, "--subchain-rpc");
  if (served !== chainId)
    throw usage("--subchain-rpc", `${url} serves chain ${served}, but sub-chain ${opts.subchain} is chain ${chainId}`);
  return new JsonRpcProvider(url, Network.from(chainId), { staticNetwork: true });
}

/** The contract a name and version point to on the sub-chain (`latest` for the current version). */
async function versionAddress(
  s: Session,
  subchain: string,
  name: string,
  version: string,
): Promise<{ address: string; version: bigint }> {
  const nameHash = idArg(name);
  let v: bigint;
  if (version === "latest") {
    v = (await read("name lookup", () => s.gov.chains.contractName(subchain, nameHash))).latestVersion;
    if (v === 0n) throw usage("<name>", `no contract named ${name} on sub-chain ${subchain}`);
  } else {
    try {
      v = positiveArg(version);
    } catch {
      throw usage("<version>", `"${version}" is not a version (an integer of at least 1, or latest)`);
    }
  }
  const record = await read("contract version lookup", () => s.gov.chains.contractVersion(subchain, nameHash, v));
  return { address: record.contractAddress, version: v };
}

async function attest(args: string[], opts: AttestOptions, ctx: Env): Promise<void> {
  const [name, version, sources] = args;
  const byReport = opts.report !== undefined;
  if (
    byReport ? name !== undefined || opts.contract === undefined : sources === undefined || opts.contract !== undefined
  )
    throw usage(
      "<name> <version> <sources>",
      "give either <name> <version> <sources> (the sandbox runs on the sources), or --contract <address> --report " +
        "<file>",
    );
  // The input first: a bad report or option is refused before the network is asked anything.
  if (!byReport) gateOf(opts.failOn);
  const given = byReport ? readReport(opts.report!) : undefined;
  const s = await session(opts, ctx, true);
  const target = byReport
    ? { address: opts.contract!, version: undefined }
    : await versionAddress(s, opts.subchain, name!, version!);
  const node = await subchainNode(s, opts, ctx.env);
  let code: string;
  try {
    code = await node.getCode(target.address);
  } catch (err) {
    throw failed(
      `--subchain-rpc: the code of ${target.address} could not be read: ${(err as Error).message}`,
      { address: target.address },
      err,
    );
  } finally {
    node.destroy();
  }
  if (code === "0x")
    throw failed(`there is no contract at ${target.address} on sub-chain ${opts.subchain}: nothing to attest`, {
      address: target.address,
    });
  const codeHash = keccak256(code);
  const { report, hash: reportHash, file } = given ?? (await audited(sources!, opts, opts.json === true));
  const sent = await submit(s.out, "attest", () =>
    s.gov.chains.attest(opts.subchain, target.address, reportHash, codeHash),
  );
  const ev = eventOf(sent, "ContractAttested");
  const what =
    name === undefined ? `contract ${target.address}` : `${name} version ${target.version} (${target.address})`;
  s.out.result(
    [
      `${what} on sub-chain ${opts.subchain} attested by ${ev.args.auditor} (institution ${ev.args.institution}): ` +
        `report ${reportHash} (${String(report.target)}), code ${codeHash}`,
    ],
    {
      subchainId: opts.subchain,
      contract: target.address,
      ...(name === undefined ? {} : { name, version: target.version!.toString() }),
      auditor: ev.args.auditor,
      institution: ev.args.institution,
      reportHash,
      report: file,
      codeHash,
      tx: sent.receipt.hash,
    },
  );
}

const collect = (v: string, acc: string[]) => [...acc, v];

export function addAttestCommand(root: Command, ctx: Env): void {
  withCommon(
    root
      .command("attest")
      .description(
        "audit a sub-chain business contract's sources with the sandbox and attest it: the report's hash bound to " +
          "the deployed code's hash (ChainRegistry.attest; signed by an auditor)",
      )
      .argument("[name]", "the contract's registered name (CNS)")
      .argument("[version]", "its version: an integer, or latest")
      .argument("[sources]", "the .sol file or folder the sandbox audits")
      .requiredOption("--subchain <id>", "sub-chain id (0x + 64 hex digits, or <institution>:<label>)", scopedIdArg)
      .option(
        "--subchain-rpc <url>",
        "a node of that sub-chain, where the code hash is read (default: the running npm start's)",
      )
      .option("--fail-on <severity>", "the sandbox's gate: high, medium, low, info", "medium")
      .option("--out <dir>", "where the sandbox writes report.json and report.md", "audit-report")
      .option("--no-slither", "run the built-in detectors only")
      .option("--root <dir>", "project root the sources' imports are resolved in (default: detected)")
      .option("--remap <prefix=target>", "an import remapping (repeatable)", collect, [] as string[])
      .option("--exclude <path>", "leave a file or folder of the sources out (repeatable)", collect, [] as string[])
      .option("--contract <address>", "with --report: the contract's address on the sub-chain", addressArg)
      .option(
        "--report <file>",
        "attest a report written earlier (npm run audit -- <path> --format json) instead of running the sandbox",
      ),
  ).action((name: string | undefined, version: string | undefined, sources: string | undefined, opts: AttestOptions) =>
    attest(
      [name, version, sources].filter((a): a is string => a !== undefined),
      opts,
      ctx,
    ),
  );
}
