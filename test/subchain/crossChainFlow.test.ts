import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionResponse } from "ethers";
import type { SubchainGateway } from "../../typechain-types";
import { FAR_DEADLINE, MAX_PAYLOAD, PIPE, OPERATION_READ, OPERATION_WRITE, batchId, dataHash } from "./fixtures";
import { attested, deployGateway } from "../helpers/attest";

const DRUG = ethers.id("DrugTraceability");
const EVIDENCE = ethers.id("EvidenceDeposit");

/** The fields a relayer takes from a `CrossChainRequested` event. */
interface Requested {
  requestId: string;
  pipeId: string;
  sender: string;
  contractName: string;
  operation: bigint;
  payload: string;
  nonce: bigint;
}

async function requestedIn(gateway: SubchainGateway, tx: ContractTransactionResponse): Promise<Requested> {
  const receipt = await tx.wait();
  for (const log of receipt!.logs) {
    const parsed = gateway.interface.parseLog(log);
    if (parsed?.name === "CrossChainRequested") return parsed.args.toObject() as unknown as Requested;
  }
  throw new Error("no CrossChainRequested event in the transaction");
}

/**
 * Two sub-chains, each with its gateway, its relayer and both example contracts; the test plays the relayers:
 * it reads the request on the source gateway and executes it on the target gateway, as the chain-initiated mode.
 */
describe("cross-chain flow between two gateways (chain-initiated mode)", function () {
  async function twoChainsFixture() {
    const [adminA, adminB, relayerA, relayerB, manufacturer, custodianA, custodianB, depositor] =
      await ethers.getSigners();
    async function subchain(admin: typeof adminA, relayer: typeof adminA) {
      const gateway = await deployGateway(admin.address, MAX_PAYLOAD, { from: admin });
      await gateway.grantRole(await gateway.RELAYER_ROLE(), relayer.address);
      const drug = await ethers.deployContract("DrugTraceability", [gateway, admin.address], admin);
      const evidence = await ethers.deployContract("EvidenceDeposit", [gateway, admin.address], admin);
      await gateway.registerContract(DRUG, drug);
      await gateway.registerContract(EVIDENCE, evidence);
      return { gateway, drug, evidence };
    }
    const a = await subchain(adminA, relayerA);
    const b = await subchain(adminB, relayerB);
    await a.drug.connect(adminA).grantRole(await a.drug.MANUFACTURER_ROLE(), manufacturer.address);
    await a.drug.connect(adminA).grantRole(await a.drug.CUSTODIAN_ROLE(), custodianA.address);
    await b.drug.connect(adminB).grantRole(await b.drug.CUSTODIAN_ROLE(), custodianB.address);
    await a.evidence.connect(adminA).grantRole(await a.evidence.DEPOSITOR_ROLE(), depositor.address);
    return { a, b, relayerA, relayerB, manufacturer, custodianA, custodianB, depositor };
  }

  it("a batch recorded on chain A continues its custody on chain B, and the step is compensated", async function () {
    const { a, b, relayerB, manufacturer, custodianA, custodianB } = await loadFixture(twoChainsFixture);
    await a.drug.connect(manufacturer).recordBatch(batchId(1), manufacturer.address, dataHash("made"));
    await a.drug.connect(custodianA).recordCustody(batchId(1), custodianA.address, dataHash("plant"));

    const tx = await a.drug
      .connect(custodianA)
      .requestCustodyTransfer(PIPE, DRUG, batchId(1), custodianB.address, dataHash("distributor"));
    const req = await requestedIn(a.gateway, tx);
    expect(req.sender).to.equal(await a.drug.getAddress());
    expect(req.operation).to.equal(BigInt(OPERATION_WRITE));

    // Relayer B delivers the packet as (pipe, sequence), here the nonce; gateway B derives the step's request id.
    const stepId = await b.gateway.inboundRequestId(req.pipeId, req.nonce);
    expect(stepId).to.not.equal(req.requestId);
    await expect(
      attested(b.gateway, relayerB).execute(
        req.pipeId,
        req.nonce,
        FAR_DEADLINE,
        req.contractName,
        Number(req.operation),
        req.payload,
      ),
    )
      .to.emit(b.gateway, "InboundExecuted")
      .withArgs(stepId, PIPE, req.nonce, await b.drug.getAddress(), OPERATION_WRITE, true, ethers.keccak256("0x"), 1);
    const step = await b.drug.custodyStep(batchId(1), 0);
    expect([step.custodian, step.requestId]).to.deep.equal([custodianB.address, stepId]);

    // Delivering the same packet again is refused; the ledger then orders the compensation.
    await expect(
      attested(b.gateway, relayerB).execute(
        req.pipeId,
        req.nonce,
        FAR_DEADLINE,
        req.contractName,
        OPERATION_WRITE,
        req.payload,
      ),
    )
      .to.be.revertedWithCustomError(b.gateway, "SubchainGatewayRequestAlreadyExecuted")
      .withArgs(req.pipeId, req.nonce);
    await expect(b.gateway.connect(relayerB).compensate(req.pipeId, req.nonce))
      .to.emit(b.gateway, "Compensated")
      .withArgs(stepId, PIPE, req.nonce, await b.drug.getAddress(), true, "0x");
    expect(await b.drug.custodyLength(batchId(1))).to.equal(0);
    // Chain A's own record is untouched.
    expect(await a.drug.custodyLength(batchId(1))).to.equal(1);
  });

  it("chain B verifies evidence deposited on chain A through a cross-chain read", async function () {
    const { a, b, relayerA, depositor } = await loadFixture(twoChainsFixture);
    const evidenceHash = ethers.id("judgment.pdf");
    await a.evidence.connect(depositor).deposit(evidenceHash, ethers.id("meta"));

    const tx = await b.evidence.requestRemoteVerification(PIPE, EVIDENCE, evidenceHash);
    const req = await requestedIn(b.gateway, tx);
    expect(req.operation).to.equal(BigInt(OPERATION_READ));

    const delivery = await attested(a.gateway, relayerA).execute(
      req.pipeId,
      req.nonce,
      FAR_DEADLINE,
      req.contractName,
      OPERATION_READ,
      req.payload,
    );
    const receipt = await delivery.wait();
    const parsed = receipt!.logs.map((log) => a.gateway.interface.parseLog(log)).filter((l) => l !== null);
    const executed = parsed.find((l) => l.name === "InboundExecuted")!.args;
    const returned = parsed.find((l) => l.name === "ReturnDataRecorded")!.args.returnData as string;
    expect(executed.success).to.equal(true);
    expect(executed.resultHash).to.equal(ethers.keccak256(returned));
    const [exists, who] = ethers.AbiCoder.defaultAbiCoder().decode(["bool", "address", "uint64"], returned);
    expect([exists, who]).to.deep.equal([true, depositor.address]);
  });

  it("a relayer of one sub-chain cannot execute on the other", async function () {
    const { b, relayerA } = await loadFixture(twoChainsFixture);
    const payload = b.evidence.interface.encodeFunctionData("verify", [ethers.id("x")]);
    await expect(attested(b.gateway, relayerA).execute(PIPE, 1, FAR_DEADLINE, EVIDENCE, OPERATION_READ, payload))
      .to.be.revertedWithCustomError(b.gateway, "SubchainGatewayUnauthorizedRelayer")
      .withArgs(relayerA.address);
    expect((await b.gateway.inboundRecord(PIPE, 1)).target).to.equal(ethers.ZeroAddress);
  });
});
