/**
 * The gateway client against a real sub-chain: each inbound (pipe, sequence) runs at most once, a retry finds the
 * earlier run (also from a fresh client, as after a restart), a write is undone at most once, and refusals decode.
 */
import { expect } from "chai";
import { decodeFunctionResult, keccak256, type Hex } from "viem";
import { EvmChainPlugin } from "../../../relayer/src/chains";
import { ContractError } from "../../../relayer/src/governance/contract";
import { LogReader } from "../../../relayer/src/governance/logs";
import { loadKeystore } from "../../../relayer/src/keys";
import { silentLogger } from "../../../lib/infra/log";
import { Gateway, type ExecuteRequest } from "../../../relayer/src/crosschain/gateway";
import { attestationOf, packAttestations, signAttestation } from "../../../relayer/src/attest/attestation";
import { IDrugTraceability__factory } from "../../../typechain-types";
import { expectCcgpError } from "../helpers/errors";
import { batchOnA, custodyLength, drug, randomHex, world, ZERO_ADDRESS, type World } from "./helpers/world";

describe("relayer runtime: sub-chain gateway client", function () {
  this.timeout(120_000);
  let w: World;
  let name: Hex;

  const client = async (): Promise<Gateway> => {
    const a = w.c.business.a;
    const signer = await loadKeystore(a.accounts.relayer.keystore, w.c.password);
    const plugin = new EvmChainPlugin(
      {
        kind: "evm",
        rpcUrl: w.c.chains.a.url,
        chainId: w.c.chains.a.chainId,
        gateway: a.contracts.gateway as Hex,
        confirmations: 1,
        startBlock: 0,
        pollIntervalMs: 100,
        maxBlockRange: 1000,
        reorgWindow: 64,
      },
      { name: "sub_a", signer, logger: silentLogger() },
    );
    return new Gateway(plugin, a.contracts.gateway as Hex, w.c.chains.a.chainId, new LogReader(plugin), 1);
  };

  /**
   * The request with a fresh txId and the Audit Office's attestation (the gateway's 1-of-1 set), signed here: these
   * packets were never opened on the ledger, so the test plays the attester.
   */
  const attested = (r: Omit<ExecuteRequest, "txId" | "attestations">): ExecuteRequest => ({
    ...r,
    txId: randomHex(),
    attestations: async (call) => {
      const auditor = await loadKeystore(w.c.accounts.auditor.keystore, w.c.password);
      const attestation = attestationOf(
        call,
        w.c.business.a.subchain.id as Hex,
        w.c.business.a.contracts.gateway as Hex,
      );
      return packAttestations([await signAttestation(auditor, w.c.chains.a.chainId, attestation)]);
    },
  });

  /** A deadline `seconds` from the sub-chain's latest block time (negative: already passed). */
  const deadlineIn = async (seconds: number): Promise<bigint> =>
    BigInt((await w.k.a.provider.getBlock("latest"))!.timestamp + seconds);

  before(async function () {
    w = await world();
    name = keccak256(new TextEncoder().encode(w.c.business.a.contracts.names.drugTraceability));
  });
  after(async () => w?.stop());

  it("derives the request id exactly as the gateway does", async function () {
    const g = await client();
    const pipe = randomHex();
    expect(g.requestId(pipe, 42n)).to.equal(await w.k.a.gateway.inboundRequestId(pipe, 42n));
  });

  it("runs a write once: a second ensure, and a fresh client after a restart, find the same execution", async function () {
    const { batchId } = await batchOnA(w);
    const g = await client();
    const pipe = randomHex();
    const fromBlock = await g.chain.status().then((s) => s.height);
    const data = drug.encodeFunctionData("continueCustody", [
      batchId,
      w.c.business.a.accounts.operator.address,
      randomHex(),
    ]) as Hex;
    const request = {
      pipeId: pipe,
      sequence: 1n,
      deadline: await deadlineIn(3600),
      contractName: name,
      operation: 1,
      data,
      fromBlock,
    };
    const first = await g.ensureExecuted(attested(request));
    expect(first).to.deep.include({ success: true, operation: 1, requestId: g.requestId(pipe, 1n) });
    expect(first.resultHash).to.equal(keccak256("0x"));
    const again = await g.ensureExecuted(attested(request));
    const restarted = await (await client()).findExecution(pipe, 1n, fromBlock);
    expect(again).to.deep.equal(first);
    expect(restarted).to.deep.equal(first);
    expect(await custodyLength(w, "a", batchId)).to.equal(1n);

    const undone = await g.ensureCompensated(pipe, 1n, fromBlock);
    expect(undone.success).to.equal(true);
    expect(await g.ensureCompensated(pipe, 1n, fromBlock)).to.deep.equal(undone);
    expect(await custodyLength(w, "a", batchId)).to.equal(0n);
  });

  it("records a business revert as a failed result with the revert data's hash; it cannot be undone", async function () {
    const { batchId } = await batchOnA(w);
    const g = await client();
    const pipe = randomHex();
    const data = drug.encodeFunctionData("continueCustody", [batchId, ZERO_ADDRESS, randomHex()]) as Hex;
    const failed = await g.ensureExecuted(
      attested({
        pipeId: pipe,
        sequence: 3n,
        deadline: await deadlineIn(3600),
        contractName: name,
        operation: 1,
        data,
        fromBlock: 0n,
      }),
    );
    expect(failed.success).to.equal(false);
    expect(failed.returnData).to.not.equal(null);
    expect(failed.resultHash).to.equal(keccak256(failed.returnData!));
    const refused = await expectCcgpError(() => g.ensureCompensated(pipe, 3n, 0n), "CONTRACT_REVERTED");
    expect((refused as ContractError).errorName).to.equal("SubchainGatewayRequestFailed");
  });

  it("returns a read's data, and decodes the gateway's refusals", async function () {
    const { batchId } = await batchOnA(w);
    const g = await client();
    const data = drug.encodeFunctionData("batch", [batchId]) as Hex;
    const deadline = await deadlineIn(3600);
    const read = await g.ensureExecuted(
      attested({ pipeId: randomHex(), sequence: 1n, deadline, contractName: name, operation: 0, data, fromBlock: 0n }),
    );
    expect(read.success).to.equal(true);
    const decoded = decodeFunctionResult({
      abi: IDrugTraceability__factory.abi,
      functionName: "batch",
      data: read.returnData!,
    });
    expect(decoded.manufacturer.toLowerCase()).to.equal(w.c.business.a.accounts.operator.address.toLowerCase());
    const unknown = await expectCcgpError(
      () =>
        g.ensureExecuted(
          attested({
            pipeId: randomHex(),
            sequence: 1n,
            deadline,
            contractName: randomHex(),
            operation: 1,
            data,
            fromBlock: 0n,
          }),
        ),
      "CONTRACT_REVERTED",
    );
    expect((unknown as ContractError).errorName).to.equal("SubchainGatewayContractNotRegistered");
  });

  it("passes the packet's deadline: the gateway refuses a packet past it and runs nothing", async function () {
    const { batchId } = await batchOnA(w);
    const g = await client();
    const pipe = randomHex();
    const data = drug.encodeFunctionData("continueCustody", [
      batchId,
      w.c.business.a.accounts.operator.address,
      randomHex(),
    ]) as Hex;
    const deadline = await deadlineIn(-1);
    const expired = await expectCcgpError(
      () =>
        g.ensureExecuted(
          attested({ pipeId: pipe, sequence: 1n, deadline, contractName: name, operation: 1, data, fromBlock: 0n }),
        ),
      "CONTRACT_REVERTED",
    );
    expect((expired as ContractError).errorName).to.equal("SubchainGatewayPacketExpired");
    expect((await g.record(pipe, 1n)).target).to.equal(ZERO_ADDRESS);
    expect(await custodyLength(w, "a", batchId)).to.equal(0n);
  });
});
