/**
 * `ccgp tx show|pending`, `ccgp resolve`, `ccgp escalate`: the cross-chain transaction ledger as an operator sees
 * it. `tx show` puts together the ledger's record and every event of one transaction (results, endorsements,
 * compensations, retries, escalation, resolution); `tx pending` lists what is still under way or needs someone,
 * with the reconciliation of lib/domain/reconcile.ts.
 */
import type { Command } from "commander";
import type { Log } from "ethers";
import { openedTransactions, reconcile } from "../../../lib/domain/reconcile";
import { Issue, Reason, TxState } from "../../../lib/domain/ledger-types";
import { decodeLog, type DecodedLog } from "./abi";
import { session, withCommon, type CommonOptions, type Env, type Session } from "./context";
import { enumName, TX_STATE } from "./enums";
import { CliError, CliErrorCode, usage } from "./errors";
import { LIST_KINDS, runList } from "./list";
import { withListing, type ListOptions } from "./listing";
import { table, when } from "./output";
import { bytes32Arg, positiveArg, uint64Arg } from "./parse";
import { read, submit } from "./submit";

interface ScanOptions extends CommonOptions {
  fromBlock: bigint;
  logRange: bigint;
}

const bit = (mask: bigint, i: number): boolean => ((mask >> BigInt(i)) & 1n) === 1n;

/** Every ledger event whose first indexed argument is `txId` (all the per-transaction events), in order. */
async function eventsOf(s: Session, txId: string, opts: ScanOptions): Promise<DecodedLog[]> {
  const address = await s.gov.ledger.getAddress();
  const latest = await s.chain.provider.getBlockNumber();
  const logs: Log[] = [];
  for (let from = Number(opts.fromBlock); from <= latest; from += Number(opts.logRange))
    logs.push(
      ...(await s.chain.provider.getLogs({
        address,
        topics: [null, txId],
        fromBlock: from,
        toBlock: Math.min(from + Number(opts.logRange) - 1, latest),
      })),
    );
  return logs.map((l) => decodeLog(l)).filter((l): l is DecodedLog => l !== undefined);
}

async function stepsOf(s: Session, txId: string, view: Awaited<ReturnType<Session["gov"]["ledger"]["transaction"]>>) {
  const l = s.gov.ledger;
  return Promise.all(
    Array.from({ length: Number(view.stepCount) }, async (_, i) => {
      const [[side, operation, dependsOn], [retries, compensations]] = await Promise.all([
        l.stepOf(txId, i),
        l.attemptsOf(txId, i),
      ]);
      return {
        step: i,
        side: side === 0n ? "source" : "target",
        operation: operation === 0n ? "read" : "write",
        dependsOn: dependsOn === 255n ? null : Number(dependsOn),
        done: bit(view.doneMask, i),
        undone: bit(view.undoneMask, i),
        retries: Number(retries),
        compensations: Number(compensations),
      };
    }),
  );
}

const pick = (events: DecodedLog[], ...names: string[]) => events.filter((e) => names.includes(e.name));

