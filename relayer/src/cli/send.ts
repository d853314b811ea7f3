/**
 * `ccgp send read|write`: what a business app does to start a cross-chain operation. Builds the AMDP packet from
 * the pipe's route on the governance chain (PipeRegistry.route), signs stage 1 with the app's keystore, posts it to
 * its relayer's app intake (`POST /v1/requests`), prints the transaction id, and with `--wait` follows the
 * transaction (relayer view and ledger state) until it ends.
 */
import { Option, type Command } from "commander";
import { hexlify, Interface, keccak256, randomBytes } from "ethers";
import type { Hex } from "viem";
import type { Packet } from "../../../lib/amdp";
import { CcgpError } from "../../../lib/infra/errors";
import { networkReason, session, withCommon, type CommonOptions, type Env, type Session } from "./context";
import { enumName, REFUSAL, TX_STATE } from "./enums";
import { CliError, CliErrorCode, failed, usage } from "./errors";
import type { Output } from "./output";
import { bytes32Arg, functionOf, hexDataArg, jsonOf, positiveArg, uint64Arg } from "./parse";
import { read } from "./submit";

interface SendOptions extends CommonOptions {
  relayer: string;
  pipe: string;
  appKeystore: string;
  function?: string;
  args: string;
  data?: string;
  steps?: string;
  /** compensation (default) or two-phase. */
  mode?: "compensation" | "two-phase";
  sequence?: bigint;
  txId?: string;
  deadline?: bigint;
  wait?: boolean;
  pollMs: bigint;
  waitTimeout?: bigint;
}

const Operation = { read: 0, write: 1 } as const;

/** The calldata the target contract gets: `--function` + `--args`, or raw `--data`. */
function payloadOf(opts: SendOptions): Hex {
  if (opts.data !== undefined && opts.function !== undefined)
    throw usage("--data", "give --function/--args or --data, not both");
  if (opts.data !== undefined) {
    if (opts.data.length < 10) throw usage("--data", "expected at least a 4-byte selector");
    return opts.data as Hex;
  }
  if (opts.function === undefined)
    throw usage("--function", "required: the target function's signature, e.g. batch(bytes32) (or --data <calldata>)");
  const fn = functionOf(opts.function);
  const args = jsonOf("--args", opts.args);
  if (!Array.isArray(args)) throw usage("--args", "expected a JSON array of the function's arguments");
  try {
    return new Interface([fn]).encodeFunctionData(fn, args) as Hex;
  } catch (err) {
    throw usage(
      "--args",
      `do not fit ${fn.format("sighash")}: ` +
        `${(err as { shortMessage?: string }).shortMessage ?? (err as Error).message}`,
    );
  }
}

function relayerUrl(given: string): URL {
  try {
    const url = new URL(given);
    if (url.protocol === "http:" || url.protocol === "https:") return url;
  } catch {
    // refused below
  }
  throw usage("--relayer", `"${given}" is not an http(s) URL of the relayer's app intake`);
}

async function appAccount(file: string, env: NodeJS.ProcessEnv) {
  const variable = ["CCGP_APP_KEYSTORE_PASSWORD", "CCGP_KEYSTORE_PASSWORD"].find((v) => env[v]);
  if (!variable)
    throw usage(
      "CCGP_APP_KEYSTORE_PASSWORD",
      `not set (nor CCGP_KEYSTORE_PASSWORD): it must hold the password of ${file} (--app-keystore)`,
    );
  const { loadKeystore } = await import("../keys/keystore");
  try {
    return await loadKeystore(file, env[variable]!);
  } catch (err) {
    if (err instanceof CcgpError) throw usage("--app-keystore", err.message);
    throw err;
  }
}

interface Built {
  packet: Packet;
  payload: Hex;
  signature: Hex;
  deadline: bigint;
  /** With source steps: the salt that binds them to the transaction id. */
  salt?: Hex;
  /** The packets of the later target steps, each signed by the app. */
  extras: { packet: Packet; payload: Hex; signature: Hex }[];
}

const random32 = () => hexlify(randomBytes(32)) as Hex;

/** A later target step of `--steps`: its own packet, with its operation and calldata. */
interface ExtraTarget {
  operation: 0 | 1;
  payload: Hex;
}

/**
 * `--steps` as the relayer takes them, and the calldata of the target steps after the first (each gets a packet of
 * its own, signed by the app). The first target step is the command's own (`--function`/`--args` or `--data`); a
 * later one names its `operation` and `function` + `args` or `data`.
 */
