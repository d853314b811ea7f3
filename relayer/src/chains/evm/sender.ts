/**
 * Pipelined transaction sending for one account. Gas estimation (the node executes the call: the costly part, and
 * where a revert is found and decoded) and the fee lookup run concurrently for all writes; only nonce assignment,
 * signing and `eth_sendRawTransaction` run one at a time, in the order `send` was called. So writes reach the node in
 * nonce order (a node never holds a gapped nonce) and a caller's order is the chain's order, while no write waits
 * for another's estimation round trip or receipt.
 *
 * Gas: the first write of a function (target and selector) is estimated; the estimate is remembered, and later
 * writes of that function get the largest estimate seen plus the margin, checked with one `eth_call` at that gas
 * limit instead of `eth_estimateGas` (anvil's estimate executes the call several times: about 8 ms for a ledger
 * `open`). The call finds a revert, or a need above the limit, as the estimate would; either way the write falls back
 * to the estimate, which decodes the revert or raises the limit learned.
 *
 * The nonce is counted here: read from the node (`pending`) once, then incremented per accepted send. A send that
 * fails is looked up by its hash: if the node has it, it counts; if not, the nonce is read from the node again
 * before the next send, so a failure never leaves a gap.
 *
 * Synchronous sends (EIP-7966 `eth_sendRawTransactionSync`, where the node has it): a write with no other write
 * waiting behind it is sent so, and the node answers with its receipt once it is mined, one round trip instead of a
 * send and receipt polls. Its turn is held until then (so a node still never sees a gapped nonce); a write that finds
 * others behind it is sent plainly, so a busy account keeps its writes pipelined. A node without the method is asked
 * once, then sent to plainly.
 */
import {
  RpcRequestError,
  keccak256,
  type Address,
  type Chain,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type RpcTransactionReceipt,
} from "viem";
import { CcgpError } from "../../../../lib/infra/errors";
import type { Logger } from "../../../../lib/infra/log";
import type { WriteRequest } from "../../../../lib/chain/types";
import type { JsonRpcHttp } from "./rpc";

/** Fees are looked up at most this often. */
const FEE_TTL_MS = 1_000;
/**
 * Head room on estimated gas: a write is estimated before the writes ahead of it (ours, pipelined, or another
 * relayer's) are mined, so the state it runs in may differ from the estimate's: e.g. the endorsement estimated before
 * the other verifier's is mined becomes the one that reaches the quorum, confirms and reports to the credit score.
 * Unused gas is not paid for.
 */
const GAS_MARGIN_PERCENT = 50n;
const GAS_MARGIN_FIXED = 150_000n;

/** How long a synchronous send is waited for before the node is taken for one that does not mine on arrival (ms). */
const SYNC_PATIENCE_MS = 1_000;
/** Receipts of synchronous sends kept for `takeReceipt`, at most (the oldest are dropped: waiters then poll). */
const KEPT_RECEIPTS = 256;

/** A node's answer to a method it does not have: JSON-RPC "method not found", or a refusal that says so. */
function isUnsupported(error: unknown): boolean {
  if (!(error instanceof RpcRequestError)) return false;
  return (
    error.code === -32601 ||
    error.code === -32004 ||
    /not (supported|found|available)|does not exist|unsupported/i.test(error.details)
  );
}

type Fees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { gasPrice: bigint };

interface Prepared {
  request: WriteRequest;
  gas: bigint;
  fees: Fees;
}

function withMargin(gas: bigint): bigint {
  return gas + (gas * GAS_MARGIN_PERCENT) / 100n + GAS_MARGIN_FIXED;
}

export class TxSender {
  private _nonce: number | undefined;
  /** The largest estimate seen per function: `to:selector`. */
  private readonly _learned = new Map<string, bigint>();
  private _tail: Promise<void> = Promise.resolve();
  /** Writes that took a place in the send order and have not given it up. */
  private _queued = 0;
  /** Whether the node has `eth_sendRawTransactionSync`: unknown until the first try. */
  private _sync: boolean | undefined;
  private readonly _receipts = new Map<Hex, RpcTransactionReceipt>();
  private _fees: { value: Promise<Fees>; at: number } | undefined;

