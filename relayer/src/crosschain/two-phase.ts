/**
 * Two-phase writes on this relayer's gateway: prepare (the business contract stages the write, the gateway locks its
 * keys), commit and rollback, each keyed by the ledger's transaction id. Each `ensure*` reads the gateway's record of
 * the transaction first, so a retry after a crash finds what an earlier run did (its event) instead of acting twice;
 * the gateway refuses a second prepare (`SubchainGatewayTxExists`) and a commit or rollback of a finished one
 * (`SubchainGatewayTxNotPrepared`), which are read the same way.
 *
 * What the ledger records, and what a verifier checks against the gateway's events of the recorded sub-chain
 * transaction: a prepare's result hash is `keccak256(abi.encode(keys))` (`TwoPhasePrepared`), a commit's is
 * `keccak256(abi.encode(target, stateVersion))` with the state version after it (`TwoPhaseCommitted`).
 */
import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";
import type { ChainLog, ChainReceipt } from "../../../lib/chain/types";
import { CcgpError } from "../../../lib/infra/errors";
import { gatewayAbi } from "../../../lib/abi/contracts";
import { TWO_PHASE_WRITE } from "../../../lib/domain/plan";
import { isRevert, type Contract } from "../governance/contract";
import type { LogReader } from "../governance/logs";
import { inboundPacket, type ExecuteRequest } from "./gateway";

const MAX_UINT64 = (1n << 64n) - 1n;
const capped = (v: bigint): bigint => (v > MAX_UINT64 ? MAX_UINT64 : v);

/** `ISubchainGateway.TwoPhaseStatus`. */
export const TwoPhaseStatus = { None: 0, Prepared: 1, Committed: 2, RolledBack: 3 } as const;

/** A prepare, commit or rollback as it ran on the sub-chain. */
export interface TwoPhaseRun {
  tx: Hex;
  blockNumber: bigint;
  /** The prepare's locked keys, or the commit's target and version, hashed as the ledger records them. */
  resultHash: Hex;
  /** A commit: the target's contract-wide version after it (0 for a prepare or a rollback). */
  stateVersion: bigint;
}

export const preparedHash = (keys: readonly Hex[]): Hex =>
  keccak256(encodeAbiParameters([{ type: "bytes32[]" }], [keys]));
export const committedHash = (target: Address, stateVersion: bigint): Hex =>
  keccak256(encodeAbiParameters([{ type: "address" }, { type: "uint256" }], [target, stateVersion]));

/**
 * The prepare or commit of `txId` in a receipt's logs that matches a recorded result (its hash and version), or
 * undefined: what a verifier looks for in place of `InboundExecuted` for a two-phase write.
 */
export function twoPhaseLogOf(
  gateway: Contract<typeof gatewayAbi>,
  logs: readonly ChainLog[],
  r: { txId: Hex; resultHash: Hex; stateVersion: bigint; success: boolean },
): { kind: "prepare" | "commit"; target: Address } | undefined {
  if (!r.success) return undefined;
  const same = (a: Hex) => a.toLowerCase() === r.txId.toLowerCase();
  const prepared = gateway
    .events(logs, "TwoPhasePrepared")
    .find((e) => same(e.args.txId) && preparedHash(e.args.keys) === r.resultHash && r.stateVersion === 0n);
  if (prepared !== undefined) return { kind: "prepare", target: prepared.args.target };
  const committed = gateway
    .events(logs, "TwoPhaseCommitted")
    .find(
      (e) =>
        same(e.args.txId) &&
        committedHash(e.args.target, e.args.stateVersion) === r.resultHash &&
        capped(e.args.stateVersion) === r.stateVersion,
    );
  return committed === undefined ? undefined : { kind: "commit", target: committed.args.target };
}

export class TwoPhaseGateway {
  constructor(
    private readonly _gateway: Contract<typeof gatewayAbi>,
    private readonly _logs: LogReader,
    private readonly _confirmations: number,
  ) {}

  /** The gateway's record of `txId`: its status (`TwoPhaseStatus`) and deadline. */
  async status(txId: Hex): Promise<{ status: number; deadline: bigint; target: Address }> {
    const [target, status, deadline] = await this._gateway.read("twoPhaseTx", [txId]);
    return { status, deadline, target };
  }

  /**
   * Prepares the write of `request` unless `txId` was prepared here already; returns the prepare. The gateway and
   * the business contract's refusals are thrown as they are (the caller records a failed prepare).
   */
  async ensurePrepared(request: ExecuteRequest): Promise<TwoPhaseRun> {
    const { status } = await this.status(request.txId);
    if (status !== TwoPhaseStatus.None) return this._findPrepare(request.txId, request.fromBlock);
    let receipt: ChainReceipt;
    try {
      const packet = inboundPacket(request, 1); // the gateway prepares a write; the ledger's step says two-phase
      // Attested as the ledger opened it (a two-phase write), which only a prepare accepts.
      const attestations = await request.attestations({ ...request, operation: TWO_PHASE_WRITE });
      receipt = await this._gateway.write("prepare", [packet, request.data, attestations], {
        confirmations: this._confirmations + 1,
      });
    } catch (error) {
      if (isRevert(error, "SubchainGatewayTxExists")) return this._findPrepare(request.txId, request.fromBlock);
      throw error;
    }
    const prepared = this._gateway.events(receipt.logs, "TwoPhasePrepared").find((e) => e.args.txId === request.txId);
    if (prepared === undefined) throw notFound("TwoPhasePrepared", request.txId, receipt.transactionHash);
    return runOf(receipt.transactionHash, receipt.blockNumber, preparedHash(prepared.args.keys), 0n);
  }

