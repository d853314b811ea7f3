import type { BaseContract, ContractTransactionResponse, Signer, TransactionReceipt } from "ethers";
import type { ChainRegistry, Membership, VotingTickets } from "../../../typechain-types";
import { identityHash } from "../../../lib/domain/consortium-config";
import { DeployError } from "../../../lib/deploy/governance";
import {
  chainRegistryDomain,
  consentDeadline,
  membershipDomain,
  signAccountConsent,
  signAppKeyConsent,
} from "../../../relayer/src/governance/consent";

/** Membership enums, as the contracts number them. */
export const InstitutionKind = { Business: 2, Audit: 3 } as const;
export const Role = { Governor: 1, Operator: 2, Business: 3, Auditor: 4 } as const;

/**
 * The genesis governors of a local consortium, voting for everything the setup proposes: every decision of the
 * bootstrap goes through `VotingTickets` exactly as it would in production (proposal, one vote per genesis
 * institution, execution), only with every governor saying yes at once.
 */
export class Council {
  constructor(
    readonly voting: VotingTickets,
    readonly membership: Membership,
    readonly governors: Signer[],
  ) {}

  /** The id of the proposal a transaction opened (its `ProposalCreated` event). */
  async proposalOf(tx: Promise<ContractTransactionResponse>, what: string): Promise<bigint> {
    const receipt = await mined(tx, what);
    const address = (await this.voting.getAddress()).toLowerCase();
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== address) continue;
      const parsed = this.voting.interface.parseLog(log);
      if (parsed?.name === "ProposalCreated") return parsed.args.id as bigint;
    }
    throw new DeployError(`${what} opened no proposal (no ProposalCreated event)`, { tx: receipt.hash });
  }

  /** Every governor votes for the proposal, then it is executed. */
  async pass(id: bigint, what: string): Promise<void> {
    for (const g of this.governors) await mined(this.voting.connect(g).vote(id, true), `vote on ${what}`);
    await mined(this.voting.connect(this.governors[0]).execute(id), `execution of ${what}`);
  }

  /** Proposes `fn(args)` on `target`, and passes it. */
  async decide(target: BaseContract, fn: string, args: unknown[], what: string): Promise<void> {
    const data = target.interface.encodeFunctionData(fn, args);
    const id = await this.proposalOf(
      this.voting.connect(this.governors[0]).propose(await target.getAddress(), data, what),
      what,
    );
    await this.pass(id, what);
  }

  /** `applicant` applies to join with `kind`; the genesis institutions approve. Returns the new institution id. */
  async admit(applicant: Signer, name: string, kind: number, attributes: Record<string, unknown>): Promise<number> {
    const what = `join of ${name}`;
    const id = await this.proposalOf(
      this.membership
        .connect(applicant)
        .applyToJoin(name, identityHash(name), kind, new TextEncoder().encode(JSON.stringify(attributes))),
      what,
    );
    await this.pass(id, what);
    const count = Number(await this.membership.institutionCount());
    const inst = await this.membership.institution(count);
    if (inst.name !== name)
      throw new DeployError(`the last institution is "${inst.name}", expected "${name}"`, { count });
    return count;
  }

  /**
   * The institution's admin requests an account with the account key's consent (it signs, the admin submits);
   * every genesis institution approves it (the unanimous rule).
   */
  async addAccount(admin: Signer, account: Signer, institution: number, role: number, what: string): Promise<void> {
    const address = await account.getAddress();
    const [deadline, signature] = await requestConsent(this.membership, admin, account, institution, role);
    await this.pass(
      await this.proposalOf(
        this.membership.connect(admin).requestAccount(address, institution, role, deadline, signature),
        what,
      ),
      what,
    );
  }
}

/** Waits for a transaction; a revert or a dropped transaction is refused naming what it was for. */
export async function mined(tx: Promise<ContractTransactionResponse>, what: string): Promise<TransactionReceipt> {
  try {
    const receipt = await (await tx).wait();
    if (!receipt) throw new DeployError(`${what}: no receipt`);
    return receipt;
  } catch (err) {
    if (err instanceof DeployError) throw err;
    throw new DeployError(`${what} failed: ${(err as Error).message.split("\n")[0]}`, { what }, { cause: err });
  }
}

/**
 * The account key's consent to join `institution` with `role`, valid for an hour of chain time:
 * `[deadline, signature]`.
 */
export async function requestConsent(
  membership: Membership,
  submitter: Signer,
  account: Signer,
  institution: number | bigint,
  role: number | bigint,
): Promise<[bigint, string]> {
  const provider = submitter.provider;
  if (!provider) throw new DeployError("the submitter of an account request has no provider");
  const [network, block, address] = await Promise.all([
    provider.getNetwork(),
    provider.getBlock("latest"),
    account.getAddress(),
  ]);
  const nonce = (await membership.accountConsents(address)).nextNonce;
  const deadline = consentDeadline(block!.timestamp);
  const domain = membershipDomain(network.chainId, await membership.getAddress());
  return [
    deadline,
    await signAccountConsent(account, domain, { account: address, institution, role, nonce, deadline }),
  ];
}

/**
 * The app key's consent to be reserved for `appId` of `institution`, valid for an hour of chain time:
 * `[deadline, signature]`.
 */
export async function appKeyConsent(
  chains: ChainRegistry,
  submitter: Signer,
  key: Signer,
  appId: string,
  institution: number | bigint,
): Promise<[bigint, string]> {
  const provider = submitter.provider;
  if (!provider) throw new DeployError("the submitter of an app registration has no provider");
  const [network, block, address] = await Promise.all([
    provider.getNetwork(),
    provider.getBlock("latest"),
    key.getAddress(),
  ]);
  const deadline = consentDeadline(block!.timestamp);
  const domain = chainRegistryDomain(network.chainId, await chains.getAddress());
  return [deadline, await signAppKeyConsent(key, domain, { key: address, appId, institution, deadline })];
}
