import type { Address, Hex } from "viem";

/** EIP-712 domain name and version of AMDP; chainId and verifyingContract are the governance chain's ledger. */
export const AMDP_DOMAIN_NAME = "CCGP-AMDP";
export const AMDP_DOMAIN_VERSION = "1";

/** Version of the JSON wire format of a signed packet (see codec.ts). */
export const AMDP_WIRE_VERSION = 1;

/** The atomic operation a packet asks of the target business contract. */
export const Operation = { Read: 0, Write: 1 } as const;
export type Operation = (typeof Operation)[keyof typeof Operation];

/**
 * Stage-1 packet: pipe constraints, routing, the payload's hash and the transaction credential.
 * Field order and types are the EIP-712 `Packet` struct; number widths follow viem (uint<=48 -> number).
 */
export interface Packet {
  pipeId: Hex;
  sourceInstitution: number;
  targetInstitution: number;
  targetService: Hex;
  /** keccak256(bytes(name)) of the business contract's registered name. */
  contractName: Hex;
  operation: Operation;
  selector: Hex;
  /** keccak256 of the payload bytes. */
  payloadHash: Hex;
  txId: Hex;
  sequence: bigint;
  /** Unix time in seconds; the packet is refused when now > deadline. */
  deadline: bigint;
  /** The application's key reserved on the pipe; must equal the stage-1 signer. */
  signer: Address;
}

/** Stage-2 message signed by the initiator's cross-chain proxy. */
export interface Countersignature {
  /** EIP-712 struct hash of the Packet. */
  packetHash: Hex;
  /** keccak256 of the exact 65-byte stage-1 signature. */
  appSignatureHash: Hex;
  signer: Address;
}

/** A packet with its payload and the signatures of the stages reached so far. */
export interface SignedPacket {
  packet: Packet;
  payload: Hex;
  signatures: { app: Hex; proxy?: Hex };
}

/** The AMDP EIP-712 domain: the governance chain's id and its transaction ledger's address. */
export interface AmdpDomain {
  name: typeof AMDP_DOMAIN_NAME;
  version: typeof AMDP_DOMAIN_VERSION;
  chainId: bigint;
  verifyingContract: Address;
}

export const packetTypes = {
  Packet: [
    { name: "pipeId", type: "bytes32" },
    { name: "sourceInstitution", type: "uint32" },
    { name: "targetInstitution", type: "uint32" },
    { name: "targetService", type: "bytes32" },
    { name: "contractName", type: "bytes32" },
    { name: "operation", type: "uint8" },
    { name: "selector", type: "bytes4" },
    { name: "payloadHash", type: "bytes32" },
    { name: "txId", type: "bytes32" },
    { name: "sequence", type: "uint64" },
    { name: "deadline", type: "uint64" },
    { name: "signer", type: "address" },
  ],
} as const;

export const countersignatureTypes = {
  Countersignature: [
    { name: "packetHash", type: "bytes32" },
    { name: "appSignatureHash", type: "bytes32" },
    { name: "signer", type: "address" },
  ],
} as const;

/** The EIP-712 type strings, equal to the Solidity `PACKET_TYPEHASH` / `COUNTERSIGNATURE_TYPEHASH` preimages. */
export const PACKET_TYPE =
  "Packet(bytes32 pipeId,uint32 sourceInstitution,uint32 targetInstitution,bytes32 targetService," +
  "bytes32 contractName,uint8 operation,bytes4 selector,bytes32 payloadHash,bytes32 txId,uint64 sequence," +
  "uint64 deadline,address signer)";
export const COUNTERSIGNATURE_TYPE = "Countersignature(bytes32 packetHash,bytes32 appSignatureHash,address signer)";
