/**
 * `npm run auditor -- <command>`: the auditor's queries over an index of every governance event.
 *
 *   index       index the governance chain into the SQLite index (once, or --follow)
 *   status      what the index holds
 *   trace       one cross-chain transaction end to end (--receipts: checked on the sub-chains)
 *   list        transactions or events by institution, pipe, account, state, time range (JSON or CSV)
 *   export      the same into a file
 *   anomalies   stuck, failed, expired, escalated, conflicts, repeated refusals, credit drops
 *   reconcile   transactions whose state disagrees between the ledger and the sub-chains
 *   serve       the auditor-only HTTP API
 *
 * Exit codes: 0 done (nothing found), 1 findings (anomalies, reconciliation), 2 bad input, 3 chain or internal error.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { JsonRpcProvider } from "ethers";
import { createPublicClient, getAddress, http, isAddress, type Address, type PublicClient } from "viem";
import { createLogger } from "../lib/infra/log";
import { TransactionLedger__factory } from "../typechain-types";
import {
  AuditorAuthenticator,
  AuditorError,
  AuditorErrorCode,
  AuditorQueries,
  CONTRACT_KEYS,
  GovernanceIndexer,
  IndexStore,
  SubchainReader,
  anomalyOptionsFrom,
  badInput,
  defined,
  eventFilterFrom,
  exportEvents,
  exportTransactions,
  listFilterFrom,
  loadAbi,
  GOVERNANCE_CONTRACTS,
  parseFormat,
  parseInteger,
  parseTxId,
  startAuditorApi,
  toJson,
  type ContractKey,
  type Params,
} from "./src";
import { anomaliesText, reconciliationText, traceText, transactionsText } from "./src/text";

export const EXIT = { ok: 0, findings: 1, badInput: 2, error: 3 } as const;

const collect = (v: string, acc: string[]) => [...acc, v];

function rpcClient(url: string): PublicClient {
  return createPublicClient({ transport: http(url, { retryCount: 2, timeout: 30_000 }), cacheTime: 0 });
}

/** Governance contract addresses from a deployment record and/or `--contract key=address` options. */
export function contractsFrom(deployment: string | undefined, pairs: string[]): Partial<Record<ContractKey, Address>> {
  const out: Partial<Record<ContractKey, Address>> = {};
  if (deployment !== undefined) {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(readFileSync(deployment, "utf8")) as Record<string, unknown>;
    } catch (error) {
      throw badInput(`cannot read the deployment record ${deployment}: ${(error as Error).message}`);
    }
    for (const key of CONTRACT_KEYS) if (typeof record[key] === "string") out[key] = getAddress(record[key] as string);
  }
  for (const pair of pairs) {
    const [key, address] = pair.split("=");
    if (!CONTRACT_KEYS.includes(key as ContractKey))
      throw badInput(`--contract ${pair}: the key must be one of ${CONTRACT_KEYS.join(", ")}`);
    if (address === undefined || !isAddress(address, { strict: false }))
      throw badInput(`--contract ${pair}: "${address}" is not an address`);
    out[key as ContractKey] = getAddress(address);
  }
  if (Object.keys(out).length === 0)
    throw badInput("no governance contracts: give --deployment <record.json> or --contract <key>=<address>");
  return out;
}

/** `--subchain-rpc <chainId>=<url>` options as clients by chain id. */
export function subchainClients(pairs: string[]): Map<number, PublicClient> {
  const out = new Map<number, PublicClient>();
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    const chainId = parseInteger(pair.slice(0, Math.max(at, 0)), "--subchain-rpc chain id", 1);
    const url = pair.slice(at + 1);
    if (!/^https?:\/\//.test(url)) throw badInput(`--subchain-rpc ${pair}: "${url}" is not an http(s) URL`);
    out.set(chainId, rpcClient(url));
  }
  return out;
}

interface Common {
  db: string;
  rpc?: string;
  subchainRpc: string[];
  format?: string;
  out?: string;
}

