/**
 * Attestations for tests that talk to a sub-chain gateway: attester keys, EIP-712 signing (with ethers, apart from
 * the contract's own hashing, so a mismatch in either shows), and a caller that signs what it executes.
 */
import { ethers } from "hardhat";
import { Wallet, type BytesLike, type ContractTransactionResponse, type Overrides, type Signer } from "ethers";
import type { SubchainGateway } from "../../typechain-types";
import { OPERATION_TWO_PHASE_WRITE } from "../../lib/domain/enums.generated";

/** The sub-chain id test gateways are deployed with. */
export const TEST_SUBCHAIN = ethers.id("subchain:test");

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
};

export const SET_CHANGE_TYPES = {
  AttesterSetChange: [
    { name: "epoch", type: "uint64" },
    { name: "threshold", type: "uint8" },
    { name: "attesters", type: "address[]" },
  ],
};

export interface Domain {
  chainId: bigint;
  gateway: string;
}

export interface Packet {
  txId: string;
  pipeId: string;
  sequence: bigint | number;
  deadline: bigint | number;
  contractName: string;
  operation: number;
}

/** Every attester key made here, by address: the caller below signs with those of a gateway's current set. */
const known = new Map<string, Wallet>();

/** `n` fresh attester keys, sorted by nothing in particular (the gateway takes any order). */
export function attesterKeys(n: number): Wallet[] {
  return Array.from({ length: n }, () => {
    const w = Wallet.createRandom() as unknown as Wallet;
    known.set(w.address.toLowerCase(), w);
    return w;
  });
}

export const domainOf = (d: Domain) => ({
  name: "CCGP-Gateway",
  version: "1",
  chainId: d.chainId,
  verifyingContract: d.gateway,
});

export function attestationOf(packet: Packet, data: BytesLike, gateway: string, subchain = TEST_SUBCHAIN) {
  return {
    txId: packet.txId,
    pipeId: packet.pipeId,
    sequence: packet.sequence,
    subchain,
    gateway,
    contractName: packet.contractName,
    operation: packet.operation,
    selector: ethers.dataSlice(ethers.getBytes(data).length >= 4 ? data : ethers.zeroPadBytes(data, 4), 0, 4),
    payloadHash: ethers.keccak256(data),
    deadline: packet.deadline,
  };
}

/** The signatures of `signers` over the packet, concatenated as the gateway takes them. */
export async function attest(
  signers: Wallet[],
  domain: Domain,
  packet: Packet,
  data: BytesLike,
  subchain = TEST_SUBCHAIN,
): Promise<string> {
  const value = attestationOf(packet, data, domain.gateway, subchain);
  const sigs = await Promise.all(signers.map((s) => s.signTypedData(domainOf(domain), ATTESTATION_TYPES, value)));
  return ethers.concat(sigs);
}

/** The signatures of `signers` over a change to the set of `epoch`. */
export async function signSetChange(
  signers: Wallet[],
  domain: Domain,
  epoch: bigint | number,
  attesters: string[],
  threshold: number,
): Promise<string> {
  const sigs = await Promise.all(
    signers.map((s) => s.signTypedData(domainOf(domain), SET_CHANGE_TYPES, { epoch, threshold, attesters })),
  );
  return ethers.concat(sigs);
}

/** The first `threshold` keys of the gateway's current set (every one must have been made by `attesterKeys`). */
export async function currentSigners(gateway: SubchainGateway): Promise<Wallet[]> {
  const [, threshold, set] = await gateway.attesterSet();
  return set.slice(0, Number(threshold)).map((a) => {
    const w = known.get(a.toLowerCase());
    if (!w) throw new Error(`attester ${a} was not made by attesterKeys`);
    return w;
  });
}

export async function domainOfGateway(gateway: SubchainGateway): Promise<Domain> {
  const { chainId } = await gateway.runner!.provider!.getNetwork();
  return { chainId, gateway: await gateway.getAddress() };
}

