/**
 * Every request to the auditor API is signed by an auditor account (EIP-712) over its method, path, canonical
 * query, a timestamp and a nonce, under a domain bound to the consortium (governance chain id, Membership
 * address). The server recovers the signer, requires it to be the claimed account, refuses timestamps outside the
 * window and nonces already seen inside it, then asks Membership on chain whether the account is an active auditor
 * (`requireActiveAccount(signer, Role.Auditor)`), so a suspended or revoked auditor is refused at once.
 */
import { randomBytes } from "node:crypto";
import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  getAddress,
  isAddress,
  isAddressEqual,
  recoverTypedDataAddress,
  type Abi,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
} from "viem";
import { AuditorError, AuditorErrorCode } from "./errors";
import {
  auditorDomain,
  auditorRequestTypes,
  canonicalQuery,
  HEADERS,
  ROLE_AUDITOR,
  type AuditorDomain,
  type AuditorRequest,
} from "./request";

export * from "./request";

/** The headers that authenticate a request to `url` (path and query taken from it) by `account`. */
export async function signAuditorRequest(
  account: Pick<LocalAccount, "address" | "signTypedData">,
  domain: AuditorDomain,
  request: { method: string; url: string; timestamp?: number; nonce?: Hex },
): Promise<Record<string, string>> {
  const url = new URL(request.url, "http://auditor.invalid");
  const message: AuditorRequest = {
    method: request.method.toUpperCase(),
    path: url.pathname,
    query: canonicalQuery(url.searchParams),
    timestamp: BigInt(request.timestamp ?? Math.floor(Date.now() / 1000)),
    nonce: request.nonce ?? (`0x${randomBytes(32).toString("hex")}` as Hex),
  };
  const signature = await account.signTypedData({
    domain,
    types: auditorRequestTypes,
    primaryType: "AuditorRequest",
    message,
  });
  return {
    [HEADERS.account]: account.address,
    [HEADERS.signature]: signature,
    [HEADERS.timestamp]: message.timestamp.toString(),
    [HEADERS.nonce]: message.nonce,
  };
}

/** Nonces seen inside the window, per signer; bounded so a flood of signed requests cannot exhaust memory. */
export class NonceCache {
  private readonly _seen = new Map<string, number>();

  constructor(private readonly _capacity = 100_000) {}

  /** Records the nonce until `expiresAt`; false if it was already seen (a replay). */
  use(signer: Address, nonce: Hex, expiresAt: number, now: number): boolean {
    const key = `${signer.toLowerCase()}:${nonce.toLowerCase()}`;
    const until = this._seen.get(key);
    if (until !== undefined && until >= now) return false;
    if (this._seen.size >= this._capacity) this._sweep(now);
    if (this._seen.size >= this._capacity)
      throw new AuditorError(AuditorErrorCode.Busy, "too many signed requests in the time window; retry later", {
        capacity: this._capacity,
      });
    this._seen.set(key, expiresAt);
    return true;
  }

  private _sweep(now: number): void {
    for (const [key, until] of this._seen) if (until < now) this._seen.delete(key);
  }
}

export interface AuthOptions {
  /** The governance chain, where Membership is asked. */
  client: PublicClient;
  membership: Address;
  chainId: number;
  membershipAbi: Abi;
  /** Largest distance between the request's timestamp and the server's clock, seconds (default 60). */
  windowSeconds?: number;
  nonces?: NonceCache;
  /** Unix seconds; injected by tests. */
  clock?: () => number;
}

const unauthenticated = (message: string, details: Record<string, unknown> = {}) =>
  new AuditorError(AuditorErrorCode.Unauthenticated, message, details);

function header(headers: Record<string, string | string[] | undefined>, name: string): string {
  const value = headers[name];
  if (typeof value !== "string" || value.length === 0)
    throw unauthenticated(`missing header ${name}`, { header: name });
  return value;
}

/** Verifies a request's auditor signature; returns the auditor's account and institution, or throws why not. */
export class AuditorAuthenticator {
  readonly domain: AuditorDomain;
  private readonly _window: number;
  private readonly _nonces: NonceCache;
  private readonly _clock: () => number;

