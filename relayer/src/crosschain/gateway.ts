/**
 * The sub-chain gateway as the relayer uses it: execute an inbound read or write for (pipe, sequence), undo a write,
 * and find what an earlier run did. Each `ensure*` reads the gateway's record first, so a retry after a crash finds
 * the earlier execution (by its derived request id, in the logs) instead of running it again; the gateway refuses a
 * second run as the last guard (`SubchainGatewayRequestAlreadyExecuted`), which is read the same way. It also refuses
 * a run past the packet's deadline (`SubchainGatewayPacketExpired`): the caller treats that as the ledger's expiry.
 */
import {
  decodeFunctionResult,
  encodeAbiParameters,
  encodeFunctionData,
  keccak256,
  parseAbi,
  zeroAddress,
  zeroHash,
  type AbiEvent,
  type AbiItem,
  type Address,
  type Hex,
} from "viem";
import type { ChainPlugin, ChainReceipt, KeptWatch } from "../../../lib/chain/types";
import { CcgpError } from "../../../lib/infra/errors";
import { gatewayAbi } from "../../../lib/abi/contracts";
import { Contract, isRevert } from "../governance/contract";
import type { LogReader } from "../governance/logs";
import { TwoPhaseGateway } from "./two-phase";

export interface Execution {
  requestId: Hex;
  tx: Hex;
  blockNumber: bigint;
  operation: number;
  success: boolean;
  resultHash: Hex;
  stateVersion: bigint;
  /** Return data of a read, revert data of a failed write (what `resultHash` hashes). */
  returnData: Hex | null;
}

export interface CompensationRun {
  tx: Hex;
  blockNumber: bigint;
  success: boolean;
  /** keccak256 of the business contract's revert data (of empty bytes on success). */
  resultHash: Hex;
}

/** The gateway's `InboundPacket` of a request: what the attestations cover beside the payload. */
export function inboundPacket(request: ExecuteRequest, operation = request.operation) {
  const { txId, pipeId, sequence, deadline, contractName } = request;
  return { txId, pipeId, sequence, deadline, contractName, operation };
}

export interface ExecuteRequest {
  /** The ledger's transaction id (attested with the rest). */
  txId: Hex;
  pipeId: Hex;
  sequence: bigint;
  /**
   * The packet's AMDP deadline (unix seconds): the gateway refuses the run after it (`SubchainGatewayPacketExpired`).
   */
  deadline: bigint;
  contractName: Hex;
  operation: number;
  data: Hex;
  /** Height before the first attempt: where to look for an earlier run's events. */
  fromBlock: bigint;
  /** Collects the attestations the gateway needs; called only when the step has not run yet. */
  attestations: (request: ExecuteRequest) => Promise<Hex>;
  /** A write that depends on an earlier read: run only while the key's version is still the read's. */
  dependent?: { versionKey: Hex; readVersion: bigint };
}

const STATE_VERSION_ABI = parseAbi(["function stateVersion(bytes32 key) view returns (uint256)"]);
const MAX_UINT64 = (1n << 64n) - 1n;

/** A business contract's `stateVersion(key)` after block `blockNumber`. */
export async function stateVersionAt(
  chain: ChainPlugin,
  target: Address,
  key: Hex,
  blockNumber: bigint,
): Promise<bigint> {
  const data = encodeFunctionData({ abi: STATE_VERSION_ABI, functionName: "stateVersion", args: [key] });
  const raw = await chain.read({ to: target, data, blockNumber });
  return decodeFunctionResult({ abi: STATE_VERSION_ABI, functionName: "stateVersion", data: raw });
}

/**
 * The version a read saw of the key a later write depends on, as the relayer records it and a verifier checks it:
 * the key's version after the read's block, taken only when the contract did not change after the read in that
 * block (its contract-wide version then is still `contractVersion`, the one `InboundExecuted` logged); otherwise a
 * version no write can match (the read is then stale).
 */
export async function keyedReadVersion(
  chain: ChainPlugin,
  target: Address,
  key: Hex,
  blockNumber: bigint,
  contractVersion: bigint,
): Promise<bigint> {
  const [whole, keyed] = await Promise.all([
    stateVersionAt(chain, target, zeroHash, blockNumber),
    stateVersionAt(chain, target, key, blockNumber),
  ]);
  if (whole !== contractVersion) return MAX_UINT64;
  return keyed > MAX_UINT64 ? MAX_UINT64 : keyed;
}

