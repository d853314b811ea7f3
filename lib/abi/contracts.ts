/**
 * The ABIs the relayer calls: the contracts' interfaces, as plain constants generated at compile (exact and typed,
 * and no typechain or ethers loaded at run time). Error lists are merged where a call can revert from a contract it
 * reaches (the ledger verifies AMDP and asks the pipe authority), so every revert decodes to its custom error.
 */
import {
  IAMDPAbi,
  IAttesterRegistryAbi,
  IChainRegistryAbi,
  IMembershipAbi,
  IPipeRegistryAbi,
  IServiceRegistryAbi,
  ISubchainGatewayAbi,
  ITransactionLedgerAbi,
} from "./interfaces.generated";
import { ENUM_NAMES } from "../domain/enums.generated";

const errorsOf = <T extends readonly { type: string }[]>(abi: T) =>
  abi.filter((item): item is Extract<T[number], { type: "error" }> => item.type === "error");

export const membershipAbi = IMembershipAbi;
export const attesterRegistryAbi = IAttesterRegistryAbi;
export const serviceRegistryAbi = [...IServiceRegistryAbi, ...errorsOf(IMembershipAbi)] as const;
export const chainRegistryAbi = [...IChainRegistryAbi, ...errorsOf(IMembershipAbi)] as const;
export const pipeRegistryAbi = IPipeRegistryAbi;
export const ledgerAbi = [
  ...ITransactionLedgerAbi,
  ...errorsOf(IAMDPAbi),
  ...errorsOf(IPipeRegistryAbi),
  ...errorsOf(IMembershipAbi),
] as const;
export const gatewayAbi = ISubchainGatewayAbi;

/** `IPipeAuthority.Refusal`, by value. */
export const PIPE_REFUSALS = ENUM_NAMES["IPipeAuthority.Refusal"];

export { AccountStatus, InstitutionStatus, PipeStatus, ServiceStatus } from "../domain/enums.generated";
