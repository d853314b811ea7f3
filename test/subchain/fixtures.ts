import { ethers } from "hardhat";
import { impersonateAccount, setBalance } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { BytesLike } from "ethers";
import type { DrugTraceability, EvidenceDeposit, MockTwoPhaseBusiness, SubchainGateway } from "../../typechain-types";
import { deployGateway } from "../helpers/attest";
import { OPERATION_READ, OPERATION_WRITE } from "../../lib/domain/enums.generated";

/** The operation codes and flags, as contracts/types/Operations.sol names them (generated from it). */
export { OPERATION_READ, OPERATION_WRITE };

export const MAX_PAYLOAD = 4096;
export const PIPE = ethers.id("pipe:chainA->chainB");
export const OTHER_PIPE = ethers.id("pipe:chainC->chainB");
/** A packet deadline no test reaches (the largest uint64), for tests about anything but the deadline. */
export const FAR_DEADLINE = 2n ** 64n - 1n;

/** Business contract names as the gateway keys them: keccak256 of the name. */
export const NAMES = {
  drug: ethers.id("DrugTraceability"),
  evidence: ethers.id("EvidenceDeposit"),
  mock: ethers.id("MockTwoPhaseBusiness"),
} as const;

/** Two-phase statuses, as `ISubchainGateway.TwoPhaseStatus`. */
export const TxStatus = { None: 0, Prepared: 1, Committed: 2, RolledBack: 3 } as const;

/** An arbitrary 32-byte id, for business-contract calls made without the gateway. */
export const requestId = (n: number | string): string => ethers.id(`request-${n}`);
export const txId = (n: number | string): string => ethers.id(`tx-${n}`);
export const batchId = (n: number | string): string => ethers.id(`batch-${n}`);
export const dataHash = (s: string): string => ethers.id(`data:${s}`);

/** The longest a two-phase transaction may hold its locks (`MAX_TWO_PHASE_DURATION`). */
export const MAX_TWO_PHASE_DURATION = 24 * 60 * 60;

/**
 * The request id a gateway derives for the inbound packet `sequence` of `pipe`, computed as a relayer does:
 * keccak256(abi.encode(chainid, gateway, pipeId, sequence)).
 */
export function inboundRequestIdOf(chainId: bigint, gateway: string, pipe: string, sequence: number | bigint): string {
  return ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(
      ["uint256", "address", "bytes32", "uint64"],
      [chainId, gateway, pipe, sequence],
    ),
  );
}

/**
 * A two-phase deadline `seconds` after the latest block (one day by default: the longest allowed, since the next
 * transaction's block is at least one second later).
 */
export async function deadlineIn(seconds = MAX_TWO_PHASE_DURATION): Promise<number> {
  const latest = await ethers.provider.getBlock("latest");
  if (!latest) throw new Error("no latest block");
  return latest.timestamp + seconds;
}

/** ERC-165 id of an interface: XOR of the selectors of the functions it declares itself. */
export function interfaceId(signatures: string[]): string {
  let id = 0n;
  for (const sig of signatures) id ^= BigInt(ethers.id(sig).slice(0, 10));
  return ethers.toBeHex(id, 4);
}

export interface GatewayFixture {
  gateway: SubchainGateway;
  drug: DrugTraceability;
  evidence: EvidenceDeposit;
  mock: MockTwoPhaseBusiness;
  admin: HardhatEthersSigner;
  relayer: HardhatEthersSigner;
  stranger: HardhatEthersSigner;
  manufacturer: HardhatEthersSigner;
  custodian: HardhatEthersSigner;
  depositor: HardhatEthersSigner;
  /** The request id the gateway derives for packet `sequence` of `pipe` (PIPE by default). */
  inboundId(sequence: number | bigint, pipe?: string): string;
}

/** One sub-chain: a gateway with a relayer, the two example business contracts and the mock, all registered. */
export async function deployGatewayFixture(): Promise<GatewayFixture> {
  const [admin, relayer, stranger, manufacturer, custodian, depositor] = await ethers.getSigners();
  const gateway = await deployGateway(admin.address, MAX_PAYLOAD);
  await gateway.grantRole(await gateway.RELAYER_ROLE(), relayer.address);

  const drug = await ethers.deployContract("DrugTraceability", [gateway, admin.address]);
  const evidence = await ethers.deployContract("EvidenceDeposit", [gateway, admin.address]);
  const mock = await ethers.deployContract("MockTwoPhaseBusiness", [gateway]);
  await gateway.registerContract(NAMES.drug, drug);
  await gateway.registerContract(NAMES.evidence, evidence);
  await gateway.registerContract(NAMES.mock, mock);

  await drug.grantRole(await drug.MANUFACTURER_ROLE(), manufacturer.address);
  await drug.grantRole(await drug.CUSTODIAN_ROLE(), custodian.address);
  await evidence.grantRole(await evidence.DEPOSITOR_ROLE(), depositor.address);
  const { chainId } = await ethers.provider.getNetwork();
  const gatewayAddress = await gateway.getAddress();
  const inboundId = (sequence: number | bigint, pipe = PIPE) =>
    inboundRequestIdOf(chainId, gatewayAddress, pipe, sequence);
  return { gateway, drug, evidence, mock, admin, relayer, stranger, manufacturer, custodian, depositor, inboundId };
}

/** Calldata of `DrugTraceability.continueCustody`. */
export function continueCustodyData(drug: DrugTraceability, batch: string, custodian: string, hash: string): string {
  return drug.interface.encodeFunctionData("continueCustody", [batch, custodian, hash]);
}

/** The gateway's address as a signer, to reach business-contract refusals the gateway itself never triggers. */
export async function gatewaySigner(gateway: SubchainGateway): Promise<HardhatEthersSigner> {
  const address = await gateway.getAddress();
  await impersonateAccount(address);
  await setBalance(address, ethers.parseEther("10"));
  return ethers.getSigner(address);
}

/** Calldata with the 32-byte request id appended, as the gateway forwards it. */
export function withRequestId(data: BytesLike, id: string): string {
  return ethers.concat([data, id]);
}
