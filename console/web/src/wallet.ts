/**
 * Writes through the visitor's own EIP-1193 wallet (MetaMask or any other): each call is simulated first so a
 * refusal shows the contract's custom error by name, with its arguments, decoded with the compiled ABIs; then the
 * wallet signs and sends it. The console holds no key and adds no authority: the contracts decide.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  custom,
  decodeErrorResult,
  type Abi,
  type Address,
  type EIP1193Provider,
  type Hex,
} from "viem";
import { auditorDomain, auditorRequestTypes, canonicalQuery, HEADERS } from "../../../auditor/src/request";

type AbiError = Extract<Abi[number], { type: "error" }>;

export interface Meta {
  chainId: number;
  contracts: Record<string, Address>;
  abis: Record<string, Abi>;
  subchains: { chainId: number; name: string }[];
  auditorApi: string | null;
}

declare global {
  interface Window {
    ethereum?: EIP1193Provider;
  }
}

/** A refusal by a contract: the custom error's name and arguments (or the node's message when it has none). */
export class Refusal extends Error {
  constructor(
    readonly errorName: string,
    readonly args: readonly unknown[],
  ) {
    super(`${errorName}(${args.map(show).join(", ")})`);
  }
}

export const show = (v: unknown): string =>
  typeof v === "bigint"
    ? v.toString()
    : typeof v === "string"
      ? v
      : JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

export function provider(): EIP1193Provider {
  if (window.ethereum === undefined) throw new Error("no wallet");
  return window.ethereum;
}

export async function connectWallet(): Promise<Address> {
  const [account] = await createWalletClient({ transport: custom(provider()) }).requestAddresses();
  return account;
}

/** Every custom error of every contract, so a call's refusal decodes whichever contract raised it. */
function allErrors(meta: Meta): AbiError[] {
  const seen = new Map<string, AbiError>();
  for (const abi of Object.values(meta.abis))
    for (const item of abi)
      if (item.type === "error") seen.set(`${item.name}(${item.inputs.map((i) => i.type).join(",")})`, item);
  return [...seen.values()];
}

function refusalOf(error: unknown, meta: Meta): Error {
  if (!(error instanceof BaseError)) return error as Error;
  const reverted = error.walk(
    (e) => e instanceof ContractFunctionRevertedError,
  ) as ContractFunctionRevertedError | null;
  if (reverted?.data?.errorName) return new Refusal(reverted.data.errorName, reverted.data.args ?? []);
  const raw = (error.walk((e) => typeof (e as { data?: unknown }).data === "string") as { data?: Hex } | null)?.data;
  if (raw && raw.length >= 10) {
    try {
      const decoded = decodeErrorResult({ abi: allErrors(meta), data: raw });
      return new Refusal(decoded.errorName, decoded.args ?? []);
    } catch {
      // not one of ours: fall through to the message
    }
  }
  return new Error(error.shortMessage);
}

/** Simulates, then sends `contract.fn(args)` from `account` through the wallet; resolves with the mined hash. */
export async function write(
  meta: Meta,
  account: Address,
  contract: string,
  functionName: string,
  args: readonly unknown[],
): Promise<Hex> {
  const transport = custom(provider());
  const pub = createPublicClient({ transport });
  const abi = [...meta.abis[contract], ...allErrors(meta)] as Abi;
  const address = meta.contracts[contract];
  try {
    const { request } = await pub.simulateContract({ account, address, abi, functionName, args });
    const hash = await createWalletClient({ transport, account }).writeContract({ ...request, chain: null });
    const receipt = await pub.waitForTransactionReceipt({ hash, pollingInterval: 250 });
    if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
    return hash;
  } catch (error) {
    throw refusalOf(error, meta);
  }
}

/** Headers of an auditor API request signed by the wallet (the same EIP-712 message `signAuditorRequest` makes). */
export async function signAuditorRequest(meta: Meta, account: Address, url: string): Promise<Record<string, string>> {
  const parsed = new URL(url, location.origin);
  const nonce =
    `0x${[...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join("")}` as Hex;
  const message = {
    method: "GET",
    path: parsed.pathname,
    query: canonicalQuery(parsed.searchParams),
    timestamp: BigInt(Math.floor(Date.now() / 1000)),
    nonce,
  };
  const domain = auditorDomain(meta.chainId, meta.contracts.membership);
  const signature = await createWalletClient({ transport: custom(provider()), account }).signTypedData({
    account,
    domain,
    types: auditorRequestTypes,
    primaryType: "AuditorRequest",
    message,
  });
  return {
    [HEADERS.account]: account,
    [HEADERS.signature]: signature,
    [HEADERS.timestamp]: message.timestamp.toString(),
    [HEADERS.nonce]: nonce,
  };
}
