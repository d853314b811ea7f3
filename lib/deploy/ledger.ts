import type { Signer } from "ethers";
import {
  LedgerRecovery__factory,
  TransactionLedger__factory,
  type LedgerRecovery,
  type TransactionLedger,
} from "../../typechain-types";
import type { ActionRule } from "./rules";
import { ledgerRules } from "./ledger-rules";

/** The contracts the ledger depends on, by address. */
export interface LedgerDependencies {
  membership: string;
  voting: string;
  /** The pipe authority (IPipeAuthority: the pipe registry). */
  pipes: string;
  /** The credit contract (ICreditScore); the ledger must then be allowed as one of its reporters. */
  credit: string;
}

export interface LedgerOptions {
  /** The retry bound (default 3, at most 14). */
  maxRetries?: number;
  /** Voting period of the returned rules, in seconds (default one week). */
  votingPeriodSeconds?: number;
  /** Already deployed contracts to reuse (found by address, e.g. from a deployment record). */
  existing?: { ledger?: string; recovery?: string };
  log?: (line: string) => void;
}

export interface LedgerDeployment {
  ledger: TransactionLedger;
  recovery: LedgerRecovery;
  /** The ledger's governed actions and their default rules, to install in VotingTickets. */
  rules: ActionRule[];
}

async function hasCode(signer: Signer, address: string | undefined): Promise<boolean> {
  if (!address) return false;
  return (await signer.provider!.getCode(address)) !== "0x";
}

/**
 * Deploys the transaction ledger and its recovery module (or finds them at `existing`). The ledger's governed
 * actions need rules in VotingTickets before they can be proposed: see `rules` (from `ledgerRules`).
 */
export async function deployLedger(
  deployer: Signer,
  deps: LedgerDependencies,
  opts: LedgerOptions = {},
): Promise<LedgerDeployment> {
  const log = opts.log ?? (() => undefined);
  let recovery: LedgerRecovery;
  if (await hasCode(deployer, opts.existing?.recovery)) {
    recovery = LedgerRecovery__factory.connect(opts.existing!.recovery!, deployer);
    log(`found LedgerRecovery at ${opts.existing!.recovery}`);
  } else {
    recovery = await new LedgerRecovery__factory(deployer).deploy(deps.membership, deps.voting);
    await recovery.waitForDeployment();
    log(`deployed LedgerRecovery at ${await recovery.getAddress()}`);
  }
  let ledger: TransactionLedger;
  if (await hasCode(deployer, opts.existing?.ledger)) {
    ledger = TransactionLedger__factory.connect(opts.existing!.ledger!, deployer);
    log(`found TransactionLedger at ${opts.existing!.ledger}`);
  } else {
    ledger = await new TransactionLedger__factory(deployer).deploy(
      deps.membership,
      deps.voting,
      deps.pipes,
      deps.credit,
      opts.maxRetries ?? 3,
      await recovery.getAddress(),
    );
    await ledger.waitForDeployment();
    log(`deployed TransactionLedger at ${await ledger.getAddress()}`);
  }
  const rules = ledgerRules({ target: await ledger.getAddress(), iface: ledger.interface }, opts.votingPeriodSeconds);
  return { ledger, recovery, rules };
}
