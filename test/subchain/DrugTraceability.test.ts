import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import {
  FAR_DEADLINE,
  NAMES,
  PIPE,
  OPERATION_WRITE,
  batchId,
  continueCustodyData,
  dataHash,
  deployGatewayFixture,
  gatewaySigner,
  interfaceId,
  requestId,
  txId,
} from "./fixtures";
import { attested } from "../helpers/attest";

describe("DrugTraceability (example business contract)", function () {
  async function recordedFixture() {
    const f = await deployGatewayFixture();
    await f.drug.connect(f.manufacturer).recordBatch(batchId(1), f.manufacturer.address, dataHash("batch-1"));
    return f;
  }

  it("refuses the zero gateway", async function () {
    const [admin] = await ethers.getSigners();
    const factory = await ethers.getContractFactory("DrugTraceability");
    await expect(factory.deploy(ethers.ZeroAddress, admin.address))
      .to.be.revertedWithCustomError(factory, "CrossChainBusinessInvalidGateway")
      .withArgs(ethers.ZeroAddress);
  });

  it("answers ERC-165 for ICrossChainBusiness, ITwoPhaseBusiness, IAccessControl, IERC165", async function () {
    const { drug, gateway } = await loadFixture(deployGatewayFixture);
    expect(await drug.gateway()).to.equal(await gateway.getAddress());
    const business = interfaceId(["gateway()", "compensate(bytes32)", "stateVersion(bytes32)"]);
    const twoPhase = interfaceId(["prepare(bytes32,bytes)", "commit(bytes32)", "rollback(bytes32)"]);
    for (const id of [business, twoPhase, "0x7965db0b", "0x01ffc9a7"])
      expect(await drug.supportsInterface(id)).to.equal(true);
    expect(await drug.supportsInterface("0xffffffff")).to.equal(false);
  });

  describe("recordBatch (local, MANUFACTURER_ROLE)", function () {
    it("records a batch and moves its version", async function () {
      const { drug, manufacturer } = await loadFixture(deployGatewayFixture);
      await expect(drug.connect(manufacturer).recordBatch(batchId(1), manufacturer.address, dataHash("b")))
        .to.emit(drug, "BatchRecorded")
        .withArgs(batchId(1), manufacturer.address, dataHash("b"));
      const stored = await drug.batch(batchId(1));
      expect(stored.manufacturer).to.equal(manufacturer.address);
      expect(stored.dataHash).to.equal(dataHash("b"));
      expect(stored.recordedAt).to.be.greaterThan(0);
      expect(await drug.stateVersion(batchId(1))).to.equal(1);
      expect(await drug.stateVersion(ethers.ZeroHash)).to.equal(1);
    });

    it("refuses a caller without the role, a zero batch, a zero manufacturer, a batch recorded twice", async function () {
      const { drug, manufacturer, stranger } = await loadFixture(recordedFixture);
      await expect(drug.connect(stranger).recordBatch(batchId(2), stranger.address, dataHash("b")))
        .to.be.revertedWithCustomError(drug, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, await drug.MANUFACTURER_ROLE());
      await expect(drug.connect(manufacturer).recordBatch(ethers.ZeroHash, manufacturer.address, dataHash("b")))
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityInvalidBatch")
        .withArgs(ethers.ZeroHash);
      await expect(drug.connect(manufacturer).recordBatch(batchId(2), ethers.ZeroAddress, dataHash("b")))
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityInvalidParty")
        .withArgs(ethers.ZeroAddress);
      await expect(drug.connect(manufacturer).recordBatch(batchId(1), manufacturer.address, dataHash("again")))
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityBatchExists")
        .withArgs(batchId(1));
    });
  });

  describe("recordCustody (local, CUSTODIAN_ROLE) and the custody views", function () {
    it("appends a local step with a zero request id", async function () {
      const { drug, custodian } = await loadFixture(recordedFixture);
      await expect(drug.connect(custodian).recordCustody(batchId(1), custodian.address, dataHash("truck")))
        .to.emit(drug, "CustodyContinued")
        .withArgs(batchId(1), custodian.address, ethers.ZeroHash, dataHash("truck"), 0);
      expect(await drug.custodyLength(batchId(1))).to.equal(1);
      const step = await drug.custodyStep(batchId(1), 0);
      expect([step.custodian, step.dataHash, step.requestId]).to.deep.equal([
        custodian.address,
        dataHash("truck"),
        ethers.ZeroHash,
      ]);
      expect(await drug.stateVersion(batchId(1))).to.equal(2);
    });

    it("refuses a caller without the role, zero ids, a step out of range", async function () {
      const { drug, custodian, stranger } = await loadFixture(recordedFixture);
      await expect(drug.connect(stranger).recordCustody(batchId(1), stranger.address, dataHash("x")))
        .to.be.revertedWithCustomError(drug, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, await drug.CUSTODIAN_ROLE());
      await expect(drug.connect(custodian).recordCustody(ethers.ZeroHash, custodian.address, dataHash("x")))
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityInvalidBatch")
        .withArgs(ethers.ZeroHash);
      await expect(drug.connect(custodian).recordCustody(batchId(1), ethers.ZeroAddress, dataHash("x")))
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityInvalidParty")
        .withArgs(ethers.ZeroAddress);
      await expect(drug.custodyStep(batchId(1), 0))
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityStepOutOfRange")
        .withArgs(batchId(1), 0);
    });
  });

  describe("requestCustodyTransfer (chain-initiated write)", function () {
    it("asks the gateway for a continueCustody write on the remote chain, as the requesting contract", async function () {
      const { drug, gateway, custodian, stranger } = await loadFixture(recordedFixture);
      const payload = continueCustodyData(drug, batchId(1), stranger.address, dataHash("handover"));
      const remoteName = ethers.id("DrugTraceability@chainB");
      const id = await drug
        .connect(custodian)
        .requestCustodyTransfer.staticCall(PIPE, remoteName, batchId(1), stranger.address, dataHash("handover"));
      await expect(
        drug
          .connect(custodian)
          .requestCustodyTransfer(PIPE, remoteName, batchId(1), stranger.address, dataHash("handover")),
      )
        .to.emit(gateway, "CrossChainRequested")
        .withArgs(id, PIPE, await drug.getAddress(), remoteName, OPERATION_WRITE, payload, 1)
        .and.to.emit(drug, "CustodyTransferRequested")
        .withArgs(batchId(1), id, stranger.address, PIPE);
    });

    it("refuses a caller without the role, an unknown batch, a zero next custodian", async function () {
      const { drug, custodian, stranger } = await loadFixture(recordedFixture);
      const remoteName = ethers.id("DrugTraceability@chainB");
      await expect(
        drug.connect(stranger).requestCustodyTransfer(PIPE, remoteName, batchId(1), stranger.address, dataHash("x")),
      )
        .to.be.revertedWithCustomError(drug, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, await drug.CUSTODIAN_ROLE());
      await expect(
        drug.connect(custodian).requestCustodyTransfer(PIPE, remoteName, batchId(9), stranger.address, dataHash("x")),
      )
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityUnknownBatch")
        .withArgs(batchId(9));
      await expect(
        drug.connect(custodian).requestCustodyTransfer(PIPE, remoteName, batchId(1), ethers.ZeroAddress, dataHash("x")),
      )
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityInvalidParty")
        .withArgs(ethers.ZeroAddress);
    });

    it("accepts a batch known here only through custody", async function () {
      const { drug, custodian, stranger } = await loadFixture(deployGatewayFixture);
      await drug.connect(custodian).recordCustody(batchId(5), custodian.address, dataHash("arrived"));
      await expect(
        drug
          .connect(custodian)
          .requestCustodyTransfer(PIPE, ethers.id("remote"), batchId(5), stranger.address, dataHash("x")),
      ).to.emit(drug, "CustodyTransferRequested");
    });
  });

  describe("gateway-only entry points and hooks", function () {
    it("refuses continueCustody, compensate, prepare, commit, rollback from anyone but the gateway", async function () {
      const { drug, stranger, custodian } = await loadFixture(recordedFixture);
      const calls: [() => Promise<unknown>, string][] = [
        [
          () => drug.connect(custodian).continueCustody(batchId(1), custodian.address, dataHash("x")),
          custodian.address,
        ],
        [() => drug.connect(stranger).compensate(requestId(1)), stranger.address],
        [
          () =>
            drug
              .connect(stranger)
              .prepare(txId(1), continueCustodyData(drug, batchId(1), stranger.address, dataHash("x"))),
          stranger.address,
        ],
        [() => drug.connect(stranger).commit(txId(1)), stranger.address],
        [() => drug.connect(stranger).rollback(txId(1)), stranger.address],
      ];
      for (const [call, caller] of calls) {
        await expect(call())
          .to.be.revertedWithCustomError(drug, "CrossChainBusinessUnauthorizedGateway")
          .withArgs(caller);
      }
    });

    it("refuses to compensate a request that wrote nothing here", async function () {
      const { drug, gateway } = await loadFixture(recordedFixture);
      const gw = await gatewaySigner(gateway);
      await expect(drug.connect(gw).compensate(requestId(7)))
        .to.be.revertedWithCustomError(drug, "CrossChainBusinessUnknownRequest")
        .withArgs(requestId(7));
    });

    it("refuses to commit or roll back a transaction with nothing staged", async function () {
      const { drug, gateway } = await loadFixture(recordedFixture);
      const gw = await gatewaySigner(gateway);
      await expect(drug.connect(gw).commit(txId(7)))
        .to.be.revertedWithCustomError(drug, "TwoPhaseBusinessUnknownTx")
        .withArgs(txId(7));
      await expect(drug.connect(gw).rollback(txId(7)))
        .to.be.revertedWithCustomError(drug, "TwoPhaseBusinessUnknownTx")
        .withArgs(txId(7));
    });

    it("a cross-chain step then a local step: the cross-chain one can no longer be undone automatically", async function () {
      const { drug, gateway, relayer, custodian, inboundId } = await loadFixture(recordedFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("in"));
      await attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data);
      await drug.connect(custodian).recordCustody(batchId(1), custodian.address, dataHash("local"));
      const refusal = drug.interface.encodeErrorResult("DrugTraceabilityStepNotLast", [batchId(1), inboundId(1)]);
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.emit(gateway, "Compensated")
        .withArgs(inboundId(1), PIPE, 1, await drug.getAddress(), false, refusal);
    });
  });
});
