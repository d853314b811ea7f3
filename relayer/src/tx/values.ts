/**
 * The values a transaction's reads returned. The bytes exist only in the gateway's `ReturnDataRecorded` on the
 * sub-chain that ran the read, so each relayer serves its own: the initiator reads its source steps' values from its
 * gateway, and asks the target's relayer (mutual TLS, pinned, `POST /v1/results`) for the target steps'. Every value
 * is taken only when `keccak256(value)` is the result hash recorded on the ledger for that step: the hash the
 * verifiers checked against the sub-chain's receipt before they endorsed it. A relayer never vouches for a value by
 * itself. Values above `limits.maxResultBytes` are not carried (`RESULT_TOO_LARGE`, with their size and hash).
 */
import { decodeFunctionResult, keccak256, toFunctionSelector, type Abi, type Hex } from "viem";
import { CcgpError } from "../../../lib/infra/errors";
import { businessAbi } from "../../../lib/abi/business";
import { Side } from "../../../lib/domain/ledger-types";
import type { JournalEntry } from "./journal";
import type { TxContext } from "./context";
import { callRoutes } from "./routes";
import { gatewaySequence } from "./steps";

/** One read's value as an app gets it. */
export interface ReadValue {
  step: number;
  side: "source" | "target";
  success: boolean;
  /** The recorded result hash: keccak256 of `raw`. */
  resultHash: Hex;
  /** The state version the read saw, as recorded. */
  stateVersion: string;
  /** The return data (revert data of a failed read); absent when not carried (`error`). */
  raw?: Hex;
  /** `raw` decoded by the target contract's ABI where the relayer knows it (JSON: integers as strings). */
  decoded?: unknown;
  /** The function that was read, when its ABI is known. */
  function?: string;
  error?: { code: ValueErrorCode; message: string };
}

export type ValueErrorCode = "RESULT_TOO_LARGE" | "RESULT_MISMATCH" | "RESULT_UNAVAILABLE";

/** What a receiver answers for one of its steps (`POST /v1/results`). */
export interface ServedResult {
  step: number;
  returnData?: Hex;
  bytes?: number;
  error?: { code: ValueErrorCode; message: string };
}

interface Recorded {
  step: number;
  operation: number;
  success: boolean;
  resultHash: Hex;
  stateVersion: bigint;
}

/** The transaction's recorded results, by step (`ResultRecorded` on the ledger). */
async function recorded(rt: Pick<TxContext, "gov" | "govLogs">, entry: JournalEntry): Promise<Map<number, Recorded>> {
  const logs = await rt.govLogs.events({
    address: rt.gov.ledger.address,
    abi: rt.gov.ledger.abi,
    eventName: "ResultRecorded",
    args: { txId: entry.txId },
    fromBlock: entry.govFromBlock,
  });
  return new Map(
    logs.map(({ args: a }) => [
      a.step,
      {
        step: a.step,
        operation: a.operation,
        success: a.success,
        resultHash: a.resultHash,
        stateVersion: a.stateVersion,
      },
    ]),
  );
}

/** The return data of one of this relayer's own steps, from its gateway's logs, bounded. */
export async function ownResult(
  rt: Pick<TxContext, "config" | "subchain">,
  entry: JournalEntry,
  step: number,
): Promise<ServedResult> {
  const execution = await rt.subchain.gateway.findExecution(
    entry.pipeId,
    gatewaySequence(entry, step),
    entry.subFromBlock,
  );
  const data = execution.returnData;
  if (data === null)
    return {
      step,
      error: { code: "RESULT_UNAVAILABLE", message: `step ${step} recorded no return data (a successful write)` },
    };
  const bytes = (data.length - 2) / 2;
  const limit = rt.config.limits.maxResultBytes;
  if (bytes > limit)
    return {
      step,
      bytes,
      error: {
        code: "RESULT_TOO_LARGE",
        message: `the value of step ${step} is ${bytes} bytes, above the limit of ${limit} (limits.maxResultBytes)`,
      },
    };
  return { step, returnData: data, bytes };
}

/** The receiver's answer to `POST /v1/results`: the return data of its steps of `txId` that read. */
export async function serveResults(
  rt: Pick<TxContext, "config" | "gov" | "govLogs" | "journal" | "subchain">,
  txId: Hex,
): Promise<ServedResult[]> {
  const entry = rt.journal.get(txId, "receiver");
  if (entry === null) throw new CcgpError("TX_UNKNOWN", `transaction ${txId} was not received here`, { txId });
  const reads = entry.plan.steps.flatMap((s, k) =>
    s.side === Side.Target && s.operation === 0 && s.data !== "0x" ? [k] : [],
  );
  const done = await recorded(rt, entry);
  return Promise.all(reads.filter((k) => done.has(k)).map((k) => ownResult(rt, entry, k)));
}