function openQueries(o: Common): { queries: AuditorQueries; store: IndexStore } {
  const store = IndexStore.open({ path: o.db, readonly: true });
  const identity = store.identity();
  const reader = o.subchainRpc.length > 0 ? new SubchainReader(subchainClients(o.subchainRpc)) : undefined;
  const ledgerAddress = identity?.contracts.ledger;
  const ledger =
    o.rpc !== undefined && ledgerAddress !== undefined
      ? TransactionLedger__factory.connect(
          ledgerAddress,
          new JsonRpcProvider(o.rpc, undefined, { staticNetwork: true }),
        )
      : undefined;
  return {
    store,
    queries: new AuditorQueries({ store, ...(reader ? { reader } : {}), ...(ledger ? { ledger } : {}) }),
  };
}

/** Where the CLI writes; tests pass their own. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: Io = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };
let io: Io = processIo;

function emit(text: string, out: string | undefined): void {
  if (out === undefined) io.stdout(text.endsWith("\n") ? text : `${text}\n`);
  else {
    writeFileSync(out, text);
    io.stderr(`wrote ${out}\n`);
  }
}

const paramsOf =
  (o: Record<string, unknown>): Params =>
  (name) => {
    const v = o[name];
    return v === undefined ? undefined : String(v);
  };

async function indexCommand(o: Common & Record<string, string | boolean | string[] | undefined>): Promise<number> {
  if (o.rpc === undefined) throw badInput("index needs --rpc <governance chain URL>");
  const logger = createLogger({ level: o.quiet ? "silent" : "warn", destination: process.stderr });
  const store = IndexStore.open({ path: o.db });
  try {
    const indexer = await GovernanceIndexer.create({
      client: rpcClient(o.rpc),
      store,
      contracts: contractsFrom(o.deployment as string | undefined, o.contract as string[]),
      fromBlock: parseInteger(String(o.fromBlock ?? "0"), "--from-block"),
      confirmations: parseInteger(String(o.confirmations ?? "2"), "--confirmations", 0, 10_000),
      maxBlockRange: parseInteger(String(o.blockRange ?? "1000"), "--block-range", 1, 100_000),
      pollIntervalMs: parseInteger(String(o.pollMs ?? "1000"), "--poll-ms", 10),
      logger,
      onBlock: ({ height, events }) =>
        events > 0 && !o.quiet && io.stderr(`indexed block ${height} (${events} events)\n`),
    });
    if (o.follow) {
      const controller = new AbortController();
      for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => controller.abort());
      await indexer.follow(controller.signal);
    } else await indexer.sync();
    const progress = indexer.progress();
    io.stdout(`index at block ${progress.checkpoint ?? "none"}: ${progress.events} events\n`);
    return EXIT.ok;
  } finally {
    store.close();
  }
}

function withQueryOptions(c: Command): Command {
  return c
    .requiredOption("--db <path>", "the index file")
    .option("--rpc <url>", "the governance chain's JSON-RPC (reconciliation)")
    .option("--subchain-rpc <chainId=url>", "a sub-chain's JSON-RPC (repeatable)", collect, [] as string[]);
}

function filterOptions(c: Command): Command {
  return c
    .option("--institution <id>", "an institution (source or target)")
    .option("--pipe <pipeId>", "a pipe id")
    .option("--account <address>", "an account that acted (opener, recorder, verifier, governor) or signed a packet")
    .option("--state <states>", "ledger states, comma-separated (e.g. Failed,Expired)")
    .option("--from <time>", "from (unix seconds or ISO 8601, inclusive)")
    .option("--to <time>", "to (unix seconds or ISO 8601, inclusive)")
    .option("--limit <n>", "at most n rows (default 1000)")
    .option("--offset <n>", "skip n rows")
    .option("--tx <txId>", "events of one transaction")
    .option("--contract <key>", "events of one contract (membership, voting, services, chains, pipes, credit, ledger)")
    .option("--event <name>", "events of one name (e.g. RefusalRecorded)")
    .addOption(new Option("--format <format>", "json or csv").choices(["json", "csv", "text"]));
}

function listing(kind: string, o: Common & Record<string, unknown>, text: boolean): string {
  const { queries, store } = openQueries(o);
  try {
    const p = paramsOf(o);
    if (kind === "events")
      return exportEvents(queries.events(eventFilterFrom(p)), parseFormat(o.format === "text" ? "json" : o.format));
    if (kind !== "transactions") throw badInput(`list what? "${kind}" is not transactions or events`);
    const rows = queries.transactions(listFilterFrom(p));
    return text && (o.format === undefined || o.format === "text")
      ? transactionsText(rows)
      : exportTransactions(rows, parseFormat(o.format === "text" ? "json" : o.format));
  } finally {
    store.close();
  }
}

function buildCommand(setCode: (code: number) => void): Command {
  const program = new Command()
    .name("auditor")
    .description("CCGP-EVM auditor: index, trace, list, export, anomalies, reconciliation, API")
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout(t), writeErr: (t) => io.stderr(t) });
  program
    .command("index")
    .description("index every governance event into the SQLite index")
    .requiredOption("--db <path>", "the index file (created if missing)")
    .option("--rpc <url>", "the governance chain's JSON-RPC")
    .option("--deployment <file>", "a deployment record (scripts/deploy.ts, .deployments/<network>-<chainId>.json)")
    .option("--contract <key=address>", "a governance contract (repeatable)", collect, [] as string[])
    .option("--from-block <n>", "first block on a fresh index (the deployment block)", "0")
    .option("--confirmations <n>", "blocks an event must be buried under", "2")
    .option("--block-range <n>", "blocks per eth_getLogs", "1000")
    .option("--poll-ms <n>", "poll interval when following", "1000")
    .option("--follow", "keep following the chain until SIGINT/SIGTERM")
    .option("--quiet", "no progress on stderr")
    .action(async (o) => setCode(await indexCommand({ subchainRpc: [], ...o })));
  withQueryOptions(program.command("status").description("what the index holds")).action((o: Common) => {
    const { queries, store } = openQueries(o);
    emit(toJson(queries.status()), undefined);
    store.close();
  });
  withQueryOptions(program.command("trace <txId>").description("one cross-chain transaction end to end"))
    .option("--receipts", "check each result and compensation against its sub-chain")
    .addOption(new Option("--format <format>", "json or text").choices(["json", "text"]).default("json"))
    .action(async (txId: string, o: Common & { receipts?: boolean }) => {
      const { queries, store } = openQueries(o);
      try {
        const trace = await queries.trace(parseTxId(txId), { receipts: o.receipts === true });
        emit(o.format === "text" ? traceText(trace) : toJson(trace), undefined);
        setCode(trace.receipts?.some((r) => r.checked && !r.ok) ? EXIT.findings : EXIT.ok);
      } finally {
        store.close();
      }
    });
  filterOptions(withQueryOptions(program.command("list [what]").description("transactions (default) or events")))
    .option("--out <file>", "write to a file")
    .action((what: string | undefined, o: Common & Record<string, unknown>) =>
      emit(listing(what ?? "transactions", o, true), o.out),
    );
  filterOptions(
    withQueryOptions(program.command("export <what>").description("transactions or events into a file (CSV or JSON)")),
  )
    .requiredOption("--out <file>", "the file to write")
    .action((what: string, o: Common & Record<string, unknown>) => emit(listing(what, o, false), o.out));
  anomaliesCommand(program, setCode);
  reconcileCommand(program, setCode);
  serveCommand(program);
  return program;
}

function anomaliesCommand(program: Command, setCode: (code: number) => void): void {
  withQueryOptions(
    program
      .command("anomalies")
      .description("warnings: stuck, failed, expired, escalated, conflicts, refusals, credit drops"),
  )
    .option("--now <time>", "evaluate at this time (default: the checkpoint's block time)")
    .option("--from <time>", "window start for failures, refusals, credit drops")
    .option("--to <time>", "window end")
    .option("--refusal-threshold <n>", "refusals per pipe or signer that raise a warning", "3")
    .option("--credit-drop-threshold <n>", "credit points lost that raise a warning", "1")
    .option("--stuck-grace <seconds>", "seconds past the deadline before a transaction is stuck", "0")
    .addOption(new Option("--format <format>", "json or text").choices(["json", "text"]).default("text"))
    .action((o: Common & Record<string, string>) => {
      const { queries, store } = openQueries(o);
      try {
        const p = paramsOf({
          ...o,
          refusalThreshold: o.refusalThreshold,
          creditDropThreshold: o.creditDropThreshold,
          stuckGrace: o.stuckGrace,
        });
        const report = queries.anomalies(defined(anomalyOptionsFrom(p)));
        emit(o.format === "json" ? toJson(report) : anomaliesText(report), undefined);
        setCode(report.anomalies.length > 0 ? EXIT.findings : EXIT.ok);
      } finally {
        store.close();
      }
    });
}

function reconcileCommand(program: Command, setCode: (code: number) => void): void {
  withQueryOptions(
    program
      .command("reconcile")
      .description("transactions whose final state disagrees between the ledger and the sub-chains"),
  )
    .option("--tx <txId>", "only this transaction (repeatable)", collect, [] as string[])
    .addOption(new Option("--format <format>", "json or text").choices(["json", "text"]).default("text"))
    .action(async (o: Common & { tx: string[] }) => {
      if (o.rpc === undefined) throw badInput("reconcile needs --rpc <governance chain URL>");
      const { queries, store } = openQueries(o);
      try {
        const report = await queries.reconcile(o.tx.length > 0 ? o.tx.map(parseTxId) : undefined);
        emit(o.format === "json" ? toJson(report) : reconciliationText(report), undefined);
        setCode(
          report.ledgerIssues.length + report.crossChain.length > 0 || report.missing > 0 ? EXIT.findings : EXIT.ok,
        );
      } finally {
        store.close();
      }
    });
}

function serveCommand(program: Command): void {
  withQueryOptions(
    program.command("serve").description("the auditor-only HTTP API (every request signed by an active auditor)"),
  )
    .option("--port <n>", "port", "8547")
    .option("--host <host>", "interface to bind", "127.0.0.1")
    .option("--window <seconds>", "accepted clock distance of a signed request", "60")
    .action(async (o: Common & { port: string; host: string; window: string }) => {
      if (o.rpc === undefined)
        throw badInput("serve needs --rpc <governance chain URL> (auditors are checked on chain)");
      const { queries, store } = openQueries(o);
      const identity = store.identity();
      if (identity?.contracts.membership === undefined)
        throw badInput("the index names no Membership contract: index with it first");
      const auth = new AuditorAuthenticator({
        client: rpcClient(o.rpc),
        membership: identity.contracts.membership,
        chainId: identity.chainId,
        membershipAbi: loadAbi(GOVERNANCE_CONTRACTS.membership),
        windowSeconds: parseInteger(o.window, "--window", 1, 3600),
      });
      const api = await startAuditorApi({
        queries,
        auth,
        port: parseInteger(o.port, "--port", 0, 65_535),
        host: o.host,
        logger: createLogger({ level: "info", destination: process.stderr }),
      });
      io.stdout(`auditor API on ${api.url}\n`);
      await new Promise<void>((resolve) => {
        for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
      });
      await api.close();
      store.close();
    });
}

/** Runs the CLI and returns its exit code (no process.exit, so tests can call it with their own `out`). */
export async function main(argv: string[], out: Io = processIo): Promise<number> {
  io = out;
  let code: number = EXIT.ok;
  const program = buildCommand((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    const known = error instanceof AuditorError;
    io.stderr(
      `auditor: ${known ? "error" : "internal error"}: ` +
        `${known ? error.message : ((error as Error).stack ?? String(error))}\n`,
    );
    return known &&
      (error.code === AuditorErrorCode.BadInput ||
        error.code === AuditorErrorCode.IndexMismatch ||
        error.code === AuditorErrorCode.UnknownTx)
      ? EXIT.badInput
      : EXIT.error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`auditor: internal error: ${String(error)}\n`);
      process.exitCode = EXIT.error;
    },
  );
}
