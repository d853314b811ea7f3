import {
  BaseError,
  createPublicClient,
  defineChain,
  formatTransactionReceipt,
  keccak256,
  toEventSelector,
  toHex,
  type AbiEvent,
  type Address,
  type Chain,
  type Hex,
  type LocalAccount,
  type Log,
  type PublicClient,
  type RpcTransactionReceipt,
  type TransactionReceipt,
} from "viem";
import { CcgpError } from "../../../../lib/infra/errors";
import type { Logger } from "../../../../lib/infra/log";
import { ConfirmedLogFollower, type HeadFeed, type LogSource } from "../../../../lib/chain/follow";
import type { ChainKind, ChainPluginDeps } from "../registry";
import type {
  ChainLog,
  ChainPlugin,
  ChainReceipt,
  ChainStatus,
  EventQuery,
  KeptWatch,
  ReadRequest,
  SubscribeOptions,
  SubscriptionHandler,
  WriteRequest,
} from "../../../../lib/chain/types";
import { evmChainConfigSchema, type EvmChainConfig } from "../../config/chains";
import { EvmEvents, toChainLog } from "./events";
import { KeptReads, NewHeads, wsUrlOf } from "./heads";
import { ReceiptWaiter } from "./receipts";
import { JsonRpcHttp, rpcTransport } from "./rpc";
import { TxSender } from "./sender";

/** Per HTTP request; a synchronous send waits for its block within it. */
export const RPC_TIMEOUT_MS = 15_000;
/** Addresses whose code hash is kept (a relayer calls a handful of business contracts). */
const MAX_CODE_HASHES = 64;

type DecodedLog = Log<bigint, number, false> & { eventName?: string; args?: unknown };

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

