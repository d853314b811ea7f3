/**
 * One recorded result, checked on its own sub-chain through the verifier's own node: the sub-chain transaction must
 * exist (in the recorded block, or in the one a reorg inside the depth mined it again in), have succeeded, be deep
 * enough, and carry the registered gateway's `InboundExecuted` for the transaction's pipe with exactly the recorded
 * operation, outcome and result hash. The recorded state
 * version is checked by the step's {@link VersionCheck}. A two-phase write's results are its prepare and its commit:
 * the gateway's `TwoPhasePrepared` or `TwoPhaseCommitted` of the transaction, with the recorded hash and version.
 * When an auditor attested the called contract, its code in that block must be the attested code: a party relayer
 * that ran other code anyway is contradicted.
 */
import { zeroHash, type Address, type Hex } from "viem";
import type { ChainPlugin, ChainReceipt, ChainStatus } from "../../../lib/chain/types";
import { CcgpError } from "../../../lib/infra/errors";
import { gatewayAbi } from "../../../lib/abi/contracts";
import { Contract } from "../governance/contract";
import type { LedgerResult } from "../../../lib/domain/ledger-types";
import { keyedReadVersion } from "../crosschain/gateway";
import { twoPhaseLogOf } from "../crosschain/two-phase";

const MAX_UINT64 = (1n << 64n) - 1n;
const capped = (v: bigint): bigint => (v > MAX_UINT64 ? MAX_UINT64 : v);

/** The sub-chain a result names, as this verifier reaches it: its own node and the registered gateway. */
export interface SubchainView {
  chain: ChainPlugin;
  gateway: Address;
  confirmations: number;
  /** The code hash an auditor attested for a contract of this sub-chain (zero when none). */
  attestedCode(contract: Address): Promise<Hex>;
}

/**
 * What a recorded state version must be (the ledger's stale-read rule compares them): the target's contract-wide
 * version after the step (`InboundExecuted`); for a write that depends on a read, the version the gateway checked
 * it against (`DependentWriteChecked`); for a read such a write depends on, the version of the write's key as the
 * read saw it.
 */
export type VersionCheck =
  | { kind: "contract" }
  | { kind: "dependent" }
  | { kind: "keyed"; key: Hex }
  /**
   * A two-phase write: its prepare or commit (`TwoPhasePrepared` / `TwoPhaseCommitted`, see `crosschain/two-phase`).
   */
  | { kind: "two-phase" };

/** `ok` (with the key a dependent write was checked by), or the reason the sub-chain contradicts the record. */
export type Observation = { ok: true; versionKey?: Hex } | { ok: false; reason: string };

/** Not decidable yet (not deep enough, the node behind): asked again on the next round. */
export class NotYet extends CcgpError<"VERIFY_NOT_YET"> {}

/** What {@link observeResult} reads of a result's sub-chain: its receipt (none recorded: null) and the node's state. */
export type ResultReads = [ChainReceipt | null, ChainStatus];

/** The reads of {@link observeResult}, started apart so that they can go out beside others. */
export function readResult(view: SubchainView, r: LedgerResult): Promise<ResultReads> {
  const receipt = r.subchainTx === zeroHash ? Promise.resolve(null) : view.chain.getReceipt(r.subchainTx);
  return Promise.all([receipt, view.chain.status()]);
}