  constructor(private readonly _o: AuthOptions) {
    this.domain = auditorDomain(_o.chainId, _o.membership);
    this._window = _o.windowSeconds ?? 60;
    this._nonces = _o.nonces ?? new NonceCache();
    this._clock = _o.clock ?? (() => Math.floor(Date.now() / 1000));
  }

  async verify(
    method: string,
    url: URL,
    headers: Record<string, string | string[] | undefined>,
  ): Promise<{ account: Address; institution: number }> {
    const claimed = header(headers, HEADERS.account);
    const signature = header(headers, HEADERS.signature);
    const timestampText = header(headers, HEADERS.timestamp);
    const nonce = header(headers, HEADERS.nonce);
    if (!isAddress(claimed, { strict: false })) throw unauthenticated(`${HEADERS.account} is not an address`);
    if (!/^0x[0-9a-fA-F]{130}$/.test(signature))
      throw unauthenticated(`${HEADERS.signature} is not a 65-byte hex signature`);
    if (!/^0x[0-9a-fA-F]{64}$/.test(nonce)) throw unauthenticated(`${HEADERS.nonce} is not 32-byte hex`);
    if (!/^\d{1,15}$/.test(timestampText)) throw unauthenticated(`${HEADERS.timestamp} is not unix seconds`);
    const timestamp = Number(timestampText);
    const now = this._clock();
    if (Math.abs(now - timestamp) > this._window)
      throw unauthenticated(
        `request timestamp ${timestamp} is more than ${this._window}s from the server's time ${now}`,
        { timestamp, now },
      );
    const message = {
      method: method.toUpperCase(),
      path: url.pathname,
      query: canonicalQuery(url.searchParams),
      timestamp: BigInt(timestamp),
      nonce: nonce as Hex,
    };
    let signer: Address;
    try {
      signer = await recoverTypedDataAddress({
        domain: this.domain,
        types: auditorRequestTypes,
        primaryType: "AuditorRequest",
        message,
        signature: signature as Hex,
      });
    } catch {
      throw unauthenticated("the signature cannot be recovered");
    }
    if (!isAddressEqual(signer, claimed as Address))
      throw unauthenticated(`the signature is not ${getAddress(claimed)}'s over this request`);
    const institution = await this._requireAuditor(signer);
    if (!this._nonces.use(signer, nonce as Hex, timestamp + this._window, now))
      throw unauthenticated("nonce already used: a replayed request");
    return { account: signer, institution };
  }

  private async _requireAuditor(account: Address): Promise<number> {
    try {
      const institution = await this._o.client.readContract({
        address: this._o.membership,
        abi: this._o.membershipAbi,
        functionName: "requireActiveAccount",
        args: [account, ROLE_AUDITOR],
      });
      return Number(institution);
    } catch (error) {
      const reason = this._revertReason(error);
      if (reason !== null)
        throw new AuditorError(AuditorErrorCode.Forbidden, `${account} is not an active auditor: ${reason}`, {
          account,
          reason,
        });
      throw new AuditorError(
        AuditorErrorCode.ChainUnreachable,
        `cannot ask Membership about ${account}: ${(error as Error).message.split("\n")[0]}`,
        {},
        { cause: error },
      );
    }
  }

  /**
   * The Membership error a refused `requireActiveAccount` reverted with, or null when the call did not revert
   * (the chain is unreachable). Nodes that return the revert data without JSON-RPC code 3 (Hardhat's in-process
   * provider) are understood too: the data is looked for along the error's causes and decoded with the ABI.
   */
  private _revertReason(error: unknown): string | null {
    const reverted = error instanceof BaseError ? error.walk((e) => e instanceof ContractFunctionRevertedError) : null;
    if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) return reverted.data.errorName;
    for (let e: unknown = error; e !== null && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
      const data = (e as { data?: unknown }).data;
      if (typeof data !== "string" || !/^0x[0-9a-fA-F]{8,}$/.test(data)) continue;
      try {
        return decodeErrorResult({ abi: this._o.membershipAbi, data: data as Hex }).errorName;
      } catch {
        return null; // revert data Membership does not declare: not an answer about the account
      }
    }
    return null;
  }
}
