/**
 * The auditor's test world. Governance on the in-process Hardhat chain, deployed through `deployGovernance` (real
 * Membership, registries, CreditScore and TransactionLedger); two sub-chains as real anvil processes, each with a
 * SubchainGateway and an EvidenceDeposit. A source and a target business institution with their services (signing
 * keys are business accounts), sub-chains, apps, the target's registered contract and an active pipe between them;
 * an audit institution whose three auditors are the ledger's verifiers (weights 2, 1, 1).
 *
 * `populate` then runs a set of transactions through the real ledger with real AMDP signatures, executing their
 * writes on the target sub-chain's gateway and recording the real receipts: confirmed, failed and compensated,
 * tampered (a forged result hash), missing (a receipt that does not exist), compensated on the ledger but not on
 * the sub-chain, stuck, expired, escalated and resolved, failed with nothing to undo, and refused packets.
 */
import { ethers, network } from "hardhat";
import { JsonRpcProvider, Wallet, type Provider, type Signer, type TransactionResponse } from "ethers";
import { createPublicClient, custom, http, keccak256, toHex, type Address, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { countersign, packetDomain, packetTypes, signPacket, type AmdpDomain, type Packet } from "../../lib/amdp";
import { startAnvil, type LocalChain } from "../../scripts/lib/anvil";
import { parseConsortium } from "../../lib/domain/consortium-config";
import { scopedId } from "../../lib/domain/ids";
import { deployGovernance } from "../../lib/deploy/governance";
import { NO_DEPENDENCY, Side, VerifierKind, resultSetHash, type LedgerResult } from "../../lib/domain/ledger-types";
import {
  EvidenceDeposit__factory,
  IEvidenceDeposit__factory,
  SubchainGateway__factory,
  type EvidenceDeposit,
  type SubchainGateway,
} from "../../typechain-types";
import { Kind, Role, WEEK, addAccount, govern, joinInstitution, type Consortium } from "../helpers/governance";
import { appKeyConsent, applyPipe, enabledService } from "../helpers/registries";
import { TEST_SUBCHAIN, attest, attesterKeys } from "../helpers/attest";
import { OPERATION_WRITE } from "../../lib/domain/enums.generated";

/** The operation codes and flags, as contracts/types/Operations.sol names them (generated from it). */
export { OPERATION_WRITE };

export const CONTRACT_NAME = "EvidenceDeposit";
export const CONTRACT = keccak256(toHex(CONTRACT_NAME));
const evidence = IEvidenceDeposit__factory.createInterface();
export const SEL_DEPOSIT = evidence.getFunction("depositCrossChain").selector as Hex;
export const SEL_VERIFY = evidence.getFunction("verify").selector as Hex;
const MAX_PAYLOAD = 4096;
const ChainKindEvm = 1;

/** A key that signs typed data (viem) and sends transactions on the governance chain (ethers). */
export interface Key {
  address: Address;
  account: PrivateKeyAccount;
  wallet: Wallet;
}

/** The governance chain the world runs on: the in-process Hardhat network (tests) or a node process (benchmarks). */
export interface WorldChain {
  provider: Provider;
  send(method: string, params: unknown[]): Promise<unknown>;
  deployer: Signer;
  chainId: number;
  /** The chain as the auditor reads it. */
  client: PublicClient;
}

export async function inProcessChain(): Promise<WorldChain> {
  return {
    provider: ethers.provider,
    send: (method, params) => network.provider.send(method, params),
    deployer: (await ethers.getSigners())[0]!,
    chainId: 31337,
    client: createPublicClient({ transport: custom(network.provider) }) as PublicClient,
  };
}

/**
 * A provider that returns from a broadcast only once the transaction is mined. Anvil's automine mines after it
 * answers, so a key's next transaction could otherwise read a stale pending nonce.
 */
class MinedProvider extends JsonRpcProvider {
  override async broadcastTransaction(signedTx: string): Promise<TransactionResponse> {
    const tx = await super.broadcastTransaction(signedTx);
    for (let i = 0; (await this.send("eth_getTransactionReceipt", [tx.hash])) === null; i++) {
      if (i > 2_000) throw new Error(`transaction ${tx.hash} not mined`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return tx;
  }
}

/** A node process on `url` (e.g. anvil) whose account 0 is unlocked. */
export async function nodeChain(url: string): Promise<WorldChain & { provider: JsonRpcProvider }> {
  // No request cache: a key sending twice within 250 ms would read its nonce from the cache.
  const provider = new MinedProvider(url, undefined, { staticNetwork: true, pollingInterval: 20, cacheTimeout: -1 });
  return {
    provider,
    send: (method, params) => provider.send(method, params),
    deployer: await provider.getSigner(0),
    chainId: Number((await provider.getNetwork()).chainId),
    client: createPublicClient({ transport: http(url) }) as PublicClient,
  };
}

let defaultChain: WorldChain | undefined;

export async function newKey(chain?: WorldChain): Promise<Key> {
  const on = chain ?? (defaultChain ??= await inProcessChain());
  const wallet = Wallet.createRandom().connect(on.provider);
  await on.send("hardhat_setBalance", [wallet.address, "0x56BC75E2D63100000"]);
  return {
    address: wallet.address as Address,
    account: privateKeyToAccount(wallet.privateKey as Hex),
    wallet: wallet as unknown as Wallet,
  };
}

/** The latest block's time on the world's chain. */
export async function latest(w: { chain: WorldChain }): Promise<bigint> {
  return BigInt((await w.chain.provider.getBlock("latest"))!.timestamp);
}

async function increaseTime(chain: WorldChain, seconds: number): Promise<void> {
  await chain.send("evm_increaseTime", [seconds]);
  await chain.send("evm_mine", []);
}

/** Three genesis institutions (an admin and a governor each, funded fresh keys), deployed by `deployGovernance`. */
async function consortiumOn(chain: WorldChain): Promise<Consortium> {
  const keys = await Promise.all(Array.from({ length: 14 }, () => newKey(chain)));
  const wallets = keys.map((k) => k.wallet as unknown as Signer);
  const [admins, governors, others] = [wallets.slice(0, 3), wallets.slice(3, 6), wallets.slice(6)];
  const cfg = parseConsortium({
    name: "auditor world",
    votingPeriodSeconds: WEEK,
    genesis: admins.map((_a, i) => ({
      name: `Genesis ${i + 1}`,
      identity: `id-${i + 1}`,
      admin: keys[i]!.address,
      governors: [keys[i + 3]!.address],
    })),
  });
  const g = await deployGovernance(chain.deployer, cfg, { network: "auditor-world" });
  return { ...g, deployer: chain.deployer, governors, admins, others: others as Consortium["others"] };
}

/** One sub-chain: an anvil process with a gateway (relayer: anvil account 1) and an EvidenceDeposit. */
export interface Subchain {
  /** The gateway's attester (1 of 1): the test signs the packets it runs. */
  attester: Wallet;
  chain: LocalChain;
  provider: JsonRpcProvider;
  gateway: SubchainGateway;
  evidence: EvidenceDeposit;
  relayer: Signer;
}

export async function startSubchain(name: string, chainId: number): Promise<Subchain> {
  const chain = await startAnvil({ name, chainId });
  const provider = new JsonRpcProvider(chain.url, undefined, { staticNetwork: true, pollingInterval: 50 });
  const [admin, relayer] = [await provider.getSigner(0), await provider.getSigner(1)];
  const [attester] = attesterKeys(1);
  const gateway = await new SubchainGateway__factory(admin).deploy(
    await admin.getAddress(),
    MAX_PAYLOAD,
    TEST_SUBCHAIN,
    [attester!.address],
    1,
    1,
  );
  await gateway.waitForDeployment();
  await (await gateway.grantRole(await gateway.RELAYER_ROLE(), await relayer.getAddress())).wait();
  const deposit = await new EvidenceDeposit__factory(admin).deploy(
    await gateway.getAddress(),
    await admin.getAddress(),
  );
  await deposit.waitForDeployment();
  await (await gateway.registerContract(CONTRACT, await deposit.getAddress())).wait();
  return { attester: attester!, chain, provider, gateway: gateway.connect(relayer), evidence: deposit, relayer };
}

export async function stopSubchain(s: Subchain | undefined): Promise<void> {
  if (s === undefined) return;
  s.provider.destroy();
  await s.chain.stop();
}

export interface Party {
  institution: number;
  operator: Signer;
  proxy: Key;
  app: Key;
  service: Hex;
  subchain: Hex;
  appId: Hex;
}

export interface World {
  c: Consortium;
  source: Party;
  target: Party;
  audit: number;
  auditAdmin: Signer;
  auditors: Key[];
  pipeId: Hex;
  domain: AmdpDomain;
  a: Subchain;
  b: Subchain;
  chain: WorldChain;
  /** The governance chain as the auditor reads it. */
  client: PublicClient;
  outsider: Signer;
}

async function party(
  chain: WorldChain,
  c: Consortium,
  admin: Signer,
  operator: Signer,
  name: string,
  sub: Subchain,
): Promise<Party> {
  const institution = Number(await joinInstitution(c, admin, Kind.Business, name));
  const [proxy, app] = [await newKey(chain), await newKey(chain)];
  await addAccount(c, admin, operator, BigInt(institution), Role.Operator);
  await addAccount(c, admin, proxy, BigInt(institution), Role.Business);
  const ids = {
    service: scopedId(institution, `${name}/service`),
    subchain: scopedId(institution, `${name}/chain`),
    appId: scopedId(institution, `${name}/app`),
  };
  await enabledService(c, operator, ids.service, ids.subchain, proxy.address);
  await c.chains
    .connect(operator)
    .registerSubchain(
      ids.subchain,
      ChainKindEvm,
      sub.chain.chainId,
      ids.service,
      await sub.gateway.getAddress(),
      `${name} chain`,
    );
  await c.chains
    .connect(operator)
    .registerApp(
      ids.appId,
      ids.subchain,
      app.address,
      `${name} app`,
      ...(await appKeyConsent(c, operator, ids.appId, app.wallet)),
    );
  return { institution, operator, proxy, app, ...ids };
}

/** The governance side of the world on `chain` (default: the in-process network), given the two running sub-chains. */
export async function buildWorld(a: Subchain, b: Subchain, chain?: WorldChain): Promise<World> {
  const on = chain ?? (await inProcessChain());
  const c = await consortiumOn(on);
  const [srcAdmin, tgtAdmin, auditAdmin, opA, opB, outsider] = c.others;
  const source = await party(on, c, srcAdmin!, opA!, "Source Co", a);
  const target = await party(on, c, tgtAdmin!, opB!, "Target Co", b);
  await c.chains.connect(opB!).registerContract(CONTRACT_NAME, target.subchain, await b.evidence.getAddress());
  const pipeId = (await applyPipe(c, opA!, {
    sourceApp: source.appId,
    targetApp: target.appId,
    sourceService: source.service,
    targetService: target.service,
    contractName: CONTRACT,
    operations: 3,
    selectors: [SEL_DEPOSIT, SEL_VERIFY],
    ratePerMinute: 600,
    maxPayloadBytes: 4096,
    timeoutSeconds: 3600,
  })) as Hex;
  await c.pipes.connect(opB!).authorizePipe(pipeId);

  // One verifier per institution: the auditors 1 and 2 are each their own audit office's.
  const audit = Number(await joinInstitution(c, auditAdmin!, Kind.Audit, "Audit Office"));
  const auditors = [await newKey(on), await newKey(on), await newKey(on), await newKey(on)];
  const offices = [audit, 0, 0, audit];
  for (const i of [1, 2])
    offices[i] = Number(await joinInstitution(c, c.others[5 + i]!, Kind.Audit, `Audit Office ${i + 1}`));
  for (const [i, k] of auditors.entries()) {
    const admin = offices[i] === audit ? auditAdmin! : c.others[5 + i]!;
    await addAccount(c, admin, k, BigInt(offices[i]!), Role.Auditor);
  }
  for (const [i, w] of [2, 1, 1].entries())
    await govern(c, c.ledger, "setVerifier", [auditors[i]!.address, VerifierKind.Auditor, w]);
  const domain = packetDomain(on.chainId, (await c.ledger.getAddress()) as Address);
  return {
    c,
    source,
    target,
    audit,
    auditAdmin: auditAdmin!,
    auditors,
    pipeId,
    domain,
    a,
    b,
    chain: on,
    client: on.client,
    outsider: outsider!,
  };
}

/** A viem client of an anvil sub-chain (what `--subchain-rpc` gives the auditor). */
export const subchainClient = (s: Subchain): PublicClient =>
  createPublicClient({ transport: http(s.chain.url) }) as PublicClient;

let sequence = 0n;
let counter = 0;

/** A write packet of the world's pipe for `payload`, signed by the source app and countersigned by its proxy. */
export async function signedWrite(
  w: World,
  payload: Hex,
  over: { txId?: Hex; appSigner?: Key; deadline?: bigint } = {},
) {
  const packet: Packet = {
    pipeId: w.pipeId,
    sourceInstitution: w.source.institution,
    targetInstitution: w.target.institution,
    targetService: w.target.service,
    contractName: CONTRACT,
    operation: OPERATION_WRITE,
    selector: SEL_DEPOSIT,
    payloadHash: keccak256(payload),
    txId: over.txId ?? keccak256(toHex(`auditor-tx:${++counter}`)),
    sequence: ++sequence,
    deadline: over.deadline ?? (await latest(w)) + 3600n,
    signer: w.source.app.address,
  };
  // A foreign stage-1 signer signs the typed data itself (signPacket refuses a packet declaring another signer).
  const appSignature = over.appSigner
    ? await over.appSigner.account.signTypedData({
        domain: w.domain,
        types: packetTypes,
        primaryType: "Packet",
        message: packet,
      })
    : await signPacket(w.source.app.account, w.domain, packet);
  const proxySignature = await countersign(w.source.proxy.account, w.domain, packet, appSignature);
  return { packet, appSignature, proxySignature, payload };
}

export const depositPayload = (tag: string): Hex =>
  evidence.encodeFunctionData("depositCrossChain", [
    keccak256(toHex(`evidence:${tag}`)),
    "0x000000000000000000000000000000000000dEaD",
    keccak256(toHex(`meta:${tag}`)),
  ]) as Hex;

const targetWrite = (w: World) => ({
  side: Side.Target,
  subchain: w.target.subchain,
  operation: OPERATION_WRITE,
  dependsOn: NO_DEPENDENCY,
});

export interface Opened {
  txId: Hex;
  packets: Awaited<ReturnType<typeof signedWrite>>[];
  results: LedgerResult[];
}

/** Opens a transaction of one target write per payload. */
export async function open(w: World, payloads: Hex[], deadlineIn = 1800n): Promise<Opened> {
  const txId = keccak256(toHex(`auditor-tx:${++counter}`));
  const packets = [];
  for (const p of payloads) packets.push(await signedWrite(w, p, { txId }));
  const deadline = (await latest(w)) + deadlineIn;
  await w.c.ledger.connect(w.source.proxy.wallet).open(
    packets.map(({ payload: _p, ...s }) => s),
    payloads.map(() => targetWrite(w)),
    deadline,
  );
  return { txId, packets, results: [] };
}

/** Runs packet `k` on the target gateway; returns the receipt's facts as the ledger records them. */
export async function execute(w: World, o: Opened, k: number): Promise<LedgerResult> {
  const { packet, payload } = o.packets[k]!;
  const call = {
    txId: o.txId,
    pipeId: w.pipeId,
    sequence: packet.sequence,
    deadline: packet.deadline,
    contractName: CONTRACT,
    operation: OPERATION_WRITE,
  };
  const domain = { chainId: BigInt(w.b.chain.chainId), gateway: await w.b.gateway.getAddress() };
  const tx = await w.b.gateway.execute(call, payload, await attest([w.b.attester], domain, call, payload));
  const receipt = (await tx.wait())!;
  const ev = receipt.logs.map((l) => w.b.gateway.interface.parseLog(l)).find((l) => l?.name === "InboundExecuted")!;
  return {
    txId: o.txId,
    step: k,
    subchain: w.target.subchain,
    subchainTx: receipt.hash as Hex,
    blockNumber: BigInt(receipt.blockNumber),
    resultHash: ev.args.resultHash as Hex,
    operation: OPERATION_WRITE,
    success: ev.args.success as boolean,
    stateVersion: ev.args.stateVersion as bigint,
  };
}

export async function record(w: World, o: Opened, r: LedgerResult): Promise<void> {
  await w.c.ledger.connect(w.target.proxy.wallet).recordResult(r);
  o.results.push(r);
}

/** Auditors 0 and 1 (weights 2 + 1 of 4) endorse the recorded result set: the transaction is Confirmed. */
export async function confirm(w: World, o: Opened): Promise<void> {
  for (const i of [0, 1]) await w.c.ledger.connect(w.auditors[i]!.wallet).endorse(o.txId, resultSetHash(o.results));
}

/** Undoes write `k` on the target gateway; returns the compensation as the ledger records it. */
export async function compensate(w: World, o: Opened, k: number) {
  const receipt = (await (await w.b.gateway.compensate(w.pipeId, o.packets[k]!.packet.sequence)).wait())!;
  return {
    txId: o.txId,
    step: k,
    subchain: w.target.subchain,
    subchainTx: receipt.hash as Hex,
    blockNumber: BigInt(receipt.blockNumber),
    resultHash: keccak256("0x"),
    success: true,
  };
}

export interface Population {
  confirmed: Opened;
  compensated: Opened;
  tampered: Opened;
  missing: Opened;
  notUndone: Opened;
  failedClean: Opened;
  resolved: Opened;
  stuck: Opened;
  expired: Opened;
  refusedPackets: Hex[];
}

/** The transactions the auditor's tests look at (see the file's comment). */
export async function populate(w: World): Promise<Population> {
  const tgt = w.target.proxy.wallet;
  const confirmed = await open(w, [depositPayload("one")]);
  await w.c.ledger.connect(tgt).retryStep(confirmed.txId, 0, "sub-chain RPC timeout");
  await record(w, confirmed, await execute(w, confirmed, 0));
  await confirm(w, confirmed);

  // A write, then the same evidence again (refused by the business contract): failed, the first write undone.
  const compensated = await open(w, [depositPayload("two"), depositPayload("two")]);
  await record(w, compensated, await execute(w, compensated, 0));
  await record(w, compensated, await execute(w, compensated, 1));
  await w.c.ledger.connect(tgt).recordCompensation(await compensate(w, compensated, 0));

  // The target's proxy lies about the result; a verifier notices, the majority does not.
  const tampered = await open(w, [depositPayload("three")]);
  await record(w, tampered, { ...(await execute(w, tampered, 0)), resultHash: keccak256(toHex("forged result")) });
  await w.c.ledger.connect(w.auditors[2]!.wallet).endorse(tampered.txId, keccak256(toHex("what the sub-chain says")));
  await confirm(w, tampered);

  // Recorded and confirmed, but never ran on the sub-chain.
  const missing = await open(w, [depositPayload("four")]);
  await record(w, missing, {
    txId: missing.txId,
    step: 0,
    subchain: w.target.subchain,
    subchainTx: keccak256(toHex("no such tx")),
    blockNumber: 1n,
    resultHash: keccak256("0x"),
    operation: OPERATION_WRITE,
    success: true,
    stateVersion: 1n,
  });
  await confirm(w, missing);

  // Failed and compensated on the ledger, but the write was never undone on the sub-chain.
  const notUndone = await open(w, [depositPayload("five"), depositPayload("five")]);
  await record(w, notUndone, await execute(w, notUndone, 0));
  await record(w, notUndone, await execute(w, notUndone, 1));
  await w.c.ledger.connect(tgt).recordCompensation({
    txId: notUndone.txId,
    step: 0,
    subchain: w.target.subchain,
    subchainTx: keccak256(toHex("fake undo")),
    blockNumber: 1n,
    resultHash: keccak256("0x"),
    success: true,
  });

  const failedClean = await open(w, [depositPayload("one")]); // the evidence exists: the write fails, nothing to undo
  await record(w, failedClean, await execute(w, failedClean, 0));

  const resolved = await open(w, [depositPayload("six")]);
  await w.c.ledger.connect(w.source.proxy.wallet).escalate(resolved.txId, "target node down");
  await w.c.ledger.connect(w.c.governors[0]!).resolve(resolved.txId, "checked by hand: nothing ran");

  const stuck = await open(w, [depositPayload("seven")], 60n);
  const expired = await open(w, [depositPayload("eight")], 60n);
  await increaseTime(w.chain, 120);
  await w.c.ledger.connect(w.outsider).expire(expired.txId);

  // Three packets whose stage 1 is not the app's key, countersigned by the source proxy: proven misbehaviour.
  const refusedPackets: Hex[] = [];
  for (let i = 0; i < 3; i++) {
    const bad = await signedWrite(w, depositPayload(`refused-${i}`), { appSigner: await newKey(w.chain) });
    await w.c.ledger.connect(w.outsider).reportRefusal(bad.packet, bad.appSignature, bad.proxySignature);
    refusedPackets.push(bad.packet.txId);
  }
  await increaseTime(w.chain, 10); // one more block: the checkpoint's time is after the last event
  return {
    confirmed,
    compensated,
    tampered,
    missing,
    notUndone,
    failedClean,
    resolved,
    stuck,
    expired,
    refusedPackets,
  };
}
