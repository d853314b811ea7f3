/**
 * Keeps the governance view in step with the chain: loads it, then follows the governance contracts' events behind
 * the configured confirmation depth with the shared `ConfirmedLogFollower` (through the chain plugin), re-reading
 * each entity an event names. A restart loads the view again, so no checkpoint is needed here.
 */
import type { Address } from "viem";
import type { ChainPlugin } from "../../../lib/chain/types";
import type { Logger } from "../../../lib/infra/log";
import type { RelayerMetrics } from "../metrics";
import type { GovernanceView } from "./view";

export interface GovernanceSyncOptions {
  confirmations: number;
  metrics?: RelayerMetrics;
  onError?: (error: unknown) => void;
}

export class GovernanceSync {
  private _processed = 0n;

  constructor(
    private readonly _view: GovernanceView,
    private readonly _chain: ChainPlugin,
    private readonly _log: Logger,
    private readonly _options: GovernanceSyncOptions,
  ) {}

  /** Height up to which every event has been applied to the view. */
  get processed(): bigint {
    return this._processed;
  }

  /** Loads the view; resolves with the follow loop's promise, which ends when `signal` aborts. */
  async start(signal: AbortSignal): Promise<{ following: Promise<void> }> {
    const head = (await this._chain.status()).height;
    await this._view.load();
    this._processed = head;
    const c = this._view.contracts;
    const addresses = [c.membership, c.services, c.pipes, c.apps, c.ledger].map((x) => x.address) as Address[];
    const following = this._chain.subscribe(
      {
        fromBlock: head + 1n,
        confirmations: this._options.confirmations,
        address: [...new Set(addresses)],
        onPoll: (info) =>
          this._options.metrics?.record({
            type: "chainProgress",
            chain: "governance",
            head: info.head,
            processed: this._processed,
          }),
        onError: (error) => {
          this._log.warn({ err: error }, "governance chain poll failed; retrying");
          this._options.onError?.(error);
        },
      },
      async (event) => {
        if (event.type === "reorg") {
          // Re-read everything: the view holds only current state, so a reload is the whole recovery of the view.
          this._options.metrics?.record({ type: "reorg", chain: "governance", forkHeight: event.forkHeight });
          await this._view.reorged(event.forkHeight);
          return;
        }
        await this._view.applyLogs(event.logs);
        this._processed = event.height;
      },
      signal,
    );
    return { following };
  }
}
