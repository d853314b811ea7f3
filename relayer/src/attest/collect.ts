/**
 * The target relayer's side: asks the endpoint every attester of the gateway's current set published in the service
 * registry, in parallel (each with a timeout and bounded retries), keeps only signatures that recover to that
 * attester over exactly the attestation this relayer computed, and returns the first `threshold` of them packed for
 * the gateway. Fewer is a transient fault (`ATTESTATIONS_INSUFFICIENT`): the step is retried later, nothing runs
 * meanwhile.
 */
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { type Address, type Hex } from "viem";
import { CcgpError } from "../../../lib/infra/errors";
import { attestationSigner, packAttestations, type Attestation } from "./attestation";
import type { AttestationRequest } from "./attester";
import type { AttesterEndpoints } from "./endpoints";

export interface CollectOptions {
  timeoutMs: number;
  retries: number;
}

export interface AttesterSet {
  threshold: number;
  attesters: readonly Address[];
}

const json = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/**
 * Connections kept to the attesters. Node's own client, not `fetch`: measured on this machine, a small POST and its
 * JSON answer cost a third of the CPU (0.5 against 1.5 ms) and of the wall time, on the step's critical path.
 */
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/** One POST of `body` to `url`: the status and the answer's text, all within `timeoutMs`. */
function post(url: string, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const secure = url.startsWith("https:");
  return new Promise((resolve, reject) => {
    const options = {
      method: "POST",
      agent: secure ? agents.https : agents.http,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      signal: AbortSignal.timeout(timeoutMs),
    };
    const req = (secure ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("close", () => {
        if (!res.complete) reject(new Error(`${url}: the answer was cut short`));
        else resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** POSTs `body` to `path` of `endpoint` until it answers a signature, `retries` more times on a fault. */
export async function askAttester(endpoint: string, path: string, body: string, o: CollectOptions): Promise<Hex> {
  let last: unknown;
  for (let attempt = 0; attempt <= o.retries; attempt++) {
    try {
      const res = await post(`${endpoint.replace(/\/$/, "")}${path}`, body, o.timeoutMs);
      const answer = JSON.parse(res.text) as { signature?: Hex; error?: { code: string; message: string } };
      const ok = res.status >= 200 && res.status < 300;
      if (ok && answer.signature) return answer.signature;
      last = new CcgpError(
        "ATTESTATION_REFUSED",
        `${answer.error?.code ?? res.status} ${answer.error?.message ?? ""}`.trim(),
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

/**
 * Asks each attester of `set` at its published endpoint (`path`, `body`) and keeps the signatures `recover` maps to
 * that attester; the first `threshold` of them, or `ATTESTATIONS_INSUFFICIENT` naming what each other one did.
 */
export async function collectSignatures(
  path: string,
  body: string,
  recover: (signature: Hex) => Promise<Address>,
  set: AttesterSet,
  source: AttesterEndpoints,
  o: CollectOptions,
): Promise<Hex[]> {
  const endpoints = await source.endpoints(set.attesters);
  const problems: string[] = [];
  const signed = await Promise.all(
    endpoints.map(async ({ attester, url }) => {
      if (url === undefined) problems.push(`${attester}: published no attester endpoint in the service registry`);
      else
        try {
          const signature = await askAttester(url, path, body, o);
          const signer = await recover(signature);
          if (signer.toLowerCase() === attester.toLowerCase()) return signature;
          problems.push(`${url}: signed by ${signer}, not by ${attester} (or over other fields)`);
        } catch (error) {
          problems.push(`${url}: ${error instanceof Error ? error.message : String(error)}`);
        }
      // The endpoint may have moved (or been published since): read the registry again next time.
      source.forget(attester);
      return undefined;
    }),
  );
  const signatures = signed.filter((s): s is Hex => s !== undefined).slice(0, set.threshold);
  if (signatures.length < set.threshold)
    throw new CcgpError(
      "ATTESTATIONS_INSUFFICIENT",
      `${signatures.length} of ${set.threshold} attestations collected: ${problems.join("; ") || "the set is empty"}`,
      {
        collected: signatures.length,
        threshold: set.threshold,
        problems,
      },
    );
  return signatures;
}

/** The attestations of `request` by `threshold` distinct attesters of `set`, packed for the gateway. */
export async function collectAttestations(
  request: AttestationRequest,
  expected: Attestation,
  chainId: number,
  set: AttesterSet,
  source: AttesterEndpoints,
  o: CollectOptions,
): Promise<Hex> {
  const recover = (signature: Hex) => attestationSigner(chainId, expected, signature);
  const body = JSON.stringify(request, json);
  return packAttestations(await collectSignatures("/v1/attestations", body, recover, set, source, o));
}
