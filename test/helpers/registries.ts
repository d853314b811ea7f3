import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { Wallet, type HDNodeWallet, type Signer } from "ethers";
import { IDrugTraceability__factory } from "../../typechain-types";
import type { IPipeRegistry } from "../../typechain-types/contracts/pipes/PipeRegistry";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import {
  chainRegistryDomain,
  consentDeadline,
  serviceRegistryDomain,
  signAppKeyConsent,
  signNodeConsent,
  type AppKeyConsent,
  type NodeConsent,
  type TypedDataSigner,
} from "../../relayer/src/governance/consent";
import { ENUM_NAMES } from "../../lib/domain/enums.generated";
import { scopedId } from "../../lib/domain/ids";
import {
  Kind,
  Role,
  bigEnum,
  addAccount,
  deployConsortium,
  govern,
  joinInstitution,
  pass,
  proposalIdOf,
  type Consortium,
} from "./governance";
import {
  OPERATION_FLAG_READ,
  OPERATION_FLAG_WRITE,
  OPERATION_READ,
  OPERATION_WRITE,
} from "../../lib/domain/enums.generated";

/** The operation codes and flags, as contracts/types/Operations.sol names them (generated from it). */
export { OPERATION_FLAG_READ, OPERATION_FLAG_WRITE, OPERATION_READ, OPERATION_WRITE };

/** Mirrors of the registries' enums, for readable assertions. */
export const Svc = bigEnum(ENUM_NAMES["IServiceRegistry.ServiceStatus"]);
export const NodeKind = bigEnum(ENUM_NAMES["IServiceRegistry.NodeKind"]);
export const ChainKind = bigEnum(ENUM_NAMES["IChainRegistry.ChainKind"]);
export const KeyStatus = bigEnum(ENUM_NAMES["IChainRegistry.KeyStatus"]);
export const Pipe = bigEnum(ENUM_NAMES["IPipeAuthority.PipeStatus"]);
export const Refusal = bigEnum(ENUM_NAMES["IPipeAuthority.Refusal"]);
export const Outcome = bigEnum(ENUM_NAMES["ICreditScore.Outcome"]);

export const id = (s: string): string => ethers.id(s);
/** A sub-chain, app or service id: these are namespaced by institution. */
export { scopedId };
export const endpoint = (host = "proxy.example.org", port = 8443, tlsFingerprint = id("cert")) => ({
  host,
  port,
  tlsFingerprint,
});

const drug = IDrugTraceability__factory.createInterface();
/** The business functions the example pipe allows: a write and a read of the drug traceability contract. */
export const SEL_WRITE = drug.getFunction("continueCustody").selector;
export const SEL_READ = drug.getFunction("batch").selector;
export const CONTRACT = "DrugTraceability";
export const CONTRACT_HASH = id(CONTRACT);

/** One side of a pipe: an institution with an operator, a signing (business) account, a service, a sub-chain, an app. */
export interface Side {
  institution: bigint;
  admin: HardhatEthersSigner;
  operator: HardhatEthersSigner;
  signer: HardhatEthersSigner;
  service: string;
  subchain: string;
  chainId: bigint;
  gateway: string;
  app: string;
  appKey: HDNodeWallet;
}

export type PipeSpec = IPipeRegistry.PipeSpecStruct;

/** Registers a service and passes the vote that enables it. */
export async function enabledService(
  c: Consortium,
  operator: Signer,
  serviceId: string,
  subchainId: string,
  signer: string,
): Promise<void> {
  await pass(
    c,
    await proposalIdOf(
      c.voting,
      c.services.connect(operator).registerService(serviceId, subchainId, signer, endpoint()),
    ),
  );
}

