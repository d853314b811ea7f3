/**
 * EIP-712 attestations of inbound packets, as `SubchainGateway` checks them (`GatewayAttesters`): the fields, the
 * domain (name "CCGP-Gateway", version "1", the sub-chain's chain id, the gateway), signing and recovery.
 */
import { concat, hashTypedData, keccak256, slice, type Address, type Hex, type LocalAccount } from "viem";
import { recoverHashSigner } from "../../../lib/crypto/secp256k1";

export const ATTESTATION_TYPES = {
  Attestation: [
    { name: "txId", type: "bytes32" },
    { name: "pipeId", type: "bytes32" },
    { name: "sequence", type: "uint64" },
    { name: "subchain", type: "bytes32" },
    { name: "gateway", type: "address" },
    { name: "contractName", type: "bytes32" },
    { name: "operation", type: "uint8" },
    { name: "selector", type: "bytes4" },
    { name: "payloadHash", type: "bytes32" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

/** What an attester signs for one gateway call (everything the ledger opened, and where it runs). */
export interface Attestation {
  txId: Hex;
  pipeId: Hex;
  sequence: bigint;
  subchain: Hex;
  gateway: Address;
  contractName: Hex;
  operation: number;
  selector: Hex;
  payloadHash: Hex;
  deadline: bigint;
}

export interface GatewayCall {
  txId: Hex;
  pipeId: Hex;
  sequence: bigint;
  deadline: bigint;
  contractName: Hex;
  operation: number;
  data: Hex;
}

/** The attestation of `call` on the gateway `gateway` of sub-chain `subchain`. */
export function attestationOf(call: GatewayCall, subchain: Hex, gateway: Address): Attestation {
  const bytes = (call.data.length - 2) / 2;
  const selector = bytes >= 4 ? slice(call.data, 0, 4) : (call.data.padEnd(10, "0") as Hex);
  return {
    txId: call.txId,
    pipeId: call.pipeId,
    sequence: call.sequence,
    subchain,
    gateway,
    contractName: call.contractName,
    operation: call.operation,
    selector,
    payloadHash: keccak256(call.data),
    deadline: call.deadline,
  };
}

/**
 * The attestation of a packet's target step, from the packet alone (its selector and payload hash): what the
 * attester signs ahead when it sees the open. Equal to {@link attestationOf} of the call when the payload's first
 * four bytes are the packet's selector.
 */
export function attestationOfPacket(
  p: Pick<GatewayCall, "txId" | "pipeId" | "sequence" | "deadline" | "contractName" | "operation"> & {
    selector: Hex;
    payloadHash: Hex;
  },
  subchain: Hex,
  gateway: Address,
): Attestation {
  return {
    txId: p.txId,
    pipeId: p.pipeId,
    sequence: p.sequence,
    subchain,
    gateway,
    contractName: p.contractName,
    operation: p.operation,
    selector: p.selector,
    payloadHash: p.payloadHash,
    deadline: p.deadline,
  };
}

export const attestationDomain = (chainId: number, gateway: Address) =>
  ({ name: "CCGP-Gateway", version: "1", chainId, verifyingContract: gateway }) as const;

export async function signAttestation(
  account: Pick<LocalAccount, "signTypedData">,
  chainId: number,
  a: Attestation,
): Promise<Hex> {
  return account.signTypedData({
    domain: attestationDomain(chainId, a.gateway),
    types: ATTESTATION_TYPES,
    primaryType: "Attestation",
    message: a,
  });
}

/** The key that signed `a` (the curve operation native where the binding loads: the collector's hot path). */
export async function attestationSigner(chainId: number, a: Attestation, signature: Hex): Promise<Address> {
  const hash = hashTypedData({
    domain: attestationDomain(chainId, a.gateway),
    types: ATTESTATION_TYPES,
    primaryType: "Attestation",
    message: a,
  });
  return recoverHashSigner(hash, signature);
}

/** The gateway's `attestations` argument: 65-byte signatures, concatenated. */
export const packAttestations = (signatures: readonly Hex[]): Hex =>
  signatures.length === 0 ? "0x" : concat([...signatures]);

export const SET_CHANGE_TYPES = {
  AttesterSetChange: [
    { name: "epoch", type: "uint64" },
    { name: "threshold", type: "uint8" },
    { name: "attesters", type: "address[]" },
  ],
} as const;

/** A gateway's move to the attester set of `epoch` (`updateAttesters`), signed by `threshold` of its current set. */
export interface AttesterSetChange {
  epoch: bigint;
  threshold: number;
  attesters: readonly Address[];
}

export async function signAttesterSetChange(
  account: Pick<LocalAccount, "signTypedData">,
  chainId: number,
  gateway: Address,
  change: AttesterSetChange,
): Promise<Hex> {
  const message = { epoch: change.epoch, threshold: change.threshold, attesters: [...change.attesters] };
  return account.signTypedData({
    domain: attestationDomain(chainId, gateway),
    types: SET_CHANGE_TYPES,
    primaryType: "AttesterSetChange",
    message,
  });
}

export async function attesterSetChangeSigner(
  chainId: number,
  gateway: Address,
  change: AttesterSetChange,
  signature: Hex,
): Promise<Address> {
  const message = { epoch: change.epoch, threshold: change.threshold, attesters: [...change.attesters] };
  const hash = hashTypedData({
    domain: attestationDomain(chainId, gateway),
    types: SET_CHANGE_TYPES,
    primaryType: "AttesterSetChange",
    message,
  });
  return recoverHashSigner(hash, signature);
}
