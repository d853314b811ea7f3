import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ZeroAddress, type BaseContract, type Signer } from "ethers";
import {
  AttesterRegistry__factory,
  ChainRegistry__factory,
  CreditScore__factory,
  LedgerRecovery__factory,
  Membership__factory,
  TransactionLedger__factory,
  PipeRegistry__factory,
  ServiceRegistry__factory,
  VotingTickets__factory,
  type AttesterRegistry,
  type ChainRegistry,
  type CreditScore,
  type LedgerRecovery,
  type Membership,
  type TransactionLedger,
  type PipeRegistry,
  type ServiceRegistry,
  type VotingTickets,
} from "../../typechain-types";
import { attributesBytes, identityHash, type ConsortiumConfig } from "../domain/consortium-config";
import { ledgerRules } from "./ledger-rules";
import { attesterRules, membershipRules, registryRules } from "./rules";
import { recordPath, type DeploymentRecord } from "../domain/record";

export type { DeploymentRecord } from "../domain/record";

export interface GovernanceContracts {
  membership: Membership;
  voting: VotingTickets;
  services: ServiceRegistry;
  chains: ChainRegistry;
  pipes: PipeRegistry;
  credit: CreditScore;
  /** The attester set every sub-chain gateway copies (k of n, by vote). */
  attesters: AttesterRegistry;
  ledger: TransactionLedger;
  /** The ledger's failure-path module (runs inside the ledger by delegatecall). */
  ledgerRecovery: LedgerRecovery;
}

export type Log = (line: string) => void;

/** A deployment that cannot go on without a vote or a fix by hand; names what is wrong. */
export class DeployError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DeployError";
  }
}

type RecordKey =
  "membership" | "voting" | "pipes" | "services" | "chains" | "credit" | "attesters" | "ledgerRecovery" | "ledger";

/** The record of one run: read from its file, written after every finished step. */
interface Run {
  deployer: Signer;
  record: DeploymentRecord;
  save: () => void;
  log: Log;
  /** Set once a contract had to be deployed: everything after it is deployed again, since it points at it. */
  fresh: boolean;
}

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

/** Finds the recorded contract, or deploys it (and everything after it) when it is missing. */
async function step<T extends BaseContract>(
  run: Run,
  key: RecordKey,
  name: string,
  connect: (address: string) => T,
  deploy: () => Promise<T>,
  note = "",
): Promise<T> {
  const recorded = run.record[key];
  if (!run.fresh && (await hasCode(run.deployer, recorded))) {
    run.log(`found ${name} at ${recorded}`);
    return connect(recorded!);
  }
  const contract = await deploy();
  await contract.waitForDeployment();
  run.record[key] = await contract.getAddress();
  run.fresh = true;
  run.save();
  run.log(`deployed ${name} at ${run.record[key]}${note}`);
  return contract;
}

/**
 * Deploys Membership and VotingTickets, bootstraps the genesis set, then deploys the registries (pipes, services,
 * chains, credit, attesters), wires them and installs their rules, step by step. Each finished step is recorded, so
 * running it again on the same network does nothing twice and reports what it found.
 */
export async function deployGovernance(
  deployer: Signer,
  cfg: ConsortiumConfig,
  opts: { network: string; recordDir?: string; log?: Log },
): Promise<GovernanceContracts & { record: DeploymentRecord }> {
  const chainId = Number((await deployer.provider!.getNetwork()).chainId);
  const path = opts.recordDir ? recordPath(opts.recordDir, opts.network, chainId) : undefined;
  const record = path ? readRecord(path, opts.network, chainId) : { network: opts.network, chainId };
  const run: Run = {
    deployer,
    record,
    save: () => path && writeRecord(path, record),
    log: opts.log ?? (() => undefined),
    fresh: false,
  };
  const core = await deployCore(run, cfg);
  const registries = await deployRegistries(run, cfg, core);
  const ledger = await deployLedgerContracts(run, core, registries);
  await wire(run, cfg.votingPeriodSeconds, core, registries, ledger);
  return { ...core, ...registries, ...ledger, record };
}

