/**
 * The local consortium: three anvil chains (governance, sub-chains A and B), the governance contracts deployed and
 * bootstrapped by real votes, two business institutions with their sub-chains, apps, services, pipes, and one
 * relayer config each. `npm start` and the end-to-end tests build on it; see docs/local-consortium.md.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { id, type Signer } from "ethers";
import { IAssetLedger__factory, IDrugTraceability__factory } from "../../typechain-types";
import { exitOf, startAnvil, freePort, type AnvilOptions, type LocalChain } from "./anvil";
import { parseConsortium, type CreditConfig } from "../../lib/domain/consortium-config";
import { scopedId } from "../../lib/domain/ids";
import { deployGovernance, DeployError, type GovernanceContracts, type Log } from "../../lib/deploy/governance";
import { createLocalKeys, fund, localProvider, LOCAL_SCRYPT_N, type LocalKey } from "./local/accounts";
import { Council, InstitutionKind, Role, appKeyConsent, mined } from "./local/council";
import { LocalPki } from "./local/pki";
import { relayerConfigJson, writeRelayerConfig } from "./local/relayer-config";
import { deploySubchain, type SubchainContracts } from "./local/subchain";
import { attestExamples, EXAMPLE_SOURCES } from "./local/attest";
import {
  publishAttesterEndpoint,
  startAttesterProcess,
  syncAttesters,
  writeAttesterConfig,
  type AttestersRun,
} from "./local/attesters";
import { spawnVerifier, waitVerifierHealthy, writeVerifierConfig, type VerifierProcess } from "./local/verifier";
import {
  OPERATION_FLAG_READ,
  OPERATION_FLAG_WRITE,
  OPERATION_READ,
  OPERATION_WRITE,
} from "../../lib/domain/enums.generated";

/** The operation codes and flags, as contracts/types/Operations.sol names them (generated from it). */
export { OPERATION_FLAG_READ, OPERATION_FLAG_WRITE, OPERATION_READ, OPERATION_WRITE };

export const GOVERNANCE_CHAIN_ID = 1337001;
export const SUBCHAIN_A_CHAIN_ID = 7001;
export const SUBCHAIN_B_CHAIN_ID = 7002;
/** The environment variable holding the keystore password, and its value for a local run when it is not set. */
export const KEYSTORE_PASSWORD_ENV = "CCGP_KEYSTORE_PASSWORD";
export const LOCAL_KEYSTORE_PASSWORD = "ccgp-local-only";

/** `IPipeAuthority.Refusal.Allowed` and the verifier kinds of the ledger. */
export const ALLOWED = 0n;
export const VerifierKind = { Auditor: 1, Service: 2 } as const;

const drugInterface = IDrugTraceability__factory.createInterface();
const assetInterface = IAssetLedger__factory.createInterface();
/** The AssetLedger functions of a transfer: the debit (source step), the credit (the packet's) and the balance read. */
export const ASSET_SELECTORS = {
  debit: assetInterface.getFunction("debit").selector,
  credit: assetInterface.getFunction("credit").selector,
  balanceOf: assetInterface.getFunction("balanceOf").selector,
} as const;
/** The custody functions the example pipes carry: the cross-chain write and the reads around it. */
export const CUSTODY_SELECTORS = {
  continueCustody: drugInterface.getFunction("continueCustody").selector,
  custodyLength: drugInterface.getFunction("custodyLength").selector,
  custodyStep: drugInterface.getFunction("custodyStep").selector,
  batch: drugInterface.getFunction("batch").selector,
  custodyState: drugInterface.getFunction("custodyState").selector,
} as const;

export interface LocalConsortiumOptions {
  /** Where keys, certificates, configs and relayer state go; a fresh directory under os.tmpdir() by default. */
  runDir?: string;
  /** One line per step. */
  log?: Log;
  /** Keystore password; default `$CCGP_KEYSTORE_PASSWORD`, else `ccgp-local-only`. */
  password?: string;
  /** Confirmation depth written into the relayer configs (governance and sub-chains); default 1. */
  confirmations?: number;
  /** Seconds between empty blocks, on top of mining each transaction at once; default 1, 0 for automine only. */
  blockTime?: number;
  /** Each pipe's rate limit; default 60,000 a minute. */
  pipeRatePerMinute?: number;
  /** The relayers' own per-pipe and per-app limit, packets per second; default 1,000. */
  relayerRatePerSecond?: number;
  /**
   * Keep each chain's state in `<runDir>/state/chain-<name>.json` (anvil `--state`, written on exit and every
   * `chainStateInterval` seconds), so a chain stopped and started again (`ccgp local restart`) keeps its state.
   * Default false: in memory only.
   */
  persistChains?: boolean;
  /** Relayer log level written into the configs; default info. */
  relayerLogLevel?: string;
  /** How often the relayers poll their chains and look for due work; default 200 ms. */
  relayerPollIntervalMs?: number;
  /** Credit weights and thresholds instead of the defaults (`lib/domain/consortium-config.ts`). */
  credit?: Partial<CreditConfig>;
  /** scrypt cost of the keystores (default 2^12, a local-run value). */
  scryptN?: number;
  /**
   * Serve the auditor-only query API on drug maker A's relayer (ops listener, under `/auditor`); that relayer then
   * also indexes every governance event. Default true.
   */
  auditorApi?: boolean;
  /**
   * Start the Audit Office's independent verifier process (it checks both sub-chains of every executed transaction
   * and endorses; without it no transaction confirms, as no party is independent). Default true.
   */
  verifier?: boolean;
  /**
   * The Audit Office audits the example contracts with the sandbox and attests them (`ccgp attest`, binding the
   * report to each contract's code hash), then governance requires attestation by vote. Default false (tests that do
   * not need it skip the sandbox run); `npm start` turns it on.
   */
  attest?: boolean;
  /**
   * A second relayer of Hospital B (its own keys, certificate, ports, store and service, enabled by vote), listed by
   * vote as the A -> B pipe's alternate target route (`business.b2`): the source delivers to it when B's own relayer
   * is unreachable. Default false: its votes add a few seconds to the set-up.
   */
  alternateRoute?: boolean;
  /**
   * Also the two-phase example: an AssetLedger on each sub-chain (CNS `AssetLedger/<suffix>`) and a pipe A -> B to
   * B's (`pipes.assets`), for asset transfers. Default false.
   */
  assets?: boolean;
}

