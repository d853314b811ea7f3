/**
 * `ccgp vote|execute|propose|proposals`: the proposal engine (VotingTickets). Every governed action is a proposal
 * on (target, selector) with its own rule; registrations open their own votes (service enabling, pipe activation,
 * joins, accounts), and `propose` opens any other governed call.
 */
import type { Command } from "commander";
import type { BaseContract } from "ethers";
import { session, withCommon, type CommonOptions, type ContractKey, type Env, type Session } from "./context";
import { enumName, PROPOSAL_STATE } from "./enums";
import { usage } from "./errors";
import { when } from "./output";
import { runList, type ListKind } from "./list";
import { fieldFilter, withListing, type ListOptions } from "./listing";
import { eventsNamed } from "./names";
import { jsonOf, positiveArg } from "./parse";
import { eventOf, read, submit } from "./submit";

const popcount = (x: bigint): number => x.toString(2).replace(/0/g, "").length;
const FOR_MASK = (1n << 127n) - 1n; // seats for: bits [0,127); bit 127 marks creation; against: bits [128,255)

async function vote(given: bigint | "latest", opts: CommonOptions & { against?: boolean }, ctx: Env): Promise<void> {
  const s = await session(opts, ctx, true);
  const id = await resolveId(s, given);
  const support = opts.against !== true;
  const sent = await submit(s.out, `vote ${support ? "for" : "against"} proposal ${id}`, () =>
    s.gov.voting.vote(id, support),
  );
  const ev = eventOf(sent, "VoteCast");
  const state = enumName(PROPOSAL_STATE, await s.gov.voting.state(id));
  const next = state === "Passed" ? `; execute it with: ccgp execute ${id}` : "";
  s.out.result(
    [`institution ${ev.args.institution} voted ${support ? "for" : "against"} proposal ${id}: now ${state}${next}`],
    {
      proposalId: id,
      institution: ev.args.institution,
      support,
      state,
      tx: sent.receipt.hash,
    },
  );
}

async function execute(given: bigint | "latest", opts: CommonOptions, ctx: Env): Promise<void> {
  const s = await session(opts, ctx, true);
  const id = await resolveId(s, given);
  const sent = await submit(s.out, `execute proposal ${id}`, () => s.gov.voting.execute(id));
  const effects = sent.events.filter((e) => e.name !== "ProposalExecuted");
  s.out.result([`proposal ${id} executed`, ...effects.map((e) => `  ${e.text}`)], {
    proposalId: id,
    events: effects.map((e) => ({ name: e.name, address: e.address, args: e.args })),
    tx: sent.receipt.hash,
  });
}

const TARGETS: ContractKey[] = ["membership", "voting", "services", "chains", "pipes", "credit", "ledger", "attesters"];

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
    throw usage(
      "--args",
      `do not fit ${fn.format("sighash")}: ` +
        `${(err as { shortMessage?: string }).shortMessage ?? (err as Error).message}`,
    );
  }
  const address = await target.getAddress();
  const sent = await submit(s.out, `propose ${fn.name}`, () => s.gov.voting.propose(address, data, opts.description));
  const ev = eventOf(sent, "ProposalCreated");
  s.out.result(
    [
      `proposal ${ev.args.id}: ${opts.target}.${fn.format("sighash")}, deadline ` +
        `${when(BigInt(ev.args.deadline as number), BigInt(Math.floor(Date.now() / 1000)))}`,
    ],
    {
      proposalId: ev.args.id,
      target: address,
      function: fn.format("sighash"),
      deadline: ev.args.deadline,
      tx: sent.receipt.hash,
    },
  );
}

const RULES: Record<string, (bps: number) => string> = {
  UnanimousGenesis: () => "unanimous",
  GenesisMajority: (bps) => `majority >${bps / 100}%`,
  Weighted: (bps) => `weight >${bps / 100}%`,
};