/** An institution of `kind` with its operator, business account, enabled service, sub-chain and app. */
export async function side(
  c: Consortium,
  name: string,
  admin: HardhatEthersSigner,
  operator: HardhatEthersSigner,
  signer: HardhatEthersSigner,
  chainId: bigint,
): Promise<Side> {
  const institution = await joinInstitution(c, admin, Kind.Business, name);
  await addAccount(c, admin, operator, institution, Role.Operator);
  await addAccount(c, admin, signer, institution, Role.Business);
  const s = {
    service: scopedId(institution, `${name}/service`),
    subchain: scopedId(institution, `${name}/chain`),
    app: scopedId(institution, `${name}/app`),
  };
  await enabledService(c, operator, s.service, s.subchain, signer.address);
  const gateway = Wallet.createRandom().address;
  await c.chains
    .connect(operator)
    .registerSubchain(s.subchain, ChainKind.Evm, chainId, s.service, gateway, `${name} chain`);
  const appKey = Wallet.createRandom();
  await c.chains
    .connect(operator)
    .registerApp(
      s.app,
      s.subchain,
      appKey.address,
      `${name} app`,
      ...(await appKeyConsent(c, operator, s.app, appKey)),
    );
  return { institution, admin, operator, signer, ...s, chainId, gateway, app: s.app, appKey };
}

/** The spec of a pipe from `a` to `b` on the example contract, with its defaults overridden by `over`. */
export function specOf(
  a: Pick<Side, "app" | "service">,
  b: Pick<Side, "app" | "service">,
  over: Partial<PipeSpec> = {},
): PipeSpec {
  return {
    sourceApp: a.app,
    targetApp: b.app,
    sourceService: a.service,
    targetService: b.service,
    contractName: CONTRACT_HASH,
    operations: OPERATION_FLAG_READ | OPERATION_FLAG_WRITE,
    selectors: [SEL_WRITE, SEL_READ],
    ratePerMinute: 600,
    maxPayloadBytes: 4096,
    timeoutSeconds: 300,
    ...over,
  };
}

/** Applies for a pipe and returns its id (from the PipeApplied event). */
export async function applyPipe(c: Consortium, operator: Signer, spec: PipeSpec): Promise<string> {
  const receipt = await (await c.pipes.connect(operator).applyPipe(spec)).wait();
  for (const log of receipt!.logs) {
    const parsed = c.pipes.interface.parseLog(log);
    if (parsed?.name === "PipeApplied") return parsed.args.pipeId as string;
  }
  throw new Error("no PipeApplied event in the transaction");
}

/**
 * A consortium of three genesis institutions and two business ones, A (a drug maker, id 4) and B (a hospital,
 * id 5), each with an enabled service, a sub-chain, an app; B has registered the example contract; an active
 * pipe A -> B allows a write and a read of it. Plus an audit institution (id 6) with an auditor, and spare signers.
 */
export async function pipeWorld() {
  const c = await deployConsortium(3);
  const [adminA, adminB, auditAdmin, opA, opB, signerA, signerB, auditor, stranger, spare1, spare2] = c.others;
  const a = await side(c, "Drug Maker", adminA, opA, signerA, 1001n);
  const b = await side(c, "Hospital", adminB, opB, signerB, 1002n);
  const audit = await joinInstitution(c, auditAdmin, Kind.Audit, "Audit Office");
  await addAccount(c, auditAdmin, auditor, audit, Role.Auditor);
  const contractAddress = Wallet.createRandom().address;
  await c.chains.connect(opB).registerContract(CONTRACT, b.subchain, contractAddress);
  const pipeId = await applyPipe(c, opA, specOf(a, b));
  await c.pipes.connect(opB).authorizePipe(pipeId);
  return { ...c, a, b, audit, auditAdmin, auditor, stranger, spare1, spare2, contractAddress, pipeId };
}

export type PipeWorld = Awaited<ReturnType<typeof pipeWorld>>;

/** Makes `reporter` an outcome reporter (a unanimous vote). */
export async function allowReporter(c: Consortium, reporter: string): Promise<void> {
  await govern(c, c.credit, "setReporter", [reporter, true]);
}