/** Asks the target's relayer for the values of the target steps. */
async function fetchTarget(rt: Pick<TxContext, "log" | "tls" | "view">, entry: JournalEntry): Promise<ServedResult[]> {
  // The route that executed the steps answers; another one does not know the transaction and the next is asked.
  const { service: target, response } = await callRoutes(
    rt,
    entry.pipeId,
    entry.txId,
    "/v1/results",
    {
      txId: entry.txId,
    },
    { timeoutMs: 15_000, retryable: (r) => r.status !== 200 },
  );
  const body = (response.body ?? {}) as { results?: ServedResult[]; error?: { code?: string; message?: string } };
  if (response.status !== 200 || !Array.isArray(body.results))
    throw new CcgpError(
      "RESULT_UNAVAILABLE",
      `target ${target.host}:${target.port} answered ${response.status} ` +
        `${body.error?.code ?? ""}: ${body.error?.message ?? ""}`,
      {
        txId: entry.txId,
      },
    );
  return body.results;
}

/**
 * The values of the transaction's recorded reads, each checked against the ledger's result hash. Target values come
 * from the target's relayer; when it cannot be reached, each says so (`RESULT_UNAVAILABLE`) and the rest is answered.
 */
export async function readValues(
  rt: Pick<TxContext, "config" | "gov" | "govLogs" | "log" | "subchain" | "tls" | "view">,
  entry: JournalEntry,
): Promise<ReadValue[]> {
  const done = await recorded(rt, entry);
  const reads = entry.plan.steps.flatMap((s, k) => (s.operation === 0 && done.has(k) ? [k] : []));
  if (reads.length === 0) return [];
  const targetReads = reads.filter((k) => entry.plan.steps[k]!.side === Side.Target);
  let served = new Map<number, ServedResult>();
  let unavailable: string | undefined;
  if (targetReads.length > 0) {
    try {
      served = new Map((await fetchTarget(rt, entry)).map((r) => [r.step, r]));
    } catch (error) {
      unavailable = error instanceof Error ? error.message : String(error);
    }
  }
  return Promise.all(
    reads.map(async (k) => {
      const step = entry.plan.steps[k]!;
      const r = done.get(k)!;
      const base: ReadValue = {
        step: k,
        side: step.side === Side.Target ? "target" : "source",
        success: r.success,
        resultHash: r.resultHash,
        stateVersion: r.stateVersion.toString(),
      };
      const got = step.side === Side.Source ? await ownResult(rt, entry, k) : served.get(k);
      if (got === undefined)
        return {
          ...base,
          error: {
            code: "RESULT_UNAVAILABLE" as const,
            message: unavailable ?? `the target relayer has no value for step ${k}`,
          },
        };
      if (got.error !== undefined) return { ...base, error: got.error };
      const raw = got.returnData!.toLowerCase() as Hex;
      if (keccak256(raw) !== r.resultHash.toLowerCase())
        return {
          ...base,
          error: {
            code: "RESULT_MISMATCH" as const,
            message: `the value served for step ${k} does not hash to the recorded result hash`,
          },
        };
      return { ...base, raw, ...(r.success ? await decode(rt, entry, k, raw) : {}) };
    }),
  );
}

/**
 * Decodes a read's return data by the contract's ABI, when the relayer knows it: the contract's name comes from the
 * registry (the CNS name of the step's contract on its sub-chain), its ABI from the business ABIs the relayer ships.
 */
async function decode(
  rt: Pick<TxContext, "gov" | "view">,
  entry: JournalEntry,
  k: number,
  raw: Hex,
): Promise<{ decoded?: unknown; function?: string }> {
  const step = entry.plan.steps[k]!;
  const route = await rt.view.route(entry.pipeId);
  if (route === undefined) return {};
  const subchain = step.side === Side.Target ? route.targetSubchain : route.sourceSubchain;
  const record = await rt.gov.names.read("contractName", [subchain, step.contractName]);
  const abi = businessAbi(record.name);
  if (abi === undefined) return {};
  return decodeWith(abi, step.data.slice(0, 10) as Hex, raw);
}

/** `raw` decoded as the output of the function of `abi` whose selector is `selector` (nothing when none or unfit). */
export function decodeWith(abi: Abi, selector: Hex, raw: Hex): { decoded?: unknown; function?: string } {
  const fn = abi.find(
    (item) => item.type === "function" && toFunctionSelector(item).toLowerCase() === selector.toLowerCase(),
  );
  if (fn === undefined || fn.type !== "function") return {};
  try {
    const value = decodeFunctionResult({ abi: [fn], functionName: fn.name, data: raw });
    // Several named outputs: an object by name, as a single struct output already is.
    const named = fn.outputs.length > 1 && fn.outputs.every((o) => o.name) && Array.isArray(value);
    const shaped = named ? Object.fromEntries(fn.outputs.map((o, i) => [o.name!, (value as unknown[])[i]])) : value;
    return { decoded: jsonSafe(shaped), function: fn.name };
  } catch {
    return {};
  }
}

function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  return value;
}
