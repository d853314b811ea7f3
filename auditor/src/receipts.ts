/**
 * Checks a traced transaction against its sub-chains: each recorded result's receipt is fetched from the
 * sub-chain's RPC and must exist, have succeeded, sit in the recorded block and hold the gateway's
 * `InboundExecuted` for the transaction's pipe (and the packet's sequence) whose result hash is the recorded one;
 * each compensation's receipt must hold the gateway's `Compensated` for the write. Only gateways the chain
 * registry ever registered for the sub-chain count.
 */
import {
  decodeEventLog,
  getAddress,
  isAddressEqual,
  TransactionReceiptNotFoundError,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from "viem";
import { namedArgs } from "../../lib/abi/events";
import { DEFAULT_ARTIFACTS_DIR, GATEWAY_ARTIFACT, loadAbi } from "./abi";
import { AuditorError, AuditorErrorCode } from "./errors";
import type { IndexStore } from "./store";
import type { TxTrace } from "./trace";

export type ReceiptProblemCode =
  | "unchecked"
  | "receipt-missing"
  | "reverted"
  | "block-mismatch"
  | "no-gateway-event"
  | "result-hash-mismatch"
  | "success-mismatch"
  | "operation-mismatch";

export interface ReceiptProblem {
  code: ReceiptProblemCode;
  message: string;
}

export interface ReceiptCheck {
  kind: "result" | "compensation";
  step: number;
  subchain: Hex;
  chainId: number | null;
  subchainTx: Hex;
  recordedBlock: string;
  receiptBlock: string | null;
  /** The gateway whose event matched (or the sub-chain's registered gateway). */
  gateway: Address | null;
  /** The inbound sequence of the step on the gateway (from the packet, else from the matched event). */
  sequence: string | null;
  recordedResultHash: Hex;
  /** The result hash in the gateway's event (InboundExecuted), when one was found. */
  eventResultHash: Hex | null;
  /** Whether the receipt could be fetched and checked at all. */
  checked: boolean;
  ok: boolean;
  problems: ReceiptProblem[];
}

export interface SubchainInfo {
  chainId: number;
  gateways: Address[];
  gateway: Address;
}

export interface InboundRecord {
  target: Address;
  operation: number;
  success: boolean;
  compensated: boolean;
}

/** The sub-chains' RPC endpoints, by chain id; checks each serves the chain id it is configured for. */
export class SubchainReader {
  private readonly _verified = new Map<number, Promise<void>>();
  readonly gatewayAbi: Abi;

  constructor(
    private readonly _clients: ReadonlyMap<number, PublicClient>,
    artifactsDir = DEFAULT_ARTIFACTS_DIR,
  ) {
    this.gatewayAbi = loadAbi(GATEWAY_ARTIFACT, artifactsDir);
  }

  has(chainId: number): boolean {
    return this._clients.has(chainId);
  }

  /** The receipt of `hash` on `chainId`, or null when the sub-chain has none. */
  async receipt(chainId: number, hash: Hex): Promise<TransactionReceipt | null> {
    const client = await this._client(chainId);
    try {
      return await client.getTransactionReceipt({ hash });
    } catch (error) {
      if (error instanceof TransactionReceiptNotFoundError) return null;
      throw error;
    }
  }

  /** What the gateway keeps about the inbound packet (pipe, sequence), at the sub-chain's latest block. */
  async inboundRecord(chainId: number, gateway: Address, pipeId: Hex, sequence: bigint): Promise<InboundRecord> {
    const client = await this._client(chainId);
    return (await client.readContract({
      address: gateway,
      abi: this.gatewayAbi,
      functionName: "inboundRecord",
      args: [pipeId, sequence],
    })) as InboundRecord;
  }

  private async _client(chainId: number): Promise<PublicClient> {
    const client = this._clients.get(chainId);
    if (client === undefined)
      throw new AuditorError(AuditorErrorCode.ChainUnreachable, `no RPC configured for sub-chain ${chainId}`, {
        chainId,
      });
    let verified = this._verified.get(chainId);
    if (verified === undefined) {
      verified = client.getChainId().then((actual) => {
        if (actual !== chainId)
          throw new AuditorError(
            AuditorErrorCode.ChainUnreachable,
            `the RPC configured for sub-chain ${chainId} serves chain ${actual}`,
            { chainId, actual },
          );
      });
      verified.catch(() => this._verified.delete(chainId));
      this._verified.set(chainId, verified);
    }
    await verified;
    return client;
  }
}

/** A sub-chain as the chain registry registered it (every gateway it ever had). */
export function subchainInfo(store: IndexStore, subchain: Hex): SubchainInfo | null {
  const row = store
    .statement("SELECT chain_id, gateway FROM subchains WHERE subchain_id = ?")
    .get(subchain.toLowerCase()) as { chain_id: string; gateway: Address } | undefined;
  if (row === undefined) return null;
  const gateways = (
    store
      .statement("SELECT DISTINCT gateway FROM subchain_gateways WHERE subchain_id = ?")
      .all(subchain.toLowerCase()) as Array<{ gateway: Address }>
  ).map((g) => g.gateway);
  return { chainId: Number(row.chain_id), gateways, gateway: row.gateway };
}

interface GatewayEvent {
  address: Address;
  name: string;
  args: Record<string, unknown>;
}

function gatewayEvents(receipt: TransactionReceipt, abi: Abi, gateways: Address[]): GatewayEvent[] {
  const out: GatewayEvent[] = [];
  for (const log of receipt.logs) {
    if (!gateways.some((g) => isAddressEqual(g, log.address))) continue;
    try {
      const { eventName, args } = decodeEventLog({ abi, topics: log.topics, data: log.data, strict: true });
      // Every gateway event names its arguments (an event with none decodes to no arguments).
      out.push({ address: getAddress(log.address), name: String(eventName), args: namedArgs(args) ?? {} });
    } catch {
      // a gateway log of another event shape: not one we check
    }
  }
  return out;
}

/** The sequence each step's packet gave it on the target gateway (target steps only, when packets were recovered). */
function packetSequences(trace: TxTrace): Map<number, string> {
  const out = new Map<number, string>();
  for (const step of trace.steps) {
    const packet = step.packet === null ? undefined : trace.packets[step.packet];
    if (packet !== undefined) out.set(step.index, packet.sequence);
  }
  return out;
}

/** Checks every result and compensation of `trace` against its sub-chain. */
export async function checkReceipts(
  store: IndexStore,
  trace: TxTrace,
  reader: SubchainReader,
): Promise<ReceiptCheck[]> {
  const sequences = packetSequences(trace);
  const checks: ReceiptCheck[] = [];
  for (const r of trace.results) {
    const check = await checkOne(store, reader, trace, "result", r, sequences.get(r.step) ?? null);
    if (check.sequence !== null && !sequences.has(r.step)) sequences.set(r.step, check.sequence);
    checks.push(check);
  }
  for (const c of trace.compensations)
    checks.push(await checkOne(store, reader, trace, "compensation", c, sequences.get(c.step) ?? null));
  return checks;
}

interface Recorded {
  step: number;
  subchain: Hex;
  subchainTx: Hex;
  blockNumber: string;
  resultHash: Hex;
  success: boolean;
  operation?: number;
}

async function checkOne(
  store: IndexStore,
  reader: SubchainReader,
  trace: TxTrace,
  kind: ReceiptCheck["kind"],
  r: Recorded,
  sequence: string | null,
): Promise<ReceiptCheck> {
  const info = subchainInfo(store, r.subchain);
  const check: ReceiptCheck = {
    kind,
    step: r.step,
    subchain: r.subchain,
    chainId: info?.chainId ?? null,
    subchainTx: r.subchainTx,
    recordedBlock: r.blockNumber,
    receiptBlock: null,
    gateway: info?.gateway ?? null,
    sequence,
    recordedResultHash: r.resultHash,
    eventResultHash: null,
    checked: false,
    ok: false,
    problems: [],
  };
  const problem = (code: ReceiptProblemCode, message: string) => check.problems.push({ code, message });
  if (info === null)
    return (problem("unchecked", `sub-chain ${r.subchain} is not in the chain registry's events`), check);
  if (!reader.has(info.chainId))
    return (problem("unchecked", `no RPC configured for sub-chain ${info.chainId}`), check);
  let receipt: TransactionReceipt | null;
  try {
    receipt = await reader.receipt(info.chainId, r.subchainTx);
  } catch (error) {
    return (
      problem("unchecked", `sub-chain ${info.chainId} RPC failed: ${(error as Error).message.split("\n")[0]}`),
      check
    );
  }
  check.checked = true;
  if (receipt === null) problem("receipt-missing", `no transaction ${r.subchainTx} on sub-chain ${info.chainId}`);
  else {
    check.receiptBlock = receipt.blockNumber.toString();
    if (receipt.status !== "success")
      problem("reverted", `transaction ${r.subchainTx} reverted on sub-chain ${info.chainId}`);
    if (receipt.blockNumber.toString() !== r.blockNumber)
      problem(
        "block-mismatch",
        `the receipt is in block ${receipt.blockNumber}, the ledger recorded block ${r.blockNumber}`,
      );
    const events = gatewayEvents(receipt, reader.gatewayAbi, info.gateways);
    if (kind === "result") matchInbound(check, trace, r, events, problem);
    else matchCompensation(check, trace, r, events, problem);
  }
  check.ok = check.problems.length === 0;
  return check;
}

type Problem = (code: ReceiptProblemCode, message: string) => void;

function matchInbound(
  check: ReceiptCheck,
  trace: TxTrace,
  r: Recorded,
  events: GatewayEvent[],
  problem: Problem,
): void {
  const candidates = events.filter(
    (e) =>
      e.name === "InboundExecuted" &&
      String(e.args.pipeId) === trace.pipeId &&
      (check.sequence === null || String(e.args.sequence) === check.sequence),
  );
  const where = `pipe ${trace.pipeId}${check.sequence === null ? "" : ` sequence ${check.sequence}`}`;
  if (candidates.length === 0)
    return problem("no-gateway-event", `the receipt holds no InboundExecuted of the registered gateway for ${where}`);
  const match = candidates.find((e) => e.args.resultHash === r.resultHash) ?? candidates[0]!;
  check.gateway = match.address;
  check.sequence = String(match.args.sequence);
  check.eventResultHash = match.args.resultHash as Hex;
  if (match.args.resultHash !== r.resultHash)
    problem(
      "result-hash-mismatch",
      `the gateway's result hash is ${String(match.args.resultHash)}, the ledger recorded ${r.resultHash}`,
    );
  if (match.args.success !== r.success)
    problem(
      "success-mismatch",
      `the gateway recorded success = ${String(match.args.success)}, the ledger success = ${r.success}`,
    );
  if (r.operation !== undefined && Number(match.args.operation) !== r.operation)
    problem(
      "operation-mismatch",
      `the gateway ran operation ${String(match.args.operation)}, the ledger recorded ${r.operation}`,
    );
}

function matchCompensation(
  check: ReceiptCheck,
  trace: TxTrace,
  r: Recorded,
  events: GatewayEvent[],
  problem: Problem,
): void {
  const candidates = events.filter(
    (e) =>
      e.name === "Compensated" &&
      String(e.args.pipeId) === trace.pipeId &&
      (check.sequence === null || String(e.args.sequence) === check.sequence),
  );
  const where = `pipe ${trace.pipeId}${check.sequence === null ? "" : ` sequence ${check.sequence}`}`;
  if (candidates.length === 0)
    return problem("no-gateway-event", `the receipt holds no Compensated of the registered gateway for ${where}`);
  const match = candidates[0]!;
  check.gateway = match.address;
  check.sequence = String(match.args.sequence);
  if (match.args.success !== r.success)
    problem(
      "success-mismatch",
      `the gateway's compensation success = ${String(match.args.success)}, the ledger recorded ${r.success}`,
    );
}
