/**
 * Operator tasks for votes on a deployed consortium (addresses from the deployment record written by
 * scripts/deploy.ts). The signer is the keystore in CCGP_KEYSTORE (password in CCGP_KEYSTORE_PASSWORD), or on a
 * local chain one of the network's configured accounts, chosen by `--signer`.
 *   npx hardhat gov:apply --name "Drug Maker" --identity USCC:1 --kind business --signer 10 --network localhost
 *   npx hardhat gov:propose --action suspendInstitution --args '[4]' --signer 2 --network localhost
 *   npx hardhat gov:vote --id 1 --signer 2 --network localhost
 *   npx hardhat gov:execute --id 1 --network localhost
 *   npx hardhat gov:show --network localhost
 */
import { readFileSync } from "node:fs";
import { task as hardhatTask, types } from "hardhat/config";
import { HardhatPluginError } from "hardhat/plugins";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { recordPath, type DeploymentRecord } from "../lib/record";
import { scriptSigner } from "../lib/signer";

/** Tasks whose refusals print as one line naming the reason (e.g. a contract's custom error), not a stack. */
function task(name: string, description: string) {
  const def = hardhatTask(name, description);
  const setAction = def.setAction.bind(def);
  def.setAction = (action) =>
    setAction(async (args, hre, runSuper) => {
      try {
        return await action(args, hre, runSuper);
      } catch (err) {
        const e = err as { shortMessage?: string; message?: string };
        throw new HardhatPluginError("ccgp", `${name}: ${e.shortMessage ?? e.message ?? String(err)}`);
      }
    });
  return def;
}

const KINDS: Record<string, number> = { business: 2, audit: 3 };
const ROLES: Record<string, number> = { governor: 1, operator: 2, business: 3, auditor: 4 };
const STATES = ["None", "Active", "Passed", "Rejected", "Expired", "Canceled", "Executed"];
const ISTATUS = ["None", "Applied", "Active", "Suspended", "Expelled"];
const IKIND = ["None", "Genesis", "Business", "Audit"];

async function contracts(hre: HardhatRuntimeEnvironment, signerIndex: number) {
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);
  const path = recordPath(process.env.CCGP_DEPLOYMENTS ?? ".deployments", hre.network.name, chainId);
  let record: DeploymentRecord;
  try {
    record = JSON.parse(readFileSync(path, "utf8")) as DeploymentRecord;
  } catch {
    throw new Error(`no deployment record at ${path}: run scripts/deploy.ts on network ${hre.network.name} first`);
  }
  const signer = await scriptSigner(hre.ethers.provider, () => hre.ethers.getSigners(), signerIndex);
  const membership = await hre.ethers.getContractAt("Membership", record.membership!, signer);
  const voting = await hre.ethers.getContractAt("VotingTickets", record.voting!, signer);
  return { membership, voting, signer };
}

function pick<T>(table: Record<string, T>, value: string, flag: string): T {
  if (!(value in table)) throw new Error(`--${flag} ${value}: expected one of ${Object.keys(table).join(", ")}`);
  return table[value];
}

task("gov:apply", "Applies to join the consortium (the signer becomes the institution's admin)")
  .addParam("name", "institution name")
  .addParam("identity", "identity reference, kept on-chain as a hash")
  .addParam("kind", "business | audit")
  .addOptionalParam("attributes", "business attributes as JSON", "{}")
  .addOptionalParam("signer", "account index", 0, types.int)
  .setAction(async (a, hre) => {
    const { membership } = await contracts(hre, a.signer);
    const tx = await membership.applyToJoin(a.name, hre.ethers.id(a.identity), pick(KINDS, a.kind, "kind"), hre.ethers.toUtf8Bytes(a.attributes));
    const rc = await tx.wait();
    const ev = rc!.logs.map((l) => membership.interface.parseLog(l)).find((e) => e?.name === "InstitutionApplied");
    console.log(`institution ${ev!.args.id} applied; join proposal ${ev!.args.proposalId}`);
  });