function splitSteps(steps: unknown[]): { steps: unknown[]; extras: ExtraTarget[] } {
  const extras: ExtraTarget[] = [];
  let targets = 0;
  const out = steps.map((step, i) => {
    if (typeof step !== "object" || step === null || (step as { side?: unknown }).side !== "target") return step;
    const { operation, function: fn, args, data, ...rest } = step as Record<string, unknown>;
    if (targets++ === 0) {
      if (operation !== undefined || fn !== undefined || data !== undefined)
        throw usage(
          "--steps",
          `step ${i}: the first target step is the command's own (--function/--args or --data): give it no ` +
            `operation or calldata`,
        );
      return rest;
    }
    if (operation !== "read" && operation !== "write")
      throw usage("--steps", `step ${i}: a later target step needs "operation": "read" or "write"`);
    const payload = payloadOf({
      function: fn as string | undefined,
      args: JSON.stringify(args ?? []),
      data: data as string | undefined,
    } as SendOptions);
    extras.push({ operation: operation === "read" ? 0 : 1, payload });
    return rest;
  });
  return { steps: out, extras };
}

/**
 * The transaction id. Source steps are not in the signed packet, so the relayer takes them only when the id commits
 * to them: `txId = keccak256(abi.encode(salt, planDigest(steps)))` (relayer/src/tx/plan.ts), checked here first.
 */
async function txIdFor(
  opts: SendOptions,
  packet: Packet,
  payload: Hex,
  steps: unknown,
  more: { packet: Packet; payload: Hex }[],
): Promise<{ txId: Hex; salt?: Hex }> {
  if (steps === undefined) return { txId: (opts.txId ?? random32()) as Hex };
  const { boundTxId, planOf, PlanError } = await import("../../../lib/domain/plan");
  let plan;
  try {
    // The mode is bound with the steps: a two-phase write has operation 2 in the plan the txId commits to.
    plan = planOf(packet, payload, steps, more, opts.mode);
  } catch (err) {
    if (err instanceof PlanError) throw usage("--steps", err.message);
    throw err;
  }
  if (plan.steps.every((step) => step.side === 1)) return { txId: (opts.txId ?? random32()) as Hex };
  if (opts.txId)
    throw usage(
      "--tx-id",
      "cannot be chosen with source steps: the id is derived from them (it commits to what the app signs for)",
    );
  const salt = random32();
  return { txId: boundTxId(salt, plan.steps), salt };
}

/** Seconds of slack below the pipe's timeout, so that the relayer's clock and the ledger's accept the deadline. */
const slackOf = (timeout: bigint): bigint => (timeout / 10n < 30n ? timeout / 10n : 30n);

