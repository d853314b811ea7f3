/**
 * The independent verifier: run by an institution that is not a party, it follows the ledger and, for every
 * transaction that reaches Executed, reads each recorded result on its own sub-chain through its own nodes
 * ({@link observeResult}), recomputes the result-set hash and endorses it with its own key. It takes no party's word:
 * a result the sub-chain contradicts is endorsed as a zero hash, so the endorsement conflicts (and the transaction
 * goes to Manual once conflict weight reaches half). Nothing is kept on disk: after a restart it reads the ledger
 * again from its first block, and what it already endorsed is skipped (`hasEndorsed`). A transaction that moved on
 * stays in view for a while (`SETTLE_BLOCKS`): a governance reorg past the confirmation depth may undo the
 * endorsement that confirmed it, and it is then Executed again and endorsed again.
 */
import { zeroHash, type Address, type Hex } from "viem";
import type { ChainLog, ChainPlugin } from "../../../lib/chain/types";
import type { chainRegistryAbi, ledgerAbi } from "../../../lib/abi/contracts";
import { isRevert, type Contract } from "../governance/contract";
import type { LogReader } from "../governance/logs";
import { recordedResults } from "../governance/results";
import type { Logger } from "../../../lib/infra/log";
import { NO_DEPENDENCY, TxState, resultSetHash, type LedgerResult } from "../../../lib/domain/ledger-types";
import { TWO_PHASE_WRITE } from "../../../lib/domain/plan";
import { NotYet, observeResult, readResult, type Observation, type SubchainView } from "./observe";

export interface VerifierParts {
  ledger: Contract<typeof ledgerAbi>;
  registry: Contract<typeof chainRegistryAbi>;
  govLogs: LogReader;
  /** The verifier's own sub-chain nodes, by chain id. */
  chains: ReadonlyMap<bigint, { chain: ChainPlugin; gateway: Address; confirmations: number }>;
  me: Address;
  fromBlock: bigint;
  log: Logger;
}

export type Verdict = "endorsed" | "conflicted" | "skipped";

/** Governance blocks a settled transaction stays in view: as deep as a relayer's reorg window. */
const SETTLE_BLOCKS = 128n;

export interface VerifierStatus {
  address: Address;
  weight: number;
  nextBlock: string;
  pending: number;
  endorsed: number;
  conflicted: number;
}

export class IndependentVerifier {
  /** Executed transactions seen and not yet settled, with the block they reached Executed in. */
  private readonly _pending = new Map<Hex, bigint>();
  /** Transactions that moved on from Executed, each until a governance height (a reorg may bring one back). */
  private readonly _settled = new Map<Hex, bigint>();
  /** The highest governance block whose logs were delivered. */
  private _head = 0n;
  /** Transactions being verified now (a round and a new log never verify one twice at once). */
  private readonly _verifying = new Set<Hex>();
  private _weight = 0;
  private readonly _counts = { endorsed: 0, conflicted: 0 };
  /** Transactions this process endorsed (still in view while Executed). */
  private readonly _endorsedHere = new Set<Hex>();

  constructor(private readonly _p: VerifierParts) {}

  status(): VerifierStatus {
    return {
      address: this._p.me,
      weight: this._weight,
      nextBlock: (this._head + 1n).toString(),
      pending: this._pending.size,
      ...this._counts,
    };
  }

  /**
   * The ledger's `ResultRecorded` logs of one delivered block (`height`): each that moved a transaction to Executed
   * (`to`) makes it pending, and it is verified at once, not at the next round.
   */
  executed(logs: readonly ChainLog[], height: bigint): void {
    if (height > this._head) this._head = height;
    for (const l of logs) {
      const args = l.args as { txId: Hex; to: number } | undefined;
      if (l.eventName !== "ResultRecorded" || args?.to !== TxState.Executed || this._pending.has(args.txId)) continue;
      this._pending.set(args.txId, l.blockNumber);
      this._p.log.debug({ txId: args.txId }, "executed seen");
      void this._settle(args.txId);
    }
  }

  /**
   * One round: every pending transaction tried again (one not decidable before: not deep enough, a node behind), the
   * weight read, and the settled ones checked for a reorg that made them Executed again.
   */
  async round(): Promise<void> {
    const head = this._head;
    // The weight (a status figure) and the reorg re-check are read beside the verifications, not before them.
    const weight = this._p.ledger.read("verifier", [this._p.me]).then((v) => (this._weight = v.weight));
    await Promise.all([weight, this._recheckSettled(head), ...[...this._pending.keys()].map((t) => this._settle(t))]);
  }

