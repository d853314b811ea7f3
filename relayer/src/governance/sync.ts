/**
 * Keeps the governance view in step with the chain: loads it, then follows the governance contracts' events behind
 * the configured confirmation depth with the shared `ConfirmedLogFollower` (through the chain plugin), re-reading
 * each entity an event names. A restart loads the view again, so no checkpoint is needed here. A node restarted
 * without its latest blocks may have lost writes acted on at their receipts, inside the confirmation depth where the
 * follower sees no reorg: a node that answers again after failing, or shows a lower head than it had, is told as a
 * reorg all the same (the polls may back off past the moment its head was lower).
 */
import { toEventSelector, type Abi, type AbiEvent, type Address } from "viem";
import {
  chainRegistryAbi,
  ledgerAbi,
  membershipAbi,
  pipeRegistryAbi,
  serviceRegistryAbi,
} from "../../../lib/abi/contracts";
import type { ChainPlugin } from "../../../lib/chain/types";
import type { Logger } from "../../../lib/infra/log";
import type { RelayerMetrics } from "../metrics";
import type { GovernanceView } from "./view";

export interface GovernanceSyncOptions {
  confirmations: number;
  metrics?: RelayerMetrics;
  onError?: (error: unknown) => void;
}

/**
 * The ledger events the view acts on: the moves of a transaction (`to`) and the verifier set. Opens, accepted packets
 * and the rest are left out, so a block of opens alone costs no `eth_getLogs` (its logs bloom holds none of these).
 */
const LEDGER_EVENTS = new Set(["TxTransitioned", "ResultRecorded", "Endorsed", "VerifierSet"]);

/** Every event of the registries (the view decodes each by its contract's ABI), and the ledger's above. */
export function followedEvents(): AbiEvent[] {
  const eventsOf = (abi: Abi): AbiEvent[] => abi.filter((item): item is AbiEvent => item.type === "event");
  const all = [
    ...[membershipAbi, serviceRegistryAbi, chainRegistryAbi, pipeRegistryAbi].flatMap((abi) => eventsOf(abi as Abi)),
    ...eventsOf(ledgerAbi as Abi).filter((e) => LEDGER_EVENTS.has(e.name)),
  ];
  const bySelector = new Map(all.map((e) => [toEventSelector(e), e]));
  return [...bySelector.values()];
}

export class GovernanceSync {
  private _processed = 0n;
  /** The highest head the node has shown. */
  private _highest = 0n;
  /** A poll failed since the last one that answered. */
  private _failed = false;

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
        events: followedEvents(),
        onPoll: (info) => {
          this._options.metrics?.record({
            type: "chainProgress",
            chain: "governance",
            head: info.head,
            processed: this._processed,
          });
          if (info.head < this._highest || this._failed) this._lostBlocks(info.head);
          this._failed = false;
          this._highest = info.head;
        },
        onError: (error) => {
          this._failed = true;
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

  /**
   * The node may have lost its blocks above `head` (its head went back, or it answers again after failing: restarted
   * without its latest blocks), and with them writes of ours taken as done at their receipts. The view is reloaded and
   * tells a reorg above `head`, so what finished lately is checked against the ledger again.
   */
  private _lostBlocks(head: bigint): void {
    const back = head < this._highest;
    this._log.warn(
      { head: String(head), highest: String(this._highest) },
      back ? "governance head went back: as a reorg" : "governance node answers again: as a reorg",
    );
    if (back) this._options.metrics?.record({ type: "reorg", chain: "governance", forkHeight: head + 1n });
    this._view.reorged(head + 1n).catch((error: unknown) => {
      this._log.warn({ err: error }, "governance view reload failed; the sweep checks again");
      this._options.onError?.(error);
    });
  }
}
