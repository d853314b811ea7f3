/**
 * What an auditor API request signs (EIP-712): the domain, the type and the canonical query. Free of Node modules,
 * so a browser (the governance console) signs exactly what the server checks.
 */
import { getAddress, type Address, type Hex } from "viem";

export const AUDITOR_DOMAIN_NAME = "CCGP-Auditor-API";
export const AUDITOR_DOMAIN_VERSION = "1";
/** `IMembership.Role.Auditor`. */
export const ROLE_AUDITOR = 4;

export const HEADERS = {
  account: "x-ccgp-auditor",
  signature: "x-ccgp-signature",
  timestamp: "x-ccgp-timestamp",
  nonce: "x-ccgp-nonce",
} as const;

export const auditorRequestTypes = {
  AuditorRequest: [
    { name: "method", type: "string" },
    { name: "path", type: "string" },
    { name: "query", type: "string" },
    { name: "timestamp", type: "uint64" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

export interface AuditorDomain {
  name: typeof AUDITOR_DOMAIN_NAME;
  version: typeof AUDITOR_DOMAIN_VERSION;
  chainId: bigint;
  verifyingContract: Address;
}

export function auditorDomain(chainId: number | bigint, membership: Address): AuditorDomain {
  return {
    name: AUDITOR_DOMAIN_NAME,
    version: AUDITOR_DOMAIN_VERSION,
    chainId: BigInt(chainId),
    verifyingContract: getAddress(membership),
  };
}

/** The query string in one canonical form: pairs sorted by key then value, each part percent-encoded. */
export function canonicalQuery(search: URLSearchParams | string): string {
  const params = typeof search === "string" ? new URLSearchParams(search) : search;
  return [...params.entries()]
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
}

export interface AuditorRequest {
  method: string;
  path: string;
  query: string;
  timestamp: bigint;
  nonce: Hex;
}
