/**
 * The chain-bound path of one cross-chain write, without any relayer logic: the transactions a pair of relayers
 * would send for an app-initiated custody write A -> B (ledger open, gateway execute on B, the result, two
 * endorsements), signed locally with explicit nonces and sent straight to the nodes. Its throughput and latency are
 * the limit the relayers are measured against.
 */
import { Interface, type TransactionReceipt } from "ethers";
import type { Hex, LocalAccount } from "viem";
import { countersign, packetDomain, type SignedPacket } from "../../lib/amdp";
import { loadKeystore } from "../../relayer/src/keys";
import { attestationOf, signAttestation } from "../../relayer/src/attest/attestation";
import { SubchainGateway__factory, TransactionLedger__factory } from "../../typechain-types";
import type { LocalConsortium } from "../../scripts/lib/local-consortium";
import { sender } from "./senders";
import { appAccount, newBatch, nextSequence, signCustodyRequest } from "../../scripts/lib/local/scenario";
import { NO_DEPENDENCY, Side, resultSetHash, type LedgerResult } from "../../lib/domain/ledger-types";

const ledgerIface: Interface = TransactionLedger__factory.createInterface();
const gatewayIface: Interface = SubchainGateway__factory.createInterface();
const GAS = { open: 1_500_000n, execute: 600_000n, record: 400_000n, endorse: 400_000n } as const;

/** The chain-bound figures the relayer path is compared with. */
export interface ChainBound {
  p50: number;
  p99: number;
  tps: number;
  /** The governance node's CPU per transaction (ms) in the chain-bound throughput phase. */
  governanceCpuMs: number;
}

export interface ChainPath {
  /** Signs the next packet (stage 1 by the app, stage 2 by A's proxy): not timed, the relayer path signs too. */
  sign(): Promise<SignedPacket & { proxySignature: Hex }>;
  /**
   * Sends one whole transaction; returns its latency in ms. Call in sequence order: the open takes its place in the
   * account's send order at once.
   */
  run(signed: SignedPacket & { proxySignature: Hex }): Promise<number>;
  close(): void;
}

/** The three anvil processes, by chain. */
export function nodePids(c: LocalConsortium): Record<string, number> {
  return {
    "governance node": c.chains.governance.pid,
    "sub-chain A node": c.chains.a.pid,
    "sub-chain B node": c.chains.b.pid,
  };
}

/**
 * The direct path for the pipe A -> B: A's proxy opens, B's relayer executes, B's proxy records and endorses, and the
 * Audit Office's verifier endorses (a confirmation needs a non-party; the verifier process must not run meanwhile:
 * it would send from the same key).
 */
export async function chainPath(c: LocalConsortium): Promise<ChainPath> {
  const pipe = c.pipes.aToB;
  const [a, b] = [c.business.a, c.business.b];
  const openerA = await sender(c, a.accounts.business.keystore, "governance");
  const recorderB = await sender(c, b.accounts.business.keystore, "governance");
  const auditor = await sender(c, c.accounts.auditor.keystore, "governance");
  const executorB = await sender(c, b.accounts.relayer.keystore, "b");
  const app: LocalAccount = await appAccount(c, pipe);
  const proxyA = await loadKeystore(a.accounts.business.keystore, c.password);
  // The Audit Office's attester key (the gateways' 1-of-1 set): its signature is part of the path.
  const attester = await loadKeystore(c.accounts.auditor.keystore, c.password);
  const domain = packetDomain(c.chains.governance.chainId, c.governance.ledger as Hex);
  let sequence = await nextSequence(c, pipe);
  const { batchId, dataHash } = newBatch("bench");

  const sign = async () => {
    const signed = await signCustodyRequest(c, app, {
      pipe,
      batchId,
      custodian: b.accounts.operator.address,
      dataHash,
      sequence: sequence++,
    });
    return { ...signed, proxySignature: await countersign(proxyA, domain, signed.packet, signed.signatures.app) };
  };
  const run = async (signed: SignedPacket & { proxySignature: Hex }): Promise<number> => {
    const { packet, payload, proxySignature } = signed;
    const start = performance.now();
    const step = { side: Side.Target, subchain: b.subchain.id, operation: 1, dependsOn: NO_DEPENDENCY };
    const openData = ledgerIface.encodeFunctionData("open", [
      [{ packet, appSignature: signed.signatures.app, proxySignature }],
      [step],
      packet.deadline,
    ]);
    await openerA.send(c.governance.ledger, openData, GAS.open, "ledger open");
    const call = {
      txId: packet.txId,
      pipeId: pipe.id as Hex,
      sequence: packet.sequence,
      deadline: packet.deadline,
      contractName: pipe.contractNameHash as Hex,
      operation: 1,
      data: payload,
    };
    const attestation = await signAttestation(
      attester,
      c.chains.b.chainId,
      attestationOf(call, b.subchain.id as Hex, b.contracts.gateway as Hex),
    );
    const { data: _data, ...fields } = call;
    const execData = gatewayIface.encodeFunctionData("execute", [fields, payload, attestation]);
    const executed = await executorB.send(b.contracts.gateway, execData, GAS.execute, "gateway execute");
    const result = resultOf(executed, packet.txId, b.subchain.id as Hex);
    await recorderB.send(
      c.governance.ledger,
      ledgerIface.encodeFunctionData("recordResult", [result]),
      GAS.record,
      "recordResult",
    );
    const hash = resultSetHash([result]);
    await Promise.all([
      auditor.send(
        c.governance.ledger,
        ledgerIface.encodeFunctionData("endorse", [packet.txId, hash]),
        GAS.endorse,
        "endorse (Audit Office)",
      ),
      recorderB.send(
        c.governance.ledger,
        ledgerIface.encodeFunctionData("endorse", [packet.txId, hash]),
        GAS.endorse,
        "endorse B",
      ),
    ]);
    return performance.now() - start;
  };
  const close = () => [openerA, recorderB, auditor, executorB].forEach((s) => s.provider.destroy());
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
