import { ethers, network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { Wallet, type BaseContract, type ContractTransactionResponse, type Signer } from "ethers";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { VotingTickets } from "../../typechain-types";
import { ENUM_NAMES } from "../../lib/domain/enums.generated";
import { parseConsortium } from "../../lib/domain/consortium-config";
import { deployGovernance, type GovernanceContracts } from "../../lib/deploy/governance";
import {
  consentDeadline,
  membershipDomain,
  signAccountConsent,
  type AccountConsent,
} from "../../relayer/src/governance/consent";

/** A Solidity enum's values as bigints (what ethers returns), by name, from the names the compiler's AST gives. */
export function bigEnum<const T extends readonly string[]>(names: T): { readonly [K in T[number]]: bigint } {
  return Object.fromEntries(names.map((n, i) => [n, BigInt(i)])) as { readonly [K in T[number]]: bigint };
}

/** The Solidity enums, for readable assertions. */
export const Kind = bigEnum(ENUM_NAMES["IMembership.InstitutionKind"]);
export const IStatus = bigEnum(ENUM_NAMES["IMembership.InstitutionStatus"]);
export const Role = bigEnum(ENUM_NAMES["IMembership.Role"]);
export const AStatus = bigEnum(ENUM_NAMES["IMembership.AccountStatus"]);
export const PState = bigEnum(ENUM_NAMES["IVotingTickets.ProposalState"]);

export const WEEK = 7 * 24 * 3600;

/** The deployed governance contracts (as `deployGovernance` returns them) and the signers the tests act with. */
export interface Consortium extends GovernanceContracts {
  deployer: Signer;
  /** One governor per genesis institution, index i = institution id i + 1 = seat i. */
  governors: Signer[];
  /** Genesis admins, index as `governors`. */
  admins: Signer[];
  /** Spare funded signers for applicants and accounts. */
  others: HardhatEthersSigner[];
}

/** Funded random wallets, for consortia larger than Hardhat's 20 accounts. */
export async function fundedWallets(n: number): Promise<Signer[]> {
  const wallets: Signer[] = [];
  for (let i = 0; i < n; i++) {
    const w = Wallet.createRandom().connect(ethers.provider);
    await network.provider.send("hardhat_setBalance", [w.address, "0x56BC75E2D63100000"]);
    wallets.push(w);
  }
  return wallets;
}

/** Deploys a consortium of `n` genesis institutions through the same code path as `scripts/deploy.ts`. */
export async function deployConsortium(n = 3, weights?: number[]): Promise<Consortium> {
  const signers = await ethers.getSigners();
  const deployer = signers[0];
  const useLocal = 2 * n + 1 <= signers.length - 6;
  const pool: Signer[] = useLocal ? signers.slice(1, 1 + 2 * n) : await fundedWallets(2 * n);
  const admins = pool.slice(0, n);
  const governors = pool.slice(n, 2 * n);
  const cfg = parseConsortium({
    name: "test",
    votingPeriodSeconds: WEEK,
    genesis: await Promise.all(
      admins.map(async (a, i) => ({
        name: `Genesis ${i + 1}`,
        identity: `id-${i + 1}`,
        attributes: { n: i + 1 },
        admin: await a.getAddress(),
        weight: weights?.[i] ?? 1,
        governors: [await governors[i].getAddress()],
      })),
    ),
  });
  const { membership, voting, services, chains, pipes, credit, attesters, ledger, ledgerRecovery } =
    await deployGovernance(deployer, cfg, {
      network: "hardhat",
    });
  const others = useLocal ? signers.slice(1 + 2 * n) : signers.slice(1);
  return {
    membership,
    voting,
    services,
    chains,
    pipes,
    credit,
    attesters,
    ledger,
    ledgerRecovery,
    deployer,
    governors,
    admins,
    others,
  };
}

/** Returns the id of the proposal created by a transaction. */
export async function proposalIdOf(voting: VotingTickets, tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  for (const log of receipt!.logs) {
    try {
      const parsed = voting.interface.parseLog(log);
      if (parsed?.name === "ProposalCreated") return parsed.args.id as bigint;
    } catch {
      // a log of another contract
    }
  }
  throw new Error("no ProposalCreated event in the transaction");
}

/** Governors vote for a proposal, then it is executed. */
export async function pass(c: Consortium, id: bigint, voters: Signer[] = c.governors): Promise<void> {
  for (const v of voters) await c.voting.connect(v).vote(id, true);
  await c.voting.execute(id);
}

/**
 * Proposes `fn(args)` on `target` by the first of `voters` (every governor by default), has each of them vote
 * for it, and returns the execution transaction (so tests can expect its events or its refusal).
 */
export async function govern(
  c: Consortium,
  target: BaseContract,
  fn: string,
  args: unknown[],
  voters: Signer[] = c.governors,
): Promise<ContractTransactionResponse> {
  const data = target.interface.encodeFunctionData(fn, args);
  const id = await proposalIdOf(c.voting, c.voting.connect(voters[0]).propose(await target.getAddress(), data, fn));
  for (const v of voters) await c.voting.connect(v).vote(id, true);
  return c.voting.execute(id);
}

/** Applies to join and has every genesis institution approve; returns the new institution id. */
export async function joinInstitution(
  c: Consortium,
  applicant: Signer,
  kind: bigint,
  name = "Business Co",
): Promise<bigint> {
  const id = (await c.membership.institutionCount()) + 1n;
  const pid = await proposalIdOf(
    c.voting,
    c.membership.connect(applicant).applyToJoin(name, ethers.id(name), kind, "0x"),
  );
  await pass(c, pid);
  return id;
}

/** An account key: a signer, a key holding a wallet, or the address of one of the node's own accounts. */
export type AccountKey = Signer | { wallet: Signer } | string;

const keyOf = async (account: AccountKey): Promise<Signer> => {
  if (typeof account === "string") return ethers.getSigner(account);
  return "wallet" in account ? account.wallet : account;
};

/**
 * The account key's consent to join `institution` with `role`: `[deadline, signature]`, the last two arguments of
 * `requestAccount`. `over` signs something else (a wrong field), to test refusals.
 */
export async function accountConsent(
  c: Pick<Consortium, "membership">,
  account: AccountKey,
  institution: bigint | number,
  role: bigint | number,
  over: Partial<AccountConsent> & { chainId?: bigint; verifyingContract?: string } = {},
): Promise<[bigint, string]> {
  const key = await keyOf(account);
  const address = await key.getAddress();
  const deadline = over.deadline ?? consentDeadline(await time.latest());
  const nonce = over.nonce ?? (await c.membership.accountConsents(address)).nextNonce;
  const { chainId } = await ethers.provider.getNetwork();
  const domain = membershipDomain(over.chainId ?? chainId, over.verifyingContract ?? (await c.membership.getAddress()));
  const signature = await signAccountConsent(key, domain, {
    account: address,
    institution,
    role,
    nonce,
    deadline,
    ...over,
  });
  return [deadline, signature];
}

/** Requests an account (with its key's consent) by the institution's admin; every genesis institution approves it. */
export async function addAccount(
  c: Consortium,
  admin: Signer,
  account: AccountKey,
  institution: bigint,
  role: bigint,
): Promise<void> {
  const address = await (await keyOf(account)).getAddress();
  const consent = await accountConsent(c, account, institution, role);
  const pid = await proposalIdOf(
    c.voting,
    c.membership.connect(admin).requestAccount(address, institution, role, ...consent),
  );
  await pass(c, pid);
}

export const pastDeadline = async (voting: VotingTickets, id: bigint): Promise<void> => {
  const p = await voting.proposal(id);
  await time.increaseTo(p.deadline);
};
