/**
 * Who signed a packet: the events only carry packet hashes, so the packets and their two signatures are read back
 * from the calldata of the ledger call that emitted the event (`open` or `reportRefusal`), and both signers are
 * recovered with the relayer's AMDP functions under the ledger's EIP-712 domain.
 */
import { decodeFunctionData, getAddress, isAddressEqual, type Abi, type Address, type Hex } from "viem";
import {
  countersignatureDigest,
  countersignatureMessage,
  hashPacket,
  packetDigest,
  recoverSigner,
  type AmdpDomain,
  type Packet,
} from "../../lib/amdp";
import { toJsonValue } from "./decode";
import type { EventRow, JsonValue, PacketRow } from "./types";

interface SignedPacketArg {
  packet: Packet;
  appSignature: Hex;
  proxySignature: Hex;
}

/** Packets recovered for one event, or why they could not be. */
export type Recovered = { packets: PacketRow[] } | { note: string };

export class PacketRecovery {
  constructor(
    private readonly _ledgerAbi: Abi,
    private readonly _domain: AmdpDomain,
  ) {}

  /** The packets of a TxOpened event from its transaction's input; the countersignature is the opener's claim. */
  async opened(row: EventRow, input: Hex): Promise<Recovered> {
    const call = this._decode(input);
    if (call?.functionName !== "open")
      return { note: "opened through a call that is not TransactionLedger.open (a contract): packets not recovered" };
    const signed = (call.args as readonly unknown[])[0] as readonly SignedPacketArg[];
    if (signed.some((s) => s.packet.txId.toLowerCase() !== row.txId))
      return { note: "the open call in this transaction is for another transaction id: packets not recovered" };
    const opener = getAddress(String(row.args.opener));
    const packets = await Promise.all(signed.map((s, i) => this._row(row, "open", i, s, opener)));
    return { packets };
  }

  /**
   * The packet of a RefusalRecorded event. The ledger checked the countersignature against the pipe's source
   * service signer of the moment; `proxies` are every source signer the pipe had, and the one whose claim the
   * countersignature verifies under is taken.
   */
  async refused(row: EventRow, input: Hex, proxies: readonly Address[]): Promise<Recovered> {
    const call = this._decode(input);
    if (call?.functionName !== "reportRefusal")
      return { note: "reported through a call that is not TransactionLedger.reportRefusal: packet not recovered" };
    const [packet, appSignature, proxySignature] = call.args as readonly [Packet, Hex, Hex];
    const signed = { packet, appSignature, proxySignature };
    let recovered = await this._row(row, "refusal", 0, signed, proxies[0] ?? null);
    for (const proxy of proxies.slice(1)) {
      if (recovered.proxySigner !== null && isAddressEqual(recovered.proxySigner, recovered.proxyClaimed!)) break;
      recovered = await this._row(row, "refusal", 0, signed, proxy);
    }
    if (recovered.packetHash !== row.args.packetHash)
      return { note: "the reportRefusal call in this transaction is for another packet: packet not recovered" };
    return { packets: [recovered] };
  }

  private _decode(input: Hex): { functionName: string; args: readonly unknown[] | undefined } | undefined {
    try {
      return decodeFunctionData({ abi: this._ledgerAbi, data: input }) as {
        functionName: string;
        args: readonly unknown[];
      };
    } catch {
      return undefined;
    }
  }

  private async _row(
    row: EventRow,
    kind: PacketRow["kind"],
    position: number,
    s: SignedPacketArg,
    claim: Address | null,
  ): Promise<PacketRow> {
    const packetHash = hashPacket(s.packet);
    const problems: string[] = [];
    const appSigner = await recover(packetDigest(this._domain, s.packet), s.appSignature, 1, problems);
    if (appSigner !== null && !isAddressEqual(appSigner, s.packet.signer))
      problems.push(`stage-1 signature is by ${appSigner}, not the declared signer ${s.packet.signer}`);
    let proxySigner: Address | null = null;
    if (claim === null) problems.push("no proxy known for the pipe: stage-2 signer not recovered");
    else {
      const digest = countersignatureDigest(this._domain, countersignatureMessage(packetHash, s.appSignature, claim));
      proxySigner = await recover(digest, s.proxySignature, 2, problems);
      if (proxySigner !== null && !isAddressEqual(proxySigner, claim))
        problems.push(`stage-2 countersignature is not by ${claim}`);
    }
    return {
      block: row.block,
      logIndex: row.logIndex,
      position,
      kind,
      txId: s.packet.txId.toLowerCase() as Hex,
      pipeId: s.packet.pipeId.toLowerCase() as Hex,
      sequence: s.packet.sequence.toString(),
      packetHash,
      packet: toJsonValue(s.packet) as Record<string, JsonValue>,
      appSignature: s.appSignature,
      proxySignature: s.proxySignature,
      declaredSigner: getAddress(s.packet.signer),
      appSigner,
      proxyClaimed: claim,
      proxySigner,
      problem: problems.length === 0 ? null : problems.join("; "),
    };
  }
}

async function recover(digest: Hex, signature: Hex, stage: 1 | 2, problems: string[]): Promise<Address | null> {
  try {
    return await recoverSigner(digest, signature, stage);
  } catch (error) {
    problems.push((error as Error).message);
    return null;
  }
}
