/**
 * The attester role: an attester institution's key signs an attestation for a gateway call only after checking, on
 * the governance chain, that the ledger opened exactly it. A target step: the ledger accepted this packet (its
 * EIP-712 hash in `TxOpened` for the transaction, pipe and sequence) and the payload is the packet's. A source
 * step: the same packet, and the transaction id commits to the plan the step comes from (`boundTxId`), with the
 * step's side and operation as the ledger recorded them. The transaction must still be Open or Executing, and the
 * gateway and sub-chain are the pipe's, read from the registries, never taken from the request.
 *
 * Signing ahead: once started, the attester follows the ledger and signs the target step of every packet it sees
 * opened (`PresignedAttestations`), after the same checks, from the opening call's calldata. A request for it is
 * then a lookup: the request must ask for exactly what was signed, and the transaction's state and the pipe's route
 * and gateway are still read live (one batched call) before the stored signature is served. A miss (a source step,
 * a packet opened before the attester started, an open it has not seen yet) takes the on-demand path below.
 *
 * It also signs a gateway's move to the attester set the vote made current (`AttesterRegistry.attesterSet`): the
 * request names only the sub-chain; the set, its epoch and the gateway's domain are read on the governance chain.
 */
import {
  decodeFunctionResult,
  encodeFunctionData,
  keccak256,
  type Abi,
  type AbiEvent,
  type Address,
  type Hex,
  type LocalAccount,
} from "viem";
import { z } from "zod";
import { hashPacket, packetSchema, payloadSchema, type Packet } from "../../../lib/amdp";
import { CcgpError } from "../../../lib/infra/errors";
import type { Logger } from "../../../lib/infra/log";
import { revertOf } from "../../../lib/chain/revert";
import { attesterRegistryAbi, chainRegistryAbi, ledgerAbi, pipeRegistryAbi } from "../../../lib/abi/contracts";
import { boundTxId, packetOperation, sourceSequence, type PlanStep } from "../../../lib/domain/plan";
import type { ChainPlugin, SubscriptionEvent } from "../chains";
import type { KeptWatch } from "../../../lib/chain/types";
import { AcceptedPackets, acceptedLogs, TX_OPENED, type AcceptedLog } from "./accepted";
import { openedPackets, PresignedAttestations, type OpenedStep, type Presigned } from "./presigned";
import {
  attestationOf,
  attestationOfPacket,
  signAttestation,
  signAttesterSetChange,
  type Attestation,
  type AttesterSetChange,
} from "./attestation";

/** `ITransactionLedgerTypes.Side` and the two active `TxState`s (Open, Executing). */
const Side = { Source: 0, Target: 1 } as const;
const ACTIVE = new Set<number>([1, 2]);
/** The ledger's refusals of `stepOf` for a transaction or step it never opened. */
const UNOPENED = new Set(["LedgerUnknownTx", "LedgerUnknownStep"]);
/**
 * The ledger's events that may move an opened transaction's state (every one but the opens themselves): a kept
 * `statusOf` answer ends at the first block that may hold one.
 */
const STATE_EVENTS = (ledgerAbi as Abi).filter(
  (item): item is AbiEvent => item.type === "event" && item.name !== "TxOpened",
);
/** Pipes whose last route the attester remembers (one entry per pipe and side). */
const MAX_PIPES = 10_000;
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "expected 32 bytes of hex");

const stepSchema = z.strictObject({
  side: z.union([z.literal(Side.Source), z.literal(Side.Target)]),
  /** 0 read, 1 write, 2 two-phase write (prepared through the gateway as a write). */
  operation: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  contractName: hex32,
  data: payloadSchema,
});

/** What a relayer asks an attester to sign: one step of an opened transaction. */
export const attestationRequestSchema = z.strictObject({
  packet: packetSchema,
  payload: payloadSchema,
  step: z.int().min(0).max(7),
  /** The plan, when the transaction has source steps; absent: the packet's target step alone. */
  steps: z.array(stepSchema).min(1).max(8).optional(),
  salt: hex32.optional(),
});
export type AttestationRequest = z.input<typeof attestationRequestSchema>;

