/**
 * The transaction ledger's test worlds.
 *
 * `ledgerFixture`: a 3-institution consortium, a ledger deployed through `deployLedger` with its rules installed by
 * votes, a source and a target business institution joined by vote, three audit institutions with one auditor
 * verifier each (weights 2, 1, 1; the ledger takes one verifier per institution), a pipe (mock authority: routes and refusals set directly) between the two business
 * institutions, and packets signed with the relayer's AMDP functions for the deployed ledger's domain.
 *
 * `registryLedgerFixture`: the same transaction shapes on the ledger deployed by `deployGovernance` with the real
 * pipe registry and credit score (see `test/helpers/pipes.ts`).
 */
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { type ContractTransactionResponse, type Result, type Signer } from "ethers";
import { keccak256, toHex, type Address, type Hex } from "viem";
import { countersign, packetDomain, signPacket, type AmdpDomain, type Packet } from "../../lib/amdp";
import { deployLedger } from "../../lib/deploy/ledger";
import { scopedId } from "../../lib/domain/ids";
import {
  NO_DEPENDENCY,
  Side,
  TxState,
  VerifierKind,
  batchRecords,
  type LedgerResult,
} from "../../lib/domain/ledger-types";
import type { CreditScoreMock, PipeAuthorityMock, TransactionLedger, LedgerRecovery } from "../../typechain-types";
import type { IPipeAuthority } from "../../typechain-types/contracts/interfaces/IPipeAuthority";
import {
  Kind,
  Role,
  addAccount,
  deployConsortium,
  govern,
  joinInstitution,
  type Consortium,
} from "../helpers/governance";
import { activePipe, auditVerifiers, ledgerSide, newKey, type Key, type LedgerSide } from "../helpers/pipes";
import { SEL_WRITE } from "../helpers/registries";
import { OPERATION_READ, OPERATION_WRITE } from "../../lib/domain/enums.generated";

/** The operation codes and flags, as contracts/types/Operations.sol names them (generated from it). */
export { OPERATION_READ, OPERATION_WRITE };

export { newKey, type Key } from "../helpers/pipes";

export const PIPE = keccak256(toHex("pipe:source->target"));
// Sub-chain ids are namespaced by institution: the source joins fourth and the target fifth (after three genesis).
export const CHAIN_A = scopedId(4, "subchain:a");
export const CHAIN_B = scopedId(5, "subchain:b");
export const CONTRACT = keccak256(toHex("EvidenceDeposit"));
export const SELECTOR: Hex = "0x2f0c7b1a";
export const TIMEOUT = 3600;
export const PipeStatus = { None: 0, Applied: 1, Authorized: 2, Active: 3, Paused: 4, Closed: 5 } as const;
export const Refusal = {
  Allowed: 0,
  PipeUnknown: 1,
  PipeNotActive: 2,
  SignerNotReserved: 3,
  OperationNotAllowed: 4,
  SelectorNotAllowed: 5,
  InstitutionNotActive: 6,
  InstitutionRestricted: 7,
  ServiceDisabled: 8,
  KeyRevoked: 9,
} as const;
export { Outcome } from "../../lib/domain/ledger-types";

export interface StepInput {
  side: Side;
  subchain: Hex;
  operation: number;
  dependsOn: number;
}

export interface SignedInput {
  packet: Packet;
  appSignature: Hex;
  proxySignature: Hex;
}

/** What the packet, open, result and endorsement helpers need: a ledger, its domain, a pipe and its keys. */
export interface LedgerWorld {
  c: Consortium;
  ledger: TransactionLedger;
  domain: AmdpDomain;
  pipeId: Hex;
  /** The selector of the default (write) packet: one the pipe allows. */
  selector: Hex;
  source: number;
  target: number;
  srcApp: Key;
  srcProxy: Key;
  tgtApp: Key;
  tgtProxy: Key;
  auditors: Key[];
  route: IPipeAuthority.PipeRouteStruct;
}

export interface World extends LedgerWorld {
  recovery: LedgerRecovery;
  pipes: PipeAuthorityMock;
  credit: CreditScoreMock;
  /** The first audit institution (its auditor is `auditors[0]`); `audits[i]` holds `auditors[i]`. */
  audit: number;
  audits: number[];
  intruder: Key;
  auditAdmin: Signer;
  auditAdmins: Signer[];
  outsider: Signer;
}

