/**
 * The EIP-712 consents a key gives before the governance chain enrols it: an account joining an institution
 * (Membership.requestAccount), a node being registered (ServiceRegistry.registerNode) and an app key being reserved
 * (ChainRegistry.registerApp, rotateAppKey). The key signs; someone
 * else (the institution's admin or operator) submits. Plain data, usable by ethers and viem alike.
 */

export const ACCOUNT_CONSENT_TYPES = {
  AccountConsent: [
    { name: "account", type: "address" },
    { name: "institution", type: "uint32" },
    { name: "role", type: "uint8" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export const NODE_CONSENT_TYPES = {
  NodeConsent: [
    { name: "nodeId", type: "bytes32" },
    { name: "institution", type: "uint32" },
    { name: "kind", type: "uint8" },
    { name: "host", type: "string" },
    { name: "port", type: "uint16" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export const APP_KEY_CONSENT_TYPES = {
  AppKeyConsent: [
    { name: "key", type: "address" },
    { name: "appId", type: "bytes32" },
    { name: "institution", type: "uint32" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export interface ConsentDomain {
  name: string;
  version: string;
  chainId: bigint;
  verifyingContract: string;
}

/** The domain of Membership's consents on `chainId`. */
export const membershipDomain = (chainId: bigint, membership: string): ConsentDomain => ({
  name: "CCGP Membership",
  version: "1",
  chainId,
  verifyingContract: membership,
});

/** The domain of ServiceRegistry's consents on `chainId`. */
export const serviceRegistryDomain = (chainId: bigint, services: string): ConsentDomain => ({
  name: "CCGP ServiceRegistry",
  version: "1",
  chainId,
  verifyingContract: services,
});

/** The domain of ChainRegistry's consents on `chainId`. */
export const chainRegistryDomain = (chainId: bigint, chains: string): ConsentDomain => ({
  name: "CCGP ChainRegistry",
  version: "1",
  chainId,
  verifyingContract: chains,
});

export interface AppKeyConsent {
  key: string;
  appId: string;
  institution: number | bigint;
  deadline: bigint;
}

export interface AccountConsent {
  account: string;
  institution: number | bigint;
  role: number | bigint;
  nonce: bigint;
  deadline: bigint;
}

export interface NodeConsent {
  nodeId: string;
  institution: number | bigint;
  kind: number | bigint;
  host: string;
  port: number;
  nonce: bigint;
  deadline: bigint;
}

/** What signs typed data (an ethers Signer or Wallet). */
export interface TypedDataSigner {
  signTypedData(
    domain: ConsentDomain,
    types: Record<string, Array<{ name: string; type: string }>>,
    value: Record<string, unknown>,
  ): Promise<string>;
}

/** The account key's signature consenting to join `institution` with `role`. */
export function signAccountConsent(
  key: TypedDataSigner,
  domain: ConsentDomain,
  consent: AccountConsent,
): Promise<string> {
  return key.signTypedData(domain, { AccountConsent: [...ACCOUNT_CONSENT_TYPES.AccountConsent] }, { ...consent });
}

/** The node key's signature consenting to be registered by `institution` at `host:port`. */
export function signNodeConsent(key: TypedDataSigner, domain: ConsentDomain, consent: NodeConsent): Promise<string> {
  return key.signTypedData(domain, { NodeConsent: [...NODE_CONSENT_TYPES.NodeConsent] }, { ...consent });
}

/** The app key's signature consenting to be reserved for `appId` of `institution`. */
export function signAppKeyConsent(
  key: TypedDataSigner,
  domain: ConsentDomain,
  consent: AppKeyConsent,
): Promise<string> {
  return key.signTypedData(domain, { AppKeyConsent: [...APP_KEY_CONSENT_TYPES.AppKeyConsent] }, { ...consent });
}

/** A consent is asked for a short while: an hour from `now` (seconds). */
export const consentDeadline = (now: number | bigint, seconds = 3600): bigint => BigInt(now) + BigInt(seconds);
