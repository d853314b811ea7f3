/**
 * The consortium the CLI tests work on: a real anvil governance chain, the accounts of three genesis institutions
 * and two business ones (Drug Maker A and Hospital B, each with an admin, an operator, a service signer and an app
 * key), each with an encrypted keystore. The tests deploy and govern it with the CLI; the steps the CLI is not
 * under test for (more joins, accounts, B's registrations, the relayers' ledger calls) are made here with ethers.
 */
import { appKeyConsent, requestConsent } from "../../scripts/lib/local/council";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { id, JsonRpcProvider, keccak256, type ContractTransactionResponse, type Signer } from "ethers";
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { countersign, packetDomain, signPacket, type Packet } from "../../lib/amdp";
import { startAnvil, type LocalChain } from "../../scripts/lib/anvil";
import type { DeploymentRecord } from "../../lib/domain/record";
import { scopedId } from "../../lib/domain/ids";
import {
  ChainRegistry__factory,
  IDrugTraceability__factory,
  Membership__factory,
  PipeRegistry__factory,
  ServiceRegistry__factory,
  TransactionLedger__factory,
  VotingTickets__factory,
} from "../../typechain-types";
import { actor, PASSWORD, type Actor } from "./helpers";

export const GOVERNANCE_CHAIN_ID = 1337001;
export const ROLE = { Governor: 1, Operator: 2, Business: 3, Auditor: 4 } as const;

const drug = IDrugTraceability__factory.createInterface();
export const CONTRACT = "DrugTraceability";
export const WRITE_SIG = drug.getFunction("continueCustody").format("sighash");
export const READ_SIG = drug.getFunction("batch").format("sighash");

export interface Side {
  name: string;
  admin: Actor;
  operator: Actor;
  signer: Actor;
  /** The app's reserved key: it only signs, it holds no funds. */
  app: Actor;
  /** The institution's number (fixed by the order of joining), which namespaces its ids. */
  institution: number;
  /** A service, sub-chain or app label as the CLI takes it: `<institution>:<name>/<what>`. */
  label: (what: "service" | "chain" | "app") => string;
  /** The id the CLI makes of that label. */
  id: (what: "service" | "chain" | "app") => string;
  chainId: number;
}

export interface World {
  chain: LocalChain;
  provider: JsonRpcProvider;
  dir: string;
  deployer: Actor;
  admins: Actor[];
  governors: Actor[];
  a: Side;
  b: Side;
  consortiumFile: string;
  deployments: string;
  env: Record<string, string>;
  /** The non-party verifier, once `addIndependentVerifier` made it. */
  independent?: Actor;
  /** --rpc and --deployments, which every command takes. */
  common: string[];
  stop(): Promise<void>;
}

async function side(
  provider: JsonRpcProvider,
  dir: string,
  name: string,
  tag: string,
  chainId: number,
  institution: number,
): Promise<Side> {
  return {
    name,
    institution,
    admin: await actor(provider, dir, `${tag}-admin`),
    operator: await actor(provider, dir, `${tag}-operator`),
    signer: await actor(provider, dir, `${tag}-signer`),
    app: await actor(provider, dir, `${tag}-app`, false),
    label: (what) => `${institution}:${name}/${what}`,
    id: (what) => scopedId(institution, `${name}/${what}`),
    chainId,
  };
}

