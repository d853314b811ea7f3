import { join } from "node:path";

/** Addresses of a deployed consortium, kept per network so a second run finds them. */
export interface DeploymentRecord {
  network: string;
  chainId: number;
  membership?: string;
  voting?: string;
  initialized?: boolean;
  pipes?: string;
  services?: string;
  chains?: string;
  credit?: string;
  attesters?: string;
  ledgerRecovery?: string;
  ledger?: string;
  /** PipeRegistry.initialize ran (it reads the three registries deployed after it). */
  wired?: boolean;
  /** Membership tells PipeRegistry of suspensions, expulsions and account changes. */
  listenerBound?: boolean;
  /** CreditScore takes outcome reports from the ledger. */
  reporterBound?: boolean;
  /** VotingTickets.bootstrap installed the registry and ledger rules and modules. */
  bootstrapped?: boolean;
}

/** Where the record of a network lives. Kept free of typechain imports: hardhat.config loads it. */
export const recordPath = (dir: string, network: string, chainId: number): string =>
  join(dir, `${network}-${chainId}.json`);
