/**
 * The Audit Office's auditor asking Drug Maker A's relayer (its ops listener, `/auditor`) about the consortium:
 * every request signed with the auditor account's key (`auditor/src/auth.ts`).
 */
import type { LocalAccount } from "viem";
import { auditorDomain, signAuditorRequest } from "../../../auditor/src/auth";
import { loadKeystore } from "../../../relayer/src/keys";
import type { LocalConsortium } from "../local-consortium";

/** Where A's relayer serves the auditor API; names the option when it is off. */
export function auditorApiUrl(c: LocalConsortium): string {
  if (c.auditorApi === null) throw new Error("this local consortium was set up with auditorApi: false");
  return c.auditorApi;
}

export interface AuditorAnswer {
  status: number;
  body: unknown;
}

/** A signed `GET <auditor API><path>` as `account` (default: the consortium's auditor). */
export async function auditorGet(c: LocalConsortium, path: string, account?: LocalAccount): Promise<AuditorAnswer> {
  const signer = account ?? (await loadKeystore(c.accounts.auditor.keystore, c.password));
  const url = `${auditorApiUrl(c)}${path}`;
  const headers = await signAuditorRequest(
    signer,
    auditorDomain(c.chains.governance.chainId, c.governance.membership as `0x${string}`),
    { method: "GET", url },
  );
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // CSV answers stay text
  }
  return { status: res.status, body };
}

/**
 * The trace of a transaction, once A's relayer has indexed it in its final state (the index trails by its
 * confirmations).
 */
export async function auditorTrace(
  c: LocalConsortium,
  txId: string,
  want: string,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: AuditorAnswer | undefined;
  while (Date.now() < deadline) {
    last = await auditorGet(c, `/v1/transactions/${txId}?receipts=true`);
    if (last.status === 200 && (last.body as { state?: string }).state === want)
      return last.body as Record<string, unknown>;
    if (last.status !== 200 && last.status !== 404) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `the auditor API did not show ${txId} as ${want}: last answer ${last?.status} ` +
      `${JSON.stringify(last?.body).slice(0, 300)}`,
  );
}
