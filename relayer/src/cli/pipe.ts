/**
 * `ccgp pipe apply|authorize|alternates|pause|resume|close|show`: the pipe lifecycle in PipeRegistry. The source
 * side's operator applies, the target side's authorises (then a vote activates it when governance requires one) and
 * lists alternate target routes (decided the same way), either side pauses, resumes and closes.
 */
import type { Command } from "commander";
import { session, withCommon, type CommonOptions, type Env, type Session } from "./context";
import { enumName, PIPE_STATUS } from "./enums";
import { usage } from "./errors";
import { DEFAULT_SCAN, named, Names, short } from "./names";
import { bytes32Arg, idArg, operationsArg, scopedIdArg, selectorsArg, uint32Arg } from "./parse";
import { eventOf, read, submit } from "./submit";

interface ApplyOptions extends CommonOptions {
  sourceApp: string;
  targetApp: string;
  sourceService: string;
  targetService: string;
  contract: string;
  operations: number;
  selectors: string[];
  rate: number;
  maxPayload: number;
  timeout: number;
}

async function apply(opts: ApplyOptions, ctx: Env): Promise<void> {
  if (opts.selectors.length === 0 && (opts.operations & 2) !== 0)
    throw usage("--selectors", "required for a pipe that allows writes (only a read-only pipe may allow any selector)");
  const s = await session(opts, ctx, true);
  const spec = {
    sourceApp: opts.sourceApp,
    targetApp: opts.targetApp,
    sourceService: opts.sourceService,
    targetService: opts.targetService,
    contractName: opts.contract,
    operations: opts.operations,
    selectors: opts.selectors,
    ratePerMinute: opts.rate,
    maxPayloadBytes: opts.maxPayload,
    timeoutSeconds: opts.timeout,
  };
  const sent = await submit(s.out, "applyPipe", () => s.gov.pipes.applyPipe(spec));
  const ev = eventOf(sent, "PipeApplied");
  s.out.result(
    [
      `pipe ${ev.args.pipeId} applied: institution ${ev.args.sourceInstitution} -> ${ev.args.targetInstitution}; ` +
        `the target side authorises it with: ccgp pipe authorize ${ev.args.pipeId}`,
    ],
    {
      pipeId: ev.args.pipeId,
      sourceInstitution: ev.args.sourceInstitution,
      targetInstitution: ev.args.targetInstitution,
      tx: sent.receipt.hash,
    },
  );
}

async function statusOf(s: Session, pipeId: string): Promise<string> {
  return enumName(PIPE_STATUS, (await read("route", () => s.gov.pipes.route(pipeId))).status);
}

async function authorize(pipeId: string, opts: CommonOptions, ctx: Env): Promise<void> {
  const s = await session(opts, ctx, true);
  const sent = await submit(s.out, "authorizePipe", () => s.gov.pipes.authorizePipe(pipeId));
  const ev = eventOf(sent, "PipeAuthorized");
  const status = await statusOf(s, pipeId);
  const proposalId = ev.args.proposalId as bigint;
  const lines = [`pipe ${pipeId} authorised: now ${status}`];
  if (proposalId !== 0n) lines.push(`activation vote: proposal ${proposalId} (ccgp vote ${proposalId})`);
  s.out.result(lines, { pipeId, status, proposalId, tx: sent.receipt.hash });
}

/**
 * Proposes the pipe's alternate target routes (an empty list removes them); a vote decides when activation needs one.
 */
async function alternates(pipeId: string, services: string[], opts: CommonOptions, ctx: Env): Promise<void> {
  const ids = services.map((v) => {
    try {
      return scopedIdArg(v);
    } catch (error) {
      throw usage("[services...]", `${v}: ${(error as Error).message}`);
    }
  });
  const s = await session(opts, ctx, true);
  const sent = await submit(s.out, "proposeAlternates", () => s.gov.pipes.proposeAlternates(pipeId, ids));
  const proposalId = eventOf(sent, "PipeAlternatesProposed").args.proposalId as bigint;
  const list = ids.length === 0 ? "none" : ids.join(", ");
  const lines =
    proposalId === 0n
      ? [`pipe ${pipeId}: alternate target routes now ${list}`]
      : [`pipe ${pipeId}: alternate target routes ${list} proposed: proposal ${proposalId} (ccgp vote ${proposalId})`];
  s.out.result(lines, { pipeId, alternates: ids, proposalId, tx: sent.receipt.hash });
}

type Move = "pausePipe" | "resumePipe" | "closePipe";

async function move(fn: Move, pipeId: string, opts: CommonOptions, ctx: Env): Promise<void> {
  const s = await session(opts, ctx, true);
  const sent = await submit(s.out, fn, () => s.gov.pipes[fn](pipeId));
  const status = await statusOf(s, pipeId);
  s.out.result([`pipe ${pipeId}: now ${status}`], {
    pipeId,
    status,
    tx: sent.receipt.hash,
    events: sent.events.map((e) => e.name),
  });
}

