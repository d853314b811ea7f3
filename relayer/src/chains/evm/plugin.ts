import {
  BlockNotFoundError,
  BaseError,
  TransactionReceiptNotFoundError,
  WaitForTransactionReceiptTimeoutError,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type AbiEvent,
  type Address,
  type Chain,
  type Hex,
  type LocalAccount,
  type Log,
  type PublicClient,
  type TransactionReceipt,
} from "viem";
import { CcgpError } from "../../errors";
import type { Logger } from "../../log";
import { ConfirmedLogFollower, type LogSource } from "../follow";
import type { ChainKind, ChainPluginDeps } from "../registry";
import type {
  ChainLog,
  ChainPlugin,
  ChainReceipt,
  ChainStatus,
  ReadRequest,
  SubscribeOptions,
  SubscriptionHandler,
  WriteRequest,
} from "../types";
import { evmChainConfigSchema, type EvmChainConfig } from "./config";

type DecodedLog = Log<bigint, number, false> & { eventName?: string; args?: unknown };

function toChainLog(log: DecodedLog): ChainLog {
  if (log.blockNumber === null || log.blockHash === null || log.transactionHash === null || log.logIndex === null)
    throw new CcgpError("CHAIN_LOG_PENDING", "node returned a log without its block (pending log)", {
      address: log.address,
    });
  return {
    blockNumber: log.blockNumber,
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
    logIndex: log.logIndex,
    address: log.address,
    topics: log.topics,
    data: log.data,
    ...(log.eventName === undefined ? {} : { eventName: log.eventName, args: log.args }),
  };
}

function toChainReceipt(receipt: TransactionReceipt): ChainReceipt {
  return {
    transactionHash: receipt.transactionHash,
    blockNumber: receipt.blockNumber,
    blockHash: receipt.blockHash,
    status: receipt.status,
    gasUsed: receipt.gasUsed,
    logs: receipt.logs.map((l) => toChainLog(l as DecodedLog)),
  };
}

function shortMessage(error: unknown): string {
  return error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error);
}