/** The packet from the pipe's route, checked against the pipe as the relayer will check it, signed by the app. */
async function build(
  s: Session,
  opts: SendOptions,
  operation: 0 | 1,
  steps: unknown,
  account: Awaited<ReturnType<typeof appAccount>>,
  extras: ExtraTarget[] = [],
): Promise<Built> {
  const route = await read("route", () => s.gov.pipes.route(opts.pipe));
  if (route.status === 0n) throw usage("--pipe", `no pipe ${opts.pipe} in PipeRegistry ${s.record.pipes}`);
  if (route.sourceAppKey.toLowerCase() !== account.address.toLowerCase())
    throw usage(
      "--app-keystore",
      `holds ${account.address}, but pipe ${opts.pipe} reserves ${route.sourceAppKey} for its source app`,
    );
  const payload = payloadOf(opts);
  const bytes = (payload.length - 2) / 2;
  if (bytes > Number(route.maxPayloadBytes))
    throw usage(
      opts.data ? "--data" : "--args",
      `payload of ${bytes} bytes exceeds the pipe's limit of ${route.maxPayloadBytes}`,
    );
  const selector = payload.slice(0, 10) as Hex;
  const refusal = await read("checkOperation", () =>
    s.gov.pipes.checkOperation(opts.pipe, account.address, operation, selector),
  );
  if (refusal !== 0n)
    throw new CliError(
      CliErrorCode.Refused,
      `pipe ${opts.pipe} refuses this ${operation === 0 ? "read" : "write"} of ${selector}: ` +
        `${enumName(REFUSAL, refusal)}`,
      {
        refusal: enumName(REFUSAL, refusal),
      },
    );
  const timeout = BigInt(route.timeoutSeconds);
  if (opts.deadline !== undefined && opts.deadline > timeout)
    throw usage("--deadline", `${opts.deadline} s is beyond the pipe's timeout of ${timeout} s`);
  // The earlier of the chain's clock and ours: the ledger and the relayer each refuse a deadline beyond their now +
  // timeout.
  const chainNow = BigInt((await s.chain.provider.getBlock("latest"))!.timestamp);
  const localNow = BigInt(Math.floor(Date.now() / 1000));
  const now = chainNow < localNow ? chainNow : localNow;
  const deadline = now + (opts.deadline ?? timeout - slackOf(timeout));
  const [lastSequence] = await read("pipeOf", () => s.gov.ledger.pipeOf(opts.pipe));
  const packet: Packet = {
    pipeId: opts.pipe as Hex,
    sourceInstitution: Number(route.sourceInstitution),
    targetInstitution: Number(route.targetInstitution),
    targetService: route.targetService as Hex,
    contractName: route.contractName as Hex,
    operation,
    selector,
    payloadHash: keccak256(payload) as Hex,
    txId: `0x${"00".repeat(32)}`,
    sequence: opts.sequence ?? lastSequence + 1n,
    deadline,
    signer: account.address,
  };
  const more: Packet[] = [];
  for (const [k, extra] of extras.entries()) {
    const selector = extra.payload.slice(0, 10) as Hex;
    const refused = await read("checkOperation", () =>
      s.gov.pipes.checkOperation(opts.pipe, account.address, extra.operation, selector),
    );
    if (refused !== 0n)
      throw new CliError(
        CliErrorCode.Refused,
        `pipe ${opts.pipe} refuses the ${extra.operation === 0 ? "read" : "write"} of ${selector} (--steps): ` +
          `${enumName(REFUSAL, refused)}`,
        {
          refusal: enumName(REFUSAL, refused),
        },
      );
    more.push({
      ...packet,
      operation: extra.operation,
      selector,
      payloadHash: keccak256(extra.payload) as Hex,
      sequence: packet.sequence + BigInt(k + 1),
    });
  }
  const { txId, salt } = await txIdFor(
    opts,
    packet,
    payload,
    steps,
    more.map((p, k) => ({ packet: p, payload: extras[k]!.payload })),
  );
  packet.txId = txId;
  for (const p of more) p.txId = txId;
  // Loaded here: the codec's schemas and viem's signing are only needed once the packet is ready.
  const { packetDomain, signPacket } = await import("../../../lib/amdp");
  const domain = packetDomain(s.chain.chainId, (await s.gov.ledger.getAddress()) as Hex);
  const signed = await Promise.all(
    more.map(async (p, k) => ({
      packet: p,
      payload: extras[k]!.payload,
      signature: await signPacket(account, domain, p),
    })),
  );
  return { packet, payload, signature: await signPacket(account, domain, packet), deadline, salt, extras: signed };
}

interface Accepted {
  txId: string;
  status: string;
  sequence?: string;
}