async function deployCore(
  run: Run,
  cfg: ConsortiumConfig,
): Promise<Pick<GovernanceContracts, "membership" | "voting">> {
  const { deployer, record } = run;
  const membership = await step(
    run,
    "membership",
    "Membership",
    (a) => Membership__factory.connect(a, deployer),
    () => {
      record.initialized = false;
      return new Membership__factory(deployer).deploy();
    },
  );
  const rules = membershipRules({ target: record.membership!, iface: membership.interface }, cfg.votingPeriodSeconds);
  const voting = await step(
    run,
    "voting",
    "VotingTickets",
    (a) => VotingTickets__factory.connect(a, deployer),
    () => new VotingTickets__factory(deployer).deploy(record.membership!, rules, [record.membership!]),
    ` with ${rules.length} action rules`,
  );

  if ((await membership.governance()) !== ZeroAddress) {
    record.initialized = true;
    run.save();
    run.log(`found the genesis set already created: ${await membership.institutionCount()} institution(s)`);
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
    run.save();
    run.log(
      `created ${genesis.length} genesis institution(s) with ${genesis.reduce((n, g) => n + g.governors.length, 0)} ` +
        `governor(s)`,
    );
  }
  return { membership, voting };
}

/** PipeRegistry first: the other three push every state change to it, so they are built with its address. */
async function deployRegistries(
  run: Run,
  cfg: ConsortiumConfig,
  core: Pick<GovernanceContracts, "membership" | "voting">,
): Promise<Pick<GovernanceContracts, "pipes" | "services" | "chains" | "credit" | "attesters">> {
  const { deployer, record } = run;
  const [m, v] = [await core.membership.getAddress(), await core.voting.getAddress()];
  const pipes = await step(
    run,
    "pipes",
    "PipeRegistry",
    (a) => PipeRegistry__factory.connect(a, deployer),
    () => {
      Object.assign(record, { wired: false, listenerBound: false, bootstrapped: false });
      return new PipeRegistry__factory(deployer).deploy(m, v);
    },
  );
  const p = await pipes.getAddress();
  const services = await step(
    run,
    "services",
    "ServiceRegistry",
    (a) => ServiceRegistry__factory.connect(a, deployer),
    () => new ServiceRegistry__factory(deployer).deploy(m, v, p),
  );
  const s = await services.getAddress();
  const chains = await step(
    run,
    "chains",
    "ChainRegistry",
    (a) => ChainRegistry__factory.connect(a, deployer),
    () => new ChainRegistry__factory(deployer).deploy(m, v, s, p),
  );
  const credit = await step(
    run,
    "credit",
    "CreditScore",
    (a) => CreditScore__factory.connect(a, deployer),
    () => new CreditScore__factory(deployer).deploy(m, v, p, cfg.credit),
  );
  const attesters = await step(
    run,
    "attesters",
    "AttesterRegistry",
    (a) => AttesterRegistry__factory.connect(a, deployer),
    () => new AttesterRegistry__factory(deployer).deploy(m, v),
  );
  return { pipes, services, chains, credit, attesters };
}

/** The transaction ledger and its recovery module, which it reaches by delegatecall. */
async function deployLedgerContracts(
  run: Run,
  core: Pick<GovernanceContracts, "membership" | "voting">,
  r: Pick<GovernanceContracts, "pipes" | "credit">,
): Promise<Pick<GovernanceContracts, "ledger" | "ledgerRecovery">> {
  const { deployer, record } = run;
  const [m, v] = [await core.membership.getAddress(), await core.voting.getAddress()];
  const ledgerRecovery = await step(
    run,
    "ledgerRecovery",
    "LedgerRecovery",
    (a) => LedgerRecovery__factory.connect(a, deployer),
    () => {
      record.reporterBound = false;
      return new LedgerRecovery__factory(deployer).deploy(m, v);
    },
  );
  const [p, k, rec] = await Promise.all([r.pipes.getAddress(), r.credit.getAddress(), ledgerRecovery.getAddress()]);
  const ledger = await step(
    run,
    "ledger",
    "TransactionLedger",
    (a) => TransactionLedger__factory.connect(a, deployer),
    () => new TransactionLedger__factory(deployer).deploy(m, v, p, k, 3, rec),
  );
  return { ledger, ledgerRecovery };
}