async function show(txId: string, opts: ScanOptions, ctx: Env): Promise<void> {
  const s = await session(opts, ctx);
  const view = await read("transaction", () => s.gov.ledger.transaction(txId));
  if (view.state === 0n) throw usage("<txId>", `no transaction ${txId} on the ledger ${s.record.ledger}`);
  const [steps, events, totalWeight, block] = await Promise.all([
    stepsOf(s, txId, view),
    eventsOf(s, txId, opts),
    s.gov.ledger.totalWeight(),
    s.chain.provider.getBlock("latest"),
  ]);
  const now = BigInt(block!.timestamp);
  const opened = events.find((e) => e.name === "TxOpened");
  const data = {
    txId,
    pipeId: view.pipeId,
    state: enumName(TX_STATE, view.state),
    reason: Reason[Number(view.reason)],
    deadline: view.deadline,
    opened: opened
      ? { by: opened.args.opener, number: opened.args.number, block: opened.blockNumber, tx: opened.transactionHash }
      : null,
    steps,
    verification: {
      resultSetHash: view.resultSetHash,
      weightFor: Number(view.weightFor),
      weightAgainst: Number(view.weightAgainst),
      totalWeight: Number(totalWeight),
    },
    results: pick(events, "ResultRecorded").map((e) => ({ ...e.args, block: e.blockNumber, tx: e.transactionHash })),
    endorsements: pick(events, "Endorsed", "EndorsementConflicted").map((e) => ({
      kind: e.name,
      ...e.args,
      block: e.blockNumber,
    })),
    compensations: pick(events, "CompensationRecorded").map((e) => ({
      ...e.args,
      block: e.blockNumber,
      tx: e.transactionHash,
    })),
    retries: pick(events, "StepRetried").map((e) => ({ ...e.args, block: e.blockNumber })),
    manual: pick(events, "TxEscalated", "TxResolved").map((e) => ({
      kind: e.name === "TxEscalated" ? "escalated" : "resolved",
      ...e.args,
      block: e.blockNumber,
    })),
    history: historyOf(events),
  };
  s.out.result(showLines(data, now), data);
}

/**
 * The transaction's moves, in order: its opening, each `TxTransitioned`, and the moves of the normal path, told by
 * the `ResultRecorded` or `Endorsed` that made them (`to`, "None" when it made none; a result that took an Open
 * transaction further went through Executing).
 */
function historyOf(events: DecodedLog[]): ShowData["history"] {
  const out: ShowData["history"] = [];
  let state: unknown = "None";
  for (const e of events) {
    const move = moveOf(e);
    if (move === undefined) continue;
    const block = e.blockNumber;
    if (e.name === "TxTransitioned") state = e.args.from;
    else if (state === "Open" && move.to !== "Executing" && e.name === "ResultRecorded") {
      out.push({ block, from: state, to: "Executing", by: move.by });
      state = "Executing";
    }
    out.push({ block, from: state, ...move });
    state = move.to;
  }
  return out;
}

function moveOf(e: DecodedLog): { to: unknown; by: unknown } | undefined {
  switch (e.name) {
    case "TxOpened":
      return { to: "Open", by: e.args.opener };
    case "TxTransitioned":
      return { to: e.args.to, by: e.args.actor };
    case "ResultRecorded":
    case "Endorsed":
      return e.args.to === "None" ? undefined : { to: e.args.to, by: e.args.recorder ?? e.args.verifier };
    default:
      return undefined;
  }
}

type ShowData = {
  txId: string;
  pipeId: string;
  state: string;
  reason: string | undefined;
  deadline: bigint;
  opened: { by: unknown; number: unknown; block: number } | null;
  steps: Awaited<ReturnType<typeof stepsOf>>;
  verification: { resultSetHash: string; weightFor: number; weightAgainst: number; totalWeight: number };
  results: Record<string, unknown>[];
  endorsements: Record<string, unknown>[];
  compensations: Record<string, unknown>[];
  retries: Record<string, unknown>[];
  manual: Record<string, unknown>[];
  history: { block: number; to: unknown; from: unknown; by: unknown }[];
};

