/**
 * Contract ABIs from Hardhat's artifacts, typed by typechain. The CLI connects with `new Contract(address, abi)`
 * and the typechain type, which is exactly what a typechain factory's `connect` does, without making ts-node
 * transpile the factories (their bytecode strings cost about a second at every start of a command).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Contract, type ContractRunner, type InterfaceAbi } from "ethers";
import { failed } from "./errors";

const ARTIFACTS = join(__dirname, "..", "..", "..", "artifacts");

/** The ABI in `artifacts/<path>` (e.g. `contracts/governance/Membership.sol/Membership.json`). */
export function abiOf(path: string): InterfaceAbi {
  const file = join(ARTIFACTS, path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw failed(`contract artifact ${file} is missing: run npx hardhat compile`, { file });
  }
  return (JSON.parse(text) as { abi: InterfaceAbi }).abi;
}

const cache = new Map<string, InterfaceAbi>();

/** Connects to a contract as its typechain type `T`. */
export function connect<T>(path: string, address: string, runner: ContractRunner): T {
  let abi = cache.get(path);
  if (!abi) cache.set(path, (abi = abiOf(path)));
  // ethers' `Contract` is untyped (its methods are resolved from the ABI at run time); `T`, generated from the same
  // ABI, says what they are. A typechain factory's `connect` makes this same cast; the CLI's one is here.
  return new Contract(address, abi, runner) as unknown as T;
}

export const ARTIFACT = {
  membership: "contracts/governance/Membership.sol/Membership.json",
  voting: "contracts/governance/VotingTickets.sol/VotingTickets.json",
  services: "contracts/governance/ServiceRegistry.sol/ServiceRegistry.json",
  chains: "contracts/governance/ChainRegistry.sol/ChainRegistry.json",
  pipes: "contracts/pipes/PipeRegistry.sol/PipeRegistry.json",
  credit: "contracts/governance/CreditScore.sol/CreditScore.json",
  ledger: "contracts/transactions/TransactionLedger.sol/TransactionLedger.json",
  attesters: "contracts/governance/AttesterRegistry.sol/AttesterRegistry.json",
  gateway: "contracts/subchain/SubchainGateway.sol/SubchainGateway.json",
} as const;

/** Every ABI whose errors and events a governance call can produce (interfaces, and the OpenZeppelin libraries). */
export const ERROR_SOURCES = [
  "contracts/interfaces/IMembership.sol/IMembership.json",
  "contracts/interfaces/IVotingTickets.sol/IVotingTickets.json",
  "contracts/interfaces/IServiceRegistry.sol/IServiceRegistry.json",
  "contracts/interfaces/IChainRegistry.sol/IChainRegistry.json",
  "contracts/interfaces/IPipeRegistry.sol/IPipeRegistry.json",
  "contracts/interfaces/ICreditRegistry.sol/ICreditRegistry.json",
  "contracts/interfaces/ITransactionLedger.sol/ITransactionLedger.json",
  "contracts/interfaces/IAMDP.sol/IAMDP.json",
  "contracts/interfaces/IGoverned.sol/IGoverned.json",
  "contracts/interfaces/IAttesterRegistry.sol/IAttesterRegistry.json",
  "contracts/interfaces/IGatewayAttesters.sol/IGatewayAttesters.json",
  "@openzeppelin/contracts/utils/cryptography/ECDSA.sol/ECDSA.json",
  "@openzeppelin/contracts/utils/Errors.sol/Errors.json",
] as const;
