/**
 * One recorded result, checked on its own sub-chain through the verifier's own node: the sub-chain transaction must
 * exist in the recorded block, have succeeded, be deep enough, and carry the registered gateway's `InboundExecuted`
 * for the transaction's pipe with exactly the recorded operation, outcome, result hash and state version.
 */
import { zeroHash, type Address, type Hex } from "viem";
import type { ChainPlugin } from "../../../lib/chain/types";
import { CcgpError } from "../../../lib/infra/errors";
import { gatewayAbi } from "../governance/abi";
import { Contract } from "../governance/contract";
import type { LedgerResult } from "../../../lib/domain/ledger-types";

const MAX_UINT64 = (1n << 64n) - 1n;

/** The sub-chain a result names, as this verifier reaches it: its own node and the registered gateway. */
export interface SubchainView {
  chain: ChainPlugin;
  gateway: Address;
  confirmations: number;
}

/** `ok`, or the reason the sub-chain contradicts the record. */
export type Observation = { ok: true } | { ok: false; reason: string };

/** Not decidable yet (not deep enough, the node behind): asked again on the next round. */
export class NotYet extends CcgpError<"VERIFY_NOT_YET"> {}

export async function observeResult(view: SubchainView, pipeId: Hex, r: LedgerResult): Promise<Observation> {
  const where = `step ${r.step} (tx ${r.subchainTx}, block ${r.blockNumber})`;
  if (r.subchainTx === zeroHash) return { ok: false, reason: `${where}: no sub-chain transaction was recorded` };
  const [receipt, status] = await Promise.all([view.chain.getReceipt(r.subchainTx), view.chain.status()]);
  if (receipt === null) {
    // Absent while the node has not reached the recorded block plus the depth: it may still come.
    if (status.height < r.blockNumber + BigInt(view.confirmations))
      throw new NotYet("VERIFY_NOT_YET", `${where}: the node of ${view.chain.name} is at block ${status.height}`);
    return { ok: false, reason: `${where}: no such transaction on ${view.chain.name}` };
  }
  if (receipt.blockNumber !== r.blockNumber) return { ok: false, reason: `${where}: mined in block ${receipt.blockNumber}` };
  if (receipt.status !== "success") return { ok: false, reason: `${where}: the sub-chain transaction reverted` };
  if (status.height - receipt.blockNumber < BigInt(view.confirmations))
    throw new NotYet("VERIFY_NOT_YET", `${where}: not ${view.confirmations} blocks deep on ${view.chain.name} yet`);
  const gateway = new Contract(view.chain, view.gateway, gatewayAbi, "SubchainGateway");
  const matches = gateway
    .events(receipt.logs, "InboundExecuted")
    .some(
      (e) =>
        e.args.pipeId.toLowerCase() === pipeId.toLowerCase() &&
        e.args.operation === r.operation &&
        e.args.success === r.success &&
        e.args.resultHash === r.resultHash &&
        (e.args.stateVersion > MAX_UINT64 ? MAX_UINT64 : e.args.stateVersion) === r.stateVersion,
    );
  return matches ? { ok: true } : { ok: false, reason: `${where}: the gateway ${view.gateway} logged no execution of pipe ${pipeId} with the recorded outcome` };
}
