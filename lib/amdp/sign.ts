/**
 * EIP-712 hashing and the two signing stages. Signers are any viem `LocalAccount` (private key, keystore, or a
 * KMS/HSM wrapped with viem `toAccount`): only `address` and `signTypedData` are used.
 */
import { getAddress, isAddressEqual, keccak256, type Address, type Hex, type LocalAccount } from "viem";
import { parsePacket } from "./codec";
import { countersignatureStructHash, domainSeparatorOf, packetStructHash, typedDataDigest } from "./eip712";
import { AmdpError, AmdpErrorCode } from "./errors";
import { assertSignatureForm } from "./signature";
import {
  AMDP_DOMAIN_NAME,
  AMDP_DOMAIN_VERSION,
  countersignatureTypes,
  packetTypes,
  type AmdpDomain,
  type Countersignature,
  type Packet,
} from "./types";

/** What a signer must provide: its address and EIP-712 signing. */
export type AmdpSigner = Pick<LocalAccount, "address" | "signTypedData">;

/** The AMDP domain for the governance chain `chainId` and its transaction ledger `verifyingContract`. */
export function packetDomain(chainId: number | bigint, verifyingContract: Address): AmdpDomain {
  return {
    name: AMDP_DOMAIN_NAME,
    version: AMDP_DOMAIN_VERSION,
    chainId: BigInt(chainId),
    verifyingContract: getAddress(verifyingContract),
  };
}

/** The EIP-712 domain separator (what the ledger's `_domainSeparatorV4()` returns for the same domain). */
export function domainSeparator(domain: AmdpDomain): Hex {
  return domainSeparatorOf(domain);
}

/** EIP-712 struct hash (hashStruct) of a packet: the packet's identity, and the input of the countersignature. */
export function hashPacket(packet: Packet): Hex {
  return packetStructHash(parsePacket(packet));
}

/** The digest the application signs in stage 1. */
export function packetDigest(domain: AmdpDomain, packet: Packet): Hex {
  return typedDataDigest(domain, hashPacket(packet));
}

/** The stage-2 message: the packet's struct hash, keccak256 of the exact stage-1 signature, and the proxy. */
export function countersignatureMessage(packetHash: Hex, appSignature: Hex, signer: Address): Countersignature {
  return { packetHash, appSignatureHash: keccak256(appSignature), signer };
}

export function hashCountersignature(message: Countersignature): Hex {
  return countersignatureStructHash(message);
}

/** The digest the cross-chain proxy signs in stage 2. */
export function countersignatureDigest(domain: AmdpDomain, message: Countersignature): Hex {
  return typedDataDigest(domain, countersignatureStructHash(message));
}

/** Stage 1: the application signs the packet with the key it reserved on the pipe (= packet.signer). */
export async function signPacket(account: AmdpSigner, domain: AmdpDomain, packet: Packet): Promise<Hex> {
  const message = parsePacket(packet);
  if (!isAddressEqual(account.address, message.signer))
    throw new AmdpError(AmdpErrorCode.SignerMismatch, "packet.signer is not the signing account", {
      field: "packet.signer",
      declared: message.signer,
      account: account.address,
    });
  const signature = await account.signTypedData({ domain, types: packetTypes, primaryType: "Packet", message });
  assertSignatureForm(signature, 1);
  return signature;
}

/**
 * Stage 2: the initiator's cross-chain proxy countersigns the packet and the exact stage-1 signature bytes.
 * The caller has already checked the stage-1 signature and the app's rights on the pipe.
 */
export async function countersign(account: AmdpSigner, domain: AmdpDomain, packet: Packet, appSig: Hex): Promise<Hex> {
  assertSignatureForm(appSig, 1);
  const message = countersignatureMessage(hashPacket(packet), appSig, getAddress(account.address));
  const signature = await account.signTypedData({
    domain,
    types: countersignatureTypes,
    primaryType: "Countersignature",
    message,
  });
  assertSignatureForm(signature, 2);
  return signature;
}
