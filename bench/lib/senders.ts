/** Sending transactions to local nodes fast: explicit nonces, tight receipt polling. */
import { readFileSync } from "node:fs";
import { Wallet, type BaseWallet, type JsonRpcProvider, type TransactionReceipt } from "ethers";
import type { LocalConsortium } from "../../scripts/lib/local-consortium";
import { localProvider } from "../../scripts/lib/local/accounts";

/** One account on one chain, nonces counted here so transactions can be sent back to back. */
export class Sender {
  private nonce = -1;
  private queue: Promise<unknown> = Promise.resolve();
  constructor(
    readonly wallet: BaseWallet,
    readonly provider: JsonRpcProvider,
    readonly chainId: number,
  ) {}

  async init(): Promise<this> {
    this.nonce = await this.provider.getTransactionCount(this.wallet.address, "pending");
    return this;
  }

  /**
   * Signs with the next nonce and sends, in call order (so calls keep their order on chain); does not wait for the
   * receipt. Sends go out one after the other: a transaction that reached the node before the one with the nonce
   * below it would wait in anvil's queue until some later transaction makes it mine again.
   */
  broadcast(to: string, data: string, gasLimit: bigint): Promise<string> {
    // The nonce is taken in turn and counted only once the node took the transaction: a failed send leaves no gap
    // that would hold every later transaction of this account in the node's queue.
    const sent = this.queue.then(async () => {
      const raw = await this.wallet.signTransaction({
        to,
        data,
        nonce: this.nonce,
        gasLimit,
        gasPrice: 5_000_000_000n,
        chainId: this.chainId,
        type: 0,
      });
      const hash = (await this.provider.send("eth_sendRawTransaction", [raw])) as string;
      this.nonce++;
      return hash;
    });
    this.queue = sent.catch(() => undefined);
    return sent;
  }

  /** {@link broadcast}, then waits for the receipt; a revert is an error naming `what`. */
  async send(to: string, data: string, gasLimit: bigint, what: string): Promise<TransactionReceipt> {
    const hash = await this.broadcast(to, data, gasLimit);
    const receipt = await receiptOf(this.provider, hash);
    if (receipt.status !== 1) throw new Error(`${what} reverted (tx ${hash})`);
    return receipt;
  }
}

/** Polls for a receipt every millisecond or so: the measurement should not wait on a coarse polling timer. */
export async function receiptOf(
  provider: JsonRpcProvider,
  hash: string,
  timeoutMs = 60_000,
): Promise<TransactionReceipt> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) return receipt;
    if (Date.now() > deadline) throw new Error(`no receipt for ${hash} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

export async function sender(c: LocalConsortium, keystore: string, chain: "governance" | "a" | "b"): Promise<Sender> {
  const wallet = await Wallet.fromEncryptedJson(readFileSync(keystore, "utf8"), c.password);
  const { url, chainId } = c.chains[chain];
  return new Sender(wallet, localProvider(url, chainId), chainId).init();
}