export async function startWorld(): Promise<World> {
  const chain = await startAnvil({ name: "governance", chainId: GOVERNANCE_CHAIN_ID });
  const provider = new JsonRpcProvider(chain.url, undefined, { cacheTimeout: -1 });
  provider.pollingInterval = 100;
  const dir = mkdtempSync(join(tmpdir(), "ccgp-cli-"));
  const keys = join(dir, "keys");
  const deployer = await actor(provider, keys, "deployer");
  const admins = [
    await actor(provider, keys, "admin-1"),
    await actor(provider, keys, "admin-2"),
    await actor(provider, keys, "admin-3"),
  ];
  const governors = [
    await actor(provider, keys, "gov-1"),
    await actor(provider, keys, "gov-2"),
    await actor(provider, keys, "gov-3"),
  ];
  const consortiumFile = join(dir, "consortium.json");
  writeFileSync(
    consortiumFile,
    JSON.stringify({
      name: "CLI test consortium",
      votingPeriodSeconds: 3600,
      genesis: admins.map((a, i) => ({
        name: `Genesis ${i + 1}`,
        identity: `USCC:${i + 1}`,
        admin: a.address,
        governors: [governors[i]!.address],
      })),
    }),
  );
  const deployments = join(dir, "deployments");
  return {
    chain,
    provider,
    dir,
    deployer,
    admins,
    governors,
    // After the three genesis institutions: A joins fourth, B fifth.
    a: await side(provider, keys, "Drug Maker A", "a", 7001, 4),
    b: await side(provider, keys, "Hospital B", "b", 7002, 5),
    consortiumFile,
    deployments,
    env: { CCGP_KEYSTORE_PASSWORD: PASSWORD },
    common: ["--rpc", chain.url, "--deployments", deployments],
    stop: async () => {
      provider.destroy();
      await chain.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The deployed contracts (from the record the CLI wrote), connected to `runner`. */
export function contracts(w: World, runner: Signer | JsonRpcProvider = w.provider) {
  const record = JSON.parse(
    readFileSync(join(w.deployments, `governance-${GOVERNANCE_CHAIN_ID}.json`), "utf8"),
  ) as DeploymentRecord;
  return {
    record,
    membership: Membership__factory.connect(record.membership!, runner),
    voting: VotingTickets__factory.connect(record.voting!, runner),
    services: ServiceRegistry__factory.connect(record.services!, runner),
    chains: ChainRegistry__factory.connect(record.chains!, runner),
    pipes: PipeRegistry__factory.connect(record.pipes!, runner),
    ledger: TransactionLedger__factory.connect(record.ledger!, runner),
  };
}

/** The id of the proposal a transaction opened. */
async function proposalOf(w: World, tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  const voting = contracts(w).voting;
  for (const log of receipt!.logs) {
    const parsed = voting.interface.parseLog(log);
    if (parsed?.name === "ProposalCreated") return parsed.args.id as bigint;
  }
  throw new Error("no ProposalCreated event");
}

/** Every genesis governor votes for the proposal (so any rule passes), then it is executed. */
export async function pass(w: World, id: bigint): Promise<void> {
  for (const g of w.governors) await (await contracts(w, g.wallet).voting.vote(id, true)).wait();
  await (await contracts(w, w.governors[0]!.wallet).voting.execute(id)).wait();
}

/** Applies to join as a business institution and passes the vote; returns the institution id. */
export async function join_(w: World, s: Side): Promise<number> {
  const m = contracts(w, s.admin.wallet).membership;
  const id = Number(await m.institutionCount()) + 1;
  if (id !== s.institution) throw new Error(`${s.name} joins as institution ${id}, not ${s.institution}`);
  await pass(w, await proposalOf(w, m.applyToJoin(s.name, `0x${"11".repeat(32)}`, 2, "0x")));
  return id;
}

export async function addAccount(w: World, s: Side, account: Actor, institution: number, role: number): Promise<void> {
  const m = contracts(w, s.admin.wallet).membership;
  const consent = await requestConsent(m, s.admin.wallet, account.wallet, institution, role);
  await pass(w, await proposalOf(w, m.requestAccount(account.address, institution, role, ...consent)));
}

/** A side's service (enabled by vote), sub-chain and app, registered with ethers. */
export async function registerSide(w: World, s: Side, endpointPort: number): Promise<void> {
  const c = contracts(w, s.operator.wallet);
  const [service, chain, app] = [s.id("service"), s.id("chain"), s.id("app")];
  const endpoint = { host: "127.0.0.1", port: endpointPort, tlsFingerprint: idOf(`${s.name} cert`) };
  await pass(w, await proposalOf(w, c.services.registerService(service, chain, s.signer.address, endpoint)));
  await (await c.chains.registerSubchain(chain, 1, s.chainId, service, `0x${"ab".repeat(20)}`, s.name)).wait();
  const institution = (await c.membership.account(s.operator.address)).institution;
  const consent = await appKeyConsent(c.chains, s.operator.wallet, s.app.wallet, app, institution);
  await (await c.chains.registerApp(app, chain, s.app.address, `${s.name} app`, ...consent)).wait();
}

/** The CLI hashes labels into ids with keccak256 (ethers `id`); the tests use the same rule. */
export const idOf = (label: string): string => id(label);

/**
 * What the source relayer does with an app's request: countersigns it with its service signer and opens the
 * transaction on the ledger (one target step). The app signs stage 1 with its key, as `ccgp send` does.
 */
export async function openTransaction(
  w: World,
  pipeId: string,
  over: Partial<Packet> = {},
): Promise<{ packet: Packet; appSig: Hex }> {
  const c = contracts(w, w.a.signer.wallet);
  const route = await c.pipes.route(pipeId);
  const [lastSequence] = await c.ledger.pipeOf(pipeId);
  const now = BigInt((await w.provider.getBlock("latest"))!.timestamp);
  const payload = drug.encodeFunctionData("continueCustody", [idOf("batch-1"), w.b.admin.address, idOf("data")]) as Hex;
  const packet: Packet = {
    pipeId: pipeId as Hex,
    sourceInstitution: Number(route.sourceInstitution),
    targetInstitution: Number(route.targetInstitution),
    targetService: route.targetService as Hex,
    contractName: route.contractName as Hex,
    operation: 1,
    selector: payload.slice(0, 10) as Hex,
    payloadHash: keccak256(payload) as Hex,
    txId: idOf(`tx ${Date.now()} ${Math.random()}`) as Hex,
    sequence: lastSequence + 1n,
    deadline: now + 300n,
    signer: w.a.app.address as Hex,
    ...over,
  };
  const domain = packetDomain(GOVERNANCE_CHAIN_ID, (await c.ledger.getAddress()) as Hex);
  return { packet, appSig: await signPacket(privateKeyToAccount(w.a.app.wallet.privateKey as Hex), domain, packet) };
}

/** The source relayer's part: stage 2 and `ledger.open` with one target write step. */
export async function relayOpen(w: World, packet: Packet, appSig: Hex): Promise<void> {
  const c = contracts(w, w.a.signer.wallet);
  const domain = packetDomain(GOVERNANCE_CHAIN_ID, (await c.ledger.getAddress()) as Hex);
  const proxySig = await countersign(privateKeyToAccount(w.a.signer.wallet.privateKey as Hex), domain, packet, appSig);
  const route = await c.pipes.route(packet.pipeId);
  const steps = [{ side: 1, subchain: route.targetSubchain, operation: packet.operation, dependsOn: 255 }];
  await (
    await c.ledger.open([{ packet, appSignature: appSig, proxySignature: proxySig }], steps, packet.deadline)
  ).wait();
}

/**
 * An audit institution (the Audit Office) whose auditor is the ledger's independent verifier: a party's endorsement
 * alone never confirms, so `executeAndConfirm` has it endorse after A's service verifier.
 */
export async function addIndependentVerifier(w: World): Promise<Actor> {
  const keys = join(w.dir, "keys");
  const admin = await actor(w.provider, keys, "audit-admin");
  const auditor = await actor(w.provider, keys, "auditor");
  const m = contracts(w, admin.wallet).membership;
  const institution = Number(await m.institutionCount()) + 1;
  await pass(w, await proposalOf(w, m.applyToJoin("Audit Office", `0x${"22".repeat(32)}`, 3, "0x")));
  const consent = await requestConsent(m, admin.wallet, auditor.wallet, institution, ROLE.Auditor);
  await pass(w, await proposalOf(w, m.requestAccount(auditor.address, institution, ROLE.Auditor, ...consent)));
  const c = contracts(w, w.governors[0]!.wallet);
  const setVerifier = c.ledger.interface.encodeFunctionData("setVerifier", [auditor.address, 1, 1]); // an auditor, weight 1
  await pass(
    w,
    await proposalOf(w, c.voting.propose(await c.ledger.getAddress(), setVerifier, "the Audit Office verifies")),
  );
  w.independent = auditor;
  return auditor;
}

/** The target relayer records the step's result; then verifier A and the independent verifier endorse the result set. */
export async function executeAndConfirm(
  w: World,
  txId: string,
  targetSubchain: string,
  confirm: boolean,
): Promise<void> {
  const target = contracts(w, w.b.signer.wallet).ledger;
  const result = {
    txId,
    step: 0,
    subchain: targetSubchain,
    subchainTx: idOf(`sub-chain tx of ${txId}`),
    blockNumber: 42n,
    resultHash: idOf("result"),
    operation: 1,
    success: true,
    stateVersion: 1n,
  };
  await (await target.recordResult(result)).wait();
  if (!confirm) return;
  const verifier = contracts(w, w.a.signer.wallet).ledger;
  const resultSetHash = (await verifier.transaction(txId)).resultSetHash;
  await (await verifier.endorse(txId, resultSetHash)).wait();
  if (w.independent) await (await contracts(w, w.independent.wallet).ledger.endorse(txId, resultSetHash)).wait();
}