  /** Verifies one pending transaction unless a verification of it is under way; never throws. */
  private async _settle(txId: Hex): Promise<void> {
    if (this._verifying.has(txId)) return;
    this._verifying.add(txId);
    try {
      const verdict = await this.verify(txId);
      // Endorsed, it stays pending while the transaction is Executed: a reorg may undo the endorsement.
      if (verdict === undefined || verdict === "endorsed") return;
      this._pending.delete(txId);
      this._endorsedHere.delete(txId);
      this._settled.set(txId, this._head + SETTLE_BLOCKS);
    } catch (error) {
      this._p.log.warn({ txId, err: error }, "not verified yet; trying again");
    } finally {
      this._verifying.delete(txId);
    }
  }

  /** Settled transactions a reorg made Executed again go back to pending; those past their window are dropped. */
  private async _recheckSettled(head: bigint): Promise<void> {
    for (const [txId, until] of this._settled) if (head > until) this._settled.delete(txId);
    await Promise.all(
      [...this._settled.keys()].map(async (txId) => {
        const tx = await this._p.ledger.read("transaction", [txId]);
        if (tx.state !== TxState.Executed) return;
        this._p.log.warn({ txId }, "a governance reorg made the transaction Executed again: verifying it again");
        this._settled.delete(txId);
        this._pending.set(txId, head);
      }),
    );
  }

  /** Settles one transaction, or resolves `undefined` when it cannot be decided yet (asked again next round). */
  async verify(txId: Hex): Promise<Verdict | undefined> {
    const { ledger, me } = this._p;
    // The recorded results are read with the state (one round trip, not two); used only when the state calls for it.
    // Not for one endorsed here already, which waits in view only for the transaction to move on.
    const early = this._endorsedHere.has(txId) ? undefined : this._results(txId);
    const [verifier, endorsed, tx] = await Promise.all([
      ledger.read("verifier", [me]),
      ledger.read("hasEndorsed", [txId, me]),
      ledger.read("transaction", [txId]),
    ]);
    if (tx.state !== TxState.Executed) return "skipped";
    if (endorsed) return undefined; // asked again until the transaction moves on

    if (verifier.weight === 0) {
      this._p.log.warn({ txId, verifier: me }, "this key is not a verifier on the ledger: not endorsing");
      return undefined;
    }
    const results = await (early ?? this._results(txId));
    // The logs may lag the state by a block: decide only on the full record.
    if (resultSetHash(results) !== tx.resultSetHash) return undefined;
    // The endorsement of the recorded hash is prepared (its gas estimated) while the sub-chains are observed, and sent
    // only if every observation agrees (one round trip less in the usual case); a disagreement cancels it.
    const observing = this._observe(txId, tx.pipeId, results);
    const agrees = observing.then((o) => o.every((x) => x.ok));
    const endorsing = this._endorse(txId, tx.resultSetHash, agrees);
    endorsing.catch(() => undefined); // awaited below, unless the observation ends the verification first
    let observed: Observation[];
    try {
      observed = await observing;
    } catch (error) {
      if (error instanceof NotYet) return undefined;
      throw error;
    }
    const wrong = observed.flatMap((o) => (o.ok ? [] : [o.reason]));
    if (wrong.length === 0) {
      if ((await endorsing) === "skipped") return "skipped";
      this._endorsedHere.add(txId);
      this._counts.endorsed++;
      this._p.log.info(
        { txId, resultSetHash: tx.resultSetHash, results: results.length, weight: verifier.weight },
        "checked every result on its sub-chain: endorsed",
      );
      return "endorsed";
    }
    await endorsing.catch(() => undefined); // cancelled: the observation disagrees
    const seen: LedgerResult[] = results.map((r, i) => (observed[i]!.ok ? r : { ...r, resultHash: zeroHash }));
    const hash = resultSetHash(seen);
    if ((await this._endorse(txId, hash)) === "skipped") return "skipped";
    this._endorsedHere.add(txId);
    this._counts.conflicted++;
    this._p.log.error(
      { txId, recorded: tx.resultSetHash, observed: hash, reasons: wrong },
      "the sub-chains contradict the recorded results: endorsed what was observed (a conflict)",
    );
    return "conflicted";
  }

