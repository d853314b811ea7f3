/**
 * The seed scenario of the local consortium (white paper 5.2, joint drug traceability): Drug Maker A records a
 * batch on sub-chain A, then its app asks, through the pipe A -> B, for the batch's custody to continue on
 * sub-chain B. The app signs stage 1 of an AMDP packet and posts it to A's relayer intake; the relayers do the rest.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { hexlify, id, keccak256, Wallet, type JsonRpcProvider, type Signer } from "ethers";
import type { Address, Hex, LocalAccount } from "viem";
import { ENUM_NAMES } from "../../../lib/domain/enums.generated";
import {
  countersign,
  encodePacket,
  Operation,
  packetDomain,
  signPacket,
  type Packet,
  type SignedPacket,
} from "../../../lib/amdp";
import { NO_DEPENDENCY, Side } from "../../../lib/domain/ledger-types";
import type { GatewayCall } from "../../../relayer/src/attest/attestation";
import { loadKeystore } from "../../../relayer/src/keys";
import {
  DrugTraceability__factory,
  IDrugTraceability__factory,
  TransactionLedger__factory,
} from "../../../typechain-types";
import { DeployError } from "../../../lib/deploy/governance";
import type { LocalConsortium, PipeInfo } from "../local-consortium";
import { localProvider } from "./accounts";
import { mined } from "./council";

/** Ledger states by name (`ITransactionLedger.TxState`). */
export const TX_STATES = ENUM_NAMES["ITransactionLedgerTypes.TxState"];
export type TxStateName = (typeof TX_STATES)[number];
const FINAL: TxStateName[] = ["Confirmed", "Compensated", "Resolved", "Failed", "Expired", "Manual"];

const drug = IDrugTraceability__factory.createInterface();

const providers = new Map<string, JsonRpcProvider>();
/** One provider per chain URL for the scenario's reads and writes. */
export function providerFor(c: LocalConsortium, chain: "governance" | "a" | "b"): JsonRpcProvider {
  const { url, chainId } = c.chains[chain];
  if (!providers.has(url)) providers.set(url, localProvider(url, chainId));
  return providers.get(url)!;
}

/** A signer for a consortium account on one of its chains, from its keystore. */
export async function keystoreSigner(
  c: LocalConsortium,
  keystore: string,
  chain: "governance" | "a" | "b",
): Promise<Signer> {
  const wallet = await Wallet.fromEncryptedJson(readFileSync(keystore, "utf8"), c.password);
  return wallet.connect(providerFor(c, chain));
}

/** Drug Maker A records a batch on sub-chain A (`DrugTraceability.recordBatch`, by its operator). */
export async function recordBatch(
  c: LocalConsortium,
  batchId: string,
  dataHash: string,
): Promise<{ tx: string; block: number }> {
  const a = c.business.a;
  const operator = await keystoreSigner(c, a.accounts.operator.keystore, "a");
  const contract = DrugTraceability__factory.connect(a.contracts.drugTraceability, operator);
  const receipt = await mined(
    contract.recordBatch(batchId, a.accounts.operator.address, dataHash),
    `recordBatch ${batchId} on sub-chain A`,
  );
  return { tx: receipt.hash, block: receipt.blockNumber };
}

export interface CustodyRequest {
  pipe: PipeInfo;
  batchId: string;
  custodian: string;
  dataHash: string;
  sequence: bigint;
  /** Seconds from now; default 600. */
  ttlSeconds?: number;
  txId?: string;
}

/** What {@link pipeWrite} takes beside the pipe and the payload. */
export interface PipeWriteFields {
  /** The source app's address, the packet's declared stage-1 signer. */
  signer: Address;
  sequence: bigint;
  /** Default: a random id (a plan-bound one is set by the caller afterwards). */
  txId?: Hex;
  /** Unix seconds; default now + 600. */
  deadline?: bigint;
}

/** The AMDP packet of a write of `payload` through `pipe` of the local consortium, to its target's contract. */
export function pipeWrite(c: LocalConsortium, pipe: PipeInfo, payload: Hex, fields: PipeWriteFields): Packet {
  const dst = c.business[pipe.target];
  return {
    pipeId: pipe.id as Hex,
    sourceInstitution: c.business[pipe.source].institutionId,
    targetInstitution: dst.institutionId,
    targetService: dst.service.id as Hex,
    contractName: pipe.contractNameHash as Hex,
    operation: Operation.Write,
    selector: payload.slice(0, 10) as Hex,
    payloadHash: keccak256(payload) as Hex,
    txId: fields.txId ?? (hexlify(randomBytes(32)) as Hex),
    sequence: fields.sequence,
    deadline: fields.deadline ?? BigInt(Math.floor(Date.now() / 1000) + 600),
    signer: fields.signer,
  };
}

/** The AMDP packet of a custody write on the pipe's target, signed in stage 1 with the source app's key. */
export async function signCustodyRequest(
  c: LocalConsortium,
  app: LocalAccount,
  req: CustodyRequest,
): Promise<SignedPacket> {
  const payload = drug.encodeFunctionData("continueCustody", [req.batchId, req.custodian, req.dataHash]) as Hex;
  const packet = pipeWrite(c, req.pipe, payload, {
    signer: app.address,
    sequence: req.sequence,
    txId: req.txId as Hex | undefined,
    deadline: BigInt(Math.floor(Date.now() / 1000) + (req.ttlSeconds ?? 600)),
  });
  const domain = packetDomain(c.chains.governance.chainId, c.governance.ledger as Address);
  return { packet, payload, signatures: { app: await signPacket(app, domain, packet) } };
}