/** The pipe's route between the two business institutions. */
export function makeRoute(w: Pick<World, "source" | "target" | "srcApp" | "tgtApp" | "srcProxy" | "tgtProxy">) {
  return {
    status: PipeStatus.Active,
    operations: 3,
    sourceInstitution: w.source,
    targetInstitution: w.target,
    sourceApp: keccak256(toHex("app:source")),
    targetApp: keccak256(toHex("app:target")),
    sourceAppKey: w.srcApp.address,
    targetAppKey: w.tgtApp.address,
    sourceService: keccak256(toHex("service:source")),
    targetService: keccak256(toHex("service:target")),
    sourceServiceSigner: w.srcProxy.address,
    targetServiceSigner: w.tgtProxy.address,
    sourceSubchain: CHAIN_A,
    targetSubchain: CHAIN_B,
    contractName: CONTRACT,
    ratePerMinute: 600,
    maxPayloadBytes: 4096,
    timeoutSeconds: TIMEOUT,
  };
}

/** Installs a rule for each of the ledger's governed actions, by unanimous `setRule` votes. */
async function installRules(c: Consortium, rules: Awaited<ReturnType<typeof deployLedger>>["rules"]): Promise<void> {
  for (const r of rules) await govern(c, c.voting, "setRule", [r.target, r.selector, r.rule]);
}

export async function ledgerFixture(): Promise<World> {
  const c = await deployConsortium(3);
  const pipes = await ethers.deployContract("PipeAuthorityMock");
  const credit = await ethers.deployContract("CreditScoreMock");
  const { ledger, recovery, rules } = await deployLedger(c.deployer, {
    membership: await c.membership.getAddress(),
    voting: await c.voting.getAddress(),
    pipes: await pipes.getAddress(),
    credit: await credit.getAddress(),
  });
  await credit.setReporter(await ledger.getAddress());
  await installRules(c, rules);

  const [srcAdmin, tgtAdmin, auditAdmin, outsider, auditAdmin2, auditAdmin3] = c.others;
  const source = Number(await joinInstitution(c, srcAdmin!, Kind.Business, "Source Co"));
  const target = Number(await joinInstitution(c, tgtAdmin!, Kind.Business, "Target Co"));
  const [srcApp, srcProxy, tgtApp, tgtProxy, intruder] = await Promise.all([
    newKey(),
    newKey(),
    newKey(),
    newKey(),
    newKey(),
  ]);
  // The proxies are business accounts of their institutions: the ledger asks Membership for their standing.
  await addAccount(c, srcAdmin!, srcProxy!, BigInt(source), Role.Business);
  await addAccount(c, tgtAdmin!, tgtProxy!, BigInt(target), Role.Business);
  const auditAdmins = [auditAdmin!, auditAdmin2!, auditAdmin3!];
  const audits: number[] = [];
  const auditors: Key[] = [];
  const weights = [2, 1, 1];
  for (const [i, admin] of auditAdmins.entries()) {
    const audit = Number(await joinInstitution(c, admin, Kind.Audit, `Audit Co ${i + 1}`));
    const a = await newKey();
    await addAccount(c, admin, a, BigInt(audit), Role.Auditor);
    await govern(c, ledger, "setVerifier", [a.address, VerifierKind.Auditor, weights[i]]);
    audits.push(audit);
    auditors.push(a);
  }
  const audit = audits[0]!;
  const { chainId } = await ethers.provider.getNetwork();
  const domain = packetDomain(chainId, (await ledger.getAddress()) as Address);
  const keys = { source, target, srcApp: srcApp!, srcProxy: srcProxy!, tgtApp: tgtApp!, tgtProxy: tgtProxy! };
  const route = makeRoute(keys);
  await pipes.setRoute(PIPE, route);
  return {
    c,
    ledger,
    recovery,
    pipes,
    credit,
    domain,
    pipeId: PIPE,
    selector: SELECTOR,
    audit,
    intruder: intruder!,
    auditors,
    auditAdmin: auditAdmin!,
    audits,
    auditAdmins,
    route,
    outsider: outsider!,
    ...keys,
  };
}

/** The real-registry world: `deployGovernance`'s ledger, pipe registry and credit score. */
export interface RegistryWorld extends LedgerWorld {
  src: LedgerSide;
  tgt: LedgerSide;
  audit: bigint;
}

/**
 * The ledger deployed with the registries (`deployConsortium`), a pipe applied by the source and authorised by the
 * target on the real pipe registry (sub-chains CHAIN_A and CHAIN_B, an hour's timeout), three auditor verifiers
 * (weights 2, 1, 1) set by votes. Credit reports go to the real credit score.
 */
