/**
 * The receiver's side of stage 2 (`POST /v1/packets`): the whole signature sequence against the pipe's keys (app,
 * then the source proxy), the calling peer's certificate against the source service's registered fingerprint, the
 * operation's rights now, the sequence (inbox and ledger), the deadline, the initiator's transaction state on the
 * ledger, and the business contract (CNS and gateway agree, its code is the code an auditor attested). A packet that
 * passes is accepted durably (inbox entry, journal row and execution item in one SQLite transaction), answered at
 * once, and executed by the worker.
 */
import type { Hex } from "viem";
import { hashPacket, parseSignedPacket, toWire, verifySequence, type SignedPacket } from "../../../lib/amdp";
import { CcgpError } from "../../../lib/infra/errors";
import { NO_DEPENDENCY, Side, TxState } from "../../../lib/domain/ledger-types";
import { isTargetRoute, type Route } from "../governance/view";
import type { PeerRequest, PeerResponse } from "../server";
import { retryAfterHeader } from "../../../lib/infra/http";
import { inboxKey } from "../store";
import { packetOperation, type Plan, type PlanStep } from "../../../lib/domain/plan";
import { nowSeconds, type TxContext } from "./context";
import { work } from "../work/items";
import { checkTarget } from "../crosschain/target";
import { registryWatch } from "../governance/contracts";
import { collectAhead } from "./steps";
import { activeRoute, admit, checkRights, matchRoute, matchSelector } from "../crosschain/checks";
import { isBadInput, notReady, type Refusal } from "../crosschain/refusal";

/**
 * Refusals that may prove misbehaviour of the source proxy: reported to the ledger, which decides. A replay is not
 * among them: its sequence is used, and the ledger never charges a packet whose transaction id or sequence was used.
 */
const REPORTABLE = new Set(["BAD_APP_SIGNATURE", "SIGNER_MISMATCH", "PIPE_REFUSED"]);

export async function receivePacket(rt: TxContext, request: PeerRequest): Promise<PeerResponse> {
  let signed: SignedPacket | undefined;
  let release: (() => void) | undefined;
  const collection: Collection = { refused: false };
  try {
    // Back-pressure first: a full backlog refuses (429, Retry-After) before any check costs CPU or a read.
    release = rt.backlog.admit();
    const body = parseBody(rt, request.body);
    signed = body.packets[0]!;
    rt.log.debug({ txId: signed.packet.txId, packets: body.packets.length }, "packet received");
    const route = await checkPeer(rt, signed, request.peer.fingerprint);
    for (const other of body.packets.slice(1)) {
      if (
        other.packet.txId.toLowerCase() !== signed.packet.txId.toLowerCase() ||
        other.packet.pipeId.toLowerCase() !== route.id.toLowerCase()
      )
        throw new CcgpError(
          "ROUTE_MISMATCH",
          "every packet of a delivery has the first one's pipe and transaction id",
          { field: "packets" },
        );
      matchRoute(route, other.packet);
    }
    // The reads go out now (from a pinned peer), so their round trips overlap the signature checks (CPU) and each
    // other; each check still decides in the same order: signatures, rights, inbox, rate limits, ledger, contract.
    const rights = Promise.all(body.packets.map((p) => checkRights(rt, p.packet)));
    const ledgerChecked = checkLedger(rt, body.packets);
    const later = Promise.all([ledgerChecked, checkContract(rt, route), rt.govLogs.head(), rt.subchain.logs.head()]);
    for (const read of [rights, later]) read.catch(() => undefined);
    // The target step's attestations are asked for as soon as the ledger's steps are read, while the other checks
    // go on (the signatures' included): nothing runs without both, and a packet refused leaves its collection
    // untaken (the attesters sign only what the ledger opened, and the gateway checks every field).
    void ledgerChecked.then((steps) => startCollecting(rt, body, steps, collection)).catch(() => undefined);
    await Promise.all([rt.govLogs.sent(), rt.subchain.logs.sent()]);
    for (const p of body.packets) await checkSignatures(rt, p, route);
    await rights;
    for (const p of body.packets) checkAdmission(rt, p, route);
    const [steps, , govFromBlock, subFromBlock] = await later;
    const plan = receiverPlan(body.packets, steps, body.versionKeys);
    const accepted = accept(rt, body.packets, plan, { govFromBlock, subFromBlock });
    if (!accepted) throw duplicateOf(rt, signed);
    rt.backlog.added();
    rt.metrics.record({ type: "packetIn", pipeId: route.id });
    rt.log.info(
      { txId: signed.packet.txId, pipeId: route.id, sequence: signed.packet.sequence.toString() },
      "packet accepted",
    );
    rt.worker.kick();
    // Accepted durably: answered at once, so the sender's worker is not held while this side executes. The result is
    // on the ledger (and in the answer to a retransmission, see `duplicateOf`).
    return { status: 200, body: { accepted: true, txId: signed.packet.txId } };
  } catch (error) {
    // Refused (or not ready): the collection started ahead is dropped, or not started.
    collection.refused = true;
    if (collection.key !== undefined) rt.attestationsAhead.take(collection.key);
    const refusal = refuse(rt, error, signed);
    const body: Record<string, unknown> = { error: { code: refusal.code, message: refusal.message } };
    if (refusal.details.result !== undefined) body.result = refusal.details.result;
    return { status: refusal.status, body, headers: retryAfterHeader(refusal.details) };
  } finally {
    release?.();
  }
}

