/**
 * `ccgp member apply|account|list`: join applications, account requests (both open their vote at once) and the
 * list of institutions with their accounts' unified ids.
 */
import type { Command } from "commander";
import { id as keccakId, toUtf8Bytes } from "ethers";
import { session, withCommon, type CommonOptions, type Env } from "./context";
import { usage } from "./errors";
import { consentDeadline, membershipDomain, signAccountConsent } from "../governance/consent";
import { LIST_KINDS, runList } from "./list";
import { withListing, type ListOptions } from "./listing";
import { addressArg, choiceArg, hexDataArg, jsonOf, uint32Arg, uint64Arg } from "./parse";
import { eventOf, submit } from "./submit";

const KINDS = ["business", "audit"] as const; // InstitutionKind 2 and 3: genesis institutions exist from deployment
const ROLES = ["governor", "operator", "business", "auditor"] as const; // Role 1..4

interface ApplyOptions extends CommonOptions {
  name: string;
  identity: string;
  kind: number;
  attributes: string;
}

async function apply(opts: ApplyOptions, ctx: Env): Promise<void> {
  const attributes = jsonOf("--attributes", opts.attributes);
  if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes))
    throw usage("--attributes", 'expected a JSON object, e.g. {"sector":"pharma"}');
  const s = await session(opts, ctx, true);
  const sent = await submit(s.out, "applyToJoin", () =>
    s.gov.membership.applyToJoin(
      opts.name,
      keccakId(opts.identity),
      opts.kind + 2,
      toUtf8Bytes(JSON.stringify(attributes)),
    ),
  );
  const ev = eventOf(sent, "InstitutionApplied");
  s.out.result([`institution ${ev.args.id} applied (${KINDS[opts.kind]}); join proposal ${ev.args.proposalId}`], {
    institution: ev.args.id,
    proposalId: ev.args.proposalId,
    tx: sent.receipt.hash,
  });
}

interface ConsentOptions extends CommonOptions {
  institution: number;
  role: number;
}

/** The keystore's key consents to join an institution with a role; the admin then submits the request with it. */
async function consent(opts: ConsentOptions, ctx: Env): Promise<void> {
  const s = await session(opts, ctx, true);
  const membership = await s.gov.membership.getAddress();
  const nonce = (await s.gov.membership.accountConsents(s.signer.address)).nextNonce;
  const latest = await s.chain.provider.getBlock("latest");
  const deadline = consentDeadline(latest!.timestamp);
  const domain = membershipDomain(BigInt(s.chain.chainId), membership);
  const signature = await signAccountConsent(s.signer, domain, {
    account: s.signer.address,
    institution: opts.institution,
    role: opts.role + 1,
    nonce,
    deadline,
  });
  s.out.result(
    [
      `account ${s.signer.address} consents to join institution ${opts.institution} as ${ROLES[opts.role]} until ` +
        `${deadline}`,
      `--deadline ${deadline} --consent ${signature}`,
    ],
    {
      account: s.signer.address,
      institution: opts.institution,
      role: ROLES[opts.role],
      deadline,
      signature,
    },
  );
}

interface AccountOptions extends CommonOptions {
  account: string;
  institution: number;
  role: number;
  deadline: bigint;
  consent: string;
}

async function account(opts: AccountOptions, ctx: Env): Promise<void> {
  const s = await session(opts, ctx, true);
  const sent = await submit(s.out, "requestAccount", () =>
    s.gov.membership.requestAccount(opts.account, opts.institution, opts.role + 1, opts.deadline, opts.consent),
  );
  const ev = eventOf(sent, "AccountRequested");
  s.out.result(
    [
      `account ${opts.account} requested as ${ROLES[opts.role]} of institution ${opts.institution}; proposal ` +
        `${ev.args.proposalId}`,
    ],
    {
      account: opts.account,
      institution: opts.institution,
      role: ROLES[opts.role],
      proposalId: ev.args.proposalId,
      tx: sent.receipt.hash,
    },
  );
}

export function addMemberCommands(root: Command, ctx: Env): void {
  const member = root.command("member").description("institutions and accounts: join applications, account requests");
  withCommon(
    member
      .command("apply")
      .description(
        "apply to join as a business or audit institution (the signer becomes its admin); opens the join vote",
      )
      .requiredOption("--name <text>", "institution name")
      .requiredOption("--identity <text>", "identity reference (registration number, LEI), kept on-chain as a hash")
      .requiredOption("--kind <kind>", `one of ${KINDS.join(", ")}`, choiceArg(KINDS))
      .option("--attributes <json>", "business attributes, a JSON object", "{}"),
  ).action((opts: ApplyOptions) => apply(opts, ctx));
  withCommon(
    member
      .command("account")
      .description(
        "request an account for an institution (by its admin, governor or operator); opens the unanimous vote",
      )
      .requiredOption("--account <address>", "the account's address", addressArg)
      .requiredOption("--institution <id>", "institution number", uint32Arg)
      .requiredOption("--role <role>", `one of ${ROLES.join(", ")}`, choiceArg(ROLES))
      .requiredOption("--deadline <unix>", "the consent's deadline (from `member consent`)", uint64Arg)
      .requiredOption(
        "--consent <signature>",
        "the account key's consent (from `member consent`, run with its keystore)",
        hexDataArg,
      ),
  ).action((opts: AccountOptions) => account(opts, ctx));
  withCommon(
    member
      .command("consent")
      .description(
        "sign, with the keystore's own key, its consent to join an institution with a role (proof of possession)",
      )
      .requiredOption("--institution <id>", "institution number", uint32Arg)
      .requiredOption("--role <role>", `one of ${ROLES.join(", ")}`, choiceArg(ROLES)),
  ).action((opts: ConsentOptions) => consent(opts, ctx));
  const institutions = LIST_KINDS.find((k) => k.name === "institutions")!;
  withCommon(
    withListing(
      member.command("list").description("list the institutions (as ccgp list institutions)"),
      institutions.filters,
    ),
  ).action((opts: ListOptions & CommonOptions) => runList(institutions, opts, ctx));
}