async function show(pipeId: string, opts: CommonOptions, ctx: Env): Promise<void> {
  const s = await session(opts, ctx);
  const [route, record, alternateRoutes] = await Promise.all([
    read("route", () => s.gov.pipes.route(pipeId)),
    read("pipe", () => s.gov.pipes.pipe(pipeId)),
    read("alternates", () => s.gov.pipes.alternates(pipeId)),
  ]);
  if (route.status === 0n) throw usage("<pipeId>", `no pipe ${pipeId} in PipeRegistry ${s.record.pipes}`);
  const ops = [(route.operations & 1n) !== 0n ? "read" : "", (route.operations & 2n) !== 0n ? "write" : ""]
    .filter(Boolean)
    .join(",");
  const data = {
    pipeId,
    status: enumName(PIPE_STATUS, route.status),
    operations: ops,
    selectors: [...record.selectors],
    source: {
      institution: Number(route.sourceInstitution),
      app: route.sourceApp,
      appKey: route.sourceAppKey,
      service: route.sourceService,
      signer: route.sourceServiceSigner,
      subchain: route.sourceSubchain,
    },
    target: {
      institution: Number(route.targetInstitution),
      app: route.targetApp,
      appKey: route.targetAppKey,
      service: route.targetService,
      signer: route.targetServiceSigner,
      subchain: route.targetSubchain,
    },
    alternates: [...alternateRoutes],
    contractName: route.contractName,
    limits: {
      ratePerMinute: Number(route.ratePerMinute),
      maxPayloadBytes: Number(route.maxPayloadBytes),
      timeoutSeconds: Number(route.timeoutSeconds),
    },
    applicant: record.applicant,
    pausedByGovernance: record.pausedByGovernance,
  };
  const names = new Names(s, DEFAULT_SCAN);
  const side = async (name: string, x: typeof data.source) =>
    `  ${name}: ${await names.institutionLabel(x.institution)}, app ${await names.label(x.app)} (key ${x.appKey}), ` +
    `service ${short(x.service)} (signer ${x.signer}), sub-chain ${await names.label(x.subchain)}`;
  const contract = await names.of(data.contractName);
  s.out.result(
    [
      `pipe ${pipeId}: ${data.status}${data.pausedByGovernance ? " (paused by a vote)" : ""}, ${ops}`,
      await side("source", data.source),
      await side("target", data.target),
      ...(data.alternates.length === 0 ? [] : [`  alternate target routes: ${data.alternates.map(short).join(", ")}`]),
      `  contract ${named(contract, data.contractName)}, selectors ${data.selectors.join(", ") || "any (read-only)"}`,
      `  limits: ${data.limits.ratePerMinute}/min, ${data.limits.maxPayloadBytes} bytes, ` +
        `${data.limits.timeoutSeconds} s timeout`,
    ],
    data,
  );
}

export function addPipeCommands(root: Command, ctx: Env): void {
  const pipe = root
    .command("pipe")
    .description("pipes: apply, authorise, alternate target routes, pause, resume, close, show");
  const idHelp = "(0x + 64 hex digits, or <institution>:<label>)";
  withCommon(
    pipe
      .command("apply")
      .description("apply for a pipe from the signer's app to another institution's app (PipeRegistry.applyPipe)")
      .requiredOption("--source-app <id>", `the signer's institution's app ${idHelp}`, scopedIdArg)
      .requiredOption("--target-app <id>", `the target institution's app ${idHelp}`, scopedIdArg)
      .requiredOption("--source-service <id>", `the source proxy ${idHelp}`, scopedIdArg)
      .requiredOption("--target-service <id>", `the target proxy ${idHelp}`, scopedIdArg)
      .requiredOption("--contract <name>", "the target's business contract name (or its 0x keccak256 hash)", idArg)
      .requiredOption("--operations <ops>", "read, write or read,write", operationsArg)
      .option("--selectors <list>", "allowed functions: comma-separated signatures or 0x selectors", selectorsArg, [])
      .option("--rate <n>", "operations per minute (1..1000000)", uint32Arg, 60)
      .option("--max-payload <bytes>", "largest payload (1..65536)", uint32Arg, 4096)
      .option("--timeout <seconds>", "transaction timeout (10..604800)", uint32Arg, 600),
  ).action((opts: ApplyOptions) => apply(opts, ctx));
  withCommon(
    pipe
      .command("authorize")
      .description("authorise an applied pipe, as the target side's operator")
      .argument("<pipeId>", "the pipe id", bytes32Arg),
  ).action((pipeId: string, opts: CommonOptions) => authorize(pipeId, opts, ctx));
  withCommon(
    pipe
      .command("alternates")
      .description(
        "propose the pipe's alternate target routes in priority order, as the target side's operator (none: remove " +
          "them)",
      )
      .argument("<pipeId>", "the pipe id", bytes32Arg)
      .argument("[services...]", `services of the target institution fronting the target sub-chain ${idHelp}`),
  ).action((pipeId: string, services: string[], opts: CommonOptions) => alternates(pipeId, services, opts, ctx));
  const moves: [string, Move, string][] = [
    ["pause", "pausePipe", "pause an active pipe (either side's operator)"],
    ["resume", "resumePipe", "resume a paused pipe (either side's operator, unless a vote paused it)"],
    ["close", "closePipe", "close a pipe for good (either side's operator)"],
  ];
  for (const [name, fn, description] of moves)
    withCommon(pipe.command(name).description(description).argument("<pipeId>", "the pipe id", bytes32Arg)).action(
      (pipeId: string, opts: CommonOptions) => move(fn, pipeId, opts, ctx),
    );
  withCommon(
    pipe
      .command("show")
      .description("show a pipe's route, selectors and limits")
      .argument("<pipeId>", "the pipe id", bytes32Arg),
  ).action((pipeId: string, opts: CommonOptions) => show(pipeId, opts, ctx));
}