export class Gateway {
  readonly contract: Contract<typeof gatewayAbi>;
  /** Prepare, commit and rollback of two-phase writes. */
  readonly twoPhase: TwoPhaseGateway;
  private _subchainId: Promise<Hex> | undefined;
  /** The logs that end a kept answer: each view's own changes only (every execution logs too). */
  private readonly _watch: { names: readonly KeptWatch[]; attesters: readonly KeptWatch[] };

  constructor(
    readonly chain: ChainPlugin,
    readonly address: Address,
    readonly chainId: number,
    private readonly _logs: LogReader,
    /** Blocks an execution must be buried under before its result is reported. */
    private readonly _confirmations: number,
  ) {
    this.contract = new Contract(chain, address, gatewayAbi, `SubchainGateway(${chain.name})`);
    this.twoPhase = new TwoPhaseGateway(this.contract, _logs, _confirmations);
    const only = (...names: string[]): KeptWatch[] => [
      {
        address: [address],
        events: (gatewayAbi as readonly AbiItem[]).filter(
          (item): item is AbiEvent => item.type === "event" && names.includes(item.name),
        ),
      },
    ];
    this._watch = {
      names: only("BusinessContractRegistered", "BusinessContractUnregistered"),
      attesters: only("AttesterSetUpdated"),
    };
  }

  /** `keccak256(abi.encode(chainid, gateway, pipeId, sequence))`, as the gateway derives it. */
  requestId(pipeId: Hex, sequence: bigint): Hex {
    return keccak256(
      encodeAbiParameters(
        [{ type: "uint256" }, { type: "address" }, { type: "bytes32" }, { type: "uint64" }],
        [BigInt(this.chainId), this.address, pipeId, sequence],
      ),
    );
  }

  record(pipeId: Hex, sequence: bigint) {
    return this.contract.read("inboundRecord", [pipeId, sequence]);
  }

  /** The gateway's current attester set and threshold: kept until an `AttesterSetUpdated` (see `readKept`). */
  async attesterSet(): Promise<{ epoch: bigint; threshold: number; attesters: readonly Address[] }> {
    const [epoch, threshold, attesters] = await this.contract.readKept("attesterSet", [], this._watch.attesters);
    return { epoch, threshold, attesters };
  }

  /** The sub-chain id the gateway was deployed for (signed in every attestation): immutable, read once. */
  subchainId(): Promise<Hex> {
    if (this._subchainId === undefined) {
      const read = this.contract.read("subchainId", []);
      this._subchainId = read;
      read.catch(() => (this._subchainId = undefined));
    }
    return this._subchainId;
  }

  /** The version a read saw of `key` (see {@link keyedReadVersion}). */
  keyedReadVersion(target: Address, key: Hex, e: Execution): Promise<bigint> {
    return keyedReadVersion(this.chain, target, key, e.blockNumber, e.stateVersion);
  }

  /**
   * The contract registered under a name (zero address when none): kept until a `BusinessContractRegistered` or
   * `BusinessContractUnregistered` (see `readKept`; the executions' own logs do not end it).
   */
  async businessContract(contractName: Hex): Promise<Address> {
    const [target] = await this.contract.readKept("businessContract", [contractName], this._watch.names);
    return target;
  }

  /**
   * Runs (pipe, sequence) unless it already ran; either way returns what the execution did. `known`: the record the
   * caller has just read (saves a round trip; the gateway still refuses a second run).
   */
  async ensureExecuted(request: ExecuteRequest, known?: { target: Address }): Promise<Execution> {
    const record = known ?? (await this.record(request.pipeId, request.sequence));
    if (record.target !== zeroAddress) return this.findExecution(request.pipeId, request.sequence, request.fromBlock);
    let receipt: ChainReceipt;
    try {
      const packet = inboundPacket(request);
      const attestations = await request.attestations(request);
      const options = { confirmations: this._confirmations + 1 };
      const d = request.dependent;
      receipt =
        d === undefined
          ? await this.contract.write("execute", [packet, request.data, attestations], options)
          : await this.contract.write(
              "executeDependentWrite",
              [packet, request.data, d.versionKey, d.readVersion, attestations],
              options,
            );
    } catch (error) {
      if (isRevert(error, "SubchainGatewayRequestAlreadyExecuted"))
        return this.findExecution(request.pipeId, request.sequence, request.fromBlock);
      throw error;
    }
    return this._executionIn(receipt, this.requestId(request.pipeId, request.sequence));
  }

