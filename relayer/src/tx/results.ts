/**
 * `POST /v1/results` on the peer endpoint: the source relayer of a pipe asks for the values its packets read here.
 * Only the pipe's source service (its pinned certificate) is answered; the values come from this sub-chain's gateway
 * logs and the asker checks each against the result hash recorded on the ledger (see `tx/values.ts`).
 */
import type { Hex } from "viem";
import type { PeerRequest, PeerResponse } from "../server";
import type { TxContext } from "./context";
import { serveResults } from "./values";

const error = (status: number, code: string, message: string): PeerResponse => ({
  status,
  body: { error: { code, message } },
});

export async function serveResultsTo(
  rt: Pick<TxContext, "config" | "gov" | "govLogs" | "journal" | "subchain" | "view">,
  request: PeerRequest,
): Promise<PeerResponse> {
  let txId: Hex;
  try {
    const body = JSON.parse(request.body.toString("utf8")) as { txId?: unknown };
    if (typeof body.txId !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(body.txId))
      return error(400, "BAD_REQUEST", 'expected {"txId": "0x<32 bytes>"}');
    txId = body.txId.toLowerCase() as Hex;
  } catch {
    return error(400, "BAD_REQUEST", "the body is not valid JSON");
  }
  const entry = rt.journal.get(txId, "receiver");
  if (entry === null) return error(404, "TX_UNKNOWN", `transaction ${txId} was not received here`);
  const route = await rt.view.route(entry.pipeId);
  let source = route === undefined ? undefined : await rt.view.service(route.sourceService);
  if (source !== undefined && source.fingerprint !== request.peer.fingerprint)
    source = await rt.view.refreshService(source.id);
  if (source === undefined || source.fingerprint !== request.peer.fingerprint)
    return error(403, "PEER_MISMATCH", `the calling peer is not the source service of pipe ${entry.pipeId}`);
  return { status: 200, body: { txId, results: await serveResults(rt, txId) } };
}
