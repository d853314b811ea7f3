/**
 * The initiator's first stage, shared by both modes: verify stage 1 against the pipe (the app's reserved key, its
 * rights now, payload integrity, deadline, sequence, rate limits), countersign (stage 2) with the service signer,
 * journal the transaction and enqueue its opening on the ledger, in one SQLite transaction. Nothing is sent before
 * the ledger has the transaction open.
 */
import type { Hex } from "viem";
import { countersign, toWire, verifyStage1, type SignedPacket } from "../../../lib/amdp";
import {
  activeRoute,
  admit,
  checkDeadline,
  checkFreshSequence,
  checkRights,
  matchRoute,
  matchSelector,
} from "../crosschain/checks";
import { isBadInput, type Refusal } from "../crosschain/refusal";
import { CcgpError } from "../../../lib/infra/errors";
import type { Route } from "../governance/view";
import { work } from "../work/items";
import type { Mode } from "./journal";
import type { Plan } from "../../../lib/domain/plan";
import { nowSeconds, type TxContext } from "./context";

export interface Initiated {
  txId: Hex;
  status: "accepted";
  sequence: bigint;
}

/**
 * Checks, countersigns and journals a stage-1 packet (and `more`, the packets of the plan's later target steps);
 * throws a recorded `Refusal` naming what is wrong.
 */
export async function initiate(
  rt: TxContext,
  signed: SignedPacket,
  plan: Plan,
  mode: Mode,
  more: readonly SignedPacket[] = [],
): Promise<Initiated> {
  const source = mode === "app" ? "intake" : "chain";
  const context = { source, pipeId: signed.packet.pipeId, signer: signed.packet.signer };
  let route: Route;
  try {
    route = await checkStage1(rt, signed);
    for (const [k, extra] of more.entries())
      await checkFollowing(rt, route, signed, k === 0 ? signed : more[k - 1]!, extra, k);
  } catch (error) {
    throw isBadInput(error) ? rt.refusals.from(error, context) : error;
  }
  if (more.length > 0)
    plan.packets = await Promise.all(
      more.map(async (p) =>
        toWire({
          ...p,
          signatures: {
            app: p.signatures.app,
            proxy: await countersign(rt.me.signer, rt.gov.domain, p.packet, p.signatures.app),
          },
        }),
      ),
    );
  // The heads are read while the countersignature is computed (CPU, in microtasks: the reads go out first).
  const heads = Promise.all([rt.govLogs.head(), rt.subchain.logs.head()]);
  heads.catch(() => undefined);
  await Promise.all([rt.govLogs.sent(), rt.subchain.logs.sent()]);
  const proxy = await countersign(rt.me.signer, rt.gov.domain, signed.packet, signed.signatures.app);
  const countersigned: SignedPacket = { ...signed, signatures: { app: signed.signatures.app, proxy } };
  const [govFromBlock, subFromBlock] = await heads;
  const txId = signed.packet.txId;
  // Durable before the 202 (or, chain-initiated, before the request is taken as handled).
  const inserted = rt.store.durably(() => {
    // Checked again with the insert: requests run concurrently, and a higher sequence of the pipe journaled since
    // the check in stage 1 may open first; the ledger would then refuse this one after its 202.
    if (signed.packet.sequence <= rt.journal.maxSequence(route.id)) return "overtaken";
    const fresh = rt.journal.insert({
      txId,
      role: "initiator",
      mode,
      pipeId: route.id,
      sequence: signed.packet.sequence,
      signed: countersigned,
      plan,
      govFromBlock,
      subFromBlock,
    });
    if (fresh) rt.store.enqueue(work.open(txId));
    return fresh ? "journaled" : "duplicate";
  });
  if (inserted === "duplicate") throw duplicate(rt, signed, source);
  if (inserted === "overtaken")
    throw rt.refusals.refuse(
      "REPLAY",
      `packet.sequence ${signed.packet.sequence} is not above the last one this relayer took on the pipe`,
      {
        ...context,
        details: { field: "packet.sequence" },
      },
    );
  rt.log.info({ txId, pipeId: route.id, sequence: signed.packet.sequence.toString(), mode }, "transaction accepted");
  rt.worker.kick();
  return { txId, status: "accepted", sequence: signed.packet.sequence };
}

