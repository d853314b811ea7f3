/**
 * Gas of the sub-chain gateway's main operations, and the overhead of an inbound write over the same business call
 * made directly (target: at most 30k), in the three cases of its record word: already written by an earlier packet
 * (11 packets in 12), reserved ahead, or fresh. Every contract is deployed fresh here, so the figures do not
 * depend on the modules run before this one.
 */
import { ethers } from "hardhat";
import type { ContractTransactionResponse, TransactionResponse } from "ethers";
import type { BenchModule, Reporter } from "./lib/report";

const READ = 0;
const WRITE = 1;
const PIPE = ethers.id("bench:pipe");
const EVIDENCE = ethers.id("EvidenceDeposit");
const DRUG = ethers.id("DrugTraceability");
const OVERHEAD_TARGET = 30_000n;
const DAY = 24 * 60 * 60;

async function gasOf(tx: Promise<ContractTransactionResponse | TransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (!receipt || receipt.status !== 1) throw new Error("benchmark transaction failed");
  return receipt.gasUsed;
}

async function deploy() {
  const [admin, relayer, app, fakeGateway, depositor] = await ethers.getSigners();
  const gateway = await ethers.deployContract("SubchainGateway", [admin.address, 4096]);
  await gateway.grantRole(await gateway.RELAYER_ROLE(), relayer.address);
  const evidence = await ethers.deployContract("EvidenceDeposit", [gateway, admin.address]);
  const drug = await ethers.deployContract("DrugTraceability", [gateway, admin.address]);
  await gateway.registerContract(EVIDENCE, evidence);
  await gateway.registerContract(DRUG, drug);
  // The same business contract with an account as its "gateway": the direct call of the comparison.
  const directEvidence = await ethers.deployContract("EvidenceDeposit", [fakeGateway.address, admin.address]);
  return { gateway, evidence, drug, directEvidence, relayer, app, fakeGateway, depositor };
}

async function run(report: Reporter): Promise<void> {
  const { gateway, evidence, drug, directEvidence, relayer, app, fakeGateway, depositor } = await deploy();
  const deposit = (n: number) =>
    evidence.interface.encodeFunctionData("depositCrossChain", [
      ethers.id(`evidence-${n}`),
      depositor.address,
      ethers.id("meta"),
    ]);
  // A realistic packet deadline (an hour ahead: four non-zero calldata bytes, as a real unix time has).
  const packetDeadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp + 3600);
  const execute = (n: number, operation: number, name: string, data: string) =>
    gateway.connect(relayer).execute(PIPE, n, packetDeadline, name, operation, data);
  // The direct call gets the same calldata as the gateway forwards: the business call and the request id.
  const direct = async (n: number) =>
    fakeGateway.sendTransaction({
      to: directEvidence,
      data: ethers.concat([deposit(n), await gateway.inboundRequestId(PIPE, n)]),
    });
  const overheadOf = async (n: number): Promise<bigint> => {
    const viaGateway = await gasOf(execute(n, WRITE, EVIDENCE, deposit(n)));
    return viaGateway - (await gasOf(direct(n)));
  };
  const showOverhead = (label: string, overhead: bigint) => {
    const verdict =
      overhead <= OVERHEAD_TARGET ? "met" : `missed by ${(overhead - OVERHEAD_TARGET).toLocaleString("en-US")} gas`;
    report.figure(`subchain-gateway: overhead, ${label}`, Number(overhead), `gas (target <= 30,000: ${verdict})`);
  };

  // Warm-up: the pipe's first record word and both contracts' version slots become non-zero, as in steady state.
  await execute(1, WRITE, EVIDENCE, deposit(1));
  await direct(1);

  const payload = drug.interface.encodeFunctionData("continueCustody", [
    ethers.id("batch"),
    app.address,
    ethers.id("d"),
  ]);
  report.gas(
    "subchain-gateway: request (outbound write, 100-byte payload)",
    await gasOf(gateway.connect(app).request(PIPE, DRUG, WRITE, payload)),
  );

  const viaGateway = await gasOf(execute(2, WRITE, EVIDENCE, deposit(2)));
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
    await gasOf(execute(3, WRITE, DRUG, custody)),
  );

  const verify = evidence.interface.encodeFunctionData("verify", [ethers.id("evidence-2")]);
  report.gas(
    "subchain-gateway: execute read (EvidenceDeposit.verify)",
    await gasOf(execute(4, READ, EVIDENCE, verify)),
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
  report.gas(
    "subchain-gateway: prepare (DrugTraceability, 1 key)",
    await gasOf(gateway.connect(relayer).prepare(ethers.id("tx-1"), PIPE, DRUG, staged, await deadline())),
  );
  report.gas(
    "subchain-gateway: commit (DrugTraceability)",
    await gasOf(gateway.connect(relayer).commit(ethers.id("tx-1"))),
  );
  await gateway.connect(relayer).prepare(ethers.id("tx-2"), PIPE, DRUG, staged, await deadline());
  report.gas(
    "subchain-gateway: rollback (DrugTraceability)",
    await gasOf(gateway.connect(relayer).rollback(ethers.id("tx-2"))),
  );
}

export const subchainGatewayBench: BenchModule = { name: "subchain-gateway", kind: "gas", run };
