/**
 * The chain-initiated mode: a business contract called `gateway.request(...)`; the follower stored the confirmed
 * `CrossChainRequested` event as a work item. Here the relayer checks that the event's sender is a contract the app's
 * institution registered (CNS) on the app's sub-chain, builds the packet (transaction id = the request id, the next
 * free sequence of the pipe, a deadline within the pipe's timeout), signs stage 1 with the app key it holds, and
 * goes on exactly as for an app request.
 */
import { keccak256, slice, zeroHash, type Hex } from "viem";
import { countersign, signPacket, type Packet, type SignedPacket } from "../../../lib/amdp";
import { CcgpError } from "../../../lib/infra/errors";
import type { ChainRequest } from "../work/items";
import { initiate } from "./initiate";
import type { JournalEntry } from "./journal";
import { planOf } from "../../../lib/domain/plan";
import { requireSubchain, type HeldAppKey, type TxContext } from "./context";
import { serialised } from "./serial";
import { Defer, GiveUp, type WorkOutcome } from "./worker";
import { Refusal } from "../crosschain/refusal";
import type { Route } from "../governance/view";

export async function handleChainRequest(rt: TxContext, request: ChainRequest): Promise<WorkOutcome> {
  if (rt.journal.get(request.requestId, "initiator") !== null) return {};
  const context = { source: "chain", pipeId: request.pipeId, signer: request.sender };
  // Sequences of one pipe are allocated one request at a time (the ledger wants them increasing).
  await serialised(`sequence:${request.pipeId}`, async () => {
    try {
      const { route, app } = await checkRequest(rt, request);
      const signed = await packetFor(rt, route, app, request);
      await initiate(rt, signed, planOf(signed.packet, signed.payload, undefined), "chain");
    } catch (error) {
      // An app request on the pipe took the sequence meanwhile: the next attempt signs a fresh one.
      if (error instanceof Refusal && error.code === "REPLAY") throw new Defer(error.message, 0);
      if (error instanceof Refusal && (error.code === "RATE_LIMITED" || error.code === "QUEUE_FULL"))
        throw new Defer(error.message, Number(error.details.retryAfterMs ?? 1_000) || 1_000);
      if (error instanceof Refusal) throw new GiveUp(error.code, error.message, error.details, { cause: error });
      if (error instanceof CcgpError && error.code.startsWith("CHAIN_REQUEST_"))
        throw new GiveUp(error.code, rt.refusals.refuse(error.code, error.message, context).message, error.details);
      throw error;
    }
  });
  return {};
}

/** The request's pipe starts at this relayer, it holds the app's key, and the sender is the app side's contract. */
async function checkRequest(
  rt: Pick<TxContext, "apps" | "gov" | "me" | "subchain" | "view">,
  request: ChainRequest,
): Promise<{ route: Route; app: HeldAppKey }> {
  const route = await rt.view.route(request.pipeId);
  if (route === undefined)
    throw new CcgpError(
      "CHAIN_REQUEST_PIPE_UNKNOWN",
      `request ${request.requestId} names unknown pipe ${request.pipeId}`,
      {},
    );
  requireSubchain(rt, route.sourceSubchain);
  const app = rt.apps.get(route.sourceApp.toLowerCase() as Hex);
  if (app === undefined)
    throw new CcgpError(
      "CHAIN_REQUEST_NO_APP_KEY",
      `this relayer holds no key of app ${route.sourceApp} (pipe ${route.id})`,
      {
        app: route.sourceApp,
      },
    );
  const nameHash = await rt.gov.names.read("nameOf", [route.sourceSubchain, request.sender]);
  if (nameHash === zeroHash)
    throw new CcgpError(
      "CHAIN_REQUEST_SENDER_UNKNOWN",
      `sender ${request.sender} of request ${request.requestId} is not a registered contract`,
      {
        sender: request.sender,
      },
    );
  const owner = (await rt.gov.names.read("contractName", [route.sourceSubchain, nameHash])).institution;
  if (owner !== rt.me.institution || (app.contracts !== undefined && !app.contracts.has(nameHash.toLowerCase() as Hex)))
    throw new CcgpError(
      "CHAIN_REQUEST_SENDER_NOT_ALLOWED",
      `sender ${request.sender} (${nameHash}) may not start requests for app ${route.sourceApp}`,
      {
        sender: request.sender,
        owner,
      },
    );
  return { route, app };
}

async function packetFor(
  rt: Pick<TxContext, "config" | "gov" | "govLogs" | "journal">,
  route: Route,
  app: HeldAppKey,
  request: ChainRequest,
): Promise<SignedPacket> {
  const [last] = await rt.gov.ledger.read("pipeOf", [route.id]);
  const journaled = rt.journal.maxSequence(route.id);
  const now = await rt.govLogs.timestamp();
  const lifetime = Math.min(rt.config.runtime.txDeadlineSeconds, route.timeoutSeconds);
  const packet: Packet = {
    pipeId: route.id,
    sourceInstitution: route.sourceInstitution,
    targetInstitution: route.targetInstitution,
    targetService: route.targetService,
    contractName: request.contractName,
    operation: request.operation === 0 ? 0 : 1,
    selector: request.payload.length >= 10 ? slice(request.payload, 0, 4) : "0x00000000",
    payloadHash: keccak256(request.payload),
    txId: request.requestId,
    sequence: (last > journaled ? last : journaled) + 1n,
    deadline: now + BigInt(lifetime),
    signer: app.account.address,
  };
  const appSignature = await signPacket(app.account, rt.gov.domain, packet);
  return { packet, payload: request.payload, signatures: { app: appSignature } };
}

/** Re-signs a chain-initiated transaction that lost its sequence to another before it opened. */
export async function resequence(
  rt: Pick<TxContext, "apps" | "gov" | "journal" | "me" | "view">,
  entry: JournalEntry,
): Promise<void> {
  const route = await rt.view.route(entry.pipeId);
  const app = route === undefined ? undefined : rt.apps.get(route.sourceApp.toLowerCase() as Hex);
  if (route === undefined || app === undefined)
    throw new GiveUp("CHAIN_REQUEST_NO_APP_KEY", `cannot re-sign ${entry.txId}: no pipe or app key`, {
      txId: entry.txId,
    });
  const [last] = await rt.gov.ledger.read("pipeOf", [route.id]);
  const journaled = rt.journal.maxSequence(route.id);
  const packet = { ...entry.signed.packet, sequence: (last > journaled ? last : journaled) + 1n };
  const app_ = await signPacket(app.account, rt.gov.domain, packet);
  const proxy = await countersign(rt.me.signer, rt.gov.domain, packet, app_);
  rt.journal.resequence(entry.txId, { packet, payload: entry.signed.payload, signatures: { app: app_, proxy } });
}
