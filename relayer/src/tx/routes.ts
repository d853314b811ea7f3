/**
 * A pipe's target routes in priority order (its own target service, then the alternate routes the vote set on the
 * pipe registry) and a call that moves on to the next route when one is unreachable or refuses for a reason that
 * passes with time. Each route is reached over mutual TLS pinned to its own registered certificate. The receiver side
 * takes a packet once per (pipe, sequence) whichever route carried it: the gateway and the ledger refuse a second run.
 */
import type { Hex } from "viem";
import { ServiceStatus } from "../../../lib/abi/contracts";
import { CcgpError } from "../../../lib/infra/errors";
import { servicePin } from "../governance/pins";
import type { ServiceEntry } from "../governance/view";
import { PeerClient, type PeerCallResult } from "../server";
import type { TxContext } from "./context";

/** An answer of one target route. */
export interface RouteAnswer {
  service: ServiceEntry;
  response: PeerCallResult;
  /** Whether the route is one of the pipe's alternates (not its own target service). */
  alternate: boolean;
}

/** The enabled target routes of a pipe, in priority order (empty for an unknown pipe). */
export async function targetRoutes(rt: Pick<TxContext, "view">, pipeId: Hex): Promise<ServiceEntry[]> {
  const route = await rt.view.route(pipeId);
  if (route === undefined) return [];
  const services = await Promise.all([route.targetService, ...route.alternates].map((id) => rt.view.service(id)));
  return services.filter((s): s is ServiceEntry => s !== undefined && s.status === ServiceStatus.Enabled);
}

/**
 * POSTs `body` to `path` on each target route in turn and returns the first answer that `retryable` does not call
 * retryable (given whether the route is an alternate). When every route failed, returns the last
 * retryable answer, or throws the last transport error (the caller's retry then starts again from the first route).
 */
export async function callRoutes(
  rt: Pick<TxContext, "view" | "tls" | "log">,
  pipeId: Hex,
  txId: Hex,
  path: string,
  body: unknown,
  options: { timeoutMs: number; retryable: (response: PeerCallResult, alternate: boolean) => boolean },
): Promise<RouteAnswer> {
  const routes = await targetRoutes(rt, pipeId);
  if (routes.length === 0)
    throw new CcgpError("TARGET_UNAVAILABLE", `no enabled target service of pipe ${pipeId}`, { txId, pipeId });
  const failures: string[] = [];
  let last: RouteAnswer | undefined;
  let error: unknown;
  const own = (await rt.view.route(pipeId))?.targetService.toLowerCase();
  for (const [i, service] of routes.entries()) {
    const alternate = service.id.toLowerCase() !== own;
    const client = new PeerClient({
      tls: rt.tls,
      isPinned: servicePin(rt.view, service.id),
      timeoutMs: options.timeoutMs,
    });
    const host = service.host.includes(":") ? `[${service.host}]` : service.host;
    const where = `${service.host}:${service.port}`;
    let response: PeerCallResult;
    try {
      response = await client.call(`https://${host}:${service.port}${path}`, { body });
    } catch (err) {
      failures.push(`${where}: ${(err as Error).message}`);
      error = err;
      continue;
    }
    if (options.retryable(response, alternate)) {
      failures.push(`${where}: ${response.status}`);
      last = { service, response, alternate };
      continue;
    }
    if (failures.length > 0)
      rt.log.warn({ txId, pipeId, route: service.id, rank: i, failures }, "answered by an alternate target route");
    return { service, response, alternate };
  }
  if (last !== undefined) return last;
  throw error;
}