/** The Audit Office's independent verifier: its config, log, and its process while it runs. */
export interface LocalVerifier {
  institutionId: number;
  address: string;
  configPath: string;
  logFile: string;
  healthUrl: string;
  /** The running process; null before `start`, when not started, or after it was stopped and not started again. */
  process: VerifierProcess | null;
  /** Starts the process (again) and resolves once it is healthy. */
  start(): Promise<VerifierProcess>;
  /** Stops the process if it runs. */
  stop(): Promise<void>;
}

/** The Audit Office's attester process (`dist/attester.js`), started with the consortium and stopped with it. */
export interface LocalAttester {
  address: string;
  /** Where it serves; the endpoint its key published in the service registry. */
  url: string;
  configPath: string;
  logFile: string;
  healthUrl: string;
  /** The running process's (a restart moves them to the new one). */
  readonly pid: number;
  readonly exited: Promise<number | string>;
  stop(): Promise<void>;
  /** Starts it again, same config and port (after `stop`, or after it died). */
  start(): Promise<void>;
}

/** An account's address and its keystore (encrypted with the run's password). */
export interface KeyRef {
  address: string;
  keystore: string;
}

export interface ChainInfo {
  name: string;
  url: string;
  chainId: number;
  port: number;
  /** The anvil process. */
  pid: number;
  /** What it was started with (port and state file included), to start it again. */
  options: AnvilOptions;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

export type SideKey = "a" | "b";

/** One business institution: its accounts, sub-chain, app, service (the relayer) and relayer config. */
export interface BusinessSide {
  key: SideKey;
  name: string;
  /** File-name form of the name (`drug-maker-a`). */
  slug: string;
  institutionId: number;
  /** Membership accounts (admin, operator, business = the service signer) and the relayer's transaction key. */
  accounts: { admin: KeyRef; operator: KeyRef; business: KeyRef; relayer: KeyRef };
  subchain: { id: string; name: string; chainId: number; configName: string };
  app: { id: string; name: string; key: KeyRef };
  service: { id: string; endpoint: { host: string; port: number; tlsFingerprint: string } };
  /** The relayer's ports: peer (mutual TLS, the registered endpoint), ops (/health, /metrics), app intake. */
  ports: { peer: number; ops: number; app: number };
  tls: { cert: string; key: string; ca: string; fingerprint: string };
  contracts: SubchainContracts;
  configPath: string;
  storePath: string;
}

export interface PipeInfo {
  id: string;
  source: SideKey;
  target: SideKey;
  contractName: string;
  contractNameHash: string;
  selectors: string[];
}

export interface LocalConsortium {
  runDir: string;
  /** Name of the environment variable the relayer configs read the keystore password from. */
  passwordEnv: string;
  /** The keystore password of this run (local only: never put it in a file). */
  password: string;
  chains: { governance: ChainInfo; a: ChainInfo; b: ChainInfo };
  governance: { [K in keyof GovernanceContracts]: string };
  institutions: { genesis: number[]; audit: number; drugMakerA: number; hospitalB: number };
  accounts: { deployer: KeyRef; governors: KeyRef[]; genesisAdmins: KeyRef[]; auditAdmin: KeyRef; auditor: KeyRef };
  /** `b2`: Hospital B's second relayer, the A -> B pipe's alternate target route (option `alternateRoute`). */
  business: { a: BusinessSide; b: BusinessSide; b2?: BusinessSide };
  pipes: { aToB: PipeInfo; bToA: PipeInfo; assets?: PipeInfo };
  verifiers: { address: string; kind: number; weight: number }[];
  /** The Audit Office's independent verifier (a non-party: without its endorsement nothing confirms). */
  verifier: LocalVerifier;
  /** The Audit Office's attester process (running from set-up until `stop`). */
  attester: LocalAttester;
  /** The auditor-only query API on Drug Maker A's relayer (`http://127.0.0.1:<ops>/auditor`), when configured. */
  auditorApi: string | null;
  /** Where the whole description (no secrets) was written. */
  manifestPath: string;
  stop(): Promise<void>;
}

/** The governance chain's id of a side's sub-chain, in its institution's namespace (known before it joins). */
const subchainIdOf = (s: SideKey): string => scopedId(SIDES[s].institution, `${SIDES[s].slug}/subchain`);

const SIDES = {
  a: {
    name: "Drug Maker A",
    slug: "drug-maker-a",
    chainName: "Sub-chain A",
    configName: "sub_a",
    suffix: "A",
    chainId: SUBCHAIN_A_CHAIN_ID,
    // Ids are namespaced by institution; the sides join after the three genesis institutions and the Audit Office.
    institution: 5,
  },
  b: {
    name: "Hospital B",
    slug: "hospital-b",
    chainName: "Sub-chain B",
    configName: "sub_b",
    suffix: "B",
    chainId: SUBCHAIN_B_CHAIN_ID,
    institution: 6,
  },
} as const;

const GENESIS = ["Health Regulator", "Pharma Association", "Hospital Alliance"] as const;

const KEY_NAMES = [
  "deployer",
  "genesis-1-admin",
  "genesis-1-governor",
  "genesis-2-admin",
  "genesis-2-governor",
  "genesis-3-admin",
  "genesis-3-governor",
  "audit-admin",
  "auditor",
  // `-node`: the key of the institution's governance-chain node (none runs locally; it lets `ccgp register node` be
  // tried).
  ...(["a", "b"] as const).flatMap((s) =>
    ["admin", "operator", "business", "relayer", "app", "node"].map((r) => `${SIDES[s].slug}-${r}` as const),
  ),
  // Hospital B's second relayer (option `alternateRoute`).
  "hospital-b-business-2",
  "hospital-b-relayer-2",
] as const;
type KeyName = (typeof KEY_NAMES)[number];

const ref = (k: LocalKey): KeyRef => ({ address: k.address, keystore: k.keystore });

/** Everything a running setup holds while it works: chains, keys, signers by chain. */
interface Run {
  dir: string;
  log: Log;
  opts: Required<Omit<LocalConsortiumOptions, "runDir" | "log">>;
  chains: { governance: LocalChain; a: LocalChain; b: LocalChain };
  keys: Record<KeyName, LocalKey>;
  pki: LocalPki;
  /** A key's signer on a chain. */
  signer(name: KeyName, chain: "governance" | SideKey): Signer;
}

async function startChains(blockTime: number, log: Log, stateDir?: string): Promise<Run["chains"]> {
  // 256 recent states are more than any read of the relayers, the CLI and the auditor goes back (they read the head,
  // or a few blocks under it); older states are dropped instead of written to disk.
  const mixed = { blockTime: blockTime || undefined, mixedMining: blockTime > 0, keptStates: 256 };
  if (stateDir) mkdirSync(stateDir, { recursive: true });
  const persist = (name: string) =>
    stateDir ? { statePath: join(stateDir, `chain-${name}.json`), stateInterval: 10 } : {};
  const started = await Promise.allSettled([
    startAnvil({ name: "governance", chainId: GOVERNANCE_CHAIN_ID, ...mixed, ...persist("governance") }),
    startAnvil({ name: "sub-a", chainId: SUBCHAIN_A_CHAIN_ID, ...mixed, ...persist("sub-a") }),
    startAnvil({ name: "sub-b", chainId: SUBCHAIN_B_CHAIN_ID, ...mixed, ...persist("sub-b") }),
  ]);
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.stop() : undefined)));
    throw new DeployError("a local chain did not start", {}, { cause: (failed as PromiseRejectedResult).reason });
  }
  const [governance, a, b] = started.map((s) => (s as PromiseFulfilledResult<LocalChain>).value);
  log(
    `chains: governance ${governance.url} (chain id ${governance.chainId}), A ${a.url} (${a.chainId}), B ${b.url} ` +
      `(${b.chainId})`,
  );
  return { governance, a, b };
}