  constructor(
    private readonly _rpc: JsonRpcHttp,
    private readonly _client: PublicClient,
    private readonly _signer: LocalAccount,
    private readonly _chain: Chain,
    private readonly _log: Logger,
    options: { sync?: boolean } = {},
  ) {
    if (options.sync === false) this._sync = false;
  }

  /** The receipt a synchronous send brought back, once (then forgotten); `undefined` if there is none. */
  takeReceipt(hash: Hex): RpcTransactionReceipt | undefined {
    const receipt = this._receipts.get(hash);
    this._receipts.delete(hash);
    return receipt;
  }

  /**
   * The node dropped a transaction it had taken (a reorg, a restart): the nonce is read from the node (`pending`,
   * which stops at the first gap) before the next send, so that send fills the gap and the ones behind it can be mined.
   */
  forgetNonce(): void {
    this._nonce = undefined;
  }

  get address(): Address {
    return this._signer.address;
  }

  /**
   * Estimates (unless `gas` is given), then signs and sends in call order; resolves with the hash once the node took
   * it.
   */
  async send(request: WriteRequest): Promise<Hex> {
    const turn = this._reserve();
    const [prepared, go] = await Promise.allSettled([this._prepare(request), request.proceed ?? true]);
    // The check decides first: a write it stops may well fail estimation (the work is done), and that is no fault.
    const refusal =
      go.status === "rejected"
        ? go.reason
        : !go.value
          ? new CcgpError(
              "CHAIN_WRITE_CANCELLED",
              `write to ${request.to} cancelled: its check said it is not needed`,
              { to: request.to },
            )
          : prepared.status === "rejected"
            ? prepared.reason
            : undefined;
    if (refusal !== undefined || prepared.status === "rejected") {
      // Nothing to send: give the place up now (the next write still waits for the ones before this one).
      turn.release();
      throw refusal;
    }
    await turn.ready;
    try {
      return await this._sendInTurn(prepared.value);
    } finally {
      turn.release();
    }
  }

