import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Signer } from "ethers";
import { Membership__factory, VotingTickets__factory, type Membership, type VotingTickets } from "../../typechain-types";
import { attributesBytes, identityHash, type ConsortiumConfig } from "./consortium-config";
import { membershipRules } from "./rules";
import { recordPath, type DeploymentRecord } from "./record";

export type { DeploymentRecord } from "./record";

export interface GovernanceContracts {
  membership: Membership;
  voting: VotingTickets;
}

export type Log = (line: string) => void;

function readRecord(path: string, network: string, chainId: number): DeploymentRecord {
  if (!existsSync(path)) return { network, chainId };
  return JSON.parse(readFileSync(path, "utf8")) as DeploymentRecord;
}

function writeRecord(path: string, record: DeploymentRecord): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(record, null, 2) + "\n");
}

async function hasCode(signer: Signer, address: string | undefined): Promise<boolean> {
  if (!address) return false;
  return (await signer.provider!.getCode(address)) !== "0x";
}

/**
 * Deploys Membership and VotingTickets and bootstraps the genesis set, step by step. Each finished step is
 * recorded, so running it again on the same network does nothing twice and reports what it found.
 */
export async function deployGovernance(
  deployer: Signer,
  cfg: ConsortiumConfig,
  opts: { network: string; recordDir?: string; log?: Log },
): Promise<GovernanceContracts & { record: DeploymentRecord }> {
  const log = opts.log ?? (() => undefined);
  const chainId = Number((await deployer.provider!.getNetwork()).chainId);
  const path = opts.recordDir ? recordPath(opts.recordDir, opts.network, chainId) : undefined;
  const record = path ? readRecord(path, opts.network, chainId) : { network: opts.network, chainId };
  const save = () => path && writeRecord(path, record);

  let membership: Membership;
  if (await hasCode(deployer, record.membership)) {
    membership = Membership__factory.connect(record.membership!, deployer);
    log(`found Membership at ${record.membership}`);
  } else {
    membership = await new Membership__factory(deployer).deploy();
    await membership.waitForDeployment();
    Object.assign(record, { membership: await membership.getAddress(), voting: undefined, initialized: false });
    save();
    log(`deployed Membership at ${record.membership}`);
  }

  let voting: VotingTickets;
  if (await hasCode(deployer, record.voting)) {
    voting = VotingTickets__factory.connect(record.voting!, deployer);
    log(`found VotingTickets at ${record.voting}`);
  } else {
    const rules = membershipRules({ target: record.membership!, iface: membership.interface }, cfg.votingPeriodSeconds);
    voting = await new VotingTickets__factory(deployer).deploy(record.membership!, rules, [record.membership!]);
    await voting.waitForDeployment();
    record.voting = await voting.getAddress();
    save();
    log(`deployed VotingTickets at ${record.voting} with ${rules.length} action rules`);
  }

  if ((await membership.governance()) !== "0x0000000000000000000000000000000000000000") {
    record.initialized = true;
    save();
    log(`found the genesis set already created: ${await membership.institutionCount()} institution(s)`);
  } else {
    const genesis = cfg.genesis.map((g) => ({
      name: g.name,
      identityHash: identityHash(g.identity),
      attributes: attributesBytes(g.attributes),
      admin: g.admin,
      weight: g.weight,
      governors: g.governors,
    }));
    await (await membership.initialize(record.voting!, genesis)).wait();
    record.initialized = true;
    save();
    log(`created ${genesis.length} genesis institution(s) with ${genesis.reduce((n, g) => n + g.governors.length, 0)} governor(s)`);
  }
  return { membership, voting, record };
}