/** EVM sub-chains over JSON-RPC (viem, HTTP polling). */
export class EvmChainPlugin implements ChainPlugin {
  readonly kind = "evm";
  readonly name: string;
  private readonly _chain: Chain;
  private readonly _client: PublicClient;
  private readonly _signer?: LocalAccount;
  private readonly _log: Logger;
  /** Writes are serialised so two concurrent sends never pick the same nonce. */
  private _writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly _config: EvmChainConfig,
    deps: ChainPluginDeps,
  ) {
    this.name = deps.name;
    this._signer = deps.signer;
    this._log = deps.logger;
    this._chain = defineChain({
      id: _config.chainId,
      name: deps.name,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [_config.rpcUrl] } },
    });
    // cacheTime 0: the follower must see each new head, not viem's cached block number.
    this._client = createPublicClient({
      chain: this._chain,
      transport: http(_config.rpcUrl, { retryCount: 1, timeout: 10_000 }),
      pollingInterval: _config.pollIntervalMs,
      cacheTime: 0,
    });
  }

  async connect(): Promise<ChainStatus> {
    const status = await this.status();
    if (status.chainId !== this._config.chainId)
      throw new CcgpError(
        "CHAIN_ID_MISMATCH",
        `chains.${this.name}: node at ${this._config.rpcUrl} serves chain ${status.chainId}, config says ${this._config.chainId}`,
        { chain: this.name, expected: this._config.chainId, actual: status.chainId },
      );
    this._log.info({ chainId: status.chainId, height: status.height.toString() }, "connected");
    return status;
  }

  async status(): Promise<ChainStatus> {
    try {
      const [chainId, height, syncing] = await Promise.all([
        this._client.getChainId(),
        this._client.getBlockNumber(),
        // eth_syncing is standard but missing from viem's public RPC schema.
        (this._client.request as (args: { method: string }) => Promise<unknown>)({ method: "eth_syncing" }),
      ]);
      return { chainId, height, syncing: syncing !== false };
    } catch (error) {
      throw new CcgpError(
        "CHAIN_UNREACHABLE",
        `chains.${this.name}: node at ${this._config.rpcUrl} does not answer: ${shortMessage(error)}`,
        { chain: this.name, rpcUrl: this._config.rpcUrl },
        { cause: error },
      );
    }
  }

  async read(request: ReadRequest): Promise<Hex> {
    try {
      const { data } = await this._client.call({
        to: request.to,
        data: request.data,
        blockNumber: request.blockNumber,
      });
      return data ?? "0x";
    } catch (error) {
      throw new CcgpError(
        "CHAIN_READ_FAILED",
        `chains.${this.name}: call to ${request.to} failed: ${shortMessage(error)}`,
        { chain: this.name, to: request.to },
        { cause: error },
      );
    }
  }

  write(request: WriteRequest): Promise<Hex> {
    const signer = this._signer;
    if (signer === undefined)
      return Promise.reject(
        new CcgpError("CHAIN_NO_SIGNER", `chains.${this.name}: no signer configured, cannot write`, {
          chain: this.name,
        }),
      );
    const send = async (): Promise<Hex> => {
      const wallet = createWalletClient({ account: signer, chain: this._chain, transport: http(this._config.rpcUrl) });
      try {
        return await wallet.sendTransaction({
          to: request.to,
          data: request.data,
          gas: request.gas,
          value: request.value,
        });
      } catch (error) {
        throw new CcgpError(
          "CHAIN_WRITE_FAILED",
          `chains.${this.name}: transaction to ${request.to} from ${signer.address} failed: ${shortMessage(error)}`,
          { chain: this.name, to: request.to, from: signer.address },
          { cause: error },
        );
      }
    };
    const result = this._writes.then(send, send);
    this._writes = result.catch(() => undefined);
    return result;
  }

  async getReceipt(hash: Hex): Promise<ChainReceipt | null> {
    try {
      return toChainReceipt(await this._client.getTransactionReceipt({ hash }));
    } catch (error) {
      if (error instanceof TransactionReceiptNotFoundError) return null;
      throw error;
    }
  }

  async waitReceipt(hash: Hex, options: { confirmations?: number; timeoutMs?: number } = {}): Promise<ChainReceipt> {
    try {
      const receipt = await this._client.waitForTransactionReceipt({
        hash,
        confirmations: options.confirmations ?? 1,
        timeout: options.timeoutMs ?? 60_000,
        pollingInterval: this._config.pollIntervalMs,
      });
      return toChainReceipt(receipt);
    } catch (error) {
      if (error instanceof WaitForTransactionReceiptTimeoutError)
        throw new CcgpError("CHAIN_RECEIPT_TIMEOUT", `chains.${this.name}: no receipt for ${hash} in time`, {
          chain: this.name,
          hash,
        });
      throw error;
    }
  }

  subscribe(options: SubscribeOptions, handler: SubscriptionHandler, signal: AbortSignal): Promise<void> {
    const follower = new ConfirmedLogFollower(this._logSource(options.address, options.events), {
      ...options,
      pollIntervalMs: this._config.pollIntervalMs,
      maxBlockRange: this._config.maxBlockRange,
      reorgWindow: this._config.reorgWindow,
    });
    return follower.run(handler, signal);
  }

  private _logSource(address: Address | Address[] | undefined, events: readonly AbiEvent[] | undefined): LogSource {
    const client = this._client;
    return {
      head: () => client.getBlockNumber(),
      blockHash: async (height) => {
        try {
          return (await client.getBlock({ blockNumber: height })).hash;
        } catch (error) {
          if (error instanceof BlockNotFoundError) return null;
          throw error;
        }
      },
      logs: async (fromBlock, toBlock) => {
        const logs =
          events === undefined
            ? await client.getLogs({ address, fromBlock, toBlock })
            : await client.getLogs({ address, events, fromBlock, toBlock, strict: false });
        return (logs as DecodedLog[]).filter((l) => !l.removed).map(toChainLog);
      },
    };
  }
}

export const evmChainKind: ChainKind<EvmChainConfig> = {
  kind: "evm",
  configSchema: evmChainConfigSchema,
  create: (config: EvmChainConfig, deps: ChainPluginDeps) => new EvmChainPlugin(config, deps),
};