/** What `ccgp attesters sync` asks an attester to sign: the voted set, for the gateway of one sub-chain. */
export const setChangeRequestSchema = z.strictObject({ subchain: hex32 });
export type SetChangeRequest = z.input<typeof setChangeRequestSchema>;

export class AttestationRefused extends CcgpError<
  "ATTESTATION_BAD_REQUEST" | "ATTESTATION_NOT_OPENED" | "ATTESTATION_TX_NOT_ACTIVE" | "ATTESTER_SET_NOT_VOTED"
> {}

export interface AttesterOptions {
  /**
   * The governance chain, through the chain plugin (the attester's own endpoint): every read, the subscription to the
   * ledger's opens (woken by pushed heads where the node has them) and the opening calls' calldata.
   */
  chain: ChainPlugin;
  ledger: Address;
  pipes: Address;
  chains: Address;
  /** The `AttesterRegistry` (the voted set, for set changes). */
  attesters: Address;
  account: LocalAccount;
  /** First governance block to look for the ledger's opens (`TxOpened`) in. */
  fromBlock?: bigint;
  /** Where a started attester says that it could not follow the ledger (it tries again), and what it signed. */
  log?: Logger;
}

/** How the attester answered, since it started. */
export interface AttesterStats {
  /** Requests answered with a signature made when the open was seen. */
  presigned: number;
  /** Requests checked and signed when they came. */
  onDemand: number;
  /** Signatures made ahead and still held. */
  held: number;
}

export interface SignedAttestation {
  signature: Hex;
  signer: Address;
  chainId: number;
  attestation: Attestation;
}

export interface SignedSetChange {
  signature: Hex;
  signer: Address;
  chainId: number;
  gateway: Address;
  change: AttesterSetChange;
}

/** The first problem of a failed zod parse, as the refusal that names the field. */
function badRequest(error: z.ZodError): AttestationRefused {
  const issue = error.issues[0]!;
  return new AttestationRefused(
    "ATTESTATION_BAD_REQUEST",
    `field "${issue.path.join(".")}" is invalid: ${issue.message}`,
    { field: issue.path.join(".") },
  );
}

export class Attester {
  private readonly _accepted: AcceptedPackets;
  private readonly _presigned = new PresignedAttestations();
  private readonly _served = { presigned: 0, onDemand: 0 };
  /** The sub-chain each pipe's route named at the last request, by `pipe:side` (a guess, checked every time). */
  private readonly _lastSubchain = new Map<string, Hex>();
  private _following: { stop: AbortController; done: Promise<void> } | undefined;
  private _followed = false;
  /** Signing ahead under way (awaited by {@link stop}). */
  private readonly _signing = new Set<Promise<void>>();

  /** What ends a kept read: of a transaction's state, and of a pipe's route or a sub-chain's registration. */
  private readonly _watch: { state: readonly KeptWatch[]; routes: readonly KeptWatch[] };

  constructor(private readonly _o: AttesterOptions) {
    this._accepted = new AcceptedPackets(_o.chain, _o.ledger, _o.fromBlock ?? 0n);
    this._watch = {
      state: [{ address: [_o.ledger], events: STATE_EVENTS }],
      routes: [{ address: [_o.pipes, _o.chains] }],
    };
  }

  get address(): Address {
    return this._o.account.address;
  }

  /** Whether a started attester has read the ledger up to its head at least once. */
  get ready(): boolean {
    return this._followed;
  }

  get stats(): AttesterStats {
    return { ...this._served, held: this._presigned.size };
  }