/** The attestation collection a delivery started ahead, by its key; none once the delivery was refused. */
interface Collection {
  refused: boolean;
  key?: string;
}

/** Starts the attestation collection of the delivery's target step (the step takes it once the packet is accepted). */
function startCollecting(rt: TxContext, body: Delivery, steps: readonly OpenedStep[], collection: Collection): void {
  if (collection.refused) return;
  const { packet } = body.packets[0]!;
  const plan = receiverPlan(body.packets, steps, body.versionKeys);
  const entry = {
    txId: packet.txId,
    pipeId: packet.pipeId,
    sequence: packet.sequence,
    role: "receiver" as const,
    signed: body.packets[0]!,
    plan,
  };
  collection.key = collectAhead(rt, entry, plan.target);
}

/** A delivery: one wire packet, or `{packets, versionKeys}` for a transaction with several target steps. */
interface Delivery {
  packets: SignedPacket[];
  versionKeys: Record<string, Hex>;
}

const MAX_PACKETS = 4;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

function parseBody(rt: Pick<TxContext, "config">, body: Buffer): Delivery {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new CcgpError("MALFORMED_PACKET", "the packet is not valid JSON", { field: "(wire)" }, { cause: error });
  }
  const many = typeof value === "object" && value !== null && "packets" in value;
  const { packets, versionKeys } = many
    ? (value as { packets: unknown; versionKeys?: unknown })
    : { packets: [value], versionKeys: {} };
  if (!Array.isArray(packets) || packets.length === 0 || packets.length > MAX_PACKETS)
    throw new CcgpError("MALFORMED_PACKET", `"packets" must hold 1 to ${MAX_PACKETS} packets`, { field: "packets" });
  const keys = (versionKeys ?? {}) as Record<string, unknown>;
  if (
    typeof keys !== "object" ||
    Object.entries(keys).some(([k, v]) => !/^[0-7]$/.test(k) || typeof v !== "string" || !BYTES32.test(v))
  )
    throw new CcgpError("MALFORMED_PACKET", '"versionKeys" maps a step (0-7) to a 32-byte key', {
      field: "versionKeys",
    });
  const parsed = packets.map((w) => {
    const signed = parseSignedPacket(w, { maxPayloadBytes: rt.config.limits.maxPayloadBytes });
    if (signed.signatures.proxy === undefined)
      throw new CcgpError(
        "MALFORMED_SIGNATURE",
        "a peer packet needs the stage-2 countersignature (signatures.proxy)",
        {
          field: "signatures.proxy",
        },
      );
    return signed;
  });
  return { packets: parsed, versionKeys: keys as Record<string, Hex> };
}

