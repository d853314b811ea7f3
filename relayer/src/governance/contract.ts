/**
 * Typed contract calls over a `ChainPlugin`: view calls, writes that wait for their receipt, event decoding, and the
 * decoding of a revert into its custom error, so callers branch on `error.details.error` (e.g. `LedgerTxExists`)
 * instead of on message text.
 */
import {
  decodeEventLog,
  decodeFunctionResult,
  encodeFunctionData,
  type Abi,
  type Address,
  type ContractEventName,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type ContractFunctionReturnType,
  type DecodeEventLogReturnType,
  type Hex,
} from "viem";
import type { ChainLog, ChainPlugin, ChainReceipt, KeptWatch } from "../../../lib/chain/types";
import { revertOf, type Revert } from "../../../lib/chain/revert";
import { CcgpError } from "../../../lib/infra/errors";

export { decodeRevert, revertOf, type Revert } from "../../../lib/chain/revert";

/**
 * A contract call that failed. `code` is `CONTRACT_REVERTED` when the contract refused (then `details.error` names the
 * custom error and `details.args` holds its arguments) and `CONTRACT_CALL_FAILED` for transport faults.
 */
export class ContractError extends CcgpError<"CONTRACT_REVERTED" | "CONTRACT_CALL_FAILED"> {
  get revert(): Revert | undefined {
    return this.details.revert as Revert | undefined;
  }
  /** The custom error's name, if the contract refused. */
  get errorName(): string | undefined {
    return this.revert?.name;
  }
}

const jsonSafe = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));

type Readable<A extends Abi> = ContractFunctionName<A, "view" | "pure">;
type Writable<A extends Abi> = ContractFunctionName<A, "nonpayable" | "payable">;

export interface WriteOptions {
  /** Blocks the receipt must be buried under (1: mined). */
  confirmations?: number;
  timeoutMs?: number;
  gas?: bigint;
  /** See `WriteRequest.proceed`. */
  proceed?: Promise<boolean>;
}

/** One deployed contract on one chain. */
export class Contract<const A extends Abi> {
  constructor(
    readonly chain: ChainPlugin,
    readonly address: Address,
    readonly abi: A,
    readonly label: string,
  ) {}

  async read<N extends Readable<A>>(
    functionName: N,
    args: ContractFunctionArgs<A, "view" | "pure", N>,
    blockNumber?: bigint,
  ): Promise<ContractFunctionReturnType<A, "view" | "pure", N>> {
    const data = encodeFunctionData({ abi: this.abi, functionName, args } as never);
    let result: Hex;
    try {
      result = await this.chain.read({ to: this.address, data, blockNumber });
    } catch (error) {
      throw this._error(functionName, error);
    }
    return decodeFunctionResult({ abi: this.abi, functionName, data: result } as never) as never;
  }

  /**
   * `read` at the latest block, answered from an identical earlier read while no block since may hold a log of
   * `watch` (`ChainPlugin.readKept`): for views of state whose every change those contracts log. A plain read where
   * the plugin cannot tell.
   */
  async readKept<N extends Readable<A>>(
    functionName: N,
    args: ContractFunctionArgs<A, "view" | "pure", N>,
    watch: readonly KeptWatch[] | Promise<readonly KeptWatch[]>,
  ): Promise<ContractFunctionReturnType<A, "view" | "pure", N>> {
    const data = encodeFunctionData({ abi: this.abi, functionName, args } as never);
    let result: Hex;
    try {
      const request = { to: this.address, data };
      result = await (this.chain.readKept === undefined
        ? this.chain.read(request)
        : this.chain.readKept(request, await watch));
    } catch (error) {
      throw this._error(functionName, error);
    }
    return decodeFunctionResult({ abi: this.abi, functionName, data: result } as never) as never;
  }

  /** Sends the call from the chain plugin's signer and waits for its receipt; a refusal is decoded. */
  async write<N extends Writable<A>>(
    functionName: N,
    args: ContractFunctionArgs<A, "nonpayable" | "payable", N>,
    options: WriteOptions = {},
  ): Promise<ChainReceipt> {
    const data = encodeFunctionData({ abi: this.abi, functionName, args } as never);
    let receipt: ChainReceipt;
    try {
      const hash = await this.chain.write({ to: this.address, data, gas: options.gas, proceed: options.proceed });
      receipt = await this.chain.waitReceipt(hash, {
        confirmations: options.confirmations ?? 1,
        timeoutMs: options.timeoutMs,
      });
    } catch (error) {
      throw this._error(functionName, error);
    }
    if (receipt.status === "reverted")
      // It passed estimation, so the state moved before it was mined (a race with another sender): a transient fault.
      // The caller retries, and its check-first read finds out whether the work is done or no longer needed.
      throw new ContractError(
        "CONTRACT_CALL_FAILED",
        `${this.label}.${functionName} was mined reverted in ${receipt.transactionHash} (the state changed after ` +
          `estimation)`,
        { contract: this.label, functionName, tx: receipt.transactionHash, minedReverted: true },
      );
    return receipt;
  }

  /** This contract's events in `logs`, decoded; other contracts' logs and unknown events are skipped. */
  events<E extends ContractEventName<A>>(logs: readonly ChainLog[], eventName: E): DecodeEventLogReturnType<A, E>[] {
    const out: DecodeEventLogReturnType<A, E>[] = [];
    for (const log of logs) {
      if (log.address.toLowerCase() !== this.address.toLowerCase()) continue;
      try {
        const decoded = decodeEventLog({ abi: this.abi, data: log.data, topics: log.topics as never }) as {
          eventName: string;
        };
        // viem decodes by the log's own topic, whatever `eventName` says: keep only the event asked for.
        if (decoded.eventName === eventName) out.push(decoded as DecodeEventLogReturnType<A, E>);
      } catch {
        // another event of this contract
      }
    }
    return out;
  }

  private _error(functionName: string, error: unknown): ContractError {
    const revert = revertOf(error, this.abi);
    if (revert !== undefined)
      return new ContractError(
        "CONTRACT_REVERTED",
        `${this.label}.${functionName} refused: ${revert.name}(${revert.args.map(String).join(", ")})`,
        { contract: this.label, functionName, revert: jsonSafe(revert), error: revert.name },
        { cause: error },
      );
    const message = error instanceof Error ? error.message : String(error);
    return new ContractError(
      "CONTRACT_CALL_FAILED",
      `${this.label}.${functionName} failed: ${message}`,
      { contract: this.label, functionName },
      { cause: error },
    );
  }
}

/** True when `error` is a refusal by the contract with one of `names`. */
export function isRevert(error: unknown, ...names: string[]): error is ContractError {
  return error instanceof ContractError && error.code === "CONTRACT_REVERTED" && names.includes(error.errorName ?? "");
}