task("gov:account-consent", "Signs, with the account's own key, its consent to join an institution with a role")
  .addParam("institution", "institution id", undefined, types.int)
  .addParam("role", "governor | operator | business | auditor")
  .addOptionalParam("signer", "index of the account's key", 0, types.int)
  .setAction(async (a, hre) => {
    const { membership } = await contracts(hre, a.signer);
    const key = (await hre.ethers.getSigners())[a.signer]!;
    // Loaded here, not at the top: hardhat.config.ts loads this file before the first compile has made typechain-types.
    const { requestConsent } = await import("../lib/local/council");
    const [deadline, signature] = await requestConsent(membership, key, key, a.institution, pick(ROLES, a.role, "role"));
    console.log(`account ${key.address} consents until ${deadline}: --deadline ${deadline} --consent ${signature}`);
  });

task("gov:request-account", "Requests an account for an institution, with the account's consent (then a unanimous vote)")
  .addParam("account", "account address")
  .addParam("institution", "institution id", undefined, types.int)
  .addParam("role", "governor | operator | business | auditor")
  .addParam("deadline", "the consent's deadline (from gov:account-consent)")
  .addParam("consent", "the account key's consent signature (from gov:account-consent)")
  .addOptionalParam("signer", "account index", 0, types.int)
  .setAction(async (a, hre) => {
    const { membership } = await contracts(hre, a.signer);
    const rc = await (await membership.requestAccount(a.account, a.institution, pick(ROLES, a.role, "role"), BigInt(a.deadline), a.consent)).wait();
    const ev = rc!.logs.map((l) => membership.interface.parseLog(l)).find((e) => e?.name === "AccountRequested");
    console.log(`account ${a.account} requested; proposal ${ev!.args.proposalId}`);
  });

task("gov:propose", "Proposes a governed action on the membership contract (or --target)")
  .addParam("action", "function name, e.g. suspendInstitution")
  .addOptionalParam("args", "arguments as a JSON array", "[]")
  .addOptionalParam("description", "why", "")
  .addOptionalParam("signer", "account index", 0, types.int)
  .setAction(async (a, hre) => {
    const { membership, voting } = await contracts(hre, a.signer);
    const data = membership.interface.encodeFunctionData(a.action, JSON.parse(a.args));
    const rc = await (await voting.propose(await membership.getAddress(), data, a.description)).wait();
    const ev = rc!.logs.map((l) => voting.interface.parseLog(l)).find((e) => e?.name === "ProposalCreated");
    console.log(`proposal ${ev!.args.id}: ${a.action}(${JSON.parse(a.args).join(", ")}), deadline ${new Date(Number(ev!.args.deadline) * 1000).toISOString()}`);
  });

task("gov:vote", "Casts the signer's institution's vote")
  .addParam("id", "proposal id", undefined, types.int)
  .addFlag("against", "vote against")
  .addOptionalParam("signer", "account index", 0, types.int)
  .setAction(async (a, hre) => {
    const { voting } = await contracts(hre, a.signer);
    await (await voting.vote(a.id, !a.against)).wait();
    console.log(`voted ${a.against ? "against" : "for"} proposal ${a.id}: now ${STATES[Number(await voting.state(a.id))]}`);
  });

task("gov:execute", "Executes a passed proposal")
  .addParam("id", "proposal id", undefined, types.int)
  .addOptionalParam("signer", "account index", 0, types.int)
  .setAction(async (a, hre) => {
    const { voting } = await contracts(hre, a.signer);
    await (await voting.execute(a.id)).wait();
    console.log(`proposal ${a.id} executed`);
  });

task("gov:show", "Lists institutions and proposals").setAction(async (_a, hre) => {
  const { membership, voting } = await contracts(hre, 0);
  for (let id = 1; id <= Number(await membership.institutionCount()); id++) {
    const i = await membership.institution(id);
    console.log(`institution ${await membership.didOf(id)}  ${IKIND[Number(i.kind)].padEnd(8)} ${ISTATUS[Number(i.status)].padEnd(9)} ${i.name}`);
  }
  for (let id = 1; id <= Number(await voting.proposalCount()); id++) {
    const p = await voting.proposal(id);
    const fn = membership.interface.fragments.find((f) => "selector" in f && f.selector === p.selector)?.format("sighash") ?? p.selector;
    console.log(`proposal ${id}  ${STATES[Number(await voting.state(id))].padEnd(8)} ${fn}  by ${p.proposer}  deadline ${new Date(Number(p.deadline) * 1000).toISOString()}`);
  }
});