  /** The earlier execution of (pipe, sequence), from its events. */
  async findExecution(pipeId: Hex, sequence: bigint, fromBlock: bigint): Promise<Execution> {
    const requestId = this.requestId(pipeId, sequence);
    const [executed] = await this._logs.events({
      address: this.address,
      abi: gatewayAbi,
      eventName: "InboundExecuted",
      args: { requestId },
      fromBlock,
    });
    if (executed === undefined)
      throw new CcgpError(
        "GATEWAY_EXECUTION_NOT_FOUND",
        `gateway ${this.address} ran ${pipeId}/${sequence} but no InboundExecuted was found from block ${fromBlock}`,
        {
          pipeId,
          sequence: sequence.toString(),
          fromBlock: fromBlock.toString(),
        },
      );
    const receipt = await this.chain.waitReceipt(executed.transactionHash, { confirmations: this._confirmations + 1 });
    return this._executionIn(receipt, requestId);
  }

  private _executionIn(receipt: ChainReceipt, requestId: Hex): Execution {
    const executed = this.contract.events(receipt.logs, "InboundExecuted").find((e) => e.args.requestId === requestId);
    if (executed === undefined)
      throw new CcgpError(
        "GATEWAY_EXECUTION_NOT_FOUND",
        `no InboundExecuted for ${requestId} in ${receipt.transactionHash}`,
        {
          requestId,
          tx: receipt.transactionHash,
        },
      );
    const returned = this.contract
      .events(receipt.logs, "ReturnDataRecorded")
      .find((e) => e.args.requestId === requestId);
    return {
      requestId,
      tx: receipt.transactionHash,
      blockNumber: receipt.blockNumber,
      operation: executed.args.operation,
      success: executed.args.success,
      resultHash: executed.args.resultHash,
      stateVersion: executed.args.stateVersion,
      returnData: returned?.args.returnData ?? null,
    };
  }

  /** Undoes the write of (pipe, sequence) unless a compensation already succeeded; returns the run. */
  async ensureCompensated(pipeId: Hex, sequence: bigint, fromBlock: bigint): Promise<CompensationRun> {
    const record = await this.record(pipeId, sequence);
    if (record.compensated) return this._findCompensation(pipeId, sequence, fromBlock);
    let receipt: ChainReceipt;
    try {
      receipt = await this.contract.write("compensate", [pipeId, sequence], { confirmations: this._confirmations + 1 });
    } catch (error) {
      if (isRevert(error, "SubchainGatewayAlreadyCompensated"))
        return this._findCompensation(pipeId, sequence, fromBlock);
      throw error;
    }
    const requestId = this.requestId(pipeId, sequence);
    const run = this.contract.events(receipt.logs, "Compensated").find((e) => e.args.requestId === requestId);
    if (run === undefined)
      throw new CcgpError(
        "GATEWAY_COMPENSATION_NOT_FOUND",
        `no Compensated for ${requestId} in ${receipt.transactionHash}`,
        { requestId },
      );
    return {
      tx: receipt.transactionHash,
      blockNumber: receipt.blockNumber,
      success: run.args.success,
      resultHash: keccak256(run.args.returnData),
    };
  }

  private async _findCompensation(pipeId: Hex, sequence: bigint, fromBlock: bigint): Promise<CompensationRun> {
    const requestId = this.requestId(pipeId, sequence);
    const runs = await this._logs.events({
      address: this.address,
      abi: gatewayAbi,
      eventName: "Compensated",
      args: { requestId },
      fromBlock,
    });
    const done = runs.find((r) => r.args.success);
    if (done === undefined)
      throw new CcgpError(
        "GATEWAY_COMPENSATION_NOT_FOUND",
        `gateway says ${pipeId}/${sequence} is compensated but no successful Compensated was found`,
        { requestId },
      );
    return {
      tx: done.transactionHash,
      blockNumber: done.blockNumber,
      success: true,
      resultHash: keccak256(done.args.returnData),
    };
  }
}
