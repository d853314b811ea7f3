/**
 * `npm start`: the embedded local consortium (docs/local-consortium.md). Starts three anvil chains, deploys and
 * bootstraps everything by votes, starts one relayer per business institution, runs the seed scenario (a drug
 * batch recorded on sub-chain A, its custody continued on sub-chain B through the pipe), then the two-phase scenario
 * (an asset transfer A -> B, prepared on both sides, then committed), prints where to look, and keeps running until
 * Ctrl-C. `--once` (or CI=true) exits 0 after the scenarios, and 1 when either did not confirm.
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setupLocalConsortium, type LocalConsortium } from "./lib/local-consortium";
import { startRelayers, REPO_ROOT, type RelayerProcess } from "./lib/local/relayers";
import {
  appAccount,
  newBatch,
  nextSequence,
  postRequest,
  recordBatch,
  signCustodyRequest,
  waitForLedger,
  type TxStateName,
} from "./lib/local/scenario";
import {
  balanceOn,
  issueOnA,
  newAccount,
  signTransfer,
  twoPhaseRecord,
  type TwoPhaseRecord,
} from "./lib/local/transfer";
import { removePointer, writePointer, type LocalPointer } from "../relayer/src/cli/pointer";
import { Supervisor } from "./lib/local/supervisor";
import { LOCAL_KEYSTORE_PASSWORD } from "./lib/local-consortium";
import type { CheckedTrace } from "../auditor/src/queries";
import { auditorTrace } from "./lib/local/auditor";
import { startLocalConsole } from "./lib/local/console";
import { DrugTraceability__factory, TransactionLedger__factory } from "../typechain-types";
import { JsonRpcProvider } from "ethers";

/** Where run dirs go; `CCGP_RUNS_DIR` moves them (tests use a temp dir). */
const RUNS_DIR = process.env.CCGP_RUNS_DIR ?? join(REPO_ROOT, ".ccgp", "local");
/** Run dirs kept: older ones are removed at start, so repeated runs do not fill the disk. */
const KEEP_RUNS = 5;
const CONFIRM_TIMEOUT_MS = 120_000;

const CONTRACT_LABELS: Record<string, string> = {
  membership: "Membership",
  voting: "VotingTickets",
  services: "ServiceRegistry",
  chains: "ChainRegistry",
  pipes: "PipeRegistry",
  credit: "CreditScore",
  attesters: "AttesterRegistry",
  ledger: "TransactionLedger",
  ledgerRecovery: "LedgerRecovery",
};

const say = (line = ""): void => console.log(line);
const step = (line: string): void => console.log(`  ${line}`);
/** One named step of the scenario: `  3. post          …`. */
let stepNumber = 0;
const named = (name: string, line: string): void =>
  console.log(`  ${String(++stepNumber).padStart(2)}. ${name.padEnd(13)} ${line}`);
const shortHash = (h: string): string => `${h.slice(0, 10)}…`;

interface Running {
  consortium?: LocalConsortium;
  relayers: RelayerProcess[];
  console?: { close(): Promise<void> } | null;
  supervisor: Supervisor;
}