  /**
   * Commits `txId` unless it was committed already; returns the commit, or `undefined` when the gateway rolled it
   * back (anyone may, after its deadline plus the grace): a commit that can no longer happen.
   */
  async ensureCommitted(txId: Hex, fromBlock: bigint): Promise<TwoPhaseRun | undefined> {
    const { status } = await this.status(txId);
    if (status === TwoPhaseStatus.RolledBack) return undefined;
    if (status === TwoPhaseStatus.None) throw notFound("TwoPhasePrepared", txId, "the gateway's record");
    if (status === TwoPhaseStatus.Prepared) {
      try {
        const receipt = await this._gateway.write("commit", [txId], { confirmations: this._confirmations + 1 });
        const e = this._gateway.events(receipt.logs, "TwoPhaseCommitted").find((c) => c.args.txId === txId);
        if (e === undefined) throw notFound("TwoPhaseCommitted", txId, receipt.transactionHash);
        return runOf(receipt.transactionHash, receipt.blockNumber, ...commitFields(e.args));
      } catch (error) {
        // Past deadline + grace: the gateway no longer commits, and anyone may roll it back.
        if (isRevert(error, "SubchainGatewayTxExpired")) return undefined;
        if (!isRevert(error, "SubchainGatewayTxNotPrepared")) throw error;
        if ((await this.status(txId)).status === TwoPhaseStatus.RolledBack) return undefined;
      }
    }
    const [e] = await this._logs.events({
      address: this._gateway.address,
      abi: gatewayAbi,
      eventName: "TwoPhaseCommitted",
      args: { txId },
      fromBlock,
    });
    if (e === undefined) throw notFound("TwoPhaseCommitted", txId, `the logs from block ${fromBlock}`);
    await this._gateway.chain.waitReceipt(e.transactionHash, { confirmations: this._confirmations + 1 });
    return runOf(e.transactionHash, e.blockNumber, ...commitFields(e.args));
  }

  /**
   * Rolls `txId` back unless it was rolled back already (by this relayer, or by anyone after the grace); returns the
   * rollback. Nothing prepared here: `undefined`, nothing to undo. A committed one is refused (never undone here).
   */
  async ensureRolledBack(txId: Hex, fromBlock: bigint): Promise<TwoPhaseRun | undefined> {
    const { status } = await this.status(txId);
    if (status === TwoPhaseStatus.None) return undefined;
    if (status === TwoPhaseStatus.Committed)
      throw new CcgpError("TWO_PHASE_COMMITTED", `two-phase transaction ${txId} was committed: it is not rolled back`, {
        txId,
      });
    if (status === TwoPhaseStatus.Prepared) {
      try {
        const receipt = await this._gateway.write("rollback", [txId], { confirmations: this._confirmations + 1 });
        return runOf(receipt.transactionHash, receipt.blockNumber, keccak256("0x"), 0n);
      } catch (error) {
        if (!isRevert(error, "SubchainGatewayTxNotPrepared")) throw error;
      }
    }
    const [e] = await this._logs.events({
      address: this._gateway.address,
      abi: gatewayAbi,
      eventName: "TwoPhaseRolledBack",
      args: { txId },
      fromBlock,
    });
    if (e === undefined) throw notFound("TwoPhaseRolledBack", txId, `the logs from block ${fromBlock}`);
    return runOf(e.transactionHash, e.blockNumber, keccak256("0x"), 0n);
  }

  private async _findPrepare(txId: Hex, fromBlock: bigint): Promise<TwoPhaseRun> {
    const [e] = await this._logs.events({
      address: this._gateway.address,
      abi: gatewayAbi,
      eventName: "TwoPhasePrepared",
      args: { txId },
      fromBlock,
    });
    if (e === undefined) throw notFound("TwoPhasePrepared", txId, `the logs from block ${fromBlock}`);
    await this._gateway.chain.waitReceipt(e.transactionHash, { confirmations: this._confirmations + 1 });
    return runOf(e.transactionHash, e.blockNumber, preparedHash(e.args.keys), 0n);
  }
}

function commitFields(a: { target: Address; stateVersion: bigint }): [Hex, bigint] {
  return [committedHash(a.target, a.stateVersion), capped(a.stateVersion)];
}

const runOf = (tx: Hex, blockNumber: bigint, resultHash: Hex, stateVersion: bigint): TwoPhaseRun => ({
  tx,
  blockNumber,
  resultHash,
  stateVersion,
});

function notFound(event: string, txId: Hex, where: string): CcgpError {
  return new CcgpError("GATEWAY_EXECUTION_NOT_FOUND", `no ${event} of two-phase transaction ${txId} in ${where}`, {
    txId,
  });
}
