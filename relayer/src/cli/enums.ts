/**
 * Names of the contracts' enum values, keyed by the ABI's `internalType` (`enum IPipeAuthority.PipeStatus`), so
 * refusals and views print `PipeInvalidStatus(0x…, Applied)` instead of a bare number. The ledger's (and the credit
 * score's outcomes) come from its TypeScript mirror; the others are listed in declaration order, as in the interfaces.
 */
import { PIPE_REFUSALS } from "../governance/abi";
import { Issue, Outcome, PacketField, Reason, RefusalKind, Side, StepProblem, TxState, VerifierKind } from "../../../lib/domain/ledger-types";

const namesOf = (e: Record<string, string | number>): string[] =>
  Object.entries(e)
    .filter(([, v]) => typeof v === "number")
    .sort((a, b) => (a[1] as number) - (b[1] as number))
    .map(([k]) => k);

export const ENUMS: Readonly<Record<string, readonly string[]>> = {
  "IMembership.InstitutionKind": ["None", "Genesis", "Business", "Audit"],
  "IMembership.InstitutionStatus": ["None", "Applied", "Active", "Suspended", "Expelled"],
  "IMembership.Role": ["None", "Governor", "Operator", "Business", "Auditor"],
  "IMembership.AccountStatus": ["None", "Pending", "Active", "Suspended", "Revoked"],
  "IVotingTickets.RuleKind": ["None", "UnanimousGenesis", "GenesisMajority", "Weighted"],
  "IVotingTickets.ProposalState": ["None", "Active", "Passed", "Rejected", "Expired", "Canceled", "Executed"],
  "IServiceRegistry.ServiceStatus": ["None", "Registered", "Enabled", "Disabled"],
  "IServiceRegistry.NodeKind": ["None", "Genesis", "Governance", "Audit"],
  "IServiceRegistry.NodeStatus": ["None", "Registered", "Enabled", "Disabled"],
  "IChainRegistry.ChainKind": ["None", "Evm", "FiscoBcos", "Fabric"],
  "IChainRegistry.KeyStatus": ["None", "Active", "Revoked"],
  "IPipeAuthority.PipeStatus": ["None", "Applied", "Authorized", "Active", "Paused", "Closed"],
  "IPipeAuthority.Refusal": PIPE_REFUSALS,
  "ICreditScore.Outcome": namesOf(Outcome),
  "ISubchainGateway.TwoPhaseStatus": ["None", "Prepared", "Committed", "RolledBack"],
  "ITransactionLedgerTypes.TxState": namesOf(TxState),
  "ITransactionLedgerTypes.Reason": namesOf(Reason),
  "ITransactionLedgerTypes.Side": namesOf(Side),
  "ITransactionLedgerTypes.VerifierKind": namesOf(VerifierKind),
  "ITransactionLedgerTypes.RefusalKind": namesOf(RefusalKind),
  "ITransactionLedgerTypes.PacketField": namesOf(PacketField),
  "ITransactionLedgerTypes.StepProblem": namesOf(StepProblem),
  "ITransactionLedgerTypes.Issue": namesOf(Issue),
};

/** The name of value `value` of enum `key` (`IPipeAuthority.PipeStatus`), or the number when out of range. */
export function enumName(key: string, value: bigint | number): string {
  return ENUMS[key]?.[Number(value)] ?? String(value);
}

/** The value of `name` in enum `key`, case-insensitive; undefined when it is not one. */
export function enumValue(key: string, name: string): number | undefined {
  const i = ENUMS[key]?.findIndex((n) => n.toLowerCase() === name.toLowerCase()) ?? -1;
  return i < 0 ? undefined : i;
}

export const TX_STATE = "ITransactionLedgerTypes.TxState";
export const PROPOSAL_STATE = "IVotingTickets.ProposalState";
export const PIPE_STATUS = "IPipeAuthority.PipeStatus";
export const REFUSAL = "IPipeAuthority.Refusal";
