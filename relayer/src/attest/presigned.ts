/**
 * Attestations an attester signed when it saw the open, before anyone asked: a request for one is then a lookup.
 * What the ledger opened is read from the opening governance transaction's own calldata (`open` or `openMany`),
 * and a packet counts only when its EIP-712 hash is the one its `TxOpened` logged. The store is bounded and drops
 * an entry once its packet's deadline has passed (the gateway refuses it from then on anyway).
 */
import { decodeFunctionData, type Address, type Hex } from "viem";
import { hashPacket, type Packet } from "../../../lib/amdp";
import { ledgerAbi } from "../../../lib/abi/contracts";
import type { Attestation } from "./attestation";

/** A step as the ledger opened it (`stepOf`): its side and operation. */
export interface OpenedStep {
  side: number;
  operation: number;
}

/** One packet of an opening call, with the steps of its transaction. */
export interface OpenedPacket {
  packet: Packet;
  hash: Hex;
  steps: readonly OpenedStep[];
}

export interface Presigned {
  attestation: Attestation;
  signature: Hex;
  chainId: number;
  /** The steps of the packet's transaction, as opened. */
  steps: readonly OpenedStep[];
}

const MAX_ENTRIES = 10_000;

interface WirePacket extends Omit<Packet, "operation"> {
  operation: number;
}
interface OpenArgs {
  packets: readonly { packet: WirePacket }[];
  steps: readonly OpenedStep[];
}

/**
 * The packets opened by a governance transaction sent to the ledger (`input` its calldata), each with its hash;
 * none when it is not a direct `open` or `openMany` (a contract calling the ledger: the on-demand path serves it).
 */
export function openedPackets(to: Address | null | undefined, ledger: Address, input: Hex): OpenedPacket[] {
  if (to?.toLowerCase() !== ledger.toLowerCase()) return [];
  let opens: readonly OpenArgs[];
  try {
    const call = decodeFunctionData({ abi: ledgerAbi, data: input });
    if (call.functionName === "open") opens = [{ packets: call.args[0], steps: call.args[1] }];
    else if (call.functionName === "openMany") opens = call.args[0];
    else return [];
  } catch {
    return [];
  }
  return opens.flatMap(({ packets, steps }) => {
    const opened = steps.map((s) => ({ side: Number(s.side), operation: Number(s.operation) }));
    return packets.map(({ packet: wire }) => {
      const packet = { ...wire, operation: wire.operation } as Packet;
      return { packet, hash: hashPacket(packet), steps: opened };
    });
  });
}

/** Presigned attestations by packet hash, oldest first. */
export class PresignedAttestations {
  private readonly _entries = new Map<Hex, Presigned>();

  get size(): number {
    return this._entries.size;
  }

  get(packetHash: Hex): Presigned | undefined {
    return this._entries.get(packetHash.toLowerCase() as Hex);
  }

  add(packetHash: Hex, entry: Presigned, nowSeconds: bigint): void {
    this._entries.set(packetHash.toLowerCase() as Hex, entry);
    // Oldest first: the expired ones, then whatever exceeds the bound.
    for (const [hash, e] of this._entries) {
      if (e.attestation.deadline >= nowSeconds && this._entries.size <= MAX_ENTRIES) break;
      this._entries.delete(hash);
    }
  }

  delete(packetHash: Hex): void {
    this._entries.delete(packetHash.toLowerCase() as Hex);
  }
}