/** The route, and the calling peer is its source service. */
async function checkPeer(
  rt: Pick<TxContext, "me" | "view">,
  signed: SignedPacket,
  peerFingerprint: string,
): Promise<Route> {
  const { packet } = signed;
  const route = await activeRoute(rt, packet.pipeId);
  // This relayer's service is the pipe's target service or one of the alternate routes the vote set.
  if (!isTargetRoute(route, rt.me.service.id))
    throw new CcgpError(
      "WRONG_SERVICE",
      `pipe ${route.id} ends at service ${route.targetService} (or its alternates), not at this relayer's`,
      {
        pipeId: route.id,
      },
    );
  let source = await rt.view.service(route.sourceService);
  // The view may not have seen a certificate rotation yet: ask the registry before refusing.
  if (source !== undefined && source.fingerprint !== peerFingerprint) source = await rt.view.refreshService(source.id);
  if (source === undefined || source.fingerprint !== peerFingerprint)
    throw new CcgpError(
      "PEER_MISMATCH",
      `the calling peer's certificate ${peerFingerprint} is not the pipe's source service's`,
      {
        pipeId: route.id,
        fingerprint: peerFingerprint,
      },
    );
  matchRoute(route, packet);
  return route;
}

/** The full signature sequence and the payload. */
async function checkSignatures(
  rt: Pick<TxContext, "clock" | "config" | "gov">,
  signed: SignedPacket,
  route: Route,
): Promise<void> {
  const { packet, payload } = signed;
  await verifySequence(rt.gov.domain, signed, {
    expectedApp: route.sourceAppKey,
    expectedProxy: route.sourceServiceSigner,
    now: nowSeconds(rt),
    maxPayloadBytes: Math.min(rt.config.limits.maxPayloadBytes, route.maxPayloadBytes),
  });
  matchSelector(packet, payload);
}

/** The inbox (a duplicate or a replay), the rate limits. */
function checkAdmission(
  rt: Pick<TxContext, "clock" | "flow" | "pipeRates" | "store">,
  signed: SignedPacket,
  route: Route,
): void {
  const { packet } = signed;
  const previous = rt.store.getInbound(inboxKey.packet(packet.pipeId, packet.sequence));
  if (previous !== null) throw duplicateOf(rt, signed);
  admit(rt, route, rt.pipeRates);
}

/** A step as the ledger opened it. */
interface OpenedStep {
  side: number;
  operation: number;
  dependsOn: number;
}

/**
 * The initiator opened the transaction with these packets' sequences, and it still takes results: its steps. The
 * k-th target step is the k-th packet's.
 */
async function checkLedger(
  rt: Pick<TxContext, "clock" | "gov">,
  packets: readonly SignedPacket[],
): Promise<OpenedStep[]> {
  const { packet } = packets[0]!;
  const last = packets[packets.length - 1]!.packet;
  // One read: the state, the deadline, the pipe's last sequence and every step.
  const { state, deadline, lastSequence, steps } = await rt.gov.ledger.read("openedOf", [packet.txId, packet.pipeId]);
  if (state === TxState.None || last.sequence > lastSequence)
    throw new CcgpError(
      "TX_NOT_OPEN",
      `transaction ${packet.txId} was not opened on the ledger with sequence ${last.sequence}`,
      {
        txId: packet.txId,
      },
    );
  if (state !== TxState.Open && state !== TxState.Executing)
    throw new CcgpError("TX_NOT_ACTIVE", `transaction ${packet.txId} is ${TxState[state]}: nothing is executed`, {
      txId: packet.txId,
    });
  if (nowSeconds(rt) > deadline)
    throw new CcgpError("DEADLINE_PASSED", `transaction ${packet.txId} is past its deadline ${deadline}`, {
      txId: packet.txId,
    });
  const targets = steps.flatMap((s, k) => (s.side === Side.Target ? [k] : []));
  if (targets.length !== packets.length)
    throw new CcgpError(
      "ROUTE_MISMATCH",
      `transaction ${packet.txId} has ${targets.length} target step(s), the delivery ${packets.length} packet(s)`,
      { txId: packet.txId },
    );
  targets.forEach((k, i) => {
    if (packetOperation(steps[k]!.operation) !== packets[i]!.packet.operation)
      throw new CcgpError("ROUTE_MISMATCH", `step ${k} of ${packet.txId} is not packet ${i}'s operation`, { step: k });
  });
  return [...steps];
}

/**
 * The CNS names the contract on the target sub-chain, the gateway calls it under the name, its code is the attested
 * one.
 */
async function checkContract(rt: Pick<TxContext, "gov" | "subchain">, route: Route): Promise<void> {
  await checkTarget(
    { names: rt.gov.names, watch: registryWatch(rt.gov), gateway: rt.subchain.gateway, chain: rt.subchain.chain },
    route.targetSubchain,
    route.contractName,
  );
}

