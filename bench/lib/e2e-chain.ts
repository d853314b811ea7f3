/**
 * The chain-bound path of one cross-chain write, without any relayer logic: the transactions a pair of relayers
 * would send for an app-initiated custody write A -> B (ledger open, gateway execute on B, the result, two
 * endorsements), signed locally with explicit nonces and sent straight to the nodes. Its throughput and latency are
 * the limit the relayers are measured against.
 */
import { readFileSync } from "node:fs";
import { Interface, Wallet, type BaseWallet, type JsonRpcProvider, type TransactionReceipt } from "ethers";
import type { Hex, LocalAccount } from "viem";
import { countersign, packetDomain, type SignedPacket } from "../../relayer/src/amdp";
import { loadKeystore } from "../../relayer/src/keys";
import { SubchainGateway__factory, TransactionLedger__factory } from "../../typechain-types";
import type { LocalConsortium } from "../../scripts/lib/local-consortium";
import { localProvider } from "../../scripts/lib/local/accounts";
import { appAccount, newBatch, nextSequence, signCustodyRequest } from "../../scripts/lib/local/scenario";
import { NO_DEPENDENCY, Side, resultSetHash, type LedgerResult } from "../../scripts/lib/ledger-types";

const ledgerIface: Interface = TransactionLedger__factory.createInterface();
const gatewayIface: Interface = SubchainGateway__factory.createInterface();
const GAS = { open: 1_500_000n, execute: 600_000n, record: 400_000n, endorse: 400_000n } as const;

/** One account on one chain, nonces counted here so transactions can be sent back to back. */
class Sender {
  private nonce = -1;
  constructor(
    readonly wallet: BaseWallet,
    readonly provider: JsonRpcProvider,
    readonly chainId: number,
  ) {}

  async init(): Promise<this> {
    this.nonce = await this.provider.getTransactionCount(this.wallet.address, "pending");
    return this;
  }

  /** Takes the next nonce at once (so calls keep their order on chain), then signs, sends and waits. */
  async send(to: string, data: string, gasLimit: bigint, what: string): Promise<TransactionReceipt> {
    const nonce = this.nonce++;
    const raw = await this.wallet.signTransaction({ to, data, nonce, gasLimit, gasPrice: 5_000_000_000n, chainId: this.chainId, type: 0 });
    const hash: string = await this.provider.send("eth_sendRawTransaction", [raw]);
    const receipt = await receiptOf(this.provider, hash);
    if (receipt.status !== 1) throw new Error(`${what} reverted (tx ${hash})`);
    return receipt;
  }
}

/** Polls for a receipt every millisecond or so: the measurement should not wait on a coarse polling timer. */
async function receiptOf(provider: JsonRpcProvider, hash: string, timeoutMs = 60_000): Promise<TransactionReceipt> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) return receipt;
    if (Date.now() > deadline) throw new Error(`no receipt for ${hash} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function sender(c: LocalConsortium, keystore: string, chain: "governance" | "a" | "b"): Promise<Sender> {
  const wallet = await Wallet.fromEncryptedJson(readFileSync(keystore, "utf8"), c.password);
  const { url, chainId } = c.chains[chain];
  return new Sender(wallet, localProvider(url, chainId), chainId).init();
}

export interface ChainPath {
  /** Signs the next packet (stage 1 by the app, stage 2 by A's proxy): not timed, the relayer path signs too. */
  sign(): Promise<SignedPacket & { proxySignature: Hex }>;
  /** Sends one whole transaction; returns its latency in ms. Call in sequence order: the open's nonce is taken at once. */
  run(signed: SignedPacket & { proxySignature: Hex }): Promise<number>;
  close(): void;
}

/** The direct path for the pipe A -> B: A's proxy opens and endorses, B's relayer executes, B's proxy records and endorses. */
export async function chainPath(c: LocalConsortium): Promise<ChainPath> {
  const pipe = c.pipes.aToB;
  const [a, b] = [c.business.a, c.business.b];
  const openerA = await sender(c, a.accounts.business.keystore, "governance");
  const recorderB = await sender(c, b.accounts.business.keystore, "governance");
  const executorB = await sender(c, b.accounts.relayer.keystore, "b");
  const app: LocalAccount = await appAccount(c, pipe);
  const proxyA = await loadKeystore(a.accounts.business.keystore, c.password);
  const domain = packetDomain(c.chains.governance.chainId, c.governance.ledger as Hex);
  let sequence = await nextSequence(c, pipe);
  const { batchId, dataHash } = newBatch("bench");

  const sign = async () => {
    const signed = await signCustodyRequest(c, app, { pipe, batchId, custodian: b.accounts.operator.address, dataHash, sequence: sequence++ });
    return { ...signed, proxySignature: await countersign(proxyA, domain, signed.packet, signed.signatures.app) };
  };
  const run = async (signed: SignedPacket & { proxySignature: Hex }): Promise<number> => {
    const { packet, payload, proxySignature } = signed;
    const start = performance.now();
    const step = { side: Side.Target, subchain: b.subchain.id, operation: 1, dependsOn: NO_DEPENDENCY };
    const openData = ledgerIface.encodeFunctionData("open", [[{ packet, appSignature: signed.signatures.app, proxySignature }], [step], packet.deadline]);
    await openerA.send(c.governance.ledger, openData, GAS.open, "ledger open");
    const execData = gatewayIface.encodeFunctionData("execute", [pipe.id, packet.sequence, pipe.contractNameHash, 1, payload]);
    const executed = await executorB.send(b.contracts.gateway, execData, GAS.execute, "gateway execute");
    const result = resultOf(executed, packet.txId, b.subchain.id as Hex);
    await recorderB.send(c.governance.ledger, ledgerIface.encodeFunctionData("recordResult", [result]), GAS.record, "recordResult");
    const hash = resultSetHash([result]);
    await Promise.all([
      openerA.send(c.governance.ledger, ledgerIface.encodeFunctionData("endorse", [packet.txId, hash]), GAS.endorse, "endorse A"),
      recorderB.send(c.governance.ledger, ledgerIface.encodeFunctionData("endorse", [packet.txId, hash]), GAS.endorse, "endorse B"),
    ]);
    return performance.now() - start;
  };
  const close = () => [openerA, recorderB, executorB].forEach((s) => s.provider.destroy());
  return { sign, run, close };
}

/** The ledger result of an `execute` receipt (its `InboundExecuted` event). */
function resultOf(receipt: TransactionReceipt, txId: Hex, subchain: Hex): LedgerResult {
  for (const log of receipt.logs) {
    const parsed = gatewayIface.parseLog(log);
    if (parsed?.name !== "InboundExecuted") continue;
    return {
      txId,
      step: 0,
      subchain,
      subchainTx: receipt.hash as Hex,
      blockNumber: BigInt(receipt.blockNumber),
      resultHash: parsed.args.resultHash as Hex,
      operation: 1,
      success: parsed.args.success as boolean,
      stateVersion: parsed.args.stateVersion as bigint,
    };
  }
  throw new Error(`no InboundExecuted in ${receipt.hash}`);
}