/** EVM sub-chains over JSON-RPC (viem over kept-alive HTTP; new heads over WebSocket where the node has it). */
export class EvmChainPlugin implements ChainPlugin {
  readonly kind = "evm";
  readonly name: string;
  private readonly _chain: Chain;
  private readonly _rpc: JsonRpcHttp;
  private readonly _client: PublicClient;
  private readonly _signer?: LocalAccount;
  private readonly _sender?: TxSender;
  private readonly _receipts: ReceiptWaiter;
  private readonly _events: EvmEvents;
  private readonly _log: Logger;
  /** Heads pushed over WebSocket, where the node has an endpoint for them; the followers poll without. */
  private readonly _heads?: NewHeads;
  private readonly _kept = new KeptReads();
  /** The kept reads' bloom tests, by watched addresses. */
  private readonly _keptFeeds = new Map<string, HeadFeed>();
  private readonly _watchFeeds = new WeakMap<KeptWatch, HeadFeed>();
  /**
   * The code last read at each address and its hash: the code is read every time (it may change), hashed again only
   * when it did. keccak over a contract's code in JavaScript was the largest single item of a target relayer's CPU.
   */
  private readonly _codeHashes = new Map<string, { code: string; hash: Hex }>();

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
    this._rpc =
      deps.rpc?.get(_config.rpcUrl, deps.name) ?? new JsonRpcHttp(_config.rpcUrl, { timeoutMs: RPC_TIMEOUT_MS });
    // cacheTime 0: the follower must see each new head, not viem's cached block number.
    this._client = createPublicClient({
      chain: this._chain,
      transport: rpcTransport(this._rpc, { retryCount: 1 }),
      pollingInterval: _config.pollIntervalMs,
      cacheTime: 0,
    });
    this._events = new EvmEvents(this._rpc);
    const wsUrl = wsUrlOf(_config.rpcUrl, _config.wsUrl);
    if (wsUrl !== undefined)
      this._heads =
        deps.rpc?.heads(wsUrl, this._rpc, this._log) ?? new NewHeads(wsUrl, (m) => this._rpc.count(m), this._log);
    this._receipts = new ReceiptWaiter(
      this._rpc,
      deps.name,
      _config.pollIntervalMs,
      (error) => this._log.debug({ err: error }, "receipt poll failed; retrying"),
      (hash) => {
        this._log.warn({ hash }, "the node dropped a sent transaction; the nonce is read from the node again");
        this._sender?.forgetNonce();
      },
    );
    if (this._signer !== undefined)
      this._sender = new TxSender(this._rpc, this._client, this._signer, this._chain, this._log, {
        sync: _config.sendSync,
      });
  }

  async connect(): Promise<ChainStatus> {
    const status = await this.status();
    if (status.chainId !== this._config.chainId)
      throw new CcgpError(
        "CHAIN_ID_MISMATCH",
        `chains.${this.name}: node at ${this._config.rpcUrl} serves chain ${status.chainId}, ` +
          `config says ${this._config.chainId}`,
        { chain: this.name, expected: this._config.chainId, actual: status.chainId },
      );
    this._log.info({ chainId: status.chainId, height: status.height.toString() }, "connected");
    return status;
  }

  async status(): Promise<ChainStatus> {
    try {
      const answers = await this._rpc.batch([
        { method: "eth_chainId" },
        { method: "eth_blockNumber" },
        { method: "eth_syncing" },
      ]);
      const failed = answers.find((a) => a instanceof Error);
      if (failed !== undefined) throw failed;
      const [chainId, height, syncing] = answers as [Hex, Hex, unknown];
      return { chainId: Number(BigInt(chainId)), height: BigInt(height), syncing: syncing !== false };
    } catch (error) {
      throw new CcgpError(
        "CHAIN_UNREACHABLE",
        `chains.${this.name}: node at ${this._config.rpcUrl} does not answer: ${shortMessage(error)}`,
        { chain: this.name, rpcUrl: this._config.rpcUrl },
        { cause: error },
      );
    }
  }

  /** The pushed head while new heads are pushed (no call), else `eth_blockNumber`. */
  async head(): Promise<bigint> {
    const heads = this._heads;
    const pushed = heads?.top();
    if (pushed !== undefined) return pushed;
    const since = heads?.liveSince();
    const height = await this._events.head();
    heads?.seen(height, since);
    return height;
  }

  timestamp(): Promise<bigint> {
    return this._events.timestamp();
  }

  sent(): Promise<void> {
    return this._events.sent();
  }

  events(query: EventQuery): Promise<ChainLog[]> {
    return this._events.events(query);
  }

  proof(address: Address, slots: readonly Hex[], blockNumber: bigint): Promise<unknown> {
    return this._events.proof(address, slots, blockNumber);
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

  /** See `ChainPlugin.readKept`: the pushed heads tell what happened since a kept answer was read. */
  readKept(request: ReadRequest, watch: readonly KeptWatch[]): Promise<Hex> {
    if (this._heads === undefined || request.blockNumber !== undefined) return this.read(request);
    const heads = this._heads;
    const feeds = watch.map((w) => {
      // By the watch object first: its key hashes every event's signature (viem's selector cache is an LRU).
      let feed = this._watchFeeds.get(w);
      if (feed !== undefined) return feed;
      const key = [...w.address.map((a) => a.toLowerCase()), ...(w.events ?? []).map(toEventSelector)].join();
      feed = this._keptFeeds.get(key);
      if (feed === undefined) this._keptFeeds.set(key, (feed = heads.feed([...w.address], w.events)));
      this._watchFeeds.set(w, feed);
      return feed;
    });
    return this._kept.read(request, feeds, heads.top(), (at) => this.read({ ...request, blockNumber: at }));
  }

  async codeHash(address: Address, blockNumber?: bigint): Promise<Hex> {
    try {
      const code = (await this._rpc.request("eth_getCode", [
        address,
        blockNumber === undefined ? "latest" : toHex(blockNumber),
      ])) as Hex;
      const key = address.toLowerCase();
      const kept = this._codeHashes.get(key);
      if (kept !== undefined && kept.code === code) return kept.hash;
      const hash = keccak256(code);
      if (this._codeHashes.size >= MAX_CODE_HASHES) this._codeHashes.clear();
      this._codeHashes.set(key, { code, hash });
      return hash;
    } catch (error) {
      throw new CcgpError(
        "CHAIN_READ_FAILED",
        `chains.${this.name}: the code of ${address} could not be read: ${shortMessage(error)}`,
        { chain: this.name, to: address },
        { cause: error },
      );
    }
  }

  write(request: WriteRequest): Promise<Hex> {
    const sender = this._sender;
    if (sender === undefined)
      return Promise.reject(
        new CcgpError("CHAIN_NO_SIGNER", `chains.${this.name}: no signer configured, cannot write`, {
          chain: this.name,
        }),
      );
    return sender.send(request).then(
      (hash) => (this._log.debug({ hash, to: request.to }, "transaction sent"), hash),
      (error: unknown) => {
        if (error instanceof CcgpError && error.code === "CHAIN_WRITE_CANCELLED") throw error;
        throw new CcgpError(
          "CHAIN_WRITE_FAILED",
          `chains.${this.name}: transaction to ${request.to} from ${sender.address} failed: ${shortMessage(error)}`,
          { chain: this.name, to: request.to, from: sender.address },
          { cause: error },
        );
      },
    );
  }

  async transactionInput(hash: Hex): Promise<{ to: Address | null; input: Hex } | null> {
    const tx = (await this._rpc.request("eth_getTransactionByHash", [hash])) as {
      to: Address | null;
      input: Hex;
    } | null;
    return tx === null ? null : { to: tx.to, input: tx.input };
  }

  async getReceipt(hash: Hex): Promise<ChainReceipt | null> {
    const raw = (await this._rpc.request("eth_getTransactionReceipt", [hash])) as RpcTransactionReceipt | null;
    return raw === null ? null : toChainReceipt(formatTransactionReceipt(raw));
  }

  async waitReceipt(hash: Hex, options: { confirmations?: number; timeoutMs?: number } = {}): Promise<ChainReceipt> {
    const confirmations = options.confirmations ?? 1;
    // A synchronous send brought its receipt back: mined is one confirmation; deeper ones are waited for.
    const brought = this._sender?.takeReceipt(hash);
    const receipt = toChainReceipt(
      brought !== undefined && confirmations <= 1
        ? formatTransactionReceipt(brought)
        : await this._receipts.wait(hash, confirmations, options.timeoutMs ?? 60_000),
    );
    this._log.debug({ hash, block: receipt.blockNumber.toString() }, "receipt");
    return receipt;
  }

  subscribe(options: SubscribeOptions, handler: SubscriptionHandler, signal: AbortSignal): Promise<void> {
    const follower = new ConfirmedLogFollower(this._logSource(options.address, options.events), {
      ...options,
      pollIntervalMs: this._config.pollIntervalMs,
      maxBlockRange: this._config.maxBlockRange,
      reorgWindow: this._config.reorgWindow,
      heads: this._heads?.feed(options.address, options.events),
    });
    return follower.run(handler, signal);
  }

  private _logSource(address: Address | Address[] | undefined, events: readonly AbiEvent[] | undefined): LogSource {
    const client = this._client;
    const rpc = this._rpc;
    const hashOf = (answer: unknown): Hex | null => {
      if (answer instanceof Error) throw answer;
      return answer === null ? null : (answer as { hash: Hex }).hash;
    };
    const block = (height: bigint) => ({ method: "eth_getBlockByNumber", params: [`0x${height.toString(16)}`, false] });
    return {
      head: async () => BigInt((await rpc.request("eth_blockNumber")) as Hex),
      headAndHash: async (height) => {
        const [head, hash] = await rpc.batch([{ method: "eth_blockNumber" }, block(height)]);
        if (head instanceof Error) throw head;
        return { head: BigInt(head as Hex), hash: hashOf(hash) };
      },
      blockHash: async (height) => hashOf(await rpc.request("eth_getBlockByNumber", block(height).params)),
      blockHashes: async (heights) => (await rpc.batch(heights.map(block))).map(hashOf),
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