/** The next custody write A -> B of a fresh batch (B's operator the new custodian), signed by A's app: stage 1. */
export async function nextCustodyWrite(c: LocalConsortium, tag: string): Promise<SignedPacket> {
  const pipe = c.pipes.aToB;
  const { batchId, dataHash } = newBatch(tag);
  return signCustodyRequest(c, await appAccount(c, pipe), {
    pipe,
    batchId,
    custodian: c.business.b.accounts.operator.address,
    dataHash,
    sequence: await nextSequence(c, pipe),
  });
}

/**
 * A custody write A -> B opened on the ledger by hand, with the app's and A's proxy keys (what A's relayer would do):
 * the signed packet and the call on B's gateway that the ledger now allows. Nothing runs on B.
 */
export async function openCustodyWrite(
  c: LocalConsortium,
  tag: string,
): Promise<{ signed: SignedPacket; call: GatewayCall }> {
  const [a, b] = [c.business.a, c.business.b];
  const signed = await nextCustodyWrite(c, tag);
  const { packet, payload, signatures } = signed;
  const domain = packetDomain(c.chains.governance.chainId, c.governance.ledger as Address);
  const proxy = await countersign(
    await loadKeystore(a.accounts.business.keystore, c.password),
    domain,
    packet,
    signatures!.app,
  );
  const ledger = TransactionLedger__factory.connect(
    c.governance.ledger,
    await keystoreSigner(c, a.accounts.business.keystore, "governance"),
  );
  const step = { side: Side.Target, subchain: b.subchain.id, operation: Operation.Write, dependsOn: NO_DEPENDENCY };
  await mined(
    ledger.open([{ packet, appSignature: signatures!.app, proxySignature: proxy }], [step], packet.deadline),
    `open ${packet.txId}`,
  );
  const call = {
    txId: packet.txId,
    pipeId: packet.pipeId,
    sequence: packet.sequence,
    deadline: packet.deadline,
    contractName: packet.contractName,
    operation: Operation.Write,
    data: payload,
  };
  return { signed: { ...signed, signatures: { app: signatures!.app, proxy } }, call };
}

/** The source app's key (from its keystore). */
export async function appAccount(c: LocalConsortium, pipe: PipeInfo): Promise<LocalAccount> {
  return loadKeystore(c.business[pipe.source].app.key.keystore, c.password);
}

/** The next sequence of a pipe, as the ledger counts them (the last one opened, plus one). */
export async function nextSequence(c: LocalConsortium, pipe: PipeInfo): Promise<bigint> {
  const ledger = TransactionLedger__factory.connect(c.governance.ledger, providerFor(c, "governance"));
  return (await ledger.pipeOf(pipe.id)).lastSequence + 1n;
}

/**
 * Posts a stage-1 packet to a relayer's app intake (`POST /v1/requests`), with the request's other fields (`steps`,
 * `salt`, `mode`) when given; returns its answer or throws its refusal.
 * One connection per request: a kept-alive socket the server closes while idle would reset the next request.
 */
export async function postRequest(
  intakeUrl: string,
  signed: SignedPacket,
  fields: Record<string, unknown> = {},
): Promise<{ txId: string; status: string }> {
  const text = encodePacket(signed);
  const request =
    Object.keys(fields).length === 0 ? text : JSON.stringify({ ...(JSON.parse(text) as object), ...fields });
  const { status, body } = await postJson(`${intakeUrl}/v1/requests`, request);
  if (status !== 202)
    throw new DeployError(`intake ${intakeUrl} refused the request: ${status} ${JSON.stringify(body)}`, {
      status,
      body,
    });
  return body as { txId: string; status: string };
}

function postJson(url: string, text: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(text) },
      },
      (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (data += chunk));
        res.on("end", () => {
          let body: unknown = data;
          try {
            body = JSON.parse(data);
          } catch {
            // not JSON: keep the text for the error message
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on("error", reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error("no answer in 30 s")));
    req.on("error", (err) => reject(new DeployError(`cannot post to ${url}: ${err.message}`, { url }, { cause: err })));
    req.end(text);
  });
}

/** The ledger state of a transaction, by name. */
export async function ledgerState(c: LocalConsortium, txId: string): Promise<TxStateName> {
  const ledger = TransactionLedger__factory.connect(c.governance.ledger, providerFor(c, "governance"));
  const [state] = await ledger.statusOf(txId);
  return TX_STATES[Number(state)];
}

/** Waits until the ledger has the transaction in a final or abnormal state (or `want`); throws after `timeoutMs`. */
export async function waitForLedger(
  c: LocalConsortium,
  txId: string,
  want: TxStateName,
  timeoutMs: number,
  onChange?: (s: TxStateName) => void,
): Promise<TxStateName> {
  const deadline = Date.now() + timeoutMs;
  let last: TxStateName | undefined;
  for (;;) {
    const state = await ledgerState(c, txId);
    if (state !== last) onChange?.(state);
    last = state;
    if (state === want || FINAL.includes(state)) return state;
    if (Date.now() > deadline)
      throw new DeployError(
        `transaction ${txId} still ${state} on the ledger after ${timeoutMs} ms (waiting for ${want})`,
        { txId, state },
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A fresh batch id and data hash for one run of the scenario. */
export function newBatch(tag = new Date().toISOString()): { batchId: string; dataHash: string } {
  return { batchId: id(`batch:${tag}:${hexlify(randomBytes(4))}`), dataHash: id(`batch-data:${tag}`) };
}