/** Reports `count` outcomes of one kind for an institution, each with a fresh transaction id. */
export async function report(
  c: Consortium,
  reporter: Signer,
  institution: bigint,
  outcome: bigint,
  count: number,
  tag = "tx",
): Promise<void> {
  for (let i = 0; i < count; i++)
    await c.credit.connect(reporter).reportOutcome(institution, outcome, id(`${tag}-${institution}-${outcome}-${i}`));
}

/** A node's key: the wallet, its 64-byte public key (no 0x04 prefix, as registered) and its node id. */
export interface NodeKey {
  wallet: Wallet;
  publicKey: string;
  nodeId: string;
}

const nodeKeys = new Map<string, Wallet>();

/** The node key numbered `n` (the same one every time). */
export function nodeKey(n: number | string): NodeKey {
  const wallet = new Wallet(id(`node key ${n}`));
  const publicKey = "0x" + wallet.signingKey.publicKey.slice(4);
  nodeKeys.set(publicKey.toLowerCase(), wallet);
  return { wallet, publicKey, nodeId: ethers.keccak256(publicKey) };
}

/**
 * The node key's consent to be registered by `registrar`'s institution: `[deadline, signature]`, the last two
 * arguments of `registerNode`. `over` signs something else, to test refusals.
 */
export async function nodeConsent(
  c: Pick<Consortium, "membership" | "services">,
  registrar: Signer,
  kind: bigint | number,
  publicKey: string,
  host: string,
  port: number,
  over: Partial<NodeConsent> & { chainId?: bigint; verifyingContract?: string; key?: Wallet | HDNodeWallet } = {},
): Promise<[bigint, string]> {
  const key = over.key ?? nodeKeys.get(publicKey.toLowerCase()) ?? Wallet.createRandom();
  const nodeId = ethers.keccak256(publicKey);
  const institution = (await c.membership.account(await registrar.getAddress())).institution;
  const deadline = over.deadline ?? consentDeadline(await time.latest());
  const nonce = over.nonce ?? (await c.services.nodeRegistration(nodeId)).nextNonce;
  const { chainId } = await ethers.provider.getNetwork();
  const domain = serviceRegistryDomain(
    over.chainId ?? chainId,
    over.verifyingContract ?? (await c.services.getAddress()),
  );
  const signature = await signNodeConsent(key, domain, {
    nodeId,
    institution,
    kind,
    host,
    port,
    nonce,
    deadline,
    ...over,
  });
  return [deadline, signature];
}

/**
 * The app key's consent to be reserved for `appId` of `registrar`'s institution: `[deadline, signature]`, the last
 * two arguments of `registerApp` and `rotateAppKey`. Works on any chain `registrar` is connected to. `over` signs
 * something else, to test refusals.
 */
export async function appKeyConsent(
  c: Pick<Consortium, "membership" | "chains">,
  registrar: Signer,
  appId: string,
  key: TypedDataSigner & { address: string },
  over: Partial<AppKeyConsent> & { chainId?: bigint; verifyingContract?: string } = {},
): Promise<[bigint, string]> {
  const provider = registrar.provider!;
  const institution = (await c.membership.account(await registrar.getAddress())).institution;
  const deadline = over.deadline ?? consentDeadline((await provider.getBlock("latest"))!.timestamp);
  const { chainId } = await provider.getNetwork();
  const domain = chainRegistryDomain(over.chainId ?? chainId, over.verifyingContract ?? (await c.chains.getAddress()));
  const signature = await signAppKeyConsent(key, domain, { key: key.address, appId, institution, deadline, ...over });
  return [deadline, signature];
}

/** A fresh key and its consent for `appId`: `[address, deadline, signature]`, the last three arguments of `rotateAppKey`. */
export async function newAppKey(
  c: Pick<Consortium, "membership" | "chains">,
  registrar: Signer,
  appId: string,
  key: TypedDataSigner & { address: string } = Wallet.createRandom(),
): Promise<[string, bigint, string]> {
  return [key.address, ...(await appKeyConsent(c, registrar, appId, key))];
}