/** Proposals as a list kind (`ccgp proposals`, `ccgp list proposals`): state now, votes that count, rule, time left. */
export const PROPOSALS: ListKind = {
  name: "proposals",
  description:
    "proposals: state (evaluated now), votes for/against of the genesis seats, rule, decoded action, deadline",
  filters: [
    fieldFilter("--state <states>", "Active, Passed, Rejected, Expired, Canceled, Executed", "state"),
    fieldFilter("--proposer <addresses>", "proposer address", "proposer"),
    fieldFilter("--function <names>", "the action's function name, e.g. suspendInstitution", "function"),
  ],
  columns: [
    ["id", (r) => String(r.id)],
    ["state", (r) => String(r.state)],
    ["for/against", (r) => `${r.votesFor as number}/${r.votesAgainst as number} of ${r.seats as number}`],
    ["rule", (r) => String(r.ruleText)],
    ["action", (r) => String(r.action)],
    ["deadline", (r) => String(r.deadlineText)],
    ["description", (r) => String(r.description)],
  ],
  load: async (s, names, opts, now) => {
    const v = s.gov.voting;
    const count = Number(await read("proposalCount", () => v.proposalCount()));
    const targets = new Map<string, ContractKey>();
    for (const key of TARGETS) if (s.record[key]) targets.set(s.record[key]!.toLowerCase(), key);
    const created = await eventsNamed(s, s.record.voting!, ["ProposalCreated"], opts);
    const texts = new Map(created.map((e) => [String(e.args.id), e.args.description as string]));
    const seats = await s.gov.membership.activeSeats();
    const [totalWeight] = await Promise.all([s.gov.membership.weightOf(seats)]);
    return Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const id = BigInt(i + 1);
        const [p, state] = await Promise.all([v.proposal(id), v.state(id)]);
        const key = targets.get(p.target.toLowerCase());
        let action = `${p.target} ${p.selector}`;
        let fn = p.selector;
        let args: { name: string; type: string; value: string; label: string }[] = [];
        if (key) {
          const parsed = contractOf(s, key).interface.parseTransaction({ data: p.data });
          if (parsed) {
            fn = parsed.name;
            // Each argument with the name registered for it: an institution, an account, a sub-chain, a service...
            args = await Promise.all(
              parsed.fragment.inputs.map(async (param, i) => ({
                name: param.name,
                type: param.type,
                value: String(parsed.args[i]),
                label: await names.arg(param, parsed.args[i]),
              })),
            );
          }
          action = parsed ? `${key}.${parsed.name}(${args.map((a) => a.label).join(", ")})` : `${key} ${p.selector}`;
        }
        const forSeats = p.ballots & FOR_MASK & seats;
        const againstSeats = (p.ballots >> 128n) & seats;
        const rule = enumName("IVotingTickets.RuleKind", p.rule);
        const weighted = rule === "Weighted";
        const stateName = enumName(PROPOSAL_STATE, state);
        return {
          id: Number(id),
          state: stateName,
          action,
          function: fn,
          args,
          target: key ?? p.target,
          proposer: p.proposer,
          votesFor: popcount(forSeats),
          votesAgainst: popcount(againstSeats),
          seats: popcount(seats),
          ...(weighted
            ? { weightFor: Number(await s.gov.membership.weightOf(forSeats)), totalWeight: Number(totalWeight) }
            : {}),
          rule,
          thresholdBps: Number(p.thresholdBps),
          ruleText: (RULES[rule] ?? (() => rule))(Number(p.thresholdBps)),
          deadline: Number(p.deadline),
          deadlineText:
            stateName === "Active" || stateName === "Passed"
              ? when(p.deadline, now)
              : new Date(Number(p.deadline) * 1000).toISOString().replace(".000Z", "Z"),
          description: texts.get(String(id)) ?? "",
        };
      }),
    );
  },
};

/** `latest` (the newest proposal) or a number. */
export function proposalIdArg(value: string): bigint | "latest" {
  return value === "latest" ? "latest" : positiveArg(value);
}

async function resolveId(s: Session, id: bigint | "latest"): Promise<bigint> {
  if (id !== "latest") return id;
  const count = await read("proposalCount", () => s.gov.voting.proposalCount());
  if (count === 0n) throw usage("<id>", "there is no proposal yet");
  return count;
}

async function cancel(given: bigint | "latest", opts: CommonOptions, ctx: Env): Promise<void> {
  const s = await session(opts, ctx, true);
  const id = await resolveId(s, given);
  const sent = await submit(s.out, `cancel proposal ${id}`, () => s.gov.voting.cancel(id));
  s.out.result([`proposal ${id} canceled`], { proposalId: id, state: "Canceled", tx: sent.receipt.hash });
}

export function addGovernanceCommands(root: Command, ctx: Env): void {
  const idHelp = "proposal id, or latest (the newest proposal)";
  withCommon(
    root
      .command("vote")
      .description("cast the signer's institution's vote on a proposal (for, unless --against)")
      .argument("<id>", idHelp, proposalIdArg)
      .option("--against", "vote against"),
  ).action((id: bigint | "latest", opts: CommonOptions & { against?: boolean }) => vote(id, opts, ctx));
  withCommon(
    root
      .command("execute")
      .description("execute a passed proposal (anyone may)")
      .argument("<id>", idHelp, proposalIdArg),
  ).action((id: bigint | "latest", opts: CommonOptions) => execute(id, opts, ctx));
  withCommon(
    root.command("cancel").description("cancel a proposal (its proposer only)").argument("<id>", idHelp, proposalIdArg),
  ).action((id: bigint | "latest", opts: CommonOptions) => cancel(id, opts, ctx));
  withCommon(
    root
      .command("propose")
      .description("propose a governed call (the signer must be an active governor)")
      .requiredOption("--target <contract>", TARGETS.join(", "))
      .requiredOption("--function <name>", "function name or signature, e.g. setVerifier")
      .option("--args <json>", "the arguments as a JSON array", "[]")
      .option("--description <text>", "why", ""),
  ).action((opts: ProposeOptions) => propose(opts, ctx));
  withCommon(withListing(root.command("proposals").description(PROPOSALS.description), PROPOSALS.filters)).action(
    (opts: ListOptions & CommonOptions) => runList(PROPOSALS, opts, ctx),
  );
}
