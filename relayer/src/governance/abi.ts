/**
 * The ABIs the relayer calls, taken from the typechain output of the contracts' interfaces (exact and typed).
 * Error lists are merged where a call can revert from a contract it reaches (the ledger verifies AMDP and asks the
 * pipe authority), so every revert decodes to its custom error.
 */
import { IAMDP__factory } from "../../../typechain-types/factories/contracts/interfaces/IAMDP__factory";
import { IChainRegistry__factory } from "../../../typechain-types/factories/contracts/interfaces/IChainRegistry__factory";
import { IMembership__factory } from "../../../typechain-types/factories/contracts/interfaces/IMembership__factory";
import { IPipeRegistry__factory } from "../../../typechain-types/factories/contracts/interfaces/IPipeRegistry__factory";
import { IServiceRegistry__factory } from "../../../typechain-types/factories/contracts/interfaces/IServiceRegistry__factory";
import { ITransactionLedger__factory } from "../../../typechain-types/factories/contracts/interfaces/ITransactionLedger.sol/ITransactionLedger__factory";
import { ISubchainGateway__factory } from "../../../typechain-types/factories/contracts/interfaces/ISubchainGateway__factory";
import { ENUM_NAMES } from "../../../lib/domain/enums.generated";

const errorsOf = <T extends readonly { type: string }[]>(abi: T) =>
  abi.filter((item) => item.type === "error") as unknown as Extract<T[number], { type: "error" }>[];

export const membershipAbi = IMembership__factory.abi;
export const serviceRegistryAbi = [...IServiceRegistry__factory.abi, ...errorsOf(IMembership__factory.abi)] as const;
export const chainRegistryAbi = [...IChainRegistry__factory.abi, ...errorsOf(IMembership__factory.abi)] as const;
export const pipeRegistryAbi = IPipeRegistry__factory.abi;
export const ledgerAbi = [
  ...ITransactionLedger__factory.abi,
  ...errorsOf(IAMDP__factory.abi),
  ...errorsOf(IPipeRegistry__factory.abi),
  ...errorsOf(IMembership__factory.abi),
] as const;
export const gatewayAbi = ISubchainGateway__factory.abi;

/** `IPipeAuthority.Refusal`, by value. */
export const PIPE_REFUSALS = ENUM_NAMES["IPipeAuthority.Refusal"];

export { AccountStatus, InstitutionStatus, PipeStatus, ServiceStatus } from "../../../lib/domain/enums.generated";