/** `reads`: {@link readResult} of this result, when the caller started it already. */
export async function observeResult(
  view: SubchainView,
  pipeId: Hex,
  r: LedgerResult,
  check: VersionCheck = { kind: "contract" },
  reads?: Promise<ResultReads>,
): Promise<Observation> {
  const where = `step ${r.step} (tx ${r.subchainTx}, block ${r.blockNumber})`;
  if (r.subchainTx === zeroHash) return { ok: false, reason: `${where}: no sub-chain transaction was recorded` };
  const [receipt, status] = await (reads ?? readResult(view, r));
  if (receipt === null) {
    // Absent while the node has not reached the recorded block plus the depth: it may still come.
    if (status.height < r.blockNumber + BigInt(view.confirmations))
      throw new NotYet("VERIFY_NOT_YET", `${where}: the node of ${view.chain.name} is at block ${status.height}`);
    return { ok: false, reason: `${where}: no such transaction on ${view.chain.name}` };
  }
  // A receipt in another block than the recorded one is the same execution (same transaction, same gateway log,
  // checked below at the depth) that a reorg inside the depth mined again after its result was recorded at its
  // first receipt: what ran, and its effects, are what was recorded.
  if (receipt.status !== "success") return { ok: false, reason: `${where}: the sub-chain transaction reverted` };
  if (status.height - receipt.blockNumber < BigInt(view.confirmations))
    throw new NotYet("VERIFY_NOT_YET", `${where}: not ${view.confirmations} blocks deep on ${view.chain.name} yet`);
  const gateway = new Contract(view.chain, view.gateway, gatewayAbi, "SubchainGateway");
  if (check.kind === "two-phase") {
    const logged = twoPhaseLogOf(gateway, receipt.logs, r);
    if (logged === undefined)
      return {
        ok: false,
        reason: `${where}: the gateway ${view.gateway} logged no such prepare or commit of ${r.txId}`,
      };
    return (await checkCode(view, logged.target, receipt.blockNumber, where)) ?? { ok: true };
  }
  const executed = gateway
    .events(receipt.logs, "InboundExecuted")
    .find(
      (e) =>
        e.args.pipeId.toLowerCase() === pipeId.toLowerCase() &&
        e.args.operation === r.operation &&
        e.args.success === r.success &&
        e.args.resultHash === r.resultHash,
    );
  if (executed === undefined)
    return {
      ok: false,
      reason: `${where}: the gateway ${view.gateway} logged no execution of pipe ${pipeId} with the recorded outcome`,
    };
  const code = await checkCode(view, executed.args.target, receipt.blockNumber, where);
  return code ?? checkVersion(view, gateway, receipt, executed.args, r, check, where);
}

/** A contradiction when the executed contract has an attestation and ran other code; else undefined. */
async function checkCode(
  view: SubchainView,
  target: Address,
  blockNumber: bigint,
  where: string,
): Promise<Observation | undefined> {
  // The code hash counts only for an attested contract: it is read at the step's block, which a node that lost its
  // history (a restart from a state dump) no longer serves, and an unattested contract must not wait on it.
  // Both read at once; the code of an unattested contract is never waited for (nor its failure seen).
  const attestedCode = view.attestedCode(target);
  const codeHash = view.chain.codeHash(target, blockNumber);
  codeHash.catch(() => undefined);
  const attested = await attestedCode;
  if (attested === zeroHash) return undefined;
  const code = await codeHash;
  return code.toLowerCase() === attested.toLowerCase()
    ? undefined
    : { ok: false, reason: `${where}: ${target} ran code ${code}, not the attested ${attested}` };
}

async function checkVersion(
  view: SubchainView,
  gateway: Contract<typeof gatewayAbi>,
  receipt: ChainReceipt,
  e: { requestId: Hex; target: Address; stateVersion: bigint },
  r: LedgerResult,
  check: Exclude<VersionCheck, { kind: "two-phase" }>,
  where: string,
): Promise<Observation> {
  const wrong = (expected: bigint, what: string): Observation => ({
    ok: false,
    reason: `${where}: recorded state version ${r.stateVersion}, ${what} ${expected}`,
  });
  if (check.kind === "contract") {
    const expected = capped(e.stateVersion);
    return expected === r.stateVersion ? { ok: true } : wrong(expected, "the gateway logged");
  }
  if (check.kind === "dependent") {
    const checked = gateway.events(receipt.logs, "DependentWriteChecked").find((d) => d.args.requestId === e.requestId);
    if (checked === undefined)
      return { ok: false, reason: `${where}: a dependent write the gateway did not check against its read` };
    const expected = capped(checked.args.readVersion);
    return expected === r.stateVersion
      ? { ok: true, versionKey: checked.args.versionKey }
      : wrong(expected, "the gateway checked it against");
  }
  const expected = await keyedReadVersion(view.chain, e.target, check.key, receipt.blockNumber, e.stateVersion);
  return expected === r.stateVersion ? { ok: true } : wrong(expected, `the read saw key ${check.key} at`);
}
