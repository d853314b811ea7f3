/**
 * The packet checks both proxies make against the pipe (stage 1 at the initiator, the whole sequence at the
 * receiver): the route, the operation's rights right now (`checkOperation`), the payload's function, the deadline,
 * the sequence, and the rate limits. Each throws a `CcgpError` whose code is the refusal recorded.
 */
import { slice, type Hex } from "viem";
import type { Packet } from "../../../lib/amdp";
import { CcgpError } from "../../../lib/infra/errors";
import { TokenBucket, type FlowControl } from "../flow";
import { PIPE_REFUSALS, PipeStatus } from "../../../lib/abi/contracts";
import { registryWatch, type GovernanceContracts, type RegistryContracts } from "../governance/contracts";
import type { GovernanceView, Route } from "../governance/view";

const ROUTE_FIELDS = ["sourceInstitution", "targetInstitution", "targetService", "contractName"] as const;

/** The route a packet names, which must exist and be active. */
export async function activeRoute(rt: { view: GovernanceView }, pipeId: Hex): Promise<Route> {
  const route = await rt.view.route(pipeId);
  if (route === undefined) throw new CcgpError("PIPE_UNKNOWN", `pipe ${pipeId} is not registered`, { pipeId });
  if (route.status !== PipeStatus.Active) {
    const fresh = await rt.view.refreshPipe(pipeId);
    if (fresh?.status !== PipeStatus.Active)
      throw new CcgpError("PIPE_NOT_ACTIVE", `pipe ${pipeId} is ${statusName(fresh?.status ?? 0)}`, { pipeId });
    return fresh;
  }
  return route;
}

function statusName(status: number): string {
  return (
    Object.entries(PipeStatus)
      .find(([, v]) => v === status)?.[0]
      ?.toLowerCase() ?? `status ${status}`
  );
}

/** The packet's parties, target service and contract are the route's. */
export function matchRoute(route: Route, packet: Packet): void {
  for (const field of ROUTE_FIELDS) {
    const [declared, expected] = [packet[field], route[field]];
    const same =
      typeof declared === "string" ? declared.toLowerCase() === String(expected).toLowerCase() : declared === expected;
    if (!same)
      throw new CcgpError("ROUTE_MISMATCH", `packet.${field} is ${declared}, the pipe's is ${expected}`, {
        field: `packet.${field}`,
        declared,
        expected,
      });
  }
}

/** The declared selector is the payload's function (a packet cannot name one function and call another). */
export function matchSelector(packet: Packet, payload: Hex): void {
  const actual = payload.length >= 10 ? slice(payload, 0, 4) : "0x";
  if (actual.toLowerCase() !== packet.selector.toLowerCase())
    throw new CcgpError(
      "SELECTOR_MISMATCH",
      `packet.selector ${packet.selector} is not the payload's function ${actual}`,
      {
        field: "packet.selector",
        declared: packet.selector,
        actual,
      },
    );
}

/**
 * `PipeRegistry.checkOperation` now: the signer's rights, both institutions, services and keys. The answer is kept
 * while no registry logs anything (`readKept`): every change it depends on is logged by one of them (a credit
 * restriction too, by the pipe registry's `InstitutionUsabilitySynced`), so a revocation ends it at its own block.
 */
export async function checkRights(rt: { gov: RegistryContracts }, packet: Packet): Promise<void> {
  const refusal = await rt.gov.pipes.readKept(
    "checkOperation",
    [packet.pipeId, packet.signer, packet.operation, packet.selector],
    registryWatch(rt.gov),
  );
  if (refusal === 0) return;
  const reason = PIPE_REFUSALS[refusal] ?? `refusal ${refusal}`;
  const code =
    reason === "PipeUnknown" ? "PIPE_UNKNOWN" : reason === "PipeNotActive" ? "PIPE_NOT_ACTIVE" : "PIPE_REFUSED";
  throw new CcgpError(code, `pipe ${packet.pipeId} refuses ${packet.signer}: ${reason}`, {
    pipeId: packet.pipeId,
    reason,
  });
}

/** The deadline is no later than the pipe's timeout allows. */
export function checkDeadline(route: Route, packet: Packet, now: bigint): void {
  const latest = now + BigInt(route.timeoutSeconds);
  if (packet.deadline > latest)
    throw new CcgpError(
      "DEADLINE_TOO_FAR",
      `packet.deadline ${packet.deadline} is beyond the pipe's timeout (latest ${latest})`,
      {
        field: "packet.deadline",
        deadline: packet.deadline,
        latest,
      },
    );
}

/** The sequence is above every one the ledger has used on the pipe (a lower one is a replay). */
export async function checkFreshSequence(
  rt: { gov: Pick<GovernanceContracts, "ledger"> },
  packet: Packet,
): Promise<void> {
  const [lastSequence] = await rt.gov.ledger.read("pipeOf", [packet.pipeId]);
  if (packet.sequence <= lastSequence)
    throw new CcgpError(
      "REPLAY",
      `packet.sequence ${packet.sequence} is not above the pipe's last used sequence ${lastSequence}`,
      {
        field: "packet.sequence",
        sequence: packet.sequence,
        lastSequence,
      },
    );
}

/** The relayer's own limits per pipe and per app, and the pipe's `ratePerMinute`. */
export function admit(
  rt: { flow: FlowControl; clock: () => number },
  route: Route,
  pipeRates: Map<Hex, TokenBucket>,
): void {
  rt.flow.admit({ pipeId: route.id, appId: route.sourceApp });
  let bucket = pipeRates.get(route.id);
  if (bucket === undefined || bucket.ratePerSecond !== route.ratePerMinute / 60) {
    bucket = new TokenBucket(route.ratePerMinute / 60, Math.max(1, route.ratePerMinute), rt.clock);
    pipeRates.set(route.id, bucket);
  }
  if (!bucket.tryTake())
    throw new CcgpError("RATE_LIMITED", `pipe ${route.id} is over its rate of ${route.ratePerMinute} a minute`, {
      scope: "pipe",
      key: route.id,
      retryAfterMs: bucket.retryAfterMs(),
    });
}
