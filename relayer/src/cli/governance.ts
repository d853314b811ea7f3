/**
 * `ccgp vote|execute|propose|proposals`: the proposal engine (VotingTickets). Every governed action is a proposal
 * on (target, selector) with its own rule; registrations open their own votes (service enabling, pipe activation,
 * joins, accounts), and `propose` opens any other governed call.
 */
import type { Command } from "commander";
import type { BaseContract } from "ethers";
import { session, withCommon, type CommonOptions, type ContractKey, type Env, type Session } from "./context";
import { enumName, enumValue, PROPOSAL_STATE } from "./enums";
import { usage } from "./errors";
import { table, when } from "./output";
import { jsonOf, positiveArg, uint64Arg } from "./parse";
import { eventOf, read, submit } from "./submit";

const popcount = (x: bigint): number => x.toString(2).replace(/0/g, "").length;
const FOR_MASK = (1n << 127n) - 1n; // seats for: bits [0,127); bit 127 marks creation; against: bits [128,255)

async function vote(id: bigint, opts: CommonOptions & { against?: boolean }, ctx: Env): Promise<void> {
  const s = await session(opts, ctx, true);
  const support = opts.against !== true;
  const sent = await submit(s.out, `vote ${support ? "for" : "against"} proposal ${id}`, () => s.gov.voting.vote(id, support));
  const ev = eventOf(sent, "VoteCast");
  const state = enumName(PROPOSAL_STATE, await s.gov.voting.state(id));
  const next = state === "Passed" ? `; execute it with: ccgp execute ${id}` : "";
  s.out.result([`institution ${ev.args.institution} voted ${support ? "for" : "against"} proposal ${id}: now ${state}${next}`], {
    proposalId: id,
    institution: ev.args.institution,
    support,
    state,
    tx: sent.receipt.hash,
  });
}

async function execute(id: bigint, opts: CommonOptions, ctx: Env): Promise<void> {
  const s = await session(opts, ctx, true);
  const sent = await submit(s.out, `execute proposal ${id}`, () => s.gov.voting.execute(id));
  const effects = sent.events.filter((e) => e.name !== "ProposalExecuted");
  s.out.result([`proposal ${id} executed`, ...effects.map((e) => `  ${e.text}`)], {
    proposalId: id,
    events: effects.map((e) => ({ name: e.name, address: e.address, args: e.args })),
    tx: sent.receipt.hash,
  });
}

const TARGETS: ContractKey[] = ["membership", "voting", "services", "chains", "pipes", "credit", "ledger"];

function contractOf(s: Session, key: ContractKey): BaseContract {
  return s.gov[key];
}

interface ProposeOptions extends CommonOptions {
  target: string;
  function: string;
  args: string;
  description: string;
}

async function propose(opts: ProposeOptions, ctx: Env): Promise<void> {
  if (!TARGETS.includes(opts.target as ContractKey)) throw usage("--target", `expected one of ${TARGETS.join(", ")}`);
  const args = jsonOf("--args", opts.args);
  if (!Array.isArray(args)) throw usage("--args", "expected a JSON array of the function's arguments");
  const s = await session(opts, ctx, true);
  const target = contractOf(s, opts.target as ContractKey);
  const fn = target.interface.getFunction(opts.function);
  if (!fn) throw usage("--function", `${opts.target} has no function ${opts.function}`);
  let data: string;
  try {
    data = target.interface.encodeFunctionData(fn, args);
  } catch (err) {
    throw usage("--args", `do not fit ${fn.format("sighash")}: ${(err as { shortMessage?: string }).shortMessage ?? (err as Error).message}`);
  }
  const address = await target.getAddress();
  const sent = await submit(s.out, `propose ${fn.name}`, () => s.gov.voting.propose(address, data, opts.description));
  const ev = eventOf(sent, "ProposalCreated");
  s.out.result([`proposal ${ev.args.id}: ${opts.target}.${fn.format("sighash")}, deadline ${when(BigInt(ev.args.deadline as number), BigInt(Math.floor(Date.now() / 1000)))}`], {
    proposalId: ev.args.id,
    target: address,
    function: fn.format("sighash"),
    deadline: ev.args.deadline,
    tx: sent.receipt.hash,
  });
}