/** A fresh run dir `.ccgp/local/<timestamp>`; keeps the newest few earlier runs. */
function freshRunDir(): string {
  mkdirSync(RUNS_DIR, { recursive: true });
  const earlier = readdirSync(RUNS_DIR).sort();
  for (const old of earlier.slice(0, Math.max(0, earlier.length - (KEEP_RUNS - 1))))
    rmSync(join(RUNS_DIR, old), { recursive: true, force: true });
  const dir = join(RUNS_DIR, new Date().toISOString().replace(/[:.]/g, "-"));
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function stopAll(run: Running): Promise<void> {
  await run.console?.close();
  removePointer(process.pid);
  if (run.consortium) await run.supervisor.stopAll(run.consortium.runDir);
  await Promise.all(run.relayers.map((r) => r.stop()));
  await run.consortium?.stop();
}

/** The pointer `npx ccgp` reads to find this run from another terminal (docs/cli.md). */
function pointTo(c: LocalConsortium, supervisor: Supervisor, control: string): string {
  const members = supervisor.members();
  const pointer: LocalPointer = {
    pid: process.pid,
    runDir: c.runDir,
    manifest: c.manifestPath,
    rpc: c.chains.governance.url,
    deployments: join(c.runDir, `local-${c.chains.governance.chainId}.json`),
    keys: join(c.runDir, "keys"),
    passwordEnv: c.passwordEnv,
    ...(c.password === LOCAL_KEYSTORE_PASSWORD ? { localPassword: c.password } : {}),
    auditorApi: c.auditorApi,
    control,
    chains: members
      .filter((m) => m.kind === "chain")
      .map((m) => ({
        name: m.name,
        url: m.url,
        chainId: Object.values(c.chains).find((x) => x.name === m.name)!.chainId,
        pid: m.pid,
      })),
    relayers: members
      .filter((m) => m.kind === "relayer")
      .map((m) => {
        const side = [c.business.a, c.business.b].find((x) => x.slug === m.name)!;
        return {
          name: side.name,
          slug: side.slug,
          pid: m.pid,
          health: m.url,
          intake: `http://127.0.0.1:${side.ports.app}`,
          log: m.log!,
          config: side.configPath,
        };
      }),
  };
  return writePointer(pointer);
}

interface ScenarioOutcome {
  batchId: string;
  recordTx: string;
  txId?: string;
  state?: TxStateName;
  custodySteps?: bigint;
}

/** The transfer's amount and the payer's issued balance. */
const TRANSFER = { issued: 100n, amount: 25n } as const;

interface TransferOutcome {
  txId: string;
  state: TxStateName;
}

/**
 * The two-phase scenario: Drug Maker A's app transfers an amount from an account on A's AssetLedger to one on B's. Each
 * side prepares its write (the debit on A, the credit on B: staged, the account locked), the ledger moves to
 * Committing once both are prepared, then each side commits. Throws unless both sides committed, no lock is left and
 * the balances moved on both sides.
 */
async function transferScenario(c: LocalConsortium, relayers: RelayerProcess[]): Promise<TransferOutcome> {
  say("\nsecond scenario: a two-phase asset transfer between the institutions' ledgers");
  stepNumber = 0;
  const [from, to] = [newAccount("drug-maker-a"), newAccount("hospital-b")];
  await issueOnA(c, from, TRANSFER.issued);
  named("issue", `Drug Maker A issued ${TRANSFER.issued} to account ${shortHash(from)} on AssetLedger/A`);
  const pipe = c.pipes.assets!;
  const { signed, fields } = await signTransfer(c, await appAccount(c, pipe), {
    from,
    to,
    amount: TRANSFER.amount,
    mode: "two-phase",
    sequence: await nextSequence(c, pipe),
  });
  const txId = signed.packet.txId;
  named(
    "sign",
    `the app signed a transfer of ${TRANSFER.amount} to ${shortHash(to)} on B (debit on A, credit on B, mode ` +
      `two-phase): tx ${txId}`,
  );
  const accepted = await postRequest(relayers.find((r) => r.side.key === "a")!.intakeUrl, signed, fields);
  named("post", `Drug Maker A's relayer took it: ${accepted.status}`);
  const seen: string[] = [];
  const began = Date.now();
  const state = await waitForLedger(
    c,
    txId,
    "Confirmed",
    CONFIRM_TIMEOUT_MS,
    (s) => void (s !== "None" && seen.push(s)),
  );
  named("ledger", `${seen.join(" -> ")} in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  const expected = { a: [TRANSFER.issued, TRANSFER.issued - TRANSFER.amount], b: [0n, TRANSFER.amount] } as const;
  const problems: string[] = [];
  for (const [side, account] of [
    ["a", from],
    ["b", to],
  ] as const) {
    const record = await twoPhaseRecord(c, side, txId);
    const balance = await balanceOn(c, side, account);
    named(
      `sub-chain ${side.toUpperCase()}`,
      `${sideLine(record)}; ${shortHash(account)} balance ${expected[side][0]} -> ${balance} on ` +
        `AssetLedger/${side.toUpperCase()}`,
    );
    if (record.status !== "committed") problems.push(`sub-chain ${side.toUpperCase()} ${record.status}, not committed`);
    if (record.stillLocked.length > 0) problems.push(`sub-chain ${side.toUpperCase()} still holds its lock`);
    if (balance !== expected[side][1])
      problems.push(`balance on ${side.toUpperCase()} ${balance}, not ${expected[side][1]}`);
  }
  if (state !== "Confirmed") problems.unshift(`the transfer ended ${state}, not Confirmed`);
  if (problems.length > 0) throw new Error(`the two-phase transfer ${txId}: ${problems.join("; ")}`);
  return { txId, state };
}

/** A side's two-phase record in a line: prepared and committed blocks, and whether its lock was released. */
function sideLine(r: TwoPhaseRecord): string {
  const prepared = r.preparedIn === undefined ? "not prepared" : `prepared in block ${r.preparedIn}`;
  const committed = r.committedIn === undefined ? r.status : `committed in block ${r.committedIn}`;
  const locks = r.stillLocked.length > 0 ? `${r.stillLocked.length} lock(s) held` : `${r.keys.length} lock(s) released`;
  return `${prepared} (${r.keys.length} account locked), ${committed}, ${locks}`;
}

/** The seed scenario: record a batch on A; with relayers, continue its custody on B through the pipe A -> B. */
async function scenario(c: LocalConsortium, relayers: RelayerProcess[]): Promise<ScenarioOutcome> {
  say("\nseed scenario: joint drug traceability");
  const { batchId, dataHash } = newBatch();
  const recorded = await recordBatch(c, batchId, dataHash);
  named("record", `Drug Maker A recorded batch ${shortHash(batchId)} on sub-chain A (block ${recorded.block})`);
  const pipe = c.pipes.aToB;
  const app = await appAccount(c, pipe);
  const signed = await signCustodyRequest(c, app, {
    pipe,
    batchId,
    custodian: c.business.b.accounts.operator.address,
    dataHash,
    sequence: await nextSequence(c, pipe),
  });
  named(
    "sign",
    `the app signed continueCustody through pipe A -> B: tx ${signed.packet.txId}, sequence ${signed.packet.sequence}`,
  );
  const source = relayers.find((r) => r.side.key === "a")!;
  const accepted = await postRequest(source.intakeUrl, signed);
  named("post", `Drug Maker A's relayer took it: ${accepted.status}`);
  const seen: string[] = [];
  const began = Date.now();
  // The ledger's states as they come, on one line once it ends (None is "not opened yet": not a state to show).
  const state = await waitForLedger(
    c,
    signed.packet.txId,
    "Confirmed",
    CONFIRM_TIMEOUT_MS,
    (s) => void (s !== "None" && seen.push(s)),
  );
  named("ledger", `${seen.join(" -> ")} in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  const b = new JsonRpcProvider(c.chains.b.url, c.chains.b.chainId, { staticNetwork: true });
  const custodySteps = await DrugTraceability__factory.connect(
    c.business.b.contracts.drugTraceability,
    b,
  ).custodyLength(batchId);
  b.destroy();
  named("sub-chain B", `batch ${shortHash(batchId)} has ${custodySteps} custody step(s) on DrugTraceability/B`);
  await endorsementsView(c, signed.packet.txId);
  named("relayer view", await relayerView(source, signed.packet.txId));
  if (c.auditorApi !== null) await auditorView(c, signed.packet.txId);
  return { batchId, recordTx: recorded.tx, txId: signed.packet.txId, state, custodySteps };
}

/** Who endorsed the seed transaction on the ledger: the parties' verifiers and the independent one. */
async function endorsementsView(c: LocalConsortium, txId: string): Promise<void> {
  const gov = new JsonRpcProvider(c.chains.governance.url, c.chains.governance.chainId, { staticNetwork: true });
  const ledger = TransactionLedger__factory.connect(c.governance.ledger, gov);
  const events = await ledger.queryFilter(ledger.filters.Endorsed(txId));
  gov.destroy();
  const who = (address: string): string => {
    if (address.toLowerCase() === c.verifier.address.toLowerCase())
      return "Audit Office (independent: read both sub-chains itself)";
    const side = [c.business.a, c.business.b].find(
      (s) => s.accounts.business.address.toLowerCase() === address.toLowerCase(),
    );
    return side ? `${side.name} (a party)` : address;
  };
  for (const e of events)
    named(
      "endorsed",
      `by ${who(e.args.verifier)}, weight ${e.args.weight}, ${e.args.weightFor} of ${e.args.totalWeight} (block ` +
        `${e.blockNumber})`,
    );
}

/** `GET /v1/transactions/:txId` of a relayer, summed up: its role and status, and the ledger's state it saw. */
async function relayerView(r: RelayerProcess, txId: string): Promise<string> {
  try {
    const res = await fetch(`${r.intakeUrl}/v1/transactions/${txId}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { relayer?: { role: string; status: string }[]; ledger?: { state: string } };
    const mine = (body.relayer ?? []).map((e) => `${e.role} ${e.status}`).join(", ") || "not in its journal";
    return (
      `Drug Maker A's relayer: ${mine}; ledger ${body.ledger?.state ?? "?"} ` +
      `(${r.intakeUrl}/v1/transactions/${shortHash(txId)})`
    );
  } catch (err) {
    return `not available (${(err as Error).message})`;
  }
}

/** The Audit Office's auditor traces the transaction through A's relayer's auditor API (a signed request). */
async function auditorView(c: LocalConsortium, txId: string): Promise<void> {
  const trace = (await auditorTrace(c, txId, "Confirmed")) as unknown as CheckedTrace;
  const signers = trace.packets
    .map((p) => `app ${p.appSigner}, relayer ${p.proxySigner}${p.signaturesValid ? "" : " (INVALID)"}`)
    .join("; ");
  const receipts = trace.receipts ?? [];
  named(
    "auditor",
    `${trace.state}, ${trace.stepCount} step(s), ${trace.results.length} result(s), ${trace.endorsements.length} ` +
      `endorsement(s); ${receipts.filter((r) => r.ok).length} of ${receipts.length} sub-chain receipts agree ` +
      `(signed request to ${c.auditorApi})`,
  );
  step(`                   packets signed by ${signers}`);
}

function printWhereToLook(
  c: LocalConsortium,
  relayers: RelayerProcess[],
  outcome: ScenarioOutcome,
  transfer?: TransferOutcome,
): void {
  say("\nwhere to look");
  for (const [label, chain] of [
    ["governance chain", c.chains.governance],
    ["sub-chain A", c.chains.a],
    ["sub-chain B", c.chains.b],
  ] as const)
    step(`${label.padEnd(17)} ${chain.url} (chain id ${chain.chainId})`);
  for (const [name, address] of Object.entries(c.governance)) step(`${CONTRACT_LABELS[name].padEnd(17)} ${address}`);
  for (const s of [c.business.a, c.business.b])
    step(
      `${s.subchain.name.padEnd(17)} gateway ${s.contracts.gateway}, DrugTraceability ` +
        `${s.contracts.drugTraceability}, EvidenceDeposit ` +
        `${s.contracts.evidenceDeposit}${s.contracts.assetLedger ? `, AssetLedger ${s.contracts.assetLedger}` : ""}`,
    );
  step(
    `pipes             A -> B ${c.pipes.aToB.id}, B -> A ` +
      `${c.pipes.bToA.id}${c.pipes.assets ? `, assets A -> B ${c.pipes.assets.id}` : ""}`,
  );
  step(`batch             ${outcome.batchId} (recorded in tx ${outcome.recordTx})`);
  if (outcome.txId)
    step(`transaction       ${outcome.txId}: ledger state ${outcome.state ?? "not opened (no relayer)"}`);
  if (transfer) step(`transfer          ${transfer.txId}: ledger state ${transfer.state} (two-phase)`);
  for (const r of relayers) {
    step(
      `relayer ${r.side.name}: pid ${r.pid}, health ${r.healthUrl}, metrics ${r.metricsUrl}, intake ` +
        `${r.intakeUrl}/v1/requests`,
    );
    for (const txId of [outcome.txId, transfer?.txId]) if (txId) step(`  ${r.intakeUrl}/v1/transactions/${txId}`);
    step(`  log ${r.logFile}`);
  }
  if (c.verifier.process !== null)
    step(
      `verifier          Audit Office (independent): pid ${c.verifier.process.pid}, health ${c.verifier.healthUrl}, ` +
        `log ${c.verifier.logFile}`,
    );
  if (c.auditorApi !== null)
    step(
      `auditor API       ${c.auditorApi}/v1/... on Drug Maker A's relayer; requests signed by an auditor ` +
        `(auditor/README.md)`,
    );
  step(`run dir           ${c.runDir} (manifest consortium.json, relayer configs, keys, tls, state, logs)`);
  step(`keystore password in $${c.passwordEnv} (local default: ccgp-local-only)`);
}

async function main(): Promise<void> {
  const once = process.argv.includes("--once") || process.env.CI === "true";
  const run: Running = { relayers: [], supervisor: new Supervisor((line) => say(line)) };
  let stopping: Promise<void> | undefined;
  const shutdown = (why: string): Promise<void> => {
    stopping ??= (async () => {
      say(`\n${why}: stopping relayers and chains`);
      await stopAll(run);
      say("stopped");
    })();
    return stopping;
  };
  process.once("SIGINT", () => void shutdown("Ctrl-C").then(() => process.exit(0)));
  process.once("SIGTERM", () => void shutdown("SIGTERM").then(() => process.exit(0)));
  try {
    const runDir = freshRunDir();
    say(`CCGP local consortium, run dir ${runDir}`);
    run.consortium = await setupLocalConsortium({ runDir, log: step, persistChains: true, attest: true, assets: true });
    const c = run.consortium;
    for (const chain of Object.values(c.chains)) run.supervisor.addChain(chain);
    say("\nrelayers");
    run.relayers = await startRelayers(c, [c.business.a, c.business.b]);
    for (const r of run.relayers) {
      step(`${r.side.name}: pid ${r.pid}, healthy at ${r.healthUrl}, log ${r.logFile}`);
      run.supervisor.addRelayer(c, r);
    }
    if (c.verifier.process !== null) {
      step(
        `Audit Office independent verifier: pid ${c.verifier.process.pid}, healthy at ${c.verifier.healthUrl}, log ` +
          `${c.verifier.logFile}`,
      );
      run.supervisor.addVerifier(c.verifier, "audit-office");
    }
    run.supervisor.addAttester(c.attester, "audit-office");
    const control = await run.supervisor.serve();
    const pointer = pointTo(c, run.supervisor, control);
    run.supervisor.onChange = () => void pointTo(c, run.supervisor, control);
    step(`pointer for npx ccgp: ${pointer}`);
    const outcome = await scenario(c, run.relayers);
    if (outcome.state !== undefined && outcome.state !== "Confirmed")
      throw new Error(`the seed transaction ended ${outcome.state}, not Confirmed`);
    const transfer = await transferScenario(c, run.relayers);
    printWhereToLook(c, run.relayers, outcome, transfer);
    if (c.auditorApi !== null) run.console = await startLocalConsole(c, step, outcome.txId);
  } catch (err) {
    console.error(`\nnpm start failed: ${(err as Error).message}`);
    await shutdown("failure");
    process.exit(1);
  }
  if (once) {
    await shutdown(process.env.CI === "true" ? "CI" : "--once");
    process.exit(0);
  }
  say("\nrunning; Ctrl-C stops everything started above. In another terminal: npx ccgp tx list (docs/cli.md)");
  // Keeps the process alive until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

void main();
