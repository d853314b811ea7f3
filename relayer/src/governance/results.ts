/** A transaction's recorded results, read back from the ledger's `ResultRecorded` events. */
import type { Hex } from "viem";
import type { LedgerResult } from "../../../lib/domain/ledger-types";
import type { ledgerAbi } from "../../../lib/abi/contracts";
import type { Contract } from "./contract";
import type { LogReader } from "./logs";

/** The transaction's results in recording order (the order of the `ResultRecorded` logs). */
export async function recordedResults(
  logs: LogReader,
  ledger: Contract<typeof ledgerAbi>,
  txId: Hex,
  fromBlock: bigint,
): Promise<LedgerResult[]> {
  const found = await logs.events({
    address: ledger.address,
    abi: ledger.abi,
    eventName: "ResultRecorded",
    args: { txId },
    fromBlock,
  });
  found.sort((a, b) =>
    a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
  );
  return found.map(({ args: a }) => ({
    txId: a.txId,
    step: a.step,
    subchain: a.subchain,
    subchainTx: a.subchainTx,
    blockNumber: a.blockNumber,
    resultHash: a.resultHash,
    operation: a.operation,
    success: a.success,
    stateVersion: a.stateVersion,
  }));
}
