import type { Interface } from "ethers";
import { majority, unanimous, weighted, type ActionRule, type Rule } from "./rules";

const WEEK = 7 * 24 * 3600;

/**
 * The rule of every governed action of the transaction ledger at deployment (same shape as `membershipRules`):
 * verifiers and their weights need more than half of the genesis weight (the weighted threshold of endorsers); the
 * retry bound a genesis majority; swapping the pipe authority or the credit contract every genesis institution.
 * Give them to `VotingTickets` at deployment, or install them later with `setRule` proposals.
 */
export function ledgerRules(ledger: { target: string; iface: Interface }, votingPeriod = WEEK): ActionRule[] {
  const table: Record<string, Rule> = {
    setVerifier: weighted(5_000, votingPeriod),
    setMaxRetries: majority(votingPeriod),
    setPipeAuthority: unanimous(votingPeriod),
    setCreditScore: unanimous(votingPeriod),
  };
  return Object.entries(table).map(([name, rule]) => ({
    target: ledger.target,
    selector: ledger.iface.getFunction(name)!.selector,
    rule,
  }));
}