export async function registryLedgerFixture(): Promise<RegistryWorld> {
  const c = await deployConsortium(3);
  const [srcAdmin, tgtAdmin, auditAdmin, srcOperator, tgtOperator, auditAdmin2, auditAdmin3] = c.others;
  const src = await ledgerSide(c, "Source Co", srcAdmin!, srcOperator!, 1001n, "subchain:a");
  const tgt = await ledgerSide(c, "Target Co", tgtAdmin!, tgtOperator!, 1002n, "subchain:b");
  if (src.subchain !== CHAIN_A || tgt.subchain !== CHAIN_B) throw new Error("sub-chain ids out of their namespaces");
  const pipeId = await activePipe(c, src, tgt, { timeoutSeconds: TIMEOUT });
  const { audit, auditors } = await auditVerifiers(c, [auditAdmin!, auditAdmin2!, auditAdmin3!], [2, 1, 1]);
  const { chainId } = await ethers.provider.getNetwork();
  return {
    c,
    ledger: c.ledger,
    domain: packetDomain(chainId, (await c.ledger.getAddress()) as Address),
    pipeId,
    selector: SEL_WRITE as Hex,
    source: Number(src.institution),
    target: Number(tgt.institution),
    srcApp: src.app,
    srcProxy: src.proxy,
    tgtApp: tgt.app,
    tgtProxy: tgt.proxy,
    auditors,
    // A plain object (an ethers Result is read-only), e.g. for a stand-in authority's constructor.
    route: ((await c.pipes.route(pipeId)) as unknown as Result).toObject() as IPipeAuthority.PipeRouteStruct,
    src,
    tgt,
    audit,
  };
}

let txCounter = 0;
/** A fresh transaction id. */
export const newTxId = (): Hex => keccak256(toHex(`tx:${++txCounter}:${Date.now()}`));

let sequenceCounter = 0n;
/** Sequences strictly increase across the whole test run, so every opened packet is fresh on the pipe. */
export const nextSequence = (): bigint => ++sequenceCounter;

export async function now(): Promise<bigint> {
  return BigInt(await time.latest());
}

/** A packet of the fixture's pipe, from the source app, valid for an hour. */
export async function makePacket(w: LedgerWorld, overrides: Partial<Packet> = {}): Promise<Packet> {
  return {
    pipeId: w.pipeId,
    sourceInstitution: w.source,
    targetInstitution: w.target,
    targetService: w.route.targetService as Hex,
    contractName: w.route.contractName as Hex,
    operation: OPERATION_WRITE,
    selector: w.selector,
    payloadHash: keccak256(toHex("payload")),
    txId: newTxId(),
    sequence: nextSequence(),
    deadline: (await now()) + 3600n,
    signer: w.srcApp.address,
    ...overrides,
  };
}

/** Stage 1 by `app`, stage 2 by `proxy`, for the deployed ledger's domain (the relayer's functions). */
export async function sign(
  w: LedgerWorld,
  packet: Packet,
  app: Key = w.srcApp,
  proxy: Key = w.srcProxy,
): Promise<SignedInput> {
  const appSignature = await signPacket(app.account, w.domain, packet);
  const proxySignature = await countersign(proxy.account, w.domain, packet, appSignature);
  return { packet, appSignature, proxySignature };
}

export const readStep = (side = Side.Source): StepInput => ({
  side,
  subchain: side === Side.Source ? CHAIN_A : CHAIN_B,
  operation: OPERATION_READ,
  dependsOn: NO_DEPENDENCY,
});

export const writeStep = (side = Side.Target, dependsOn = NO_DEPENDENCY): StepInput => ({
  side,
  subchain: side === Side.Source ? CHAIN_A : CHAIN_B,
  operation: OPERATION_WRITE,
  dependsOn,
});

/** The flagship transaction: read on the source chain, then a write on the target chain that depends on it. */
export const readThenWrite = (): StepInput[] => [readStep(Side.Source), writeStep(Side.Target, 0)];

export interface Opened {
  txId: Hex;
  packet: Packet;
  signed: SignedInput;
  steps: StepInput[];
  deadline: bigint;
  tx: ContractTransactionResponse;
}

/** Opens a transaction by the source proxy: one signed write packet (or `packets`) and `steps`. */
export async function openTx(
  w: LedgerWorld,
  opts: { steps?: StepInput[]; packets?: SignedInput[]; deadline?: bigint; packet?: Partial<Packet> } = {},
): Promise<Opened> {
  const signed = opts.packets?.[0] ?? (await sign(w, await makePacket(w, opts.packet)));
  const packets = opts.packets ?? [signed];
  const steps = opts.steps ?? readThenWrite();
  const deadline = opts.deadline ?? (await now()) + 1800n;
  const tx = await w.ledger.connect(w.srcProxy.wallet).open(packets, steps, deadline);
  return { txId: signed.packet.txId, packet: signed.packet, signed, steps, deadline, tx };
}