/** Posts the signed packet to the app intake (contract 3): 202 {txId, status}, or 4xx {code, message}. */
async function post(url: URL, built: Built, steps: unknown, mode?: string): Promise<Accepted> {
  const { encodePacket } = await import("../../../lib/amdp");
  const wire = JSON.parse(
    encodePacket({ packet: built.packet, payload: built.payload, signatures: { app: built.signature } }),
  ) as Record<string, unknown>;
  const packets = built.extras.map(
    (e) =>
      JSON.parse(encodePacket({ packet: e.packet, payload: e.payload, signatures: { app: e.signature } })) as unknown,
  );
  const body = {
    ...wire,
    ...(steps === undefined ? {} : { steps }),
    ...(built.salt === undefined ? {} : { salt: built.salt }),
    ...(packets.length === 0 ? {} : { packets }),
    ...(mode === undefined ? {} : { mode }),
  };
  let res: Response;
  try {
    res = await fetch(new URL("/v1/requests", url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw failed(`--relayer ${url.origin}: cannot reach the relayer (${networkReason(err)})`, { url: url.href }, err);
  }
  const answer = (await res.json().catch(() => ({}))) as {
    txId?: string;
    status?: string;
    sequence?: string;
    code?: string;
    message?: string;
    error?: { code?: string; message?: string };
  };
  if (res.status === 202 || res.ok)
    return { txId: answer.txId ?? built.packet.txId, status: answer.status ?? "accepted", sequence: answer.sequence };
  const code = answer.code ?? answer.error?.code ?? `HTTP_${res.status}`;
  const message = answer.message ?? answer.error?.message ?? res.statusText;
  throw new CliError(CliErrorCode.Refused, `the relayer refused the request: ${code}: ${message}`, {
    status: res.status,
    code,
    message,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ENDED = new Set(["Confirmed", "Compensated", "Resolved", "Failed", "Expired", "Manual"]);

/** What the relayer says of a transaction: its journal entries (`role status`, and an error if any). */
interface RelayerView {
  status?: string;
  relayer?: { role?: string; status?: string; error?: string | null }[];
}

/** The relayer's view (GET /v1/transactions/:txId) as one line; undefined while it does not know the transaction. */
async function relayerView(url: URL, txId: string): Promise<{ text: string; failed?: string } | undefined> {
  let view: RelayerView;
  try {
    const res = await fetch(new URL(`/v1/transactions/${txId}`, url));
    if (!res.ok) return undefined;
    view = (await res.json()) as RelayerView;
  } catch {
    return undefined; // the ledger is the authority; the relayer's view only adds detail
  }
  const entries = view.relayer ?? (view.status ? [{ status: view.status }] : []);
  if (entries.length === 0) return undefined;
  const text = entries.map((e) => [e.role, e.status].filter(Boolean).join(" ")).join(", ");
  const failed = entries.find((e) => e.status === "failed");
  return { text, failed: failed ? (failed.error ?? "failed") : undefined };
}

/** Follows the transaction until the ledger shows an end (or Manual: waits for a governor). */
async function follow(
  out: Output,
  s: Session,
  url: URL,
  txId: string,
  opts: SendOptions,
  deadline: bigint,
): Promise<string> {
  const now = () => BigInt(Math.floor(Date.now() / 1000));
  const giveUp = Date.now() + Number(opts.waitTimeout ?? deadline - now() + 60n) * 1000;
  let last = "";
  for (;;) {
    const [view, status] = await Promise.all([
      relayerView(url, txId),
      read("statusOf", () => s.gov.ledger.statusOf(txId)),
    ]);
    const state = enumName(TX_STATE, status.state);
    const steps = status.state === 0n ? "" : ` (${status.stepsDone}/${status.stepCount} steps)`;
    const line = `${txId}: ledger ${state}${steps}${view ? `, relayer ${view.text}` : ""}`;
    if (line !== last) out.progress(line);
    last = line;
    if (ENDED.has(state)) return state;
    if (status.state === 0n && view?.failed)
      throw new CliError(CliErrorCode.Refused, `the relayer gave up on ${txId} before opening it: ${view.failed}`, {
        txId,
        error: view.failed,
      });
    if (Date.now() > giveUp) throw failed(`gave up waiting for ${txId}: ledger ${state}`, { txId, state });
    await sleep(Number(opts.pollMs));
  }
}

/** One read's value as the intake answers it (relayer/src/tx/values.ts). */
interface ReadValue {
  step: number;
  side: string;
  success: boolean;
  resultHash: string;
  stateVersion: string;
  raw?: string;
  decoded?: unknown;
  function?: string;
  error?: { code: string; message: string };
}

/**
 * The values the transaction's reads returned, from the relayer that initiated it (checked there against the ledger).
 */
async function readsOf(url: URL, txId: string): Promise<ReadValue[]> {
  let res: Response;
  try {
    res = await fetch(new URL(`/v1/transactions/${txId}`, url));
  } catch (err) {
    throw failed(
      `--relayer ${url.origin}: cannot reach the relayer for the read's value (${networkReason(err)})`,
      { url: url.href },
      err,
    );
  }
  if (!res.ok) throw failed(`the relayer answered ${res.status} for ${txId}`, { txId, status: res.status });
  return ((await res.json()) as { reads?: ReadValue[] }).reads ?? [];
}

/** A read's value as one line: decoded where the relayer knows the contract's ABI, raw otherwise. */
function valueLine(r: ReadValue): string {
  const where = `step ${r.step} (${r.side} read${r.function ? ` ${r.function}` : ""}, version ${r.stateVersion})`;
  if (r.error) return `${where}: ${r.error.code}: ${r.error.message}`;
  if (!r.success) return `${where}: reverted ${r.raw}`;
  return `${where}: ${r.decoded === undefined ? r.raw : JSON.stringify(r.decoded)}`;
}

async function send(kind: keyof typeof Operation, opts: SendOptions, ctx: Env): Promise<void> {
  const url = relayerUrl(opts.relayer);
  const given = opts.steps === undefined ? undefined : jsonOf("--steps", opts.steps);
  if (given !== undefined && !Array.isArray(given)) throw usage("--steps", "expected a JSON array of steps");
  const { steps, extras } = given === undefined ? { steps: undefined, extras: [] } : splitSteps(given as unknown[]);
  payloadOf(opts); // bad --function/--args is bad input: refuse it before the keystore and the network
  const account = await appAccount(opts.appKeystore, ctx.env);
  const s = await session(opts, ctx);
  const built = await build(s, opts, Operation[kind], steps, account, extras);
  s.out.progress(
    `${kind} ${built.packet.selector} on pipe ${opts.pipe}: tx ${built.packet.txId}, sequence ` +
      `${built.packet.sequence}, signed by ${account.address}`,
  );
  const accepted = await post(url, built, steps, opts.mode);
  s.out.progress(`accepted by the relayer: ${accepted.status}`);
  const data = {
    txId: accepted.txId,
    status: accepted.status,
    pipeId: opts.pipe,
    sequence: accepted.sequence ?? built.packet.sequence,
    deadline: built.deadline,
  };
  if (!opts.wait) return s.out.result([accepted.txId], data);
  const state = await follow(s.out, s, url, accepted.txId, opts, built.deadline);
  const hasReads = kind === "read" || extras.some((e) => e.operation === 0);
  const reads = state === "Confirmed" && hasReads ? await readsOf(url, accepted.txId) : [];
  s.out.result([`${accepted.txId} ${state}`, ...reads.map(valueLine)], {
    ...data,
    state,
    ...(hasReads ? { reads } : {}),
  });
  if (state !== "Confirmed")
    throw new CliError(
      CliErrorCode.Failed,
      `transaction ${accepted.txId} ended ` +
        `${state}${state === "Manual" ? ": a governor resolves it (ccgp resolve)" : ""}`,
      { txId: accepted.txId, state },
    );
}

export function addSendCommands(root: Command, ctx: Env): void {
  const group = root
    .command("send")
    .description("sign a cross-chain request with the app's key and post it to the relayer");
  for (const kind of ["read", "write"] as const)
    withCommon(
      group
        .command(kind)
        .description(`a cross-chain ${kind} on the pipe's target contract`)
        .requiredOption("--relayer <url>", "the source relayer's app intake, e.g. http://127.0.0.1:8080")
        .requiredOption("--pipe <id>", "the pipe id", bytes32Arg)
        .requiredOption(
          "--app-keystore <file>",
          "the app's keystore (password in $CCGP_APP_KEYSTORE_PASSWORD or $CCGP_KEYSTORE_PASSWORD)",
        )
        .option("--function <signature>", "the target function, e.g. batch(bytes32)")
        .option("--args <json>", "its arguments as a JSON array", "[]")
        .option("--data <hex>", "or: the raw calldata", hexDataArg)
        .option(
          "--steps <json>",
          "the atomic steps, when more than the target step: " +
            '[{"side":"source","operation":"read","contract":"<name>","data":"0x…"}, {"side":"target"}]; ' +
            'or several target steps, each a packet: [{"side":"target"}, ' +
            '{"side":"target","operation":"write","function":"…","args":[…],"dependsOn":0,"versionKey":"0x…"}]',
        )
        .addOption(
          new Option(
            "--mode <mode>",
            "how the writes complete: compensation (applied at once, undone after a failure) or two-phase (prepared " +
              "on every side, then committed or rolled back; bound with the steps)",
          )
            .choices(["compensation", "two-phase"])
            .default("compensation"),
        )
        .option("--sequence <n>", "packet sequence (default: the pipe's last on the ledger + 1)", positiveArg)
        .option(
          "--tx-id <id>",
          "transaction id (default: random; derived from the steps when there are source steps)",
          bytes32Arg,
        )
        .option(
          "--deadline <seconds>",
          "seconds from now (default: the pipe's timeout, less a little slack)",
          positiveArg,
        )
        .option("--wait", "follow the transaction until it ends; exit 0 only when Confirmed")
        .option("--poll-ms <ms>", "how often --wait polls", positiveArg, 1000n)
        .option("--wait-timeout <seconds>", "how long --wait waits (default: until the deadline + 60 s)", uint64Arg),
    ).action((opts: SendOptions) => send(kind, opts, ctx));
}
