import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import {
  MAX_PAYLOAD,
  NAMES,
  PIPE,
  TxStatus,
  WRITE,
  batchId,
  continueCustodyData,
  dataHash,
  deployGatewayFixture,
  requestId,
  txId,
} from "./fixtures";

describe("SubchainGateway: two-phase transactions (prepare / commit / rollback)", function () {
  async function preparedFixture() {
    const f = await deployGatewayFixture();
    const data = continueCustodyData(f.drug, batchId(1), f.custodian.address, dataHash("2pc"));
    await f.gateway.connect(f.relayer).prepare(txId(1), PIPE, NAMES.drug, data);
    return f;
  }

  describe("prepare", function () {
    it("stages the write in the business contract and locks the keys it reports", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("2pc"));
      expect(await gateway.connect(relayer).prepare.staticCall(txId(1), PIPE, NAMES.drug, data)).to.deep.equal([
        batchId(1),
      ]);
      await expect(gateway.connect(relayer).prepare(txId(1), PIPE, NAMES.drug, data))
        .to.emit(gateway, "TwoPhasePrepared")
        .withArgs(txId(1), PIPE, await drug.getAddress(), NAMES.drug, [batchId(1)])
        .and.to.emit(drug, "CustodyStaged")
        .withArgs(txId(1), batchId(1), custodian.address, dataHash("2pc"));
      expect(await gateway.lockHolder(drug, batchId(1))).to.equal(txId(1));
      expect(await gateway.twoPhaseTx(txId(1))).to.deep.equal([
        await drug.getAddress(),
        BigInt(TxStatus.Prepared),
        [batchId(1)],
      ]);
      // Staged, not applied.
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
    });

    it("refuses a second prepare touching a key another transaction locked; other keys stay free", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(preparedFixture);
      const sameBatch = continueCustodyData(drug, batchId(1), custodian.address, dataHash("other"));
      await expect(gateway.connect(relayer).prepare(txId(2), PIPE, NAMES.drug, sameBatch))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayKeyLocked")
        .withArgs(await drug.getAddress(), batchId(1), txId(1));
      const otherBatch = continueCustodyData(drug, batchId(2), custodian.address, dataHash("other"));
      await expect(gateway.connect(relayer).prepare(txId(2), PIPE, NAMES.drug, otherBatch))
        .to.emit(gateway, "TwoPhasePrepared")
        .withArgs(txId(2), PIPE, await drug.getAddress(), NAMES.drug, [batchId(2)]);
    });

    it("keeps every other write off a locked key, cross-chain and local", async function () {
      const { gateway, drug, relayer, custodian, manufacturer } = await loadFixture(preparedFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("ordinary"));
      const locked = drug.interface.encodeErrorResult("DrugTraceabilityBatchLocked", [batchId(1), txId(1)]);
      await expect(gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.drug, WRITE, data))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(requestId(1), PIPE, 1, await drug.getAddress(), WRITE, false, ethers.keccak256(locked), 0);
      await expect(drug.connect(custodian).recordCustody(batchId(1), custodian.address, dataHash("local")))
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityBatchLocked")
        .withArgs(batchId(1), txId(1));
      await expect(drug.connect(manufacturer).recordBatch(batchId(1), manufacturer.address, dataHash("late")))
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityBatchLocked")
        .withArgs(batchId(1), txId(1));
    });

    it("refuses a compensation of a write whose key is locked, and lets it through after the rollback", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      await gateway
        .connect(relayer)
        .execute(
          requestId(1),
          PIPE,
          1,
          NAMES.drug,
          WRITE,
          continueCustodyData(drug, batchId(1), custodian.address, dataHash("a")),
        );
      await gateway
        .connect(relayer)
        .prepare(txId(1), PIPE, NAMES.drug, continueCustodyData(drug, batchId(1), custodian.address, dataHash("b")));
      const locked = drug.interface.encodeErrorResult("DrugTraceabilityBatchLocked", [batchId(1), txId(1)]);
      await expect(gateway.connect(relayer).compensate(requestId(1)))
        .to.emit(gateway, "Compensated")
        .withArgs(requestId(1), await drug.getAddress(), false, locked);
      await gateway.connect(relayer).rollback(txId(1));
      await expect(gateway.connect(relayer).compensate(requestId(1)))
        .to.emit(gateway, "Compensated")
        .withArgs(requestId(1), await drug.getAddress(), true, "0x");
    });

    it("refuses a contract that did not opt in", async function () {
      const { gateway, evidence, relayer } = await loadFixture(deployGatewayFixture);
      const data = evidence.interface.encodeFunctionData("depositCrossChain", [
        ethers.id("e"),
        relayer.address,
        ethers.id("m"),
      ]);
      await expect(gateway.connect(relayer).prepare(txId(1), PIPE, NAMES.evidence, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTwoPhaseUnsupported")
        .withArgs(NAMES.evidence, await evidence.getAddress());
    });

    it("refuses a zero or reused transaction id, a zero pipe, an unregistered name, a large payload", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(preparedFixture);
      const data = continueCustodyData(drug, batchId(2), custodian.address, dataHash("x"));
      await expect(gateway.connect(relayer).prepare(ethers.ZeroHash, PIPE, NAMES.drug, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidTxId")
        .withArgs(ethers.ZeroHash);
      await expect(gateway.connect(relayer).prepare(txId(1), PIPE, NAMES.drug, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxExists")
        .withArgs(txId(1));
      await gateway.connect(relayer).commit(txId(1));
      await expect(gateway.connect(relayer).prepare(txId(1), PIPE, NAMES.drug, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxExists")
        .withArgs(txId(1));
      await expect(gateway.connect(relayer).prepare(txId(2), ethers.ZeroHash, NAMES.drug, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidPipe")
        .withArgs(ethers.ZeroHash);
      const unknown = ethers.id("Unknown");
      await expect(gateway.connect(relayer).prepare(txId(2), PIPE, unknown, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayContractNotRegistered")
        .withArgs(unknown);
      const tooLarge = ethers.concat([data, new Uint8Array(MAX_PAYLOAD + 1 - ethers.dataLength(data))]);
      await expect(gateway.connect(relayer).prepare(txId(2), PIPE, NAMES.drug, tooLarge))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayPayloadTooLarge")
        .withArgs(MAX_PAYLOAD + 1, MAX_PAYLOAD);
    });

    it("passes the business contract's refusal through and keeps nothing", async function () {
      const { gateway, drug, relayer, manufacturer } = await loadFixture(deployGatewayFixture);
      const notStageable = drug.interface.encodeFunctionData("recordBatch", [
        batchId(1),
        manufacturer.address,
        dataHash("x"),
      ]);
      await expect(gateway.connect(relayer).prepare(txId(1), PIPE, NAMES.drug, notStageable))
        .to.be.revertedWithCustomError(drug, "TwoPhaseBusinessUnsupportedCall")
        .withArgs(notStageable.slice(0, 10));
      await expect(gateway.connect(relayer).prepare(txId(1), PIPE, NAMES.drug, "0x01"))
        .to.be.revertedWithCustomError(drug, "TwoPhaseBusinessUnsupportedCall")
        .withArgs("0x00000000");
      const badParty = continueCustodyData(drug, batchId(1), ethers.ZeroAddress, dataHash("x"));
      await expect(gateway.connect(relayer).prepare(txId(1), PIPE, NAMES.drug, badParty))
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityInvalidParty")
        .withArgs(ethers.ZeroAddress);
      expect((await gateway.twoPhaseTx(txId(1))).status).to.equal(TxStatus.None);
    });

    it("locks at most MAX_TWO_PHASE_KEYS keys", async function () {
      const { gateway, mock, relayer } = await loadFixture(deployGatewayFixture);
      const max = Number(await gateway.MAX_TWO_PHASE_KEYS());
      const keys = Array.from({ length: max + 1 }, (_, i) => ethers.id(`key-${i}`));
      await mock.setReportedKeys(keys);
      await expect(gateway.connect(relayer).prepare(txId(1), PIPE, NAMES.mock, "0x"))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTooManyKeys")
        .withArgs(max + 1, max);
      await mock.setReportedKeys(keys.slice(0, max));
      await expect(gateway.connect(relayer).prepare(txId(1), PIPE, NAMES.mock, "0x")).to.emit(
        gateway,
        "TwoPhasePrepared",
      );
      for (const key of keys.slice(0, max)) expect(await gateway.lockHolder(mock, key)).to.equal(txId(1));
      await gateway.connect(relayer).rollback(txId(1));
      for (const key of keys.slice(0, max)) expect(await gateway.lockHolder(mock, key)).to.equal(ethers.ZeroHash);
    });

    it("accepts a key reported twice by the same transaction", async function () {
      const { gateway, mock, relayer } = await loadFixture(deployGatewayFixture);
      await mock.setReportedKeys([ethers.id("k"), ethers.id("k")]);
      await gateway.connect(relayer).prepare(txId(1), PIPE, NAMES.mock, "0x");
      expect(await gateway.lockHolder(mock, ethers.id("k"))).to.equal(txId(1));
      await gateway.connect(relayer).commit(txId(1));
      expect(await gateway.lockHolder(mock, ethers.id("k"))).to.equal(ethers.ZeroHash);
    });
  });

  describe("commit and rollback", function () {
    it("commit applies the staged write and releases the locks", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(preparedFixture);
      await expect(gateway.connect(relayer).commit(txId(1)))
        .to.emit(gateway, "TwoPhaseCommitted")
        .withArgs(txId(1), await drug.getAddress(), 1)
        .and.to.emit(drug, "CustodyContinued")
        .withArgs(batchId(1), custodian.address, txId(1), dataHash("2pc"), 0);
      expect(await drug.custodyLength(batchId(1))).to.equal(1);
      expect((await drug.custodyStep(batchId(1), 0)).requestId).to.equal(txId(1));
      expect(await gateway.lockHolder(drug, batchId(1))).to.equal(ethers.ZeroHash);
      expect((await gateway.twoPhaseTx(txId(1))).status).to.equal(TxStatus.Committed);
      // The batch takes other writes again.
      await expect(drug.connect(custodian).recordCustody(batchId(1), custodian.address, dataHash("next"))).to.emit(
        drug,
        "CustodyContinued",
      );
    });

    it("rollback discards the staged write and releases the locks", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(preparedFixture);
      await expect(gateway.connect(relayer).rollback(txId(1)))
        .to.emit(gateway, "TwoPhaseRolledBack")
        .withArgs(txId(1), await drug.getAddress())
        .and.to.emit(drug, "CustodyStageDiscarded")
        .withArgs(txId(1), batchId(1));
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
      expect(await drug.stateVersion(ethers.ZeroHash)).to.equal(0);
      expect(await gateway.lockHolder(drug, batchId(1))).to.equal(ethers.ZeroHash);
      expect((await gateway.twoPhaseTx(txId(1))).status).to.equal(TxStatus.RolledBack);
      const again = continueCustodyData(drug, batchId(1), custodian.address, dataHash("retry"));
      await expect(gateway.connect(relayer).prepare(txId(2), PIPE, NAMES.drug, again)).to.emit(
        gateway,
        "TwoPhasePrepared",
      );
    });

    it("refuses to commit or roll back an unknown transaction", async function () {
      const { gateway, relayer } = await loadFixture(deployGatewayFixture);
      for (const call of [gateway.connect(relayer).commit, gateway.connect(relayer).rollback]) {
        await expect(call(txId(404)))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxUnknown")
          .withArgs(txId(404));
      }
    });

    it("refuses to commit or roll back a finished transaction", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(preparedFixture);
      await gateway.connect(relayer).commit(txId(1));
      await expect(gateway.connect(relayer).commit(txId(1)))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxNotPrepared")
        .withArgs(txId(1), TxStatus.Committed);
      await expect(gateway.connect(relayer).rollback(txId(1)))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxNotPrepared")
        .withArgs(txId(1), TxStatus.Committed);
      await gateway
        .connect(relayer)
        .prepare(txId(2), PIPE, NAMES.drug, continueCustodyData(drug, batchId(2), custodian.address, dataHash("y")));
      await gateway.connect(relayer).rollback(txId(2));
      await expect(gateway.connect(relayer).rollback(txId(2)))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxNotPrepared")
        .withArgs(txId(2), TxStatus.RolledBack);
      await expect(gateway.connect(relayer).commit(txId(2)))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxNotPrepared")
        .withArgs(txId(2), TxStatus.RolledBack);
    });

    it("refuses prepare, commit and rollback from anyone but a relayer", async function () {
      const { gateway, drug, stranger, admin, custodian } = await loadFixture(preparedFixture);
      const data = continueCustodyData(drug, batchId(2), custodian.address, dataHash("x"));
      for (const caller of [stranger, admin]) {
        await expect(gateway.connect(caller).prepare(txId(2), PIPE, NAMES.drug, data))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnauthorizedRelayer")
          .withArgs(caller.address);
        await expect(gateway.connect(caller).commit(txId(1)))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnauthorizedRelayer")
          .withArgs(caller.address);
        await expect(gateway.connect(caller).rollback(txId(1)))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnauthorizedRelayer")
          .withArgs(caller.address);
      }
    });

    it("finishes a prepared transaction on its contract even after the name moved", async function () {
      const { gateway, drug, admin, relayer } = await loadFixture(preparedFixture);
      const drugV2 = await ethers.deployContract("DrugTraceability", [gateway, admin.address]);
      await gateway.registerContract(NAMES.drug, drugV2);
      await expect(gateway.connect(relayer).commit(txId(1)))
        .to.emit(gateway, "TwoPhaseCommitted")
        .withArgs(txId(1), await drug.getAddress(), 1);
      expect(await drug.custodyLength(batchId(1))).to.equal(1);
    });
  });
});