  /**
   * Follows the ledger's opens and signs each packet as soon as its block is delivered (pushed heads: one `eth_getLogs`
   * after the head), until {@link stop}. The blocks up to the head at start are history: indexed, not signed ahead (a
   * request for one of them takes the on-demand path).
   */
  start(): void {
    if (this._following !== undefined) return;
    const stop = new AbortController();
    const done = (async () => {
      let history: bigint | undefined;
      while (!stop.signal.aborted) {
        try {
          history ??= await this._o.chain.head();
          const from =
            this._accepted.indexedTo === undefined ? (this._o.fromBlock ?? 0n) : this._accepted.indexedTo + 1n;
          await this._o.chain.subscribe(
            {
              fromBlock: from,
              confirmations: 0,
              address: this._o.ledger,
              events: [TX_OPENED],
              onError: (error) => this._o.log?.warn({ err: error }, "could not read the ledger's opens; trying again"),
            },
            (event) => this._onBlock(event, history!),
            stop.signal,
          );
        } catch (error) {
          // A reorganisation deeper than the subscription remembers, or a failed first read: follow afresh.
          this._o.log?.warn({ err: error }, "following the ledger's opens failed; following them again");
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      }
    })();
    this._following = { stop, done };
  }

  /** One delivered block: its opens indexed and, past the history, signed ahead (not waited for). */
  private _onBlock(event: SubscriptionEvent, history: bigint): void {
    // A replaced block's entries stay: a request's transaction state is read live (see `AcceptedPackets`).
    if (event.type !== "block") return;
    const logs = event.logs.flatMap(acceptedLogs);
    this._accepted.add(event.height, logs);
    if (event.height >= history) this._followed = true;
    if (event.height <= history || logs.length === 0) return;
    const signing = this._signAhead(logs);
    this._signing.add(signing);
    void signing.finally(() => this._signing.delete(signing));
  }

  async stop(): Promise<void> {
    const following = this._following;
    this._following = undefined;
    following?.stop.abort();
    await following?.done;
    await Promise.all(this._signing);
  }

  /** Whether a signature for `packet` is held, made when its open was seen. */
  holds(packet: Packet): boolean {
    return this._presigned.get(hashPacket(packet)) !== undefined;
  }

  /** Checks the request against the ledger and signs it, or refuses naming what does not match. */
  async attest(input: unknown): Promise<SignedAttestation> {
    const parsed = attestationRequestSchema.safeParse(input);
    if (!parsed.success) throw badRequest(parsed.error);
    const req = parsed.data;
    const packet = req.packet as Packet;
    if (keccak256(req.payload) !== packet.payloadHash.toLowerCase())
      throw new AttestationRefused(
        "ATTESTATION_BAD_REQUEST",
        "the payload is not the packet's (keccak256 differs from payloadHash)",
      );
    // Without a plan the step is the packet's target step (at whatever index the ledger opened it).
    const steps = req.steps as PlanStep[] | undefined;
    const step =
      steps === undefined
        ? { side: Side.Target, operation: packet.operation, contractName: packet.contractName, data: req.payload }
        : steps[req.step];
    if (step === undefined) throw new AttestationRefused("ATTESTATION_BAD_REQUEST", `the plan has no step ${req.step}`);
    if (steps !== undefined) this._checkPlan(packet, req.payload, steps, req.salt as Hex | undefined);
    const hash = hashPacket(packet);
    const ahead = steps === undefined ? this._presigned.get(hash) : undefined;
    const began = performance.now();
    if (ahead !== undefined) {
      const served = await this._serveSigned(packet, hash, req.step, step, ahead);
      if (served !== undefined) {
        this._o.log?.debug({ txId: packet.txId, ms: performance.now() - began }, "attestation served, signed ahead");
        return served;
      }
    }
    this._served.onDemand++;
    this._o.log?.debug({ txId: packet.txId }, "attestation asked, not signed ahead: checking and signing now");
    // Every read at once (one batched HTTP call).
    const [{ id: subchainId, registered: subchain }, , opened] = await Promise.all([
      this._subchainOf(packet.pipeId, step.side),
      this._checkOpened(packet, hash),
      this._checkStep(packet.txId, req.step, step),
    ]);
    const sequence = step.side === Side.Target ? packet.sequence : sourceSequence(packet.sequence, req.step);
    const call = {
      txId: packet.txId,
      pipeId: packet.pipeId,
      sequence,
      deadline: packet.deadline,
      contractName: step.contractName,
      // The operation as the ledger opened it: a two-phase write's attestation serves only a prepare.
      operation: opened.operation,
      data: step.data,
    };
    const attestation = attestationOf(call, subchainId, subchain.gateway);
    const chainId = Number(subchain.chainId);
    const signature = await signAttestation(this._o.account, chainId, attestation);
    this._o.log?.debug({ txId: packet.txId, ms: performance.now() - began }, "attestation served, signed on demand");
    return { signature, signer: this.address, chainId, attestation };
  }

  /**
   * Signs the move of a sub-chain's gateway to the current voted set. Nothing of the change comes from the request:
   * a gateway takes it only above its own epoch, so signing the voted set again, for any registered gateway, is safe.
   */
  async signSetChange(input: unknown): Promise<SignedSetChange> {
    const parsed = setChangeRequestSchema.safeParse(input);
    if (!parsed.success) throw badRequest(parsed.error);
    const subchainId = parsed.data.subchain as Hex;
    const [[epoch, threshold, attesters], subchain] = await Promise.all([
      this._read(this._o.attesters, attesterRegistryAbi, "attesterSet", []),
      this._read(this._o.chains, chainRegistryAbi, "subchain", [subchainId]),
    ]);
    if (subchain.institution === 0)
      throw new AttestationRefused("ATTESTATION_BAD_REQUEST", `sub-chain ${subchainId} is not registered`, {
        field: "subchain",
      });
    if (epoch === 0n)
      throw new AttestationRefused("ATTESTER_SET_NOT_VOTED", "no attester set was voted on the governance chain yet");
    const change: AttesterSetChange = { epoch, threshold, attesters };
    const chainId = Number(subchain.chainId);
    return {
      signature: await signAttesterSetChange(this._o.account, chainId, subchain.gateway, change),
      signer: this.address,
      chainId,
      gateway: subchain.gateway,
      change,
    };
  }

  /** A plan with source steps must be the one the transaction id commits to, ending with the packet's step. */
  private _checkPlan(packet: Packet, payload: Hex, steps: PlanStep[], salt: Hex | undefined): void {
    const last = steps[steps.length - 1]!;
    const isPacketStep =
      last.side === Side.Target &&
      last.contractName.toLowerCase() === packet.contractName.toLowerCase() &&
      packetOperation(last.operation) === packet.operation &&
      last.data.toLowerCase() === payload;
    if (!isPacketStep || steps.filter((s) => s.side === Side.Target).length !== 1)
      throw new AttestationRefused(
        "ATTESTATION_BAD_REQUEST",
        "the plan's last and only target step must be the packet's",
      );
    if (steps.length === 1) return;
    if (salt === undefined || boundTxId(salt, steps) !== packet.txId.toLowerCase())
      throw new AttestationRefused("ATTESTATION_NOT_OPENED", "the transaction id does not commit to these steps", {
        txId: packet.txId,
      });
  }

  /**
   * The signature made ahead for `packet`, when the request asks for exactly that attestation and the transaction,
   * the pipe's route and the sub-chain's gateway are still what they were (read live, in one batch); undefined when
   * any of the latter moved, for the on-demand path to sign what holds now.
   */
  private async _serveSigned(
    packet: Packet,
    hash: Hex,
    index: number,
    step: PlanStep,
    ahead: Presigned,
  ): Promise<SignedAttestation | undefined> {
    const opened = checkOpenedStep(packet.txId, index, ahead.steps[index], step);
    const signed = ahead.attestation;
    const call = { ...packet, contractName: step.contractName, operation: opened.operation, data: step.data };
    const asked = attestationOf(call, signed.subchain, signed.gateway);
    if (!sameAttestation(asked, signed)) return undefined;
    // Kept reads: primed when the open was seen, and answered without a round trip while the pushed heads show no
    // log that could change them (a move of the transaction, any registry change); else read at the head.
    const [[kept], route, subchain] = await Promise.all([
      this._stateOf(packet.txId),
      this._kept(this._o.pipes, pipeRegistryAbi, "route", [packet.pipeId], this._watch.routes),
      this._kept(this._o.chains, chainRegistryAbi, "subchain", [signed.subchain], this._watch.routes),
    ]);
    // A refusal is never taken from a kept answer: read again first.
    const state = ACTIVE.has(kept) ? kept : (await this._read(this._o.ledger, ledgerAbi, "statusOf", [packet.txId]))[0];
    checkActive(packet.txId, state);
    const moved =
      (route.targetSubchain as Hex).toLowerCase() !== signed.subchain.toLowerCase() ||
      (subchain.gateway as Address).toLowerCase() !== signed.gateway.toLowerCase() ||
      Number(subchain.chainId) !== ahead.chainId;
    if (moved) {
      this._presigned.delete(hash);
      return undefined;
    }
    this._served.presigned++;
    return { signature: ahead.signature, signer: this.address, chainId: ahead.chainId, attestation: asked };
  }

  /**
   * Signs ahead the target step of each packet in `logs`: the packet is read from the calldata of the governance
   * transaction that opened it, and counts only with the hash the ledger logged. Never throws: whatever is not
   * signed here is signed on demand.
   */
  private async _signAhead(logs: AcceptedLog[]): Promise<void> {
    this._o.log?.debug({ txIds: logs.map((l) => l.txId) }, "opens seen");
    const byTransaction = new Map<Hex, AcceptedLog[]>();
    for (const log of logs)
      byTransaction.set(log.transactionHash, [...(byTransaction.get(log.transactionHash) ?? []), log]);
    const now = BigInt(Math.floor(Date.now() / 1000));
    await Promise.all(
      [...byTransaction].map(async ([hash, accepted]) => {
        // The calldata, and each pipe's target sub-chain, read together (one batched round trip); each
        // transaction's state too, kept for the request that follows ({@link _serveSigned}).
        for (const l of accepted) this._stateOf(l.txId).catch(() => undefined);
        const [tx, targets] = await Promise.all([
          this._o.chain.transactionInput?.(hash) ?? null,
          Promise.all(accepted.map((l) => this._subchainOf(l.pipeId, Side.Target))),
        ]);
        if (tx === null) return;
        const targetOf = new Map(accepted.map((l, i) => [l.pipeId.toLowerCase(), targets[i]!]));
        const logged = new Set(accepted.map((l) => l.packetHash.toLowerCase()));
        const opened = openedPackets(tx.to, this._o.ledger, tx.input).filter((o) => logged.has(o.hash.toLowerCase()));
        await Promise.all(
          opened.map(async ({ packet, hash: packetHash, steps }) => {
            const target = targetOf.get(packet.pipeId.toLowerCase());
            if (target === undefined) return;
            const { id: subchainId, registered: subchain } = target;
            // The operation as the ledger opened the packet's step (a two-phase write: 2, for a prepare only).
            const operation = steps.find((s) => s.side === Side.Target)?.operation ?? packet.operation;
            const attestation = attestationOfPacket(
              { ...packet, operation } as Packet,
              subchainId,
              subchain.gateway as Address,
            );
            const chainId = Number(subchain.chainId);
            const signature = await signAttestation(this._o.account, chainId, attestation);
            this._presigned.add(packetHash, { attestation, signature, chainId, steps }, now);
            this._o.log?.debug({ txId: packet.txId }, "signed ahead");
          }),
        );
      }),
    ).catch(() => undefined);
  }

  private async _checkOpened(packet: Packet, hash: Hex): Promise<void> {
    const [[state], accepted] = await Promise.all([
      this._read(this._o.ledger, ledgerAbi, "statusOf", [packet.txId]),
      this._accepted.has(packet, hash),
    ]);
    checkActive(packet.txId, state);
    if (!accepted)
      throw new AttestationRefused(
        "ATTESTATION_NOT_OPENED",
        `the ledger accepted no such packet for ${packet.txId} (pipe ${packet.pipeId}, sequence ${packet.sequence})`,
        {
          txId: packet.txId,
          packetHash: hash,
        },
      );
  }

  /** The step as the ledger opened it, when the request's step is that one. */
  private async _checkStep(txId: Hex, index: number, step: PlanStep): Promise<OpenedStep> {
    let opened: OpenedStep | undefined;
    try {
      const [side, operation] = await this._read(this._o.ledger, ledgerAbi, "stepOf", [txId, index]);
      opened = { side, operation };
    } catch (error) {
      // No such transaction, or no such step in it: named as not opened, not as a failed read.
      if (!UNOPENED.has(revertOf(error, ledgerAbi)?.name ?? "")) throw error;
    }
    return checkOpenedStep(txId, index, opened, step);
  }

  /**
   * The sub-chain of the pipe's route on `side`, read live, and its registration: read in the same batch for the
   * sub-chain this pipe's route named last time, and again only when the route moved.
   */
  private async _subchainOf(pipeId: Hex, side: number): Promise<{ id: Hex; registered: RegisteredSubchain }> {
    const key = `${pipeId.toLowerCase()}:${side === Side.Target ? "target" : "source"}`;
    const guess = this._lastSubchain.get(key);
    const subchain = (id: Hex) => this._kept(this._o.chains, chainRegistryAbi, "subchain", [id], this._watch.routes);
    const early = guess === undefined ? undefined : subchain(guess);
    early?.catch(() => undefined);
    const route = await this._kept(this._o.pipes, pipeRegistryAbi, "route", [pipeId], this._watch.routes);
    const id = (side === Side.Target ? route.targetSubchain : route.sourceSubchain) as Hex;
    this._rememberSubchain(key, id);
    const registered =
      guess !== undefined && guess.toLowerCase() === id.toLowerCase() ? await early : await subchain(id);
    return { id, registered };
  }

  private _rememberSubchain(key: string, id: Hex): void {
    this._lastSubchain.delete(key);
    this._lastSubchain.set(key, id);
    if (this._lastSubchain.size > MAX_PIPES) this._lastSubchain.delete(this._lastSubchain.keys().next().value!);
  }

  /** `statusOf(txId)`, kept until a block may hold a move of a transaction. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private _stateOf(txId: Hex): Promise<any> {
    return this._kept(this._o.ledger, ledgerAbi, "statusOf", [txId], this._watch.state);
  }

  /**
   * A view call answered again from its kept answer while no block since may hold a log of `watch`
   * (`ChainPlugin.readKept`); a plain read where the plugin cannot tell.
   */
  private async _kept(
    address: Address,
    abi: Abi,
    functionName: string,
    args: unknown[],
    watch: readonly KeptWatch[],
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ): Promise<any> {
    const chain = this._o.chain;
    if (chain.readKept === undefined) return this._read(address, abi, functionName, args);
    const data = encodeFunctionData({ abi, functionName, args } as never);
    return decodeFunctionResult({
      abi,
      functionName,
      data: await chain.readKept({ to: address, data }, watch),
    } as never);
  }

  /** A view call through the chain plugin (concurrent ones go out as one JSON-RPC batch). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async _read(address: Address, abi: Abi, functionName: string, args: unknown[]): Promise<any> {
    const data = encodeFunctionData({ abi, functionName, args } as never);
    return decodeFunctionResult({ abi, functionName, data: await this._o.chain.read({ to: address, data }) } as never);
  }
}

/** A sub-chain as the chain registry holds it (`ChainRegistry.subchain`): the fields signed here. */
interface RegisteredSubchain {
  gateway: Address;
  chainId: bigint;
  institution: number;
}

function checkActive(txId: Hex, state: number): void {
  if (!ACTIVE.has(state))
    throw new AttestationRefused(
      "ATTESTATION_TX_NOT_ACTIVE",
      `transaction ${txId} is in state ${state}, not Open (1) or Executing (2)`,
      { txId, state },
    );
}

/** Refuses `step` unless the ledger opened step `index` of `txId` (`opened`) with its side and operation. */
/** The ledger's step `index`, when the request's step is it; what is signed takes the ledger's operation. */
function checkOpenedStep(txId: Hex, index: number, opened: OpenedStep | undefined, step: PlanStep): OpenedStep {
  if (opened === undefined)
    throw new AttestationRefused("ATTESTATION_NOT_OPENED", `${txId} was opened with no step ${index}`, {
      txId,
      step: index,
    });
  // A packet's write may be opened as two-phase (2); a plan's operations are bound by the txId (`_checkPlan`).
  if (opened.side !== step.side || packetOperation(opened.operation) !== packetOperation(step.operation))
    throw new AttestationRefused(
      "ATTESTATION_NOT_OPENED",
      `step ${index} of ${txId} was opened as side ${opened.side}, operation ${opened.operation}`,
      { txId, step: index },
    );
  return opened;
}

function sameAttestation(a: Attestation, b: Attestation): boolean {
  return (Object.keys(a) as (keyof Attestation)[]).every((k) =>
    typeof a[k] === "string" ? (a[k] as string).toLowerCase() === (b[k] as string).toLowerCase() : a[k] === b[k],
  );
}