function showLines(d: ShowData, now: bigint): string[] {
  const lines = [
    `transaction ${d.txId}: ${d.state}${d.reason && d.reason !== "None" ? ` (reason ${d.reason})` : ""}`,
    `  pipe ${d.pipeId}, deadline ${when(d.deadline, now)}`,
  ];
  if (d.opened) lines.push(`  opened as #${d.opened.number} by ${d.opened.by} in block ${d.opened.block}`);
  lines.push("  steps:");
  for (const st of d.steps) {
    const after = st.dependsOn === null ? "" : ` (depends on step ${st.dependsOn})`;
    const retries = st.retries ? `, ${st.retries} retries` : "";
    const compensations = st.compensations ? `, ${st.compensations} compensation attempts` : "";
    lines.push(
      `    ${st.step}: ${st.side} ${st.operation}${after}: ${st.done ? "done" : "not done"}` +
        `${st.undone ? ", undone" : ""}${retries}${compensations}`,
    );
  }
  for (const r of d.results)
    lines.push(
      `  result of step ${r.step}: ${r.success ? "success" : "FAILED"}, sub-chain tx ${r.subchainTx} block ` +
        `${r.blockNumber}, result hash ${r.resultHash}, state version ${r.stateVersion} (by ${r.recorder}, block ` +
        `${r.block})`,
    );
  const v = d.verification;
  lines.push(
    `  verification: result set ${v.resultSetHash} endorsed by weight ${v.weightFor} of ` +
      `${v.totalWeight}${v.weightAgainst ? `, ${v.weightAgainst} endorsed another result set` : ""}`,
  );
  for (const e of d.endorsements)
    lines.push(
      `    ${e.kind === "Endorsed" ? "endorsed" : "CONFLICT"} by ${e.verifier} (weight ${e.weight}, block ${e.block})`,
    );
  for (const c of d.compensations)
    lines.push(
      `  compensation of step ${c.step}, attempt ${c.attempt}: ${c.success ? "success" : "failed"}, sub-chain tx ` +
        `${c.subchainTx} (by ${c.recorder}, block ${c.block})`,
    );
  for (const r of d.retries)
    lines.push(`  retry of step ${r.step} (attempt ${r.attempt}) by ${r.by}: ${JSON.stringify(r.reason)}`);
  for (const m of d.manual)
    lines.push(
      `  ${m.kind} by ${m.kind === "resolved" ? `governor ${m.governor}` : m.by}: ${JSON.stringify(m.reason)} ` +
        `(block ${m.block})`,
    );
  lines.push("  history:");
  for (const h of d.history) lines.push(`    block ${h.block}: ${h.from} -> ${h.to} by ${h.by}`);
  return lines;
}

/** Listed even without an issue: under way, or ended without completing (failed or expired with nothing to undo). */
const PENDING = new Set<number>([
  TxState.Open,
  TxState.Executing,
  TxState.Executed,
  TxState.Failed,
  TxState.Expired,
  TxState.Compensating,
  TxState.Manual,
  TxState.Committing,
]);

interface PendingOptions extends ScanOptions {
  check?: boolean;
}

async function pending(opts: PendingOptions, ctx: Env): Promise<void> {
  const s = await session(opts, ctx);
  const ledger = s.gov.ledger;
  const scan = { fromBlock: Number(opts.fromBlock), blockRange: Number(opts.logRange) };
  s.out.progress(`scanning the ledger's TxOpened events from block ${scan.fromBlock}`);
  const [report, opened] = await read(
    "reconcile",
    async () => [await reconcile(ledger, scan), await openedTransactions(ledger, scan)] as const,
  );
  const withIssue = new Set(report.entries.map((e) => e.txId));
  // Without an issue (yet): the reconciliation does not list them, their state does.
  const others = opened.filter((o) => !withIssue.has(o.txId));
  const statuses = await Promise.all(
    others.map(async (o) => ({ ...o, status: await ledger.statusOf(o.txId), view: await ledger.transaction(o.txId) })),
  );
  const rows = [
    ...report.entries.map((e) => ({
      number: e.number,
      txId: e.txId,
      pipeId: e.pipeId,
      state: TxState[e.state],
      reason: Reason[e.reason],
      issue: Issue[e.issue],
      stepsDone: e.stepsDone,
      stepCount: e.stepCount,
      deadline: e.deadline,
      writesNotUndone: e.writesNotUndone,
    })),
    ...statuses
      .filter((o) => PENDING.has(Number(o.status.state)))
      .map((o) => ({
        number: o.number,
        txId: o.txId,
        pipeId: o.view.pipeId,
        state: TxState[Number(o.status.state)],
        reason: Reason[Number(o.view.reason)],
        issue: "None",
        stepsDone: Number(o.status.stepsDone),
        stepCount: Number(o.status.stepCount),
        deadline: o.status.deadline,
        writesNotUndone: [] as number[],
      })),
  ].sort((a, b) => (a.number < b.number ? -1 : 1));
  const missing =
    report.missing > 0n
      ? `; WARNING: ${report.missing} opened transaction(s) not found in the events (scan from an earlier block)`
      : "";
  const header =
    `${report.scanned} transaction(s) scanned, ${rows.length} pending, ${report.entries.length} with an ` +
    `issue${missing}`;
  const body = rows.map((r) => [
    `#${r.number}`,
    r.txId,
    r.state,
    r.issue === "None" ? "-" : r.issue,
    `${r.stepsDone}/${r.stepCount}`,
    when(r.deadline, report.now),
    r.writesNotUndone.length ? `undo step ${r.writesNotUndone.join(",")}` : "",
  ]);
  s.out.result(
    rows.length === 0
      ? [header]
      : [header, ...table([["#", "txId", "state", "issue", "steps", "deadline", ""], ...body])],
    {
      scanned: report.scanned,
      missing: report.missing,
      now: report.now,
      pending: rows,
    },
  );
  if (opts.check && (report.entries.length > 0 || report.missing > 0n))
    throw new CliError(CliErrorCode.Failed, `${report.entries.length} transaction(s) with an issue`, {
      issues: report.entries.length,
    });
}

