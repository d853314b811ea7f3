import type { Interface } from "ethers";
import { RuleKind } from "../domain/enums.generated";

export { RuleKind };

export interface Rule {
  kind: RuleKind;
  thresholdBps: number;
  votingPeriod: number;
}

export interface ActionRule {
  target: string;
  selector: string;
  rule: Rule;
}

const WEEK = 7 * 24 * 3600;

export const unanimous = (votingPeriod = WEEK): Rule => ({
  kind: RuleKind.UnanimousGenesis,
  thresholdBps: 10_000,
  votingPeriod,
});
export const majority = (votingPeriod = WEEK): Rule => ({
  kind: RuleKind.GenesisMajority,
  thresholdBps: 5_000,
  votingPeriod,
});
export const weighted = (thresholdBps: number, votingPeriod = WEEK): Rule => ({
  kind: RuleKind.Weighted,
  thresholdBps,
  votingPeriod,
});

/**
 * The rule of every membership action at deployment (white paper 2.2.1): accounts need every genesis
 * institution; joins, suspensions and reinstatements a genesis majority; an expulsion two thirds of the weight.
 */
export function membershipRules(membership: { target: string; iface: Interface }, votingPeriod = WEEK): ActionRule[] {
  const table: Record<string, Rule> = {
    approveJoin: majority(votingPeriod),
    suspendInstitution: majority(votingPeriod),
    reinstateInstitution: majority(votingPeriod),
    expelInstitution: weighted(6_666, votingPeriod),
    setWeight: unanimous(votingPeriod),
    activateAccount: unanimous(votingPeriod),
    suspendAccount: majority(votingPeriod),
    reinstateAccount: majority(votingPeriod),
    revokeAccount: majority(votingPeriod),
    setListener: unanimous(votingPeriod),
  };
  return Object.entries(table).map(([name, rule]) => ({
    target: membership.target,
    selector: membership.iface.getFunction(name)!.selector,
    rule,
  }));
}

export interface GovernedTarget {
  target: string;
  iface: Interface;
}

/** The governed contracts deployed after VotingTickets, whose rules {@link registryRules} lists. */
export interface RegistryTargets {
  services: GovernedTarget;
  chains: GovernedTarget;
  pipes: GovernedTarget;
  credit: GovernedTarget;
}

/**
 * The rule of every registry action at deployment. Enabling or disabling a service or node, pausing, resuming,
 * closing or activating a pipe and the two governed switches take a genesis majority; what can weaken a safeguard
 * for everyone (unblocking a selector, choosing who reports outcomes) needs every genesis institution; the credit
 * parameters and manual score changes two thirds of the weight, like an expulsion.
 */
export function registryRules(t: RegistryTargets, votingPeriod = WEEK): ActionRule[] {
  const table: [GovernedTarget, Record<string, Rule>][] = [
    [
      t.services,
      {
        enableService: majority(votingPeriod),
        disableService: majority(votingPeriod),
        enableNode: majority(votingPeriod),
        disableNode: majority(votingPeriod),
      },
    ],
    [t.chains, { setAttestationRequired: majority(votingPeriod) }],
    [
      t.pipes,
      {
        activatePipe: majority(votingPeriod),
        setAlternates: majority(votingPeriod),
        pausePipe: majority(votingPeriod),
        resumePipe: majority(votingPeriod),
        closePipe: majority(votingPeriod),
        setActivationVoteRequired: majority(votingPeriod),
        setSelectorBlocked: unanimous(votingPeriod),
      },
    ],
    [
      t.credit,
      {
        setParams: weighted(6_666, votingPeriod),
        adjustScore: weighted(6_666, votingPeriod),
        setReporter: unanimous(votingPeriod),
      },
    ],
  ];
  return table.flatMap(([target, rules]) =>
    Object.entries(rules).map(([name, rule]) => ({
      target: target.target,
      selector: target.iface.getFunction(name)!.selector,
      rule,
    })),
  );
}

/**
 * The rule of the attester set: every genesis institution, since the set decides what every sub-chain gateway
 * executes (a weaker set would weaken that safeguard for everyone).
 */
export function attesterRules(attesters: GovernedTarget, votingPeriod = WEEK): ActionRule[] {
  return [
    {
      target: attesters.target,
      selector: attesters.iface.getFunction("setAttesters")!.selector,
      rule: unanimous(votingPeriod),
    },
  ];
}