/** Everything stage 1 requires before the relayer vouches for a packet with its countersignature. */
export async function checkStage1(
  rt: Pick<TxContext, "clock" | "config" | "flow" | "gov" | "journal" | "me" | "pipeRates" | "view">,
  signed: SignedPacket,
): Promise<Route> {
  const { packet, payload } = signed;
  const route = await activeRoute(rt, packet.pipeId);
  if (route.sourceService.toLowerCase() !== rt.me.service.id.toLowerCase())
    throw new CcgpError(
      "WRONG_SERVICE",
      `pipe ${route.id} starts at service ${route.sourceService}, not at this relayer's ${rt.me.service.id}`,
      {
        pipeId: route.id,
      },
    );
  matchRoute(route, packet);
  const now = nowSeconds(rt);
  await verifyStage1(rt.gov.domain, signed, {
    expectedApp: route.sourceAppKey,
    now,
    maxPayloadBytes: Math.min(rt.config.limits.maxPayloadBytes, route.maxPayloadBytes),
  });
  matchSelector(packet, payload);
  checkDeadline(route, packet, now);
  const known = rt.journal.get(packet.txId, "initiator");
  if (known !== null)
    throw new CcgpError("DUPLICATE", `transaction ${packet.txId} was already accepted (status ${known.status})`, {
      txId: packet.txId,
    });
  // The rate limits before the sequence and the ledger reads: a request over the rate costs no read, and under a
  // burst each request meets the limit whatever order they arrive in (a lower sequence overtaken by a higher one
  // journaled first is a replay, and would never reach the limit after that check).
  admit(rt, route, rt.pipeRates);
  if (packet.sequence <= rt.journal.maxSequence(packet.pipeId))
    throw new CcgpError(
      "REPLAY",
      `packet.sequence ${packet.sequence} is not above the last one this relayer took on the pipe`,
      {
        field: "packet.sequence",
      },
    );
  await Promise.all([checkFreshSequence(rt, packet), checkRights(rt, packet)]);
  return route;
}

/** A later packet of the same transaction: same pipe and transaction id, a higher sequence, stage 1 as the first. */
async function checkFollowing(
  rt: Pick<TxContext, "clock" | "config" | "gov">,
  route: Route,
  first: SignedPacket,
  previous: SignedPacket,
  extra: SignedPacket,
  k: number,
): Promise<void> {
  const { packet, payload } = extra;
  const field = `packets.${k}`;
  if (
    packet.pipeId.toLowerCase() !== first.packet.pipeId.toLowerCase() ||
    packet.txId.toLowerCase() !== first.packet.txId.toLowerCase()
  )
    throw new CcgpError("ROUTE_MISMATCH", `${field}: every packet of a transaction has its pipe and transaction id`, {
      field,
    });
  if (packet.sequence <= previous.packet.sequence)
    throw new CcgpError(
      "REPLAY",
      `${field}.sequence ${packet.sequence} is not above the previous packet's ${previous.packet.sequence}`,
      { field: `${field}.sequence` },
    );
  matchRoute(route, packet);
  const now = nowSeconds(rt);
  await verifyStage1(rt.gov.domain, extra, {
    expectedApp: route.sourceAppKey,
    now,
    maxPayloadBytes: Math.min(rt.config.limits.maxPayloadBytes, route.maxPayloadBytes),
  });
  matchSelector(packet, payload);
  checkDeadline(route, packet, now);
  await checkRights(rt, packet);
}

function duplicate(rt: Pick<TxContext, "refusals">, signed: SignedPacket, source: string): Refusal {
  return rt.refusals.refuse(
    "DUPLICATE",
    `transaction ${signed.packet.txId} or sequence ${signed.packet.sequence} was already accepted`,
    {
      source,
      pipeId: signed.packet.pipeId,
      signer: signed.packet.signer,
    },
  );
}