/** The ProposalCreated descriptions, read in block ranges (RPC nodes limit eth_getLogs). */
async function descriptions(s: Session, fromBlock: number, range: number): Promise<Map<bigint, string>> {
  const latest = await s.chain.provider.getBlockNumber();
  const found = new Map<bigint, string>();
  for (let from = fromBlock; from <= latest; from += range) {
    const logs = await s.gov.voting.queryFilter(s.gov.voting.filters.ProposalCreated(), from, Math.min(from + range - 1, latest));
    for (const log of logs) found.set(log.args.id, log.args.description);
  }
  return found;
}

interface ListOptions extends CommonOptions {
  state?: string;
  fromBlock: bigint;
  logRange: bigint;
}

async function proposals(opts: ListOptions, ctx: Env): Promise<void> {
  const wanted = opts.state?.split(",").map((name) => {
    const v = enumValue(PROPOSAL_STATE, name.trim());
    if (v === undefined || v === 0) throw usage("--state", `expected states among Active, Passed, Rejected, Expired, Canceled, Executed (got "${name}")`);
    return v;
  });
  const s = await session(opts, ctx);
  const v = s.gov.voting;
  const count = Number(await read("proposalCount", () => v.proposalCount()));
  const names = new Map<string, ContractKey>();
  for (const key of TARGETS) if (s.record[key]) names.set(s.record[key]!.toLowerCase(), key);
  const texts = await descriptions(s, Number(opts.fromBlock), Number(opts.logRange));
  const now = BigInt((await s.chain.provider.getBlock("latest"))!.timestamp);
  const all = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const id = BigInt(i + 1);
      const [p, state] = await Promise.all([v.proposal(id), v.state(id)]);
      const key = names.get(p.target.toLowerCase());
      let action = `${p.target} ${p.selector}`;
      if (key) {
        const parsed = contractOf(s, key).interface.parseTransaction({ data: p.data });
        action = parsed ? `${key}.${parsed.name}(${parsed.args.map(String).join(", ")})` : `${key} ${p.selector}`;
      }
      return {
        id,
        state: enumName(PROPOSAL_STATE, state),
        stateValue: Number(state),
        action,
        proposer: p.proposer,
        deadline: p.deadline,
        votesFor: popcount(p.ballots & FOR_MASK),
        votesAgainst: popcount(p.ballots >> 128n),
        rule: enumName("IVotingTickets.RuleKind", p.rule),
        description: texts.get(id) ?? "",
      };
    }),
  );
  const shown = wanted ? all.filter((p) => wanted.includes(p.stateValue)) : all;
  const rows = shown.map((p) => [String(p.id), p.state, `${p.votesFor}/${p.votesAgainst}`, p.action, when(p.deadline, now), p.description]);
  s.out.result(
    shown.length === 0 ? ["no proposals"] : table([["id", "state", "for/against", "action", "deadline", "description"], ...rows]),
    { proposals: shown.map(({ stateValue: _s, ...p }) => p) },
  );
}

export function addGovernanceCommands(root: Command, ctx: Env): void {
  withCommon(
    root
      .command("vote")
      .description("cast the signer's institution's vote on a proposal (for, unless --against)")
      .argument("<id>", "proposal id", positiveArg)
      .option("--against", "vote against"),
  ).action((id: bigint, opts: CommonOptions & { against?: boolean }) => vote(id, opts, ctx));
  withCommon(root.command("execute").description("execute a passed proposal (anyone may)").argument("<id>", "proposal id", positiveArg)).action(
    (id: bigint, opts: CommonOptions) => execute(id, opts, ctx),
  );
  withCommon(
    root
      .command("propose")
      .description("propose a governed call (the signer must be an active governor)")
      .requiredOption("--target <contract>", TARGETS.join(", "))
      .requiredOption("--function <name>", "function name or signature, e.g. setVerifier")
      .option("--args <json>", "the arguments as a JSON array", "[]")
      .option("--description <text>", "why", ""),
  ).action((opts: ProposeOptions) => propose(opts, ctx));
  withCommon(
    root
      .command("proposals")
      .description("list proposals with their state, votes, action and deadline")
      .option("--state <states>", "only these states, comma-separated (e.g. Active,Passed)")
      .option("--from-block <n>", "first block to read descriptions from", uint64Arg, 0n)
      .option("--log-range <n>", "blocks per eth_getLogs call", positiveArg, 10_000n),
  ).action((opts: ListOptions) => proposals(opts, ctx));
}
