/**
 * The target relayer's side: asks every configured attester endpoint in parallel (each with a timeout and bounded
 * retries), keeps only signatures that recover to a distinct attester of the gateway's current set over exactly the
 * attestation this relayer computed, and returns the first `threshold` of them packed for the gateway. Fewer is a
 * transient fault (`ATTESTATIONS_INSUFFICIENT`): the step is retried later, nothing runs meanwhile.
 */
import { type Address, type Hex } from "viem";
import { CcgpError } from "../../../lib/infra/errors";
import { attestationSigner, packAttestations, type Attestation } from "./attestation";
import type { AttestationRequest } from "./attester";

export interface CollectOptions {
  endpoints: readonly string[];
  timeoutMs: number;
  retries: number;
}

export interface AttesterSet {
  threshold: number;
  attesters: readonly Address[];
}

const json = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

async function ask(endpoint: string, body: string, o: CollectOptions): Promise<Hex> {
  let last: unknown;
  for (let attempt = 0; attempt <= o.retries; attempt++) {
    try {
      const res = await fetch(`${endpoint.replace(/\/$/, "")}/v1/attestations`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(o.timeoutMs),
      });
      const answer = (await res.json()) as { signature?: Hex; error?: { code: string; message: string } };
      if (res.ok && answer.signature) return answer.signature;
      last = new CcgpError(
        "ATTESTATION_REFUSED",
        `${endpoint}: ${answer.error?.code ?? res.status} ${answer.error?.message ?? ""}`.trim(),
        { endpoint },
      );
      // A refusal because of the request itself will not change on retry.
      if (res.status === 400) break;
    } catch (error) {
      last = error;
    }
    if (attempt < o.retries) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
  }
  throw last;
}

export async function collectAttestations(
  request: AttestationRequest,
  expected: Attestation,
  chainId: number,
  set: AttesterSet,
  o: CollectOptions,
): Promise<Hex> {
  const body = JSON.stringify(request, json);
  const members = new Set(set.attesters.map((a) => a.toLowerCase()));
  const answers = await Promise.allSettled(o.endpoints.map((e) => ask(e, body, o)));
  const bySigner = new Map<string, Hex>();
  const problems: string[] = [];
  for (const [i, answer] of answers.entries()) {
    if (answer.status === "rejected") {
      problems.push(
        `${o.endpoints[i]}: ${answer.reason instanceof Error ? answer.reason.message : String(answer.reason)}`,
      );
      continue;
    }
    const signer = (await attestationSigner(chainId, expected, answer.value)).toLowerCase();
    if (!members.has(signer))
      problems.push(`${o.endpoints[i]}: signed by ${signer}, not a current attester (or over other fields)`);
    else bySigner.set(signer, answer.value);
  }
  const signatures = [...bySigner.values()].slice(0, set.threshold);
  if (signatures.length < set.threshold)
    throw new CcgpError(
      "ATTESTATIONS_INSUFFICIENT",
      `${signatures.length} of ${set.threshold} attestations collected: ${problems.join("; ") || "no attester endpoint configured"}`,
      {
        collected: signatures.length,
        threshold: set.threshold,
        problems,
      },
    );
  return packAttestations(signatures);
}
