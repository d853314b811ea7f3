/**
 * `ccgp member apply|account|list`: join applications, account requests (both open their vote at once) and the
 * list of institutions with their accounts' unified ids.
 */
import type { Command } from "commander";
import { id as keccakId, toUtf8Bytes } from "ethers";
import { session, withCommon, type CommonOptions, type Env } from "./context";
import { enumName } from "./enums";
import { usage } from "./errors";
import { table } from "./output";
import { addressArg, choiceArg, jsonOf, uint32Arg } from "./parse";
import { eventOf, read, submit } from "./submit";

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
    throw usage("--attributes", "expected a JSON object, e.g. {\"sector\":\"pharma\"}");
  const s = await session(opts, ctx, true);
  const sent = await submit(s.out, "applyToJoin", () =>
    s.gov.membership.applyToJoin(opts.name, keccakId(opts.identity), opts.kind + 2, toUtf8Bytes(JSON.stringify(attributes))),
  );
  const ev = eventOf(sent, "InstitutionApplied");
  s.out.result([`institution ${ev.args.id} applied (${KINDS[opts.kind]}); join proposal ${ev.args.proposalId}`], {
    institution: ev.args.id,
    proposalId: ev.args.proposalId,
    tx: sent.receipt.hash,
  });
}

interface AccountOptions extends CommonOptions {
  account: string;
  institution: number;
  role: number;
}

async function account(opts: AccountOptions, ctx: Env): Promise<void> {
  const s = await session(opts, ctx, true);
  const sent = await submit(s.out, "requestAccount", () => s.gov.membership.requestAccount(opts.account, opts.institution, opts.role + 1));
  const ev = eventOf(sent, "AccountRequested");
  s.out.result([`account ${opts.account} requested as ${ROLES[opts.role]} of institution ${opts.institution}; proposal ${ev.args.proposalId}`], {
    account: opts.account,
    institution: opts.institution,
    role: ROLES[opts.role],
    proposalId: ev.args.proposalId,
    tx: sent.receipt.hash,
  });
}

async function list(opts: CommonOptions, ctx: Env): Promise<void> {
  const s = await session(opts, ctx);
  const m = s.gov.membership;
  const count = Number(await read("institutionCount", () => m.institutionCount()));
  const rows = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const [inst, did] = await Promise.all([m.institution(i + 1), m.didOf(i + 1)]);
      return {
        id: i + 1,
        did,
        kind: enumName("IMembership.InstitutionKind", inst.kind),
        status: enumName("IMembership.InstitutionStatus", inst.status),
        name: inst.name,
        admin: inst.admin,
        weight: Number(inst.weight),
      };
    }),
  );
  s.out.result(table([["id", "did", "kind", "status", "name"], ...rows.map((r) => [String(r.id), r.did || "-", r.kind, r.status, r.name])]), { institutions: rows });
}

export function addMemberCommands(root: Command, ctx: Env): void {
  const member = root.command("member").description("institutions and accounts: join applications, account requests");
  withCommon(
    member
      .command("apply")
      .description("apply to join as a business or audit institution (the signer becomes its admin); opens the join vote")
      .requiredOption("--name <text>", "institution name")
      .requiredOption("--identity <text>", "identity reference (registration number, LEI), kept on-chain as a hash")
      .requiredOption("--kind <kind>", `one of ${KINDS.join(", ")}`, choiceArg(KINDS))
      .option("--attributes <json>", "business attributes, a JSON object", "{}"),
  ).action((opts: ApplyOptions) => apply(opts, ctx));
  withCommon(
    member
      .command("account")
      .description("request an account for an institution (by its admin, governor or operator); opens the unanimous vote")
      .requiredOption("--account <address>", "the account's address", addressArg)
      .requiredOption("--institution <id>", "institution number", uint32Arg)
      .requiredOption("--role <role>", `one of ${ROLES.join(", ")}`, choiceArg(ROLES)),
  ).action((opts: AccountOptions) => account(opts, ctx));
  withCommon(member.command("list").description("list the institutions")).action((opts: CommonOptions) => list(opts, ctx));
}