/** The receiver's view of the plan: every ledger step, with each packet's call at its target step. */
function receiverPlan(
  packets: readonly SignedPacket[],
  steps: readonly OpenedStep[],
  versionKeys: Record<string, Hex>,
): Plan {
  let used = 0;
  const planned: PlanStep[] = steps.map((s, k) => {
    const dependency =
      s.dependsOn === NO_DEPENDENCY
        ? {}
        : {
            dependsOn: s.dependsOn,
            ...(versionKeys[String(k)] ? { versionKey: versionKeys[String(k)]!.toLowerCase() as Hex } : {}),
          };
    if (s.side !== Side.Target)
      return { side: s.side, operation: s.operation, contractName: "0x" as Hex, data: "0x" as Hex, ...dependency };
    const index = used++;
    const p = packets[index]!;
    return {
      side: s.side,
      operation: s.operation,
      contractName: p.packet.contractName,
      data: p.payload,
      ...dependency,
      ...(packets.length > 1 ? { packet: index } : {}),
    };
  });
  const plan: Plan = { steps: planned, target: steps.findIndex((s) => s.side === Side.Target) };
  if (packets.length > 1) plan.packets = packets.slice(1).map(toWire);
  return plan;
}

function accept(
  rt: Pick<TxContext, "journal" | "store">,
  packets: readonly SignedPacket[],
  plan: Plan,
  from: { govFromBlock: bigint; subFromBlock: bigint },
): boolean {
  const { packet } = packets[0]!;
  const signed = packets[0]!;
  // Durable before the 200: the sender then stops retransmitting. All the packets or none.
  if (packets.slice(1).some((p) => rt.store.getInbound(inboxKey.packet(p.packet.pipeId, p.packet.sequence)) !== null))
    return false;
  return rt.store.durably(() => {
    if (!rt.store.acceptInbound(inboxKey.packet(packet.pipeId, packet.sequence), toWire(signed))) return false;
    for (const p of packets.slice(1))
      rt.store.acceptInbound(inboxKey.packet(p.packet.pipeId, p.packet.sequence), toWire(p));
    rt.journal.insert({
      txId: packet.txId,
      role: "receiver",
      mode: "peer",
      pipeId: packet.pipeId,
      sequence: packet.sequence,
      signed,
      plan,
      ...from,
    });
    rt.store.enqueue(work.step("receiver", packet.txId, plan.target));
    return true;
  });
}

/** The same packet again is a duplicate (answered with its result, never run again); another one is a replay. */
function duplicateOf(rt: Pick<TxContext, "store">, signed: SignedPacket): CcgpError {
  const entry = rt.store.getInbound(inboxKey.packet(signed.packet.pipeId, signed.packet.sequence));
  const same =
    entry !== null &&
    hashPacket(parseSignedPacket(entry.packet as never, { maxPayloadBytes: Number.MAX_SAFE_INTEGER }).packet) ===
      hashPacket(signed.packet);
  if (same)
    return new CcgpError(
      "DUPLICATE",
      `packet ${signed.packet.pipeId}/${signed.packet.sequence} was already accepted; it is not run again`,
      {
        result: { status: entry.status, ...(entry.result as object | null) },
      },
    );
  return new CcgpError(
    "REPLAY",
    `sequence ${signed.packet.sequence} of pipe ${signed.packet.pipeId} was already used by another packet`,
    {
      sequence: signed.packet.sequence,
    },
  );
}

/** Records the refusal; a refusal that may prove the source proxy's misbehaviour is reported to the ledger. */
function refuse(
  rt: Pick<TxContext, "log" | "refusals" | "store" | "worker">,
  error: unknown,
  signed: SignedPacket | undefined,
): Refusal {
  if (!isBadInput(error)) {
    // A fault of ours or of a node (RPC), not of the packet: nothing was accepted, the sender retries.
    rt.log.warn({ err: error, txId: signed?.packet.txId }, "packet not handled: not ready");
    return notReady(error);
  }
  const code = error.code;
  const refusal = rt.refusals.from(error, {
    source: "peer",
    pipeId: signed?.packet.pipeId,
    signer: signed?.packet.signer,
  });
  if (signed?.signatures.proxy !== undefined && REPORTABLE.has(code)) {
    const packetHash = hashPacket(signed.packet);
    rt.store.enqueue(work.reportRefusal(packetHash, toWire(signed)));
    rt.worker.kick();
  }
  return refusal;
}