/** A default txId for a packet (tests that are not about the txId). */
export const txIdOf = (pipeId: string, sequence: bigint | number): string =>
  ethers.keccak256(ethers.solidityPacked(["bytes32", "uint64"], [pipeId, sequence]));

/**
 * A relayer that attaches `threshold` attestations of the gateway's current set to what it sends, with the
 * gateway's former positional arguments. `txId` is derived from (pipe, sequence) unless a prepare names it.
 */
export function attested(gateway: SubchainGateway, caller: Signer) {
  const g = gateway.connect(caller);
  const sign = async (packet: Packet, data: BytesLike) =>
    attest(await currentSigners(gateway), await domainOfGateway(gateway), packet, data);
  const packetOf = (
    pipeId: string,
    sequence: bigint | number,
    deadline: bigint | number,
    contractName: string,
    operation: number,
    txId?: string,
  ): Packet => ({
    txId: txId ?? txIdOf(pipeId, sequence),
    pipeId,
    sequence,
    deadline,
    contractName,
    operation,
  });
  return {
    async execute(
      pipeId: string,
      sequence: bigint | number,
      deadline: bigint | number,
      contractName: string,
      operation: number,
      data: BytesLike,
      overrides: Overrides = {},
    ): Promise<ContractTransactionResponse> {
      const packet = packetOf(pipeId, sequence, deadline, contractName, operation);
      return g.execute(packet, data, await sign(packet, data), overrides);
    },
    async executeStatic(
      pipeId: string,
      sequence: bigint | number,
      deadline: bigint | number,
      contractName: string,
      operation: number,
      data: BytesLike,
    ) {
      const packet = packetOf(pipeId, sequence, deadline, contractName, operation);
      return g.execute.staticCall(packet, data, await sign(packet, data));
    },
    async executeDependentWrite(
      pipeId: string,
      sequence: bigint | number,
      deadline: bigint | number,
      contractName: string,
      data: BytesLike,
      versionKey: string,
      readVersion: bigint | number,
      overrides: Overrides = {},
    ): Promise<ContractTransactionResponse> {
      const packet = packetOf(pipeId, sequence, deadline, contractName, 1);
      return g.executeDependentWrite(packet, data, versionKey, readVersion, await sign(packet, data), overrides);
    },
    async prepare(
      txId: string,
      pipeId: string,
      contractName: string,
      data: BytesLike,
      deadline: bigint | number,
      overrides: Overrides = {},
    ): Promise<ContractTransactionResponse> {
      const packet = packetOf(pipeId, 1, deadline, contractName, 1, txId);
      return g.prepare(packet, data, await sign({ ...packet, operation: OPERATION_TWO_PHASE_WRITE }, data), overrides);
    },
    async prepareStatic(
      txId: string,
      pipeId: string,
      contractName: string,
      data: BytesLike,
      deadline: bigint | number,
    ) {
      const packet = packetOf(pipeId, 1, deadline, contractName, 1, txId);
      return g.prepare.staticCall(packet, data, await sign({ ...packet, operation: OPERATION_TWO_PHASE_WRITE }, data));
    },
  };
}

/** Deploys a gateway whose attesters are `attesters` (3 fresh keys, 2 of 3, by default) at epoch 1. */
export async function deployGateway(
  admin: string,
  maxPayload: number,
  opts: { attesters?: Wallet[]; threshold?: number; subchain?: string; from?: Signer } = {},
): Promise<SubchainGateway> {
  const attesters = opts.attesters ?? attesterKeys(3);
  const threshold = opts.threshold ?? Math.floor(attesters.length / 2) + 1;
  const args = [admin, maxPayload, opts.subchain ?? TEST_SUBCHAIN, attesters.map((a) => a.address), threshold, 1];
  const gateway = opts.from
    ? await ethers.deployContract("SubchainGateway", args, opts.from)
    : await ethers.deployContract("SubchainGateway", args);
  return gateway as unknown as SubchainGateway;
}
