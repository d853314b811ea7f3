/**
 * The ABIs of the business contracts the relayer knows, by their registered (CNS) name: a name is the contract's
 * kind, optionally followed by `/` and the institution's tag (`DrugTraceability/B`). A read of a known contract is
 * answered decoded; any other read is answered raw.
 */
import type { Abi } from "viem";
import { IDrugTraceabilityAbi, IEvidenceDepositAbi } from "./interfaces.generated";

const KNOWN: Record<string, Abi> = {
  DrugTraceability: IDrugTraceabilityAbi,
  EvidenceDeposit: IEvidenceDepositAbi,
};

/** The ABI of the contract registered as `name`, when the relayer knows it. */
export function businessAbi(name: string): Abi | undefined {
  return KNOWN[name.split("/")[0]!];
}
