/**
 * Gas of the sub-chain gateway's main operations, and the overhead of an inbound write over the same business call
 * made directly (target: at most 30k plus 6k per attestation), in the three cases of its record word: already
 * written by an earlier packet (11 packets in 12), reserved ahead, or fresh; and with k = 1, 2, 3 and 5
 * attestations. Every contract is deployed fresh here, so the figures do not depend on the modules run before this
 * one.
 */
import { ethers } from "hardhat";
import { Wallet, type BytesLike, type ContractTransactionResponse, type TransactionResponse } from "ethers";
import type { SubchainGateway } from "../typechain-types";
import { ATTESTATION_TYPES, attestationOf, domainOf, type Packet } from "../test/helpers/attest";
import type { BenchModule, Reporter } from "./lib/report";
import { OPERATION_READ, OPERATION_TWO_PHASE_WRITE, OPERATION_WRITE } from "../lib/domain/enums.generated";

const PIPE = ethers.id("bench:pipe");
const EVIDENCE = ethers.id("EvidenceDeposit");
const DRUG = ethers.id("DrugTraceability");
const OVERHEAD_BASE = 30_000n;
const PER_ATTESTATION = 6_000n;
const DAY = 24 * 60 * 60;
const SUBCHAIN = ethers.id("bench:subchain");

/** Deterministic attester keys (the figures must not depend on random addresses' zero bytes). */
const attesterKeys = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => new Wallet(ethers.id(`bench:attester:${tag}:${i}`)));

async function attestationsOf(
  gateway: SubchainGateway,
  keys: Wallet[],
  packet: Packet,
  data: BytesLike,
): Promise<string> {
  const domain = domainOf({
    chainId: (await ethers.provider.getNetwork()).chainId,
    gateway: await gateway.getAddress(),
  });
  const value = attestationOf(packet, data, domain.verifyingContract, SUBCHAIN);
  return ethers.concat(await Promise.all(keys.map((k) => k.signTypedData(domain, ATTESTATION_TYPES, value))));
}

async function gasOf(tx: Promise<ContractTransactionResponse | TransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (!receipt || receipt.status !== 1) throw new Error("benchmark transaction failed");
  return receipt.gasUsed;
}

async function deploy(k = 1) {
  const [admin, relayer, app, fakeGateway, depositor] = await ethers.getSigners();
  // k of 2k - 1: the largest set a threshold of k allows (more than half).
  const keys = attesterKeys(2 * k - 1, `k${k}`);
  const gateway = (await ethers.deployContract("SubchainGateway", [
    admin.address,
    4096,
    SUBCHAIN,
    keys.map((w) => w.address),
    k,
    1,
  ])) as unknown as SubchainGateway;
  await gateway.grantRole(await gateway.RELAYER_ROLE(), relayer.address);
  const evidence = await ethers.deployContract("EvidenceDeposit", [gateway, admin.address]);
  const drug = await ethers.deployContract("DrugTraceability", [gateway, admin.address]);
  await gateway.registerContract(EVIDENCE, evidence);
  await gateway.registerContract(DRUG, drug);
  // The same business contract with an account as its "gateway": the direct call of the comparison.
  const directEvidence = await ethers.deployContract("EvidenceDeposit", [fakeGateway.address, admin.address]);
  return { gateway, evidence, drug, directEvidence, relayer, app, fakeGateway, depositor, signers: keys.slice(0, k) };
}

const verdictOf = (overhead: bigint, target: bigint) =>
  overhead <= target ? "met" : `missed by ${(overhead - target).toLocaleString("en-US")} gas`;

/** The overhead of an inbound write (record word in use) with k attestations, k = 1, 2, 3, 5. */
async function attestationOverheads(report: Reporter): Promise<void> {
  for (const k of [1, 2, 3, 5]) {
    const { gateway, evidence, directEvidence, relayer, fakeGateway, depositor, signers } = await deploy(k);
    const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp + 3600);
    const write = async (n: number) => {
      const data = evidence.interface.encodeFunctionData("depositCrossChain", [
        ethers.id(`evidence-${n}`),
        depositor.address,
        ethers.id("meta"),
      ]);
      const packet: Packet = {
        txId: ethers.id(`bench:tx:${n}`),
        pipeId: PIPE,
        sequence: n,
        deadline,
        contractName: EVIDENCE,
        operation: OPERATION_WRITE,
      };
      const via = await gasOf(
        gateway.connect(relayer).execute(packet, data, await attestationsOf(gateway, signers, packet, data)),
      );
      const direct = await gasOf(
        fakeGateway.sendTransaction({
          to: directEvidence,
          data: ethers.concat([data, await gateway.inboundRequestId(PIPE, n)]),
        }),
      );
      return via - direct;
    };
    await write(1); // warm-up, as below
    const overhead = await write(2);
    const target = OVERHEAD_BASE + PER_ATTESTATION * BigInt(k);
    report.figure(
      `subchain-gateway: overhead with ${k} attestation(s), record word in use`,
      Number(overhead),
      `gas (target <= ${target.toLocaleString("en-US")}: ${verdictOf(overhead, target)})`,
    );
  }
}