  /** A place in the send order, taken when `send` is called. */
  private _reserve(): { ready: Promise<void>; release: () => void } {
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const ready = this._tail;
    this._tail = ready.then(() => done);
    this._queued += 1;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this._queued -= 1;
      resolve();
    };
    return { ready, release };
  }

  private async _prepare(request: WriteRequest): Promise<Prepared> {
    const [gas, fees] = await Promise.all([request.gas ?? this._gasFor(request), this._feesNow()]);
    return { request, gas, fees };
  }

  /** Learned gas checked by one call, else an estimate (which also decodes a revert). */
  private async _gasFor(request: WriteRequest): Promise<bigint> {
    const key = `${request.to.toLowerCase()}:${request.data.slice(0, 10)}`;
    const call = { account: this._signer.address, to: request.to, data: request.data, value: request.value };
    const learned = this._learned.get(key);
    if (learned !== undefined) {
      const gas = withMargin(learned);
      const fits = await this._client.call({ ...call, gas }).then(
        () => true,
        () => false,
      );
      if (fits) return gas;
    }
    const estimate = await this._client.estimateGas(call);
    if (learned === undefined || estimate > learned) this._learned.set(key, estimate);
    return withMargin(estimate);
  }

  private _feesNow(): Promise<Fees> {
    const now = Date.now();
    if (this._fees === undefined || now - this._fees.at > FEE_TTL_MS) {
      const value = this._lookupFees();
      this._fees = { value, at: now };
      value.catch(() => (this._fees = undefined));
    }
    return this._fees.value;
  }

  private async _lookupFees(): Promise<Fees> {
    try {
      const { maxFeePerGas, maxPriorityFeePerGas } = await this._client.estimateFeesPerGas({
        chain: this._chain,
        type: "eip1559",
      });
      return { maxFeePerGas, maxPriorityFeePerGas };
    } catch {
      // A chain without EIP-1559 (no base fee): legacy pricing.
      return { gasPrice: await this._client.getGasPrice() };
    }
  }

  private async _sendInTurn({ request, gas, fees }: Prepared): Promise<Hex> {
    const nonce =
      this._nonce ?? (await this._client.getTransactionCount({ address: this._signer.address, blockTag: "pending" }));
    const base = { chainId: this._chain.id, to: request.to, data: request.data, value: request.value, gas, nonce };
    const raw =
      "gasPrice" in fees
        ? await this._signer.signTransaction({ ...base, type: "legacy", gasPrice: fees.gasPrice })
        : await this._signer.signTransaction({ ...base, type: "eip1559", ...fees });
    const hash = keccak256(raw);
    try {
      // Alone in the order (this write's own place): nothing waits behind a synchronous send.
      if (this._sync !== false && this._queued === 1) await this._sendSync(raw, hash);
      else await this._rpc.request("eth_sendRawTransaction", [raw]);
    } catch (error) {
      if (await this._known(hash)) {
        this._nonce = nonce + 1;
        return hash;
      }
      this._nonce = undefined; // read again from the node before the next send: no gap, whatever happened
      throw error;
    }
    this._nonce = nonce + 1;
    return hash;
  }

  /**
   * Sends and waits for the block in one call. A node without the method gets the plain send, and is not asked
   * again. A node that has not mined it within `SYNC_PATIENCE_MS` (a chain with a block time, or one not mining)
   * is no longer waited for: the turn is given up once the node is seen to hold the transaction, its receipt is
   * polled for, and later writes are sent plainly.
   */
  private async _sendSync(raw: Hex, hash: Hex): Promise<void> {
    const answer = this._rpc.alone("eth_sendRawTransactionSync", [raw]) as Promise<RpcTransactionReceipt>;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), SYNC_PATIENCE_MS)));
    let receipt: RpcTransactionReceipt | "late";
    try {
      receipt = await Promise.race([answer, late]);
    } catch (error) {
      if (this._sync !== undefined || !isUnsupported(error)) throw error;
      this._sync = false;
      this._log.info(
        { chainId: this._chain.id },
        "node has no eth_sendRawTransactionSync: sending plainly, receipts by polling",
      );
      await this._rpc.request("eth_sendRawTransaction", [raw]);
      return;
    } finally {
      clearTimeout(timer);
    }
    if (receipt === "late") {
      this._sync = false;
      this._log.info(
        { chainId: this._chain.id, hash, patienceMs: SYNC_PATIENCE_MS },
        "node did not mine a synchronous send in time: sending plainly from now on",
      );
      answer.then(
        (r) => this._keep(hash, r),
        () => undefined,
      );
      if (!(await this._known(hash)))
        throw new Error(
          `node did not answer the synchronous send of ${hash} in ${SYNC_PATIENCE_MS} ms and does not have it`,
        );
      return;
    }
    this._sync = true;
    this._keep(hash, receipt);
  }

  private _keep(hash: Hex, receipt: RpcTransactionReceipt): void {
    this._receipts.set(hash, receipt);
    if (this._receipts.size > KEPT_RECEIPTS) this._receipts.delete(this._receipts.keys().next().value!);
  }

  /**
   * Whether the node has the transaction (a send that failed on the way back, or was retried, may still have arrived).
   */
  private async _known(hash: Hex): Promise<boolean> {
    try {
      return (await this._rpc.request("eth_getTransactionByHash", [hash])) !== null;
    } catch (error) {
      this._log.warn({ err: error, hash }, "could not look up a transaction whose send failed");
      return false;
    }
  }
}
