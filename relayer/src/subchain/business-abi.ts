/**
 * The ABIs of the business contracts the relayer knows, by their registered (CNS) name: a name is the contract's
 * kind, optionally followed by `/` and the institution's tag (`DrugTraceability/B`). A read of a known contract is
 * answered decoded; any other read is answered raw.
 */
import type { Abi } from "viem";
import { IDrugTraceability__factory } from "../../../typechain-types/factories/contracts/interfaces/IDrugTraceability__factory";
import { IEvidenceDeposit__factory } from "../../../typechain-types/factories/contracts/interfaces/IEvidenceDeposit__factory";

const KNOWN: Record<string, Abi> = {
  DrugTraceability: IDrugTraceability__factory.abi,
  EvidenceDeposit: IEvidenceDeposit__factory.abi,
};

/** The ABI of the contract registered as `name`, when the relayer knows it. */
export function businessAbi(name: string): Abi | undefined {
  return KNOWN[name.split("/")[0]!];
}