/**
 * Starts and sets up a whole local consortium. On any failure the chains it started are stopped and the error is
 * rethrown. The caller stops it with `stop()` (relayers it starts itself are its own to stop).
 */
export async function setupLocalConsortium(options: LocalConsortiumOptions = {}): Promise<LocalConsortium> {
  const log = options.log ?? (() => undefined);
  const dir = resolve(options.runDir ?? mkdtempSync(join(tmpdir(), "ccgp-local-")));
  mkdirSync(dir, { recursive: true });
  const opts = {
    password: options.password ?? process.env[KEYSTORE_PASSWORD_ENV] ?? LOCAL_KEYSTORE_PASSWORD,
    confirmations: options.confirmations ?? 1,
    blockTime: options.blockTime ?? 1,
    pipeRatePerMinute: options.pipeRatePerMinute ?? 60_000,
    relayerRatePerSecond: options.relayerRatePerSecond ?? 1_000,
    relayerLogLevel: options.relayerLogLevel ?? "info",
    relayerPollIntervalMs: options.relayerPollIntervalMs ?? 200,
    scryptN: options.scryptN ?? LOCAL_SCRYPT_N,
    auditorApi: options.auditorApi ?? true,
    persistChains: options.persistChains ?? false,
    verifier: options.verifier ?? true,
    attest: options.attest ?? false,
    credit: options.credit ?? {},
    alternateRoute: options.alternateRoute ?? false,
    assets: options.assets ?? false,
  };
  const chains = await startChains(opts.blockTime, log, opts.persistChains ? join(dir, "state") : undefined);
  const services: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
    await Promise.all(Object.values(chains).map((c) => c.stop()));
  };
  try {
    const run = await prepare(dir, log, opts, chains);
    return await build(run, stop, services);
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Keys, funds and certificates. */
async function prepare(dir: string, log: Log, opts: Run["opts"], chains: Run["chains"]): Promise<Run> {
  const keys = await createLocalKeys(KEY_NAMES, join(dir, "keys"), opts.password, opts.scryptN);
  const providers = {
    governance: localProvider(chains.governance.url, chains.governance.chainId),
    a: localProvider(chains.a.url, chains.a.chainId),
    b: localProvider(chains.b.url, chains.b.chainId),
  };
  const all = Object.values(keys).map((k) => k.address);
  await Promise.all(Object.values(providers).map((p) => fund(p, all)));
  log(`keys: ${all.length} accounts in encrypted keystores under ${join(dir, "keys")}, funded on the three chains`);
  const pki = new LocalPki(join(dir, "tls"));
  const signer = (name: KeyName, chain: "governance" | SideKey): Signer => keys[name].wallet.connect(providers[chain]);
  return { dir, log, opts, chains, keys, pki, signer };
}

async function build(
  run: Run,
  stop: () => Promise<void>,
  services: { stop(): Promise<void> }[],
): Promise<LocalConsortium> {
  const { log } = run;
  // The sub-chains do not depend on the governance chain: deploy them meanwhile.
  const subchains = Promise.all((["a", "b"] as const).map((s) => deploySide(run, s)));
  subchains.catch(() => undefined);
  const gov = await deployGovernanceChain(run);
  const council = new Council(
    gov.voting,
    gov.membership,
    [1, 2, 3].map((i) => run.signer(`genesis-${i}-governor` as KeyName, "governance")),
  );
  const audit = await council.admit(run.signer("audit-admin", "governance"), "Audit Office", InstitutionKind.Audit, {
    role: "auditor",
  });
  await council.addAccount(
    run.signer("audit-admin", "governance"),
    run.signer("auditor", "governance"),
    audit,
    Role.Auditor,
    "auditor account",
  );
  log(`admitted Audit Office (institution ${audit}) with auditor ${run.keys.auditor.address}`);

  const [contractsA, contractsB] = await subchains;
  const a = await enrolSide(run, council, gov, "a", contractsA);
  const b = await enrolSide(run, council, gov, "b", contractsB);
  // The auditor's attestations (a sandbox run, then its own account's transactions) go on beside the council's votes.
  const attested = run.opts.attest ? attestSides(run, [a, b]) : undefined;
  attested?.catch(() => undefined);
  const aToB = await openPipe(run, council, gov, a, b);
  const bToA = await openPipe(run, council, gov, b, a);
  const b2 = run.opts.alternateRoute ? await enrolAlternateRoute(run, council, gov, b, aToB) : undefined;
  const assets = run.opts.assets ? await openPipe(run, council, gov, a, b, ASSET_PIPE) : undefined;

  const verifiers = [
    { address: a.accounts.business.address, kind: VerifierKind.Service, weight: 1 },
    { address: b.accounts.business.address, kind: VerifierKind.Service, weight: 1 },
    { address: run.keys.auditor.address, kind: VerifierKind.Auditor, weight: 1 },
  ];
  for (const v of verifiers)
    await council.decide(gov.ledger, "setVerifier", [v.address, v.kind, v.weight], `verifier ${v.address}`);
  log(`verifiers by vote: the two service signers and the auditor, weight 1 each (confirmation takes more than half)`);
  await council.decide(gov.attesters, "setAttesters", [[run.keys.auditor.address], 1], "attester set");
  log(`attester set by vote (epoch 1): the auditor of the Audit Office, 1 of 1 signature per inbound packet`);
  if (attested !== undefined) {
    await attested;
    await council.decide(gov.chains, "setAttestationRequired", [true], "attestation requirement");
    log(`attestation required by vote: a pipe's contract must carry an attestation matching its code on the sub-chain`);
  }
  const attester = await startAuditAttester(run, gov, audit);
  services.push(attester);
  log(
    `Audit Office attester: pid ${attester.pid}, ${attester.url} (signs what the ledger opened, for both gateways; ` +
      `published in the service registry), log ${attester.logFile}`,
  );
  const synced = await syncAttesters(attestersRun(run), run.keys.auditor.keystore);
  log(
    `ccgp attesters sync: voted set epoch ${synced.epoch} (${synced.threshold} of ${synced.attesters.length}); ` +
      `gateways ${synced.gateways.map((g) => `${g.status} at epoch ${g.epoch}`).join(", ")}`,
  );

  const governance = Object.fromEntries(
    await Promise.all(
      Object.entries(gov).map(async ([k, c]) => [k, await (c as { getAddress(): Promise<string> }).getAddress()]),
    ),
  ) as LocalConsortium["governance"];
  for (const side of [a, b, ...(b2 === undefined ? [] : [b2])]) writeSideConfig(run, governance, side);
  log(`relayer configs: ${a.configPath}, ${b.configPath}`);
  const verifier = await localVerifier(run, governance, audit, [a, b]);
  services.push(verifier);

  const info = (c: LocalChain): ChainInfo => ({
    name: c.name,
    url: c.url,
    chainId: c.chainId,
    port: c.port,
    pid: c.process.pid!,
    options: c.options,
    exited: exitOf(c.process),
    stop: c.stop,
  });
  const consortium: LocalConsortium = {
    runDir: run.dir,
    passwordEnv: KEYSTORE_PASSWORD_ENV,
    password: run.opts.password,
    chains: { governance: info(run.chains.governance), a: info(run.chains.a), b: info(run.chains.b) },
    governance,
    institutions: { genesis: [1, 2, 3], audit, drugMakerA: a.institutionId, hospitalB: b.institutionId },
    accounts: {
      deployer: ref(run.keys.deployer),
      governors: [1, 2, 3].map((i) => ref(run.keys[`genesis-${i}-governor` as KeyName])),
      genesisAdmins: [1, 2, 3].map((i) => ref(run.keys[`genesis-${i}-admin` as KeyName])),
      auditAdmin: ref(run.keys["audit-admin"]),
      auditor: ref(run.keys.auditor),
    },
    business: { a, b, ...(b2 === undefined ? {} : { b2 }) },
    pipes: { aToB, bToA, ...(assets === undefined ? {} : { assets }) },
    verifiers,
    verifier,
    attester,
    auditorApi: run.opts.auditorApi ? `http://127.0.0.1:${a.ports.ops}/auditor` : null,
    manifestPath: join(run.dir, "consortium.json"),
    stop,
  };
  const { password: _password, ...manifest } = consortium;
  writeFileSync(consortium.manifestPath, JSON.stringify(manifest, null, 2) + "\n");
  log(`manifest: ${consortium.manifestPath}`);
  if (run.opts.verifier) {
    await verifier.start();
    log(`Audit Office verifier: pid ${verifier.process!.pid}, ${verifier.healthUrl}, log ${verifier.logFile}`);
  }
  return consortium;
}

async function deployGovernanceChain(run: Run): Promise<GovernanceContracts> {
  const admins = [1, 2, 3].map((i) => run.keys[`genesis-${i}-admin` as KeyName].address);
  const governors = [1, 2, 3].map((i) => run.keys[`genesis-${i}-governor` as KeyName].address);
  const cfg = parseConsortium({
    name: "CCGP local consortium",
    votingPeriodSeconds: 3600,
    genesis: GENESIS.map((name, i) => ({
      name,
      identity: `local:${name}`,
      attributes: { genesis: i + 1 },
      admin: admins[i],
      weight: 1,
      governors: [governors[i]],
    })),
    credit: run.opts.credit,
  });
  const { record: _record, ...contracts } = await deployGovernance(run.signer("deployer", "governance"), cfg, {
    network: "local",
    recordDir: run.dir,
    log: (line) => run.log(`governance: ${line}`),
  });
  return contracts;
}

/** `ccgp attest` on both sides' example contracts, as the Audit Office's auditor. */
async function attestSides(run: Run, sides: BusinessSide[]): Promise<void> {
  const began = Date.now();
  const attested = await attestExamples(
    {
      governanceRpc: run.chains.governance.url,
      deployments: run.dir,
      keystore: run.keys.auditor.keystore,
      passwordEnv: KEYSTORE_PASSWORD_ENV,
      password: run.opts.password,
      out: join(run.dir, "audit"),
      repoRoot: resolve(__dirname, "..", ".."),
    },
    sides.map((s) => ({
      subchainId: s.subchain.id,
      rpc: run.chains[s.key].url,
      names: [
        s.contracts.names.drugTraceability,
        s.contracts.names.evidenceDeposit,
        ...(s.contracts.assetLedger === undefined ? [] : [s.contracts.names.assetLedger]),
      ],
    })),
  );
  const first = attested[0]!;
  run.log(
    `audit sandbox on ${EXAMPLE_SOURCES}: gate passed, report ${first.reportHash.slice(0, 10)}… (${first.report}), ` +
      `${((Date.now() - began) / 1000).toFixed(1)} s with the attestations`,
  );
  for (const a of attested)
    run.log(`attested by the Audit Office: ${a.name} at ${a.contract}, code ${a.codeHash.slice(0, 10)}…`);
}

/**
 * The Audit Office's attester, as its own process (`dist/attester.js`, the command an institution runs; neither
 * business relayer holds its key): it follows the ledger and signs each packet it sees opened, checks each request
 * against the governance chain and signs with the auditor's key, the attester set of epoch 1. The key then publishes
 * the endpoint in the service registry (`ccgp attesters endpoint`), where relayers find it.
 */
async function startAuditAttester(run: Run, gov: GovernanceContracts, institutionId: number): Promise<LocalAttester> {
  const port = await freePort();
  const configPath = join(run.dir, "attester-audit-office.json");
  writeAttesterConfig(configPath, {
    institutionId,
    governanceRpc: run.chains.governance.url,
    fromBlock: 0,
    contracts: {
      ledger: await gov.ledger.getAddress(),
      pipes: await gov.pipes.getAddress(),
      chains: await gov.chains.getAddress(),
      attesters: await gov.attesters.getAddress(),
    },
    keystore: run.keys.auditor.keystore,
    passwordEnv: KEYSTORE_PASSWORD_ENV,
    port,
    logLevel: run.opts.relayerLogLevel,
  });
  const logFile = join(run.dir, "logs", "attester-audit-office.log");
  const env = { [KEYSTORE_PASSWORD_ENV]: run.opts.password };
  let p = await startAttesterProcess(configPath, logFile, env, port);
  const url = `http://127.0.0.1:${port}`;
  try {
    await publishAttesterEndpoint(attestersRun(run), run.keys.auditor.keystore, url);
  } catch (error) {
    await p.stop();
    throw error;
  }
  return {
    address: run.keys.auditor.address,
    url,
    configPath,
    logFile,
    healthUrl: p.healthUrl,
    get pid() {
      return p.pid;
    },
    get exited() {
      return p.exited;
    },
    stop: () => p.stop(),
    start: async () => {
      p = await startAttesterProcess(configPath, logFile, env, port);
    },
  };
}

const attestersRun = (run: Run): AttestersRun => ({
  governanceRpc: run.chains.governance.url,
  deployments: run.dir,
  passwordEnv: KEYSTORE_PASSWORD_ENV,
  password: run.opts.password,
  subchainRpcs: [run.chains.a.url, run.chains.b.url],
});

/**
 * The Audit Office's independent verifier (the auditor's key, its own RPC endpoint for each sub-chain). Its config is
 * written here; it runs as its own process, started by {@link LocalVerifier.start}.
 */
async function localVerifier(
  run: Run,
  governance: LocalConsortium["governance"],
  institutionId: number,
  sides: BusinessSide[],
): Promise<LocalVerifier> {
  const configPath = join(run.dir, "verifier-audit-office.json");
  const healthPort = await freePort();
  const g = run.chains.governance;
  writeVerifierConfig(configPath, {
    institutionId,
    governance: {
      url: g.url,
      chainId: g.chainId,
      confirmations: run.opts.confirmations,
      pollIntervalMs: run.opts.relayerPollIntervalMs,
      ledger: governance.ledger,
      chains: governance.chains,
    },
    keystore: run.keys.auditor.keystore,
    passwordEnv: KEYSTORE_PASSWORD_ENV,
    chains: sides.map((s) => ({
      name: s.subchain.configName,
      url: run.chains[s.key].url,
      chainId: s.subchain.chainId,
      gateway: s.contracts.gateway,
      confirmations: run.opts.confirmations,
      startBlock: s.contracts.deployBlock,
    })),
    healthPort,
    logLevel: run.opts.relayerLogLevel,
  });
  const logFile = join(run.dir, "logs", "verifier-audit-office.log");
  const env = { [KEYSTORE_PASSWORD_ENV]: run.opts.password };
  const v: LocalVerifier = {
    institutionId,
    address: run.keys.auditor.address,
    configPath,
    logFile,
    healthUrl: `http://127.0.0.1:${healthPort}/health`,
    process: null,
    start: async () => {
      await v.stop();
      const p = spawnVerifier(configPath, logFile, env, healthPort);
      v.process = p;
      try {
        await waitVerifierHealthy(p);
      } catch (err) {
        await v.stop();
        throw err;
      }
      return p;
    },
    stop: async () => {
      const p = v.process;
      v.process = null;
      await p?.stop();
    },
  };
  return v;
}

/**
 * A sub-chain's contracts, deployed by the side's operator (the sub-chain's admin). The gateway starts with the
 * attester set the vote sets on the governance chain (epoch 1: the Audit Office's auditor, 1 of 1).
 */
async function deploySide(run: Run, s: SideKey): Promise<SubchainContracts> {
  const slug = SIDES[s].slug;
  const relayers = [run.keys[`${slug}-relayer`].address, run.keys[`${slug}-business`].address];
  // The alternate route's keys are relayers of B's gateway too: the sub-chain's admin decides who relays there.
  if (s === "b" && run.opts.alternateRoute)
    relayers.push(run.keys["hospital-b-relayer-2"].address, run.keys["hospital-b-business-2"].address);
  const attesters = { subchainId: subchainIdOf(s), attesters: [run.keys.auditor.address], threshold: 1, epoch: 1 };
  const contracts = await deploySubchain(
    run.signer(`${slug}-operator`, s),
    SIDES[s].suffix,
    relayers,
    run.keys[`${slug}-operator`].address,
    attesters,
    run.opts.assets,
  );
  run.log(
    `${SIDES[s].chainName}: gateway ${contracts.gateway}, DrugTraceability ${contracts.drugTraceability}, ` +
      `EvidenceDeposit ` +
      `${contracts.evidenceDeposit}${contracts.assetLedger ? `, AssetLedger ${contracts.assetLedger}` : ""}`,
  );
  return contracts;
}

/** A business institution joins, gets its accounts, service (enabled by vote), sub-chain, app and CNS names. */
async function enrolSide(
  run: Run,
  council: Council,
  gov: GovernanceContracts,
  s: SideKey,
  contracts: SubchainContracts,
): Promise<BusinessSide> {
  const { slug, name, chainName, configName, chainId } = SIDES[s];
  const key = (role: string) => run.keys[`${slug}-${role}` as KeyName];
  const admin = run.signer(`${slug}-admin`, "governance");
  const operator = run.signer(`${slug}-operator`, "governance");
  const institutionId = await council.admit(admin, name, InstitutionKind.Business, {
    sector: s === "a" ? "pharma" : "hospital",
  });
  if (institutionId !== SIDES[s].institution)
    throw new Error(
      `${name} joined as institution ${institutionId}, not ${SIDES[s].institution}: its ids would not be its own`,
    );
  await council.addAccount(admin, operator, institutionId, Role.Operator, `${name} operator`);
  await council.addAccount(
    admin,
    run.signer(`${slug}-business`, "governance"),
    institutionId,
    Role.Business,
    `${name} business account`,
  );
  run.log(
    `admitted ${name} (institution ${institutionId}) with operator ${key("operator").address} and business account ` +
      `${key("business").address}`,
  );

  const cert = run.pki.issue(slug);
  const ports = { peer: await freePort(), ops: await freePort(), app: await freePort() };
  const subchainId = subchainIdOf(s);
  const serviceId = scopedId(institutionId, `${slug}/relayer`);
  const endpoint = { host: "127.0.0.1", port: ports.peer, tlsFingerprint: cert.fingerprint32 };
  const what = `enabling of the ${name} relayer service`;
  await council.pass(
    await council.proposalOf(
      gov.services.connect(operator).registerService(serviceId, subchainId, key("business").address, endpoint),
      what,
    ),
    what,
  );
  run.log(
    `${name}: service ${serviceId} at 127.0.0.1:${ports.peer}, TLS ${cert.fingerprint.slice(0, 16)}..., signer ` +
      `${key("business").address}, enabled by vote`,
  );

  const c = gov.chains.connect(operator);
  await mined(
    c.registerSubchain(subchainId, 1, chainId, serviceId, contracts.gateway, chainName),
    `${chainName} registration`,
  );
  const appId = scopedId(institutionId, `${slug}/traceability-app`);
  const appName = `${name} traceability app`;
  const consent = await appKeyConsent(gov.chains, operator, key("app").wallet, appId, institutionId);
  await mined(c.registerApp(appId, subchainId, key("app").address, appName, ...consent), `${appName} registration`);
  await mined(
    c.registerContract(contracts.names.drugTraceability, subchainId, contracts.drugTraceability),
    `CNS ${contracts.names.drugTraceability}`,
  );
  await mined(
    c.registerContract(contracts.names.evidenceDeposit, subchainId, contracts.evidenceDeposit),
    `CNS ${contracts.names.evidenceDeposit}`,
  );
  if (contracts.assetLedger !== undefined)
    await mined(
      c.registerContract(contracts.names.assetLedger, subchainId, contracts.assetLedger),
      `CNS ${contracts.names.assetLedger}`,
    );
  run.log(
    `${name}: ${chainName} (chain id ${chainId}), app ${appId} with key ${key("app").address}, CNS ` +
      `${contracts.names.drugTraceability} and ${contracts.names.evidenceDeposit}`,
  );

  return {
    key: s,
    name,
    slug,
    institutionId,
    accounts: {
      admin: ref(key("admin")),
      operator: ref(key("operator")),
      business: ref(key("business")),
      relayer: ref(key("relayer")),
    },
    subchain: { id: subchainId, name: chainName, chainId, configName },
    app: { id: appId, name: appName, key: ref(key("app")) },
    service: { id: serviceId, endpoint },
    ports,
    tls: { cert: cert.certPath, key: cert.keyPath, ca: run.pki.ca.certPath, fingerprint: cert.fingerprint },
    contracts,
    configPath: join(run.dir, `relayer-${slug}.json`),
    storePath: join(run.dir, "state", `relayer-${slug}.sqlite`),
  };
}

/**
 * Hospital B's second relayer: a business account (its service signer), a certificate, ports and a service enabled by
 * vote, then listed as the A -> B pipe's alternate target route, decided like the pipe (a vote when activation needs
 * one). Its gateway keys were made relayers at deployment.
 */
async function enrolAlternateRoute(
  run: Run,
  council: Council,
  gov: GovernanceContracts,
  b: BusinessSide,
  pipe: PipeInfo,
): Promise<BusinessSide> {
  const slug = `${b.slug}-2`;
  const operator = run.signer(`${b.slug}-operator` as KeyName, "governance");
  const [business, relayer] = [run.keys["hospital-b-business-2"], run.keys["hospital-b-relayer-2"]];
  await council.addAccount(
    run.signer(`${b.slug}-admin` as KeyName, "governance"),
    run.signer("hospital-b-business-2", "governance"),
    b.institutionId,
    Role.Business,
    `${b.name} second business account`,
  );
  const cert = run.pki.issue(slug);
  const ports = { peer: await freePort(), ops: await freePort(), app: await freePort() };
  const serviceId = scopedId(b.institutionId, `${b.slug}/relayer-2`);
  const endpoint = { host: "127.0.0.1", port: ports.peer, tlsFingerprint: cert.fingerprint32 };
  const what = `enabling of the ${b.name} second relayer service`;
  await council.pass(
    await council.proposalOf(
      gov.services.connect(operator).registerService(serviceId, b.subchain.id, business.address, endpoint),
      what,
    ),
    what,
  );
  const listing = `alternate route of pipe ${pipe.id}`;
  const propose = gov.pipes.connect(operator).proposeAlternates(pipe.id, [serviceId]);
  if (await gov.pipes.activationVoteRequired()) await council.pass(await council.proposalOf(propose, listing), listing);
  else await mined(propose, listing);
  run.log(
    `${b.name}: second relayer service ${serviceId} at 127.0.0.1:${ports.peer}, the A -> B pipe's alternate route`,
  );
  return {
    ...b,
    slug,
    accounts: { ...b.accounts, business: ref(business), relayer: ref(relayer) },
    service: { id: serviceId, endpoint },
    ports,
    tls: { cert: cert.certPath, key: cert.keyPath, ca: run.pki.ca.certPath, fingerprint: cert.fingerprint },
    configPath: join(run.dir, `relayer-${slug}.json`),
    storePath: join(run.dir, "state", `relayer-${slug}.sqlite`),
  };
}

/** What a pipe carries: the target's contract (by its key in `names`) and the selectors allowed on it. */
interface PipeCargo {
  contract: "drugTraceability" | "assetLedger";
  selectors: string[];
  what: string;
  operations: number;
}
const CUSTODY_PIPE: PipeCargo = {
  contract: "drugTraceability",
  selectors: Object.values(CUSTODY_SELECTORS),
  what: "custody selectors",
  operations: OPERATION_FLAG_READ | OPERATION_FLAG_WRITE,
};
/** The asset transfer: the credit on the target (its debit on the source is the source step) and the balance read. */
const ASSET_PIPE: PipeCargo = {
  contract: "assetLedger",
  selectors: [ASSET_SELECTORS.credit, ASSET_SELECTORS.balanceOf],
  what: "credit and balanceOf",
  operations: OPERATION_FLAG_READ | OPERATION_FLAG_WRITE,
};

/** The source side applies for a pipe to the target's contract, the target authorises it (and a vote if required). */
async function openPipe(
  run: Run,
  council: Council,
  gov: GovernanceContracts,
  src: BusinessSide,
  dst: BusinessSide,
  cargo: PipeCargo = CUSTODY_PIPE,
): Promise<PipeInfo> {
  const selectors = cargo.selectors;
  const contractName = dst.contracts.names[cargo.contract];
  const spec = {
    sourceApp: src.app.id,
    targetApp: dst.app.id,
    sourceService: src.service.id,
    targetService: dst.service.id,
    contractName: id(contractName),
    operations: cargo.operations,
    selectors,
    ratePerMinute: run.opts.pipeRatePerMinute,
    maxPayloadBytes: 4096,
    timeoutSeconds: 3600,
  };
  const what = `pipe ${src.key.toUpperCase()} -> ${dst.key.toUpperCase()}`;
  const applied = await mined(
    gov.pipes.connect(run.signer(`${src.slug}-operator` as KeyName, "governance")).applyPipe(spec),
    `${what} application`,
  );
  const pipesAddress = (await gov.pipes.getAddress()).toLowerCase();
  const event = applied.logs
    .filter((l) => l.address.toLowerCase() === pipesAddress)
    .map((l) => gov.pipes.interface.parseLog(l))
    .find((p) => p?.name === "PipeApplied");
  if (!event) throw new DeployError(`${what}: no PipeApplied event`, { tx: applied.hash });
  const pipeId = event.args.pipeId as string;
  const authorize = gov.pipes
    .connect(run.signer(`${dst.slug}-operator` as KeyName, "governance"))
    .authorizePipe(pipeId);
  if (await gov.pipes.activationVoteRequired())
    await council.pass(await council.proposalOf(authorize, `${what} activation`), `${what} activation`);
  else await mined(authorize, `${what} authorisation`);
  run.log(`${what}: ${pipeId} active on ${contractName} (read|write, ${selectors.length} ${cargo.what})`);
  return { id: pipeId, source: src.key, target: dst.key, contractName, contractNameHash: id(contractName), selectors };
}

/** The auditor index of a side's relayer, beside its store. */
export function auditorDbOf(run: { dir: string }, side: { slug: string }): string {
  return join(run.dir, "state", `auditor-${side.slug}.sqlite`);
}

function writeSideConfig(run: Run, governance: LocalConsortium["governance"], side: BusinessSide): void {
  const chain = run.chains[side.key];
  const g = run.chains.governance;
  const json = relayerConfigJson(
    {
      institutionId: side.institutionId,
      governance: { url: g.url, chainId: g.chainId, confirmations: run.opts.confirmations, contracts: governance },
      chain: {
        name: side.subchain.configName,
        url: chain.url,
        chainId: chain.chainId,
        gateway: side.contracts.gateway,
        confirmations: run.opts.confirmations,
        startBlock: side.contracts.deployBlock,
      },
      keys: {
        service: side.accounts.relayer.keystore,
        business: side.accounts.business.keystore,
        passwordEnv: KEYSTORE_PASSWORD_ENV,
      },
      server: { port: side.ports.peer, cert: side.tls.cert, key: side.tls.key, ca: side.tls.ca },
      metricsPort: side.ports.ops,
      intakePort: side.ports.app,
      app: {
        name: "traceability",
        keystore: side.app.key.keystore,
        contracts: [side.contracts.names.drugTraceability],
      },
      heartbeatSeconds: 10,
      pollIntervalMs: run.opts.relayerPollIntervalMs,
      storePath: side.storePath,
      logLevel: run.opts.relayerLogLevel,
      ratePerSecond: run.opts.relayerRatePerSecond,
      // A's relayer serves the auditors; B's sub-chain is read for receipt checks.
      ...(run.opts.auditorApi && side.key === "a"
        ? {
            auditor: {
              db: auditorDbOf(run, side),
              subchains: [{ chainId: run.chains.b.chainId, rpcUrl: run.chains.b.url }],
            },
          }
        : {}),
    },
    side.configPath,
  );
  mkdirSync(join(run.dir, "state"), { recursive: true });
  writeRelayerConfig(side.configPath, json);
}