/**
 * The one-time links: PipeRegistry reads the registries, Membership tells PipeRegistry, CreditScore takes the
 * ledger's reports, and the rules of every governed action are installed.
 */
async function wire(
  run: Run,
  votingPeriod: number,
  core: Pick<GovernanceContracts, "membership" | "voting">,
  r: Pick<GovernanceContracts, "pipes" | "services" | "chains" | "credit" | "attesters">,
  l: Pick<GovernanceContracts, "ledger">,
): Promise<void> {
  const { record } = run;
  const [p, s, c, k] = await Promise.all([r.pipes, r.services, r.chains, r.credit].map((x) => x.getAddress()));
  const wiredTo = await r.pipes.registries();
  if (wiredTo.services !== ZeroAddress) {
    if (wiredTo.services !== s || wiredTo.chains !== c || wiredTo.credit !== k)
      throw new DeployError(`PipeRegistry ${p} reads other registries than the recorded ones`, {
        wiredTo,
        recorded: { s, c, k },
      });
    run.log("found PipeRegistry wired to the service, chain and credit registries");
  } else {
    await (await r.pipes.initialize(s, c, k)).wait();
    run.log("wired PipeRegistry to the service, chain and credit registries");
  }
  record.wired = true;
  run.save();

  const listener = await core.membership.listener();
  if (listener === p) run.log("found Membership telling PipeRegistry of status changes");
  else if (listener === ZeroAddress) {
    await (await core.membership.bindListener(p)).wait();
    run.log("bound Membership to tell PipeRegistry of status changes");
  } else
    throw new DeployError(
      `Membership already tells ${listener}, not PipeRegistry ${p}: change it by vote (setListener)`,
      { listener, pipes: p },
    );
  record.listenerBound = true;
  run.save();

  const ledgerAddress = await l.ledger.getAddress();
  if (await r.credit.isReporter(ledgerAddress)) run.log("found CreditScore taking the ledger's outcome reports");
  else {
    await (await r.credit.bindReporter(ledgerAddress)).wait();
    run.log("bound CreditScore to take the ledger's outcome reports");
  }
  record.reporterBound = true;
  run.save();

  if (await core.voting.bootstrapped()) run.log("found the registry and ledger rules installed");
  else {
    const targets = { services: r.services, chains: r.chains, pipes: r.pipes, credit: r.credit };
    const rules = registryRules(
      {
        services: { target: s, iface: targets.services.interface },
        chains: { target: c, iface: targets.chains.interface },
        pipes: { target: p, iface: targets.pipes.interface },
        credit: { target: k, iface: targets.credit.interface },
      },
      votingPeriod,
    )
      .concat(ledgerRules({ target: ledgerAddress, iface: l.ledger.interface }, votingPeriod))
      .concat(attesterRules({ target: await r.attesters.getAddress(), iface: r.attesters.interface }, votingPeriod));
    const count = await core.voting.proposalCount();
    if (count !== 0n)
      throw new DeployError(
        `VotingTickets already has ${count} proposal(s): install the registry rules by vote (setRule, setModule)`,
        { count },
      );
    await (await core.voting.bootstrap(rules, [s, p, k])).wait();
    run.log(`installed ${rules.length} registry and ledger action rules and 3 voting modules`);
  }
  record.bootstrapped = true;
  run.save();
}