async function manual(
  fn: "resolve" | "escalate",
  txId: string,
  opts: CommonOptions & { reason: string },
  ctx: Env,
): Promise<void> {
  if (opts.reason.trim() === "") throw usage("--reason", "expected a non-empty reason (it is recorded on-chain)");
  const s = await session(opts, ctx, true);
  const sent = await submit(s.out, `${fn} ${txId}`, () => s.gov.ledger[fn](txId, opts.reason));
  const state = enumName(TX_STATE, (await s.gov.ledger.statusOf(txId)).state);
  s.out.result([`transaction ${txId} ${fn === "resolve" ? "resolved" : "escalated"}: now ${state}`], {
    txId,
    state,
    reason: opts.reason,
    tx: sent.receipt.hash,
  });
}

export function addTxCommands(root: Command, ctx: Env): void {
  const tx = root.command("tx").description("cross-chain transactions on the ledger");
  const scanning = (cmd: Command) =>
    cmd
      .option("--from-block <n>", "first block of the event scan (the ledger's deployment block)", uint64Arg, 0n)
      .option("--log-range <n>", "blocks per eth_getLogs call", positiveArg, 10_000n);
  withCommon(
    scanning(
      tx
        .command("show")
        .description("a transaction: state, steps, results, endorsements, compensations, manual resolution")
        .argument("<txId>", "transaction id", bytes32Arg),
    ),
  ).action((txId: string, opts: ScanOptions) => show(txId, opts, ctx));
  const transactions = LIST_KINDS.find((k) => k.name === "transactions")!;
  withCommon(
    withListing(
      tx.command("list").description("list transactions, newest first (as ccgp list transactions)"),
      transactions.filters,
    ),
  ).action((opts: ListOptions & CommonOptions) => runList(transactions, opts, ctx));
  withCommon(
    scanning(
      tx
        .command("pending")
        .description("transactions under way, failed, waiting for a governor, or past their deadline"),
    ).option("--check", "exit 1 when any transaction has an issue (for monitoring)"),
  ).action((opts: PendingOptions) => pending(opts, ctx));
  withCommon(
    root
      .command("resolve")
      .description("resolve a transaction waiting for manual intervention (an active governor)")
      .argument("<txId>", "transaction id", bytes32Arg)
      .requiredOption("--reason <text>", "what was done; recorded on-chain"),
  ).action((txId: string, opts: CommonOptions & { reason: string }) => manual("resolve", txId, opts, ctx));
  withCommon(
    root
      .command("escalate")
      .description("send an unfinished transaction to manual intervention (either proxy of the pipe, or a governor)")
      .argument("<txId>", "transaction id", bytes32Arg)
      .requiredOption("--reason <text>", "why; recorded on-chain"),
  ).action((txId: string, opts: CommonOptions & { reason: string }) => manual("escalate", txId, opts, ctx));
}
