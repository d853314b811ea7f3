/**
 * The ABIs the auditor decodes with, read from the Hardhat artifacts (`npx hardhat compile`), so the index always
 * decodes with the same definitions the contracts were built from.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { toEventSelector, type Abi, type AbiEvent, type Hex } from "viem";
import { AuditorError, AuditorErrorCode } from "./errors";

/** The governance contracts, by the keys of `lib/domain/record.ts` `DeploymentRecord`, with their artifacts. */
export const GOVERNANCE_CONTRACTS = {
  membership: "governance/Membership.sol/Membership",
  voting: "governance/VotingTickets.sol/VotingTickets",
  services: "governance/ServiceRegistry.sol/ServiceRegistry",
  chains: "governance/ChainRegistry.sol/ChainRegistry",
  pipes: "pipes/PipeRegistry.sol/PipeRegistry",
  credit: "governance/CreditScore.sol/CreditScore",
  ledger: "transactions/TransactionLedger.sol/TransactionLedger",
} as const;

export type ContractKey = keyof typeof GOVERNANCE_CONTRACTS;
export const CONTRACT_KEYS = Object.keys(GOVERNANCE_CONTRACTS) as ContractKey[];

/** The sub-chain gateway, whose receipts and records the auditor checks. */
export const GATEWAY_ARTIFACT = "subchain/SubchainGateway.sol/SubchainGateway";

/** `<repo>/artifacts`, found from this file. */
export const DEFAULT_ARTIFACTS_DIR = resolve(__dirname, "..", "..", "artifacts");

const cache = new Map<string, Abi>();

/** The ABI of `artifacts/contracts/<artifact>.json`; names the missing file and how to build it. */
export function loadAbi(artifact: string, dir = DEFAULT_ARTIFACTS_DIR): Abi {
  const path = join(dir, "contracts", `${artifact}.json`);
  const cached = cache.get(path);
  if (cached !== undefined) return cached;
  if (!existsSync(path))
    throw new AuditorError(AuditorErrorCode.MissingArtifact, `no artifact ${path}: run \`npx hardhat compile\` first`, {
      path,
    });
  const abi = (JSON.parse(readFileSync(path, "utf8")) as { abi: Abi }).abi;
  cache.set(path, abi);
  return abi;
}

/** The events of an ABI by their topic 0. */
export function eventsByTopic(abi: Abi): Map<Hex, AbiEvent> {
  const out = new Map<Hex, AbiEvent>();
  for (const item of abi) if (item.type === "event" && !item.anonymous) out.set(toEventSelector(item), item);
  return out;
}

export function governanceAbis(dir = DEFAULT_ARTIFACTS_DIR): Record<ContractKey, Abi> {
  return Object.fromEntries(CONTRACT_KEYS.map((k) => [k, loadAbi(GOVERNANCE_CONTRACTS[k], dir)])) as Record<
    ContractKey,
    Abi
  >;
}
