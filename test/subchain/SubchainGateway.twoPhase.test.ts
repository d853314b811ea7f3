import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  FAR_DEADLINE,
  MAX_PAYLOAD,
  MAX_TWO_PHASE_DURATION,
  NAMES,
  PIPE,
  TxStatus,
  OPERATION_WRITE,
  batchId,
  continueCustodyData,
  dataHash,
  deadlineIn,
  deployGatewayFixture,
  txId,
} from "./fixtures";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { attest, attested, currentSigners, domainOfGateway } from "../helpers/attest";
import { OPERATION_TWO_PHASE_WRITE } from "../../lib/domain/enums.generated";

describe("SubchainGateway: two-phase transactions (prepare / commit / rollback)", function () {
  async function preparedFixture() {
    const f = await deployGatewayFixture();
    const data = continueCustodyData(f.drug, batchId(1), f.custodian.address, dataHash("2pc"));
    await attested(f.gateway, f.relayer).prepare(txId(1), PIPE, NAMES.drug, data, await deadlineIn());
    return f;
  }

  describe("prepare", function () {
    it("stages the write in the business contract and locks the keys it reports", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("2pc"));
      const deadline = await deadlineIn();
      expect(await attested(gateway, relayer).prepareStatic(txId(1), PIPE, NAMES.drug, data, deadline)).to.deep.equal([
        batchId(1),
      ]);
      await expect(attested(gateway, relayer).prepare(txId(1), PIPE, NAMES.drug, data, deadline))
        .to.emit(gateway, "TwoPhasePrepared")
        .withArgs(txId(1), PIPE, await drug.getAddress(), NAMES.drug, [batchId(1)], deadline)
        .and.to.emit(drug, "CustodyStaged")
        .withArgs(txId(1), batchId(1), custodian.address, dataHash("2pc"));
      expect(await gateway.lockHolder(drug, batchId(1))).to.equal(txId(1));
      expect(await gateway.twoPhaseTx(txId(1))).to.deep.equal([
        await drug.getAddress(),
        BigInt(TxStatus.Prepared),
        BigInt(deadline),
        [batchId(1)],
      ]);
      // Staged, not applied.
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
    });

    it("refuses a second prepare touching a key another transaction locked; other keys stay free", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(preparedFixture);
      const sameBatch = continueCustodyData(drug, batchId(1), custodian.address, dataHash("other"));
      await expect(attested(gateway, relayer).prepare(txId(2), PIPE, NAMES.drug, sameBatch, await deadlineIn()))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayKeyLocked")
        .withArgs(await drug.getAddress(), batchId(1), txId(1));
      const otherBatch = continueCustodyData(drug, batchId(2), custodian.address, dataHash("other"));
      const deadline = await deadlineIn(60);
      await expect(attested(gateway, relayer).prepare(txId(2), PIPE, NAMES.drug, otherBatch, deadline))
        .to.emit(gateway, "TwoPhasePrepared")
        .withArgs(txId(2), PIPE, await drug.getAddress(), NAMES.drug, [batchId(2)], deadline);
    });

    it("keeps every other write off a locked key, cross-chain and local", async function () {
      const { gateway, drug, relayer, custodian, manufacturer, inboundId } = await loadFixture(preparedFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("ordinary"));
      const locked = drug.interface.encodeErrorResult("DrugTraceabilityBatchLocked", [batchId(1), txId(1)]);
      await expect(attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(inboundId(1), PIPE, 1, await drug.getAddress(), OPERATION_WRITE, false, ethers.keccak256(locked), 0);
      await expect(drug.connect(custodian).recordCustody(batchId(1), custodian.address, dataHash("local")))
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityBatchLocked")
        .withArgs(batchId(1), txId(1));
      await expect(drug.connect(manufacturer).recordBatch(batchId(1), manufacturer.address, dataHash("late")))
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityBatchLocked")
        .withArgs(batchId(1), txId(1));
    });

    it("refuses a compensation of a write whose key is locked, and lets it through after the rollback", async function () {
      const { gateway, drug, relayer, custodian, inboundId } = await loadFixture(deployGatewayFixture);
      const step = (s: string) => continueCustodyData(drug, batchId(1), custodian.address, dataHash(s));
      await attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, step("a"));
      await attested(gateway, relayer).prepare(txId(1), PIPE, NAMES.drug, step("b"), await deadlineIn());
      const locked = drug.interface.encodeErrorResult("DrugTraceabilityBatchLocked", [batchId(1), txId(1)]);
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.emit(gateway, "Compensated")
        .withArgs(inboundId(1), PIPE, 1, await drug.getAddress(), false, locked);
      await gateway.connect(relayer).rollback(txId(1));
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.emit(gateway, "Compensated")
        .withArgs(inboundId(1), PIPE, 1, await drug.getAddress(), true, "0x");
    });

    it("takes only an attestation of the two-phase write: a plain write's cannot prepare, a prepare's cannot execute", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("2pc"));
      const packet = {
        txId: txId(1),
        pipeId: PIPE,
        sequence: 1,
        deadline: await deadlineIn(),
        contractName: NAMES.drug,
        operation: OPERATION_WRITE,
      };
      const [signers, domain] = [await currentSigners(gateway), await domainOfGateway(gateway)];
      const asWrite = await attest(signers, domain, packet, data);
      const asTwoPhase = await attest(signers, domain, { ...packet, operation: OPERATION_TWO_PHASE_WRITE }, data);
      const g = gateway.connect(relayer);
      // A relayer holding a plain write's attestations cannot turn them into a prepare, nor the reverse: the
      // two-phase write is never applied without its lock.
      await expect(g.prepare(packet, data, asWrite))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayAttestationSignerUnknown")
        .withArgs(0, anyValue);
      await expect(g.execute(packet, data, asTwoPhase))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayAttestationSignerUnknown")
        .withArgs(0, anyValue);
      await expect(g.execute({ ...packet, operation: OPERATION_TWO_PHASE_WRITE }, data, asTwoPhase))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidOperation")
        .withArgs(OPERATION_TWO_PHASE_WRITE);
      expect(await gateway.lockHolder(drug, batchId(1))).to.equal(ethers.ZeroHash);
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
      await expect(g.prepare(packet, data, asTwoPhase)).to.emit(gateway, "TwoPhasePrepared");
    });

    it("refuses a contract that did not opt in", async function () {
      const { gateway, evidence, relayer } = await loadFixture(deployGatewayFixture);
      const data = evidence.interface.encodeFunctionData("depositCrossChain", [
        ethers.id("e"),
        relayer.address,
        ethers.id("m"),
      ]);
      await expect(attested(gateway, relayer).prepare(txId(1), PIPE, NAMES.evidence, data, await deadlineIn()))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTwoPhaseUnsupported")
        .withArgs(NAMES.evidence, await evidence.getAddress());
    });

    it("refuses a zero or reused transaction id, a zero pipe, an unregistered name, a large payload", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(preparedFixture);
      const data = continueCustodyData(drug, batchId(2), custodian.address, dataHash("x"));
      await expect(attested(gateway, relayer).prepare(ethers.ZeroHash, PIPE, NAMES.drug, data, await deadlineIn()))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidTxId")
        .withArgs(ethers.ZeroHash);
      await expect(attested(gateway, relayer).prepare(txId(1), PIPE, NAMES.drug, data, await deadlineIn()))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxExists")
        .withArgs(txId(1));
      await gateway.connect(relayer).commit(txId(1));
      await expect(attested(gateway, relayer).prepare(txId(1), PIPE, NAMES.drug, data, await deadlineIn()))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxExists")
        .withArgs(txId(1));
      await expect(attested(gateway, relayer).prepare(txId(2), ethers.ZeroHash, NAMES.drug, data, await deadlineIn()))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidPipe")
        .withArgs(ethers.ZeroHash);
      const unknown = ethers.id("Unknown");
      await expect(attested(gateway, relayer).prepare(txId(2), PIPE, unknown, data, await deadlineIn()))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayContractNotRegistered")
        .withArgs(unknown);
      const tooLarge = ethers.concat([data, new Uint8Array(MAX_PAYLOAD + 1 - ethers.dataLength(data))]);
      await expect(attested(gateway, relayer).prepare(txId(2), PIPE, NAMES.drug, tooLarge, await deadlineIn()))
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
      await expect(attested(gateway, relayer).prepare(txId(1), PIPE, NAMES.drug, notStageable, await deadlineIn()))
        .to.be.revertedWithCustomError(drug, "TwoPhaseBusinessUnsupportedCall")
        .withArgs(notStageable.slice(0, 10));
      await expect(attested(gateway, relayer).prepare(txId(1), PIPE, NAMES.drug, "0x01", await deadlineIn()))
        .to.be.revertedWithCustomError(drug, "TwoPhaseBusinessUnsupportedCall")
        .withArgs("0x00000000");
      const badParty = continueCustodyData(drug, batchId(1), ethers.ZeroAddress, dataHash("x"));
      await expect(attested(gateway, relayer).prepare(txId(1), PIPE, NAMES.drug, badParty, await deadlineIn()))
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityInvalidParty")
        .withArgs(ethers.ZeroAddress);
      expect(await gateway.twoPhaseTx(txId(1))).to.deep.equal([ethers.ZeroAddress, BigInt(TxStatus.None), 0n, []]);
      // The id was not taken.
      const good = continueCustodyData(drug, batchId(1), manufacturer.address, dataHash("x"));
      await expect(attested(gateway, relayer).prepare(txId(1), PIPE, NAMES.drug, good, await deadlineIn())).to.emit(
        gateway,
        "TwoPhasePrepared",
      );
    });

    it("locks at most MAX_TWO_PHASE_KEYS keys", async function () {
      const { gateway, mock, relayer } = await loadFixture(deployGatewayFixture);
      const max = Number(await gateway.MAX_TWO_PHASE_KEYS());
      const keys = Array.from({ length: max + 1 }, (_, i) => ethers.id(`key-${i}`));
      await mock.setReportedKeys(keys);
      await expect(attested(gateway, relayer).prepare(txId(1), PIPE, NAMES.mock, "0x", await deadlineIn()))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTooManyKeys")
        .withArgs(max + 1, max);
      await mock.setReportedKeys(keys.slice(0, max));
      await expect(attested(gateway, relayer).prepare(txId(1), PIPE, NAMES.mock, "0x", await deadlineIn())).to.emit(
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
      await attested(gateway, relayer).prepare(txId(1), PIPE, NAMES.mock, "0x", await deadlineIn());
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
        .withArgs(txId(1), await drug.getAddress(), relayer.address)
        .and.to.emit(drug, "CustodyStageDiscarded")
        .withArgs(txId(1), batchId(1));
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
      expect(await drug.stateVersion(ethers.ZeroHash)).to.equal(0);
      expect(await gateway.lockHolder(drug, batchId(1))).to.equal(ethers.ZeroHash);
      expect((await gateway.twoPhaseTx(txId(1))).status).to.equal(TxStatus.RolledBack);
      const again = continueCustodyData(drug, batchId(1), custodian.address, dataHash("retry"));
      await expect(attested(gateway, relayer).prepare(txId(2), PIPE, NAMES.drug, again, await deadlineIn())).to.emit(
        gateway,
        "TwoPhasePrepared",
      );
    });

    it("refuses to commit or roll back an unknown transaction", async function () {
      const { gateway, relayer } = await loadFixture(deployGatewayFixture);
      const calls = [
        gateway.connect(relayer).commit,
        gateway.connect(relayer).rollback,
        gateway.connect(relayer).rollbackExpired,
      ];
      for (const call of calls) {
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
      await expect(gateway.connect(relayer).rollbackExpired(txId(1)))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxNotPrepared")
        .withArgs(txId(1), TxStatus.Committed);
      const other = continueCustodyData(drug, batchId(2), custodian.address, dataHash("y"));
      await attested(gateway, relayer).prepare(txId(2), PIPE, NAMES.drug, other, await deadlineIn());
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
        await expect(attested(gateway, caller).prepare(txId(2), PIPE, NAMES.drug, data, await deadlineIn()))
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

  describe("deadline: a stuck transaction cannot hold its locks for ever", function () {
    // Transactions whose timing matters are sent with a gas limit, so they are mined at the block time set here
    // (no gas estimate at another time) and a refusal is the mined transaction's revert.
    const mined = { gasLimit: 1_000_000 };
    const DAY = MAX_TWO_PHASE_DURATION;
    const GRACE = 15 * 60;

    async function preparedAt() {
      const f = await deployGatewayFixture();
      const start = (await time.latest()) + 100;
      const deadline = start + 3_600;
      await time.setNextBlockTimestamp(start);
      const data = continueCustodyData(f.drug, batchId(1), f.custodian.address, dataHash("2pc"));
      await attested(f.gateway, f.relayer).prepare(txId(1), PIPE, NAMES.drug, data, deadline, mined);
      return { ...f, deadline };
    }

    it("refuses a deadline not after the block time or more than MAX_TWO_PHASE_DURATION ahead", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      expect(await gateway.MAX_TWO_PHASE_DURATION()).to.equal(DAY);
      const data = (n: number) => continueCustodyData(drug, batchId(n), custodian.address, dataHash("x"));
      const t = (await time.latest()) + 100;
      for (const [at, deadline] of [
        [t, 0],
        [t + 10, t + 10],
        [t + 20, t + 20 + DAY + 1],
      ]) {
        await time.setNextBlockTimestamp(at);
        await expect(attested(gateway, relayer).prepare(txId(1), PIPE, NAMES.drug, data(1), deadline, mined))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidTxDeadline")
          .withArgs(deadline, at, at + DAY);
      }
      // Both ends of the range: one second ahead, and exactly MAX_TWO_PHASE_DURATION ahead.
      await time.setNextBlockTimestamp(t + 30);
      await expect(attested(gateway, relayer).prepare(txId(1), PIPE, NAMES.drug, data(1), t + 31, mined))
        .to.emit(gateway, "TwoPhasePrepared")
        .withArgs(txId(1), PIPE, await drug.getAddress(), NAMES.drug, [batchId(1)], t + 31);
      await time.setNextBlockTimestamp(t + 40);
      await expect(attested(gateway, relayer).prepare(txId(2), PIPE, NAMES.drug, data(2), t + 40 + DAY, mined))
        .to.emit(gateway, "TwoPhasePrepared")
        .withArgs(txId(2), PIPE, await drug.getAddress(), NAMES.drug, [batchId(2)], t + 40 + DAY);
    });

    it("commits up to the deadline plus the grace, refuses to commit after it", async function () {
      const { gateway, drug, relayer, stranger, custodian, deadline } = await loadFixture(preparedAt);
      expect(await gateway.TWO_PHASE_GRACE()).to.equal(GRACE);
      const data = (n: number) => continueCustodyData(drug, batchId(n), custodian.address, dataHash("2pc"));
      await attested(gateway, relayer).prepare(txId(2), PIPE, NAMES.drug, data(2), deadline, mined);
      await attested(gateway, relayer).prepare(txId(3), PIPE, NAMES.drug, data(3), deadline, mined);
      // Past the deadline, inside the grace (what the grace is for: the ledger decided in time, the side commits
      // late): nobody may release the lock yet, and the relayer's commit goes through. A zero grace refuses both.
      await time.setNextBlockTimestamp(deadline + 1);
      await expect(gateway.connect(stranger).rollbackExpired(txId(3), mined))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxNotExpired")
        .withArgs(txId(3), deadline);
      await expect(gateway.connect(relayer).commit(txId(3), mined)).to.emit(gateway, "TwoPhaseCommitted");
      expect(await drug.custodyLength(batchId(3))).to.equal(1);
      await time.setNextBlockTimestamp(deadline + GRACE);
      await expect(gateway.connect(relayer).commit(txId(1), mined)).to.emit(gateway, "TwoPhaseCommitted");
      await expect(gateway.connect(relayer).commit(txId(2), mined))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxExpired")
        .withArgs(txId(2), deadline);
      expect(await gateway.lockHolder(drug, batchId(2))).to.equal(txId(2));
      // The relayer may still roll it back.
      await expect(gateway.connect(relayer).rollback(txId(2)))
        .to.emit(gateway, "TwoPhaseRolledBack")
        .withArgs(txId(2), await drug.getAddress(), relayer.address);
      expect(await gateway.lockHolder(drug, batchId(2))).to.equal(ethers.ZeroHash);
    });

    it("lets anyone roll back after deadline + grace, releasing the locks; nobody but a relayer before", async function () {
      const { gateway, drug, stranger, custodian, deadline } = await loadFixture(preparedAt);
      await expect(gateway.connect(stranger).rollbackExpired(txId(1), mined))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxNotExpired")
        .withArgs(txId(1), deadline);
      await expect(gateway.connect(stranger).rollback(txId(1)))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnauthorizedRelayer")
        .withArgs(stranger.address);
      // A local write waits for the lock.
      await expect(drug.connect(custodian).recordCustody(batchId(1), custodian.address, dataHash("local")))
        .to.be.revertedWithCustomError(drug, "DrugTraceabilityBatchLocked")
        .withArgs(batchId(1), txId(1));
      await time.setNextBlockTimestamp(deadline + GRACE);
      await expect(gateway.connect(stranger).rollbackExpired(txId(1), mined))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxNotExpired")
        .withArgs(txId(1), deadline);

      // The next block is after deadline + grace.
      await expect(gateway.connect(stranger).rollbackExpired(txId(1), mined))
        .to.emit(gateway, "TwoPhaseRolledBack")
        .withArgs(txId(1), await drug.getAddress(), stranger.address)
        .and.to.emit(drug, "CustodyStageDiscarded")
        .withArgs(txId(1), batchId(1));
      expect(await gateway.lockHolder(drug, batchId(1))).to.equal(ethers.ZeroHash);
      expect((await gateway.twoPhaseTx(txId(1))).status).to.equal(TxStatus.RolledBack);
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
      await expect(drug.connect(custodian).recordCustody(batchId(1), custodian.address, dataHash("local"))).to.emit(
        drug,
        "CustodyContinued",
      );
      // Finished: neither a second release nor a commit.
      await expect(gateway.connect(stranger).rollbackExpired(txId(1)))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayTxNotPrepared")
        .withArgs(txId(1), TxStatus.RolledBack);
    });
  });
});
