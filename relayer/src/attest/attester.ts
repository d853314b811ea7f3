/**
 * The attester role: an attester institution's key signs an attestation for a gateway call only after checking, on
 * the governance chain, that the ledger opened exactly it. A target step: the ledger accepted this packet (its
 * EIP-712 hash in `PacketAccepted` for the transaction, pipe and sequence) and the payload is the packet's. A source
 * step: the same packet, and the transaction id commits to the plan the step comes from (`boundTxId`), with the
 * step's side and operation as the ledger recorded them. The transaction must still be Open or Executing, and the
 * gateway and sub-chain are the pipe's, read from the registries, never taken from the request.
 *
 * It also signs a gateway's move to the attester set the vote made current (`AttesterRegistry.attesterSet`): the
 * request names only the sub-chain; the set, its epoch and the gateway's domain are read on the governance chain.
 */
import {
  createPublicClient,
  http,
  keccak256,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
} from "viem";
import { z } from "zod";
import { hashPacket, packetSchema, payloadSchema, type Packet } from "../../../lib/amdp";
import { CcgpError } from "../../../lib/infra/errors";
import { attesterRegistryAbi, chainRegistryAbi, ledgerAbi, pipeRegistryAbi } from "../../../lib/abi/contracts";
import { boundTxId, sourceSequence, type PlanStep } from "../../../lib/domain/plan";
import { AcceptedPackets } from "./accepted";
import {
  attestationOf,
  signAttestation,
  signAttesterSetChange,
  type Attestation,
  type AttesterSetChange,
} from "./attestation";

/** `ITransactionLedgerTypes.Side` and the two active `TxState`s (Open, Executing). */
const Side = { Source: 0, Target: 1 } as const;
const ACTIVE = new Set<number>([1, 2]);
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "expected 32 bytes of hex");

const stepSchema = z.strictObject({
  side: z.union([z.literal(Side.Source), z.literal(Side.Target)]),
  operation: z.union([z.literal(0), z.literal(1)]),
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
  /** The governance chain's RPC (the attester's own endpoint). */
  rpcUrl: string;
  ledger: Address;
  pipes: Address;
  chains: Address;
  /** The `AttesterRegistry` (the voted set, for set changes). */
  attesters: Address;
  account: LocalAccount;
  /** First governance block to look for `PacketAccepted` in. */
  fromBlock?: bigint;
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
  private readonly _client: PublicClient;
  private readonly _accepted: AcceptedPackets;

  constructor(private readonly _o: AttesterOptions) {
    // Concurrent reads of one request go out as one JSON-RPC batch.
    this._client = createPublicClient({ transport: http(_o.rpcUrl, { batch: { wait: 0 } }) });
    this._accepted = new AcceptedPackets(this._client, _o.ledger, _o.fromBlock ?? 0n);
  }

  get address(): Address {
    return this._o.account.address;
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
    // Every read at once (one batched HTTP call): the sub-chain's gateway is read live, after the route.
    const subchainOf = async () => {
      const route = await this._read(this._o.pipes, pipeRegistryAbi, "route", [packet.pipeId]);
      const id = (step.side === Side.Target ? route.targetSubchain : route.sourceSubchain) as Hex;
      return { id, registered: await this._read(this._o.chains, chainRegistryAbi, "subchain", [id]) };
    };
    const [{ id: subchainId, registered: subchain }] = await Promise.all([
      subchainOf(),
      this._checkOpened(packet),
      this._checkStep(packet.txId, req.step, step),
    ]);
    const sequence = step.side === Side.Target ? packet.sequence : sourceSequence(packet.sequence, req.step);
    const call = {
      txId: packet.txId,
      pipeId: packet.pipeId,
      sequence,
      deadline: packet.deadline,
      contractName: step.contractName,
      operation: step.operation,
      data: step.data,
    };
    const attestation = attestationOf(call, subchainId, subchain.gateway);
    const chainId = Number(subchain.chainId);
    return {
      signature: await signAttestation(this._o.account, chainId, attestation),
      signer: this.address,
      chainId,
      attestation,
    };
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
      last.operation === packet.operation &&
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

  private async _checkOpened(packet: Packet): Promise<void> {
    const hash = hashPacket(packet);
    const [[state], accepted] = await Promise.all([
      this._read(this._o.ledger, ledgerAbi, "statusOf", [packet.txId]),
      this._accepted.has(packet, hash),
    ]);
    if (!ACTIVE.has(state))
      throw new AttestationRefused(
        "ATTESTATION_TX_NOT_ACTIVE",
        `transaction ${packet.txId} is in state ${state}, not Open (1) or Executing (2)`,
        { txId: packet.txId, state },
      );
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

  private async _checkStep(txId: Hex, index: number, step: PlanStep): Promise<void> {
    const [side, operation] = await this._read(this._o.ledger, ledgerAbi, "stepOf", [txId, index]);
    if (side !== step.side || operation !== step.operation)
      throw new AttestationRefused(
        "ATTESTATION_NOT_OPENED",
        `step ${index} of ${txId} was opened as side ${side}, operation ${operation}`,
        { txId, step: index },
      );
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private _read(address: Address, abi: any, functionName: string, args: unknown[]): Promise<any> {
    return this._client.readContract({ address, abi, functionName, args });
  }
}