async function run(report: Reporter): Promise<void> {
  const { gateway, evidence, drug, directEvidence, relayer, app, fakeGateway, depositor, signers } = await deploy();
  const deposit = (n: number) =>
    evidence.interface.encodeFunctionData("depositCrossChain", [
      ethers.id(`evidence-${n}`),
      depositor.address,
      ethers.id("meta"),
    ]);
  // A realistic packet deadline (an hour ahead: four non-zero calldata bytes, as a real unix time has).
  const packetDeadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp + 3600);
  const execute = async (n: number, operation: number, name: string, data: string) => {
    const packet: Packet = {
      txId: ethers.id(`bench:tx:${n}`),
      pipeId: PIPE,
      sequence: n,
      deadline: packetDeadline,
      contractName: name,
      operation,
    };
    return gateway.connect(relayer).execute(packet, data, await attestationsOf(gateway, signers, packet, data));
  };
  // The direct call gets the same calldata as the gateway forwards: the business call and the request id.
  const direct = async (n: number) =>
    fakeGateway.sendTransaction({
      to: directEvidence,
      data: ethers.concat([deposit(n), await gateway.inboundRequestId(PIPE, n)]),
    });
  const overheadOf = async (n: number): Promise<bigint> => {
    const viaGateway = await gasOf(execute(n, OPERATION_WRITE, EVIDENCE, deposit(n)));
    return viaGateway - (await gasOf(direct(n)));
  };
  // One attestation (k = 1): the target is 30k plus 6k.
  const target = OVERHEAD_BASE + PER_ATTESTATION;
  const showOverhead = (label: string, overhead: bigint) =>
    report.figure(
      `subchain-gateway: overhead, ${label}`,
      Number(overhead),
      `gas (target <= 36,000: ${verdictOf(overhead, target)})`,
    );

  // Warm-up: the pipe's first record word and both contracts' version slots become non-zero, as in steady state.
  await execute(1, OPERATION_WRITE, EVIDENCE, deposit(1));
  await direct(1);

  const payload = drug.interface.encodeFunctionData("continueCustody", [
    ethers.id("batch"),
    app.address,
    ethers.id("d"),
  ]);
  report.gas(
    "subchain-gateway: request (outbound write, 100-byte payload)",
    await gasOf(gateway.connect(app).request(PIPE, DRUG, OPERATION_WRITE, payload)),
  );

  const viaGateway = await gasOf(execute(2, OPERATION_WRITE, EVIDENCE, deposit(2)));
  const directCall = await gasOf(direct(2));
  report.gas("subchain-gateway: execute write (EvidenceDeposit.depositCrossChain)", viaGateway);
  report.gas("subchain-gateway: same write called directly", directCall);
  const inUse = viaGateway - directCall;
  showOverhead("record word in use (execute - direct)", inUse);
  // Sequence 24 opens word 2 of the pipe; word 3 (sequences 36-47) is reserved ahead, outside the delivery path.
  const fresh = await overheadOf(24);
  showOverhead("fresh record word (1 packet in 12)", fresh);
  showOverhead("mean over 12 packets, none reserved", (11n * inUse + fresh) / 12n);
  report.gas(
    "subchain-gateway: reserveInboundRecords (1 word)",
    await gasOf(gateway.connect(relayer).reserveInboundRecords(PIPE, 36, 1)),
  );
  showOverhead("record word reserved ahead", await overheadOf(36));

  const custody = drug.interface.encodeFunctionData("continueCustody", [
    ethers.id("batch-1"),
    app.address,
    ethers.id("d"),
  ]);
  report.gas(
    "subchain-gateway: execute write (DrugTraceability.continueCustody)",
    await gasOf(execute(3, OPERATION_WRITE, DRUG, custody)),
  );

  const verify = evidence.interface.encodeFunctionData("verify", [ethers.id("evidence-2")]);
  report.gas(
    "subchain-gateway: execute read (EvidenceDeposit.verify)",
    await gasOf(execute(4, OPERATION_READ, EVIDENCE, verify)),
  );

  report.gas(
    "subchain-gateway: compensate (EvidenceDeposit)",
    await gasOf(gateway.connect(relayer).compensate(PIPE, 2)),
  );

  const staged = drug.interface.encodeFunctionData("continueCustody", [
    ethers.id("batch-2"),
    app.address,
    ethers.id("d"),
  ]);
  const deadline = async () => (await ethers.provider.getBlock("latest"))!.timestamp + DAY;
  const prepare = async (tx: string) => {
    const packet: Packet = {
      txId: ethers.id(tx),
      pipeId: PIPE,
      sequence: 100,
      deadline: await deadline(),
      contractName: DRUG,
      operation: OPERATION_WRITE,
    };
    // Attested as the two-phase write the ledger opens (operation 2), which only a prepare accepts.
    const attested = await attestationsOf(
      gateway,
      signers,
      { ...packet, operation: OPERATION_TWO_PHASE_WRITE },
      staged,
    );
    return gateway.connect(relayer).prepare(packet, staged, attested);
  };
  report.gas("subchain-gateway: prepare (DrugTraceability, 1 key)", await gasOf(prepare("tx-1")));
  report.gas(
    "subchain-gateway: commit (DrugTraceability)",
    await gasOf(gateway.connect(relayer).commit(ethers.id("tx-1"))),
  );
  await prepare("tx-2");
  report.gas(
    "subchain-gateway: rollback (DrugTraceability)",
    await gasOf(gateway.connect(relayer).rollback(ethers.id("tx-2"))),
  );
  await attestationOverheads(report);
}

export const subchainGatewayBench: BenchModule = { name: "subchain-gateway", kind: "gas", run };