/** A successful result of `step` (the step's own subchain and operation). */
export function result(
  o: Pick<Opened, "txId" | "steps">,
  step: number,
  overrides: Partial<LedgerResult> = {},
): LedgerResult {
  const s = o.steps[step]!;
  return {
    txId: o.txId,
    step,
    subchain: s.subchain,
    subchainTx: keccak256(toHex(`subchain-tx:${o.txId}:${step}`)),
    blockNumber: 100n + BigInt(step),
    resultHash: keccak256(toHex(`result:${o.txId}:${step}`)),
    operation: s.operation,
    success: true,
    stateVersion: 7n,
    ...overrides,
  };
}

/** The proxy that records `step` of `o`. */
export const recorderOf = (w: LedgerWorld, o: Pick<Opened, "steps">, step: number): Key =>
  o.steps[step]!.side === Side.Source ? w.srcProxy : w.tgtProxy;

/** Records a result by the step's proxy. */
export function record(
  w: LedgerWorld,
  o: Pick<Opened, "txId" | "steps">,
  step: number,
  overrides: Partial<LedgerResult> = {},
) {
  return w.ledger.connect(recorderOf(w, o, step).wallet).recordResult(result(o, step, overrides));
}

/** Opens the flagship transaction and records both results: it is Executed. Returns the recorded results too. */
export async function executed(w: LedgerWorld): Promise<Opened & { results: LedgerResult[] }> {
  const o = await openTx(w);
  const results = [result(o, 0), result(o, 1)];
  await w.ledger.connect(w.srcProxy.wallet).recordResult(results[0]!);
  await w.ledger.connect(w.tgtProxy.wallet).recordResult(results[1]!);
  return { ...o, results };
}

/**
 * Events `name` of the ledger in a transaction's receipt, parsed; the records of a batch log (a `TxOpened`'s
 * `PacketAccepted`) as `batchRecords` expands them, by name.
 */
export async function eventsOf(w: LedgerWorld, tx: ContractTransactionResponse, name: string) {
  const receipt = await tx.wait();
  const out: (Result | Record<string, unknown>)[] = [];
  for (const log of receipt!.logs) {
    const parsed = w.ledger.interface.parseLog(log);
    if (parsed === null) continue;
    const records = batchRecords(parsed.name, parsed.args.toObject());
    if (records === undefined && parsed.name === name) out.push(parsed.args);
    for (const r of records ?? []) if (r.name === name) out.push(r.args);
  }
  return out as Result[];
}

/**
 * Every move a call made, as [from, to], in order, for a transaction that was in `from`: each `TxTransitioned`, and
 * the moves of the normal path told by `ResultRecorded` / `Endorsed` (`to`; a result that took an Open transaction
 * to Executed or Committing went through Executing).
 */
export async function movesOf(
  w: LedgerWorld,
  tx: ContractTransactionResponse,
  from: TxState,
): Promise<Array<[TxState, TxState]>> {
  const receipt = await tx.wait();
  const moves: Array<[TxState, TxState]> = [];
  let state = from;
  for (const log of receipt!.logs) {
    const parsed = w.ledger.interface.parseLog(log);
    if (parsed === null || !["TxTransitioned", "ResultRecorded", "Endorsed"].includes(parsed.name)) continue;
    const to = Number(parsed.args.to) as TxState;
    if (to === TxState.None) continue;
    if (parsed.name === "TxTransitioned") state = Number(parsed.args.from) as TxState;
    else if (state === TxState.Open && to !== TxState.Executing) {
      moves.push([TxState.Open, TxState.Executing]);
      state = TxState.Executing;
    }
    moves.push([state, to]);
    state = to;
  }
  return moves;
}

/** The name of the ledger's custom error a call reverts with (throws if it does not revert). */
export async function revertName(w: LedgerWorld, call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
  } catch (err) {
    const e = err as { data?: string; info?: { error?: { data?: string } } };
    const data = e.data ?? e.info?.error?.data;
    return data ? (w.ledger.interface.parseError(data)?.name ?? `unknown error ${data.slice(0, 10)}`) : String(err);
  }
  throw new Error("the call did not revert");
}

/** An auditor account of a new audit institution (with its own admin): a verifier that shares no institution. */
export async function newAuditor(c: Consortium, name: string): Promise<{ key: Key; audit: bigint; admin: Key }> {
  const admin = await newKey();
  const audit = await joinInstitution(c, admin.wallet, Kind.Audit, name);
  const key = await newKey();
  await addAccount(c, admin.wallet, key, audit, Role.Auditor);
  return { key, audit, admin };
}