  /** Endorses `hash` (once `proceed` says so); "skipped" when endorsed meanwhile or the transaction moved on. */
  private async _endorse(txId: Hex, hash: Hex, proceed?: Promise<boolean>): Promise<"sent" | "skipped"> {
    try {
      await this._p.ledger.write("endorse", [txId, hash], proceed === undefined ? {} : { proceed });
      return "sent";
    } catch (error) {
      // Endorsed meanwhile, or the transaction moved on (confirmed, expired, escalated): nothing left to do.
      if (isRevert(error, "LedgerAlreadyEndorsed", "LedgerInvalidTransition")) return "skipped";
      throw error;
    }
  }

  private _results(txId: Hex): Promise<LedgerResult[]> {
    const results = recordedResults(this._p.govLogs, this._p.ledger, txId, this._p.fromBlock);
    results.catch(() => undefined);
    return results;
  }

  /**
   * Observes every result. The writes that depend on a read go first: each names the key whose version its read
   * must have recorded, which the read's observation then checks at the read's block.
   */
  private async _observe(txId: Hex, pipeId: Hex, results: readonly LedgerResult[]): Promise<Observation[]> {
    // Each result's receipt and its node's height are read beside the steps (not after them).
    const reads = results.map((r) => this._view(r).then((view) => readResult(view, r)));
    for (const read of reads) read.catch(() => undefined);
    const steps = await Promise.all(results.map((r) => this._p.ledger.read("stepOf", [txId, r.step])));
    const dependsOn = steps.map(([, , d]) => d);
    const observed: Array<Observation | undefined> = await Promise.all(
      results.map(async (r, i) =>
        dependsOn[i] === NO_DEPENDENCY
          ? undefined
          : observeResult(await this._view(r), pipeId, r, { kind: "dependent" }, reads[i]),
      ),
    );
    const keys = new Map<number, Hex>();
    // The relayer records a read's version for the first write (by step) that depends on it.
    const byStep = results.map((_, i) => i).sort((x, y) => results[x]!.step - results[y]!.step);
    for (const i of byStep) {
      const o = observed[i];
      if (o?.ok === true && o.versionKey !== undefined && !keys.has(dependsOn[i]!))
        keys.set(dependsOn[i]!, o.versionKey);
    }
    return Promise.all(
      results.map(async (r, i) => {
        const key = keys.get(r.step);
        return (
          observed[i] ??
          observeResult(
            await this._view(r),
            pipeId,
            r,
            steps[i]![1] === TWO_PHASE_WRITE
              ? { kind: "two-phase" }
              : key === undefined
                ? { kind: "contract" }
                : { kind: "keyed", key },
            reads[i],
          )
        );
      }),
    );
  }

  private readonly _views = new Map<string, Promise<SubchainView>>();

  /** The registered sub-chain of a result, reached through this verifier's own node for its chain id. */
  private _view(r: LedgerResult): Promise<SubchainView> {
    const key = r.subchain.toLowerCase();
    let view = this._views.get(key);
    if (view === undefined) {
      view = this._p.registry.read("subchain", [r.subchain]).then((s) => {
        const mine = this._p.chains.get(s.chainId);
        if (s.gateway === zeroHash.slice(0, 42) || mine === undefined)
          throw new NotYet(
            "VERIFY_NOT_YET",
            `sub-chain ${r.subchain} (chain id ${s.chainId}) is not in this verifier's config.chains: ` +
              `cannot check step ${r.step}`,
          );
        if (mine.gateway.toLowerCase() !== s.gateway.toLowerCase())
          throw new NotYet(
            "VERIFY_NOT_YET",
            `config.chains gateway ${mine.gateway} of chain id ${s.chainId} is not the registered ${s.gateway}`,
          );
        const attestedCode = async (contract: Address): Promise<Hex> =>
          (await this._p.registry.read("attestation", [r.subchain, contract])).codeHash;
        return { chain: mine.chain, gateway: s.gateway, confirmations: mine.confirmations, attestedCode };
      });
      // A failed look-up is not kept: the next round asks again.
      view.catch(() => this._views.delete(key));
      this._views.set(key, view);
    }
    return view;
  }
}
