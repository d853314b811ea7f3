import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  MAX_PAYLOAD,
  NAMES,
  OTHER_PIPE,
  PIPE,
  READ,
  WRITE,
  batchId,
  continueCustodyData,
  dataHash,
  deployGatewayFixture,
  requestId,
} from "./fixtures";

const EMPTY_HASH = ethers.keccak256("0x");
const abi = ethers.AbiCoder.defaultAbiCoder();

describe("SubchainGateway: inbound execute, replay protection, compensation", function () {
  async function depositedFixture() {
    const f = await deployGatewayFixture();
    const evidenceHash = ethers.id("evidence-1");
    await f.evidence.connect(f.depositor).deposit(evidenceHash, ethers.id("meta"));
    return { ...f, evidenceHash };
  }

  describe("write", function () {
    it("calls the registered contract with the request id appended and records the outcome", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const id = requestId(1);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("warehouse"));
      const [ok, result] = await gateway.connect(relayer).execute.staticCall(id, PIPE, 1, NAMES.drug, WRITE, data);
      expect([ok, result]).to.deep.equal([true, "0x"]);

      await expect(gateway.connect(relayer).execute(id, PIPE, 1, NAMES.drug, WRITE, data))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(id, PIPE, 1, await drug.getAddress(), WRITE, true, EMPTY_HASH, 1)
        .and.to.emit(drug, "CustodyContinued")
        .withArgs(batchId(1), custodian.address, id, dataHash("warehouse"), 0)
        .and.not.to.emit(gateway, "ReturnDataRecorded");

      expect(await gateway.inboundRecord(id)).to.deep.equal([await drug.getAddress(), WRITE, true, false]);
      expect(await gateway.lastSequence(PIPE)).to.equal(1);
      const step = await drug.custodyStep(batchId(1), 0);
      expect(step.custodian).to.equal(custodian.address);
      expect(step.requestId).to.equal(id);
    });

    it("records a reverting business write as a failure, consumes the id and the sequence", async function () {
      const { gateway, drug, relayer } = await loadFixture(deployGatewayFixture);
      const id = requestId("bad");
      const data = continueCustodyData(drug, batchId(1), ethers.ZeroAddress, dataHash("x"));
      const revertData = drug.interface.encodeErrorResult("DrugTraceabilityInvalidParty", [ethers.ZeroAddress]);

      await expect(gateway.connect(relayer).execute(id, PIPE, 5, NAMES.drug, WRITE, data))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(id, PIPE, 5, await drug.getAddress(), WRITE, false, ethers.keccak256(revertData), 0)
        .and.to.emit(gateway, "ReturnDataRecorded")
        .withArgs(id, revertData);
      expect(await gateway.inboundRecord(id)).to.deep.equal([await drug.getAddress(), WRITE, false, false]);
      expect(await gateway.lastSequence(PIPE)).to.equal(5);
      expect(await drug.custodyLength(batchId(1))).to.equal(0);

      // Not replayable, not even with a good sequence, and nothing to compensate.
      await expect(gateway.connect(relayer).execute(id, PIPE, 6, NAMES.drug, WRITE, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestAlreadyExecuted")
        .withArgs(id);
      await expect(gateway.connect(relayer).compensate(id))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestFailed")
        .withArgs(id);
    });

    it("never reaches the gateway's own admin functions: they go to the business contract, which refuses", async function () {
      const { gateway, drug, relayer, stranger } = await loadFixture(deployGatewayFixture);
      const evil = ethers.id("evil");
      const data = gateway.interface.encodeFunctionData("registerContract", [evil, stranger.address]);
      await expect(gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.drug, WRITE, data))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(requestId(1), PIPE, 1, await drug.getAddress(), WRITE, false, EMPTY_HASH, 0);
      expect(await gateway.businessContract(evil)).to.deep.equal([ethers.ZeroAddress, 0n]);
    });
  });

  describe("read", function () {
    it("runs a read with STATICCALL and records its return data", async function () {
      const { gateway, evidence, relayer, depositor, evidenceHash } = await loadFixture(depositedFixture);
      const id = requestId("read");
      const data = evidence.interface.encodeFunctionData("verify", [evidenceHash]);
      const [, , timestamp] = await evidence.verify(evidenceHash);
      const expected = abi.encode(["bool", "address", "uint64"], [true, depositor.address, timestamp]);

      const [ok, result] = await gateway.connect(relayer).execute.staticCall(id, PIPE, 1, NAMES.evidence, READ, data);
      expect([ok, result]).to.deep.equal([true, expected]);
      await expect(gateway.connect(relayer).execute(id, PIPE, 1, NAMES.evidence, READ, data))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(id, PIPE, 1, await evidence.getAddress(), READ, true, ethers.keccak256(expected), 1)
        .and.to.emit(gateway, "ReturnDataRecorded")
        .withArgs(id, expected);
      expect(await gateway.inboundRecord(id)).to.deep.equal([await evidence.getAddress(), READ, true, false]);
    });

    it("a read cannot write: a state-changing call sent as a read fails and changes nothing", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const id = requestId("sneaky");
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      await expect(gateway.connect(relayer).execute(id, PIPE, 1, NAMES.drug, READ, data))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(id, PIPE, 1, await drug.getAddress(), READ, false, EMPTY_HASH, 0);
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
      await expect(gateway.connect(relayer).compensate(id))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestNotWrite")
        .withArgs(id);
    });

    it("records a read that burns all its gas as a failed read (it changed nothing)", async function () {
      const { gateway, mock, relayer } = await loadFixture(deployGatewayFixture);
      const data = mock.interface.encodeFunctionData("exhaustGas");
      await expect(
        gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.mock, READ, data, { gasLimit: 3_000_000 }),
      )
        .to.emit(gateway, "InboundExecuted")
        .withArgs(requestId(1), PIPE, 1, await mock.getAddress(), READ, false, EMPTY_HASH, 0);
    });
  });

  describe("refusals", function () {
    it("refuses every caller without the relayer role, naming it", async function () {
      const { gateway, drug, stranger, admin, custodian } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      for (const caller of [stranger, admin]) {
        await expect(gateway.connect(caller).execute(requestId(1), PIPE, 1, NAMES.drug, WRITE, data))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnauthorizedRelayer")
          .withArgs(caller.address);
        await expect(
          gateway.connect(caller).executeDependentWrite(requestId(1), PIPE, 1, NAMES.drug, data, ethers.ZeroHash, 0),
        )
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnauthorizedRelayer")
          .withArgs(caller.address);
        await expect(gateway.connect(caller).compensate(requestId(1)))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnauthorizedRelayer")
          .withArgs(caller.address);
      }
    });

    it("refuses an unknown operation, a zero request id, a zero pipe", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      await expect(gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.drug, 2, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidOperation")
        .withArgs(2);
      await expect(gateway.connect(relayer).execute(ethers.ZeroHash, PIPE, 1, NAMES.drug, WRITE, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidRequestId")
        .withArgs(ethers.ZeroHash);
      await expect(gateway.connect(relayer).execute(requestId(1), ethers.ZeroHash, 1, NAMES.drug, WRITE, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidPipe")
        .withArgs(ethers.ZeroHash);
    });

    it("refuses an unregistered contract name", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      const unknown = ethers.id("SubchainGateway");
      await expect(gateway.connect(relayer).execute(requestId(1), PIPE, 1, unknown, WRITE, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayContractNotRegistered")
        .withArgs(unknown);
    });

    it("refuses every blocklisted hook and privileged selector, for reads and writes", async function () {
      const { gateway, drug, relayer, stranger } = await loadFixture(deployGatewayFixture);
      const role = await drug.CUSTODIAN_ROLE();
      const blocked = [
        drug.interface.encodeFunctionData("compensate", [requestId(0)]),
        drug.interface.encodeFunctionData("prepare", [requestId(0), "0x"]),
        drug.interface.encodeFunctionData("commit", [requestId(0)]),
        drug.interface.encodeFunctionData("rollback", [requestId(0)]),
        drug.interface.encodeFunctionData("grantRole", [role, stranger.address]),
        drug.interface.encodeFunctionData("revokeRole", [role, stranger.address]),
        drug.interface.encodeFunctionData("renounceRole", [role, stranger.address]),
        ethers.id("transferOwnership(address)").slice(0, 10) + abi.encode(["address"], [stranger.address]).slice(2),
        ethers.id("renounceOwnership()").slice(0, 10),
        ethers.id("acceptOwnership()").slice(0, 10),
        ethers.id("upgradeToAndCall(address,bytes)").slice(0, 10) +
          abi.encode(["address", "bytes"], [stranger.address, "0x"]).slice(2),
      ];
      for (const data of blocked) {
        expect(await gateway.isSelectorBlocked(data.slice(0, 10))).to.equal(true);
        for (const op of [READ, WRITE]) {
          await expect(gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.drug, op, data))
            .to.be.revertedWithCustomError(gateway, "SubchainGatewaySelectorBlocked")
            .withArgs(NAMES.drug, data.slice(0, 10));
        }
      }
      expect(await gateway.isSelectorBlocked(drug.interface.getFunction("continueCustody").selector)).to.equal(false);
    });

    it("refuses calldata above the limit or shorter than a selector, accepts exactly the limit", async function () {
      const { gateway, evidence, relayer } = await loadFixture(depositedFixture);
      const verify = evidence.interface.encodeFunctionData("verify", [ethers.id("e")]);
      const padded = (length: number) => ethers.concat([verify, new Uint8Array(length - ethers.dataLength(verify))]);
      await expect(
        gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.evidence, READ, padded(MAX_PAYLOAD + 1)),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayPayloadTooLarge")
        .withArgs(MAX_PAYLOAD + 1, MAX_PAYLOAD);
      await expect(gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.evidence, READ, "0xabcdef"))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayCallDataTooShort")
        .withArgs(3);
      await expect(
        gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.evidence, READ, padded(MAX_PAYLOAD)),
      ).to.emit(gateway, "InboundExecuted");
    });

    it("refuses a call that ran out of the relayer's gas instead of recording a failure", async function () {
      const { gateway, mock, relayer } = await loadFixture(deployGatewayFixture);
      const data = mock.interface.encodeFunctionData("exhaustGas");
      await expect(
        gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.mock, WRITE, data, { gasLimit: 3_000_000 }),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInsufficientGas")
        .withArgs(requestId(1));
      expect((await gateway.inboundRecord(requestId(1))).target).to.equal(ethers.ZeroAddress);
      expect(await gateway.lastSequence(PIPE)).to.equal(0);
    });
  });

  describe("replay protection", function () {
    it("executes a request id at most once", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      await gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.drug, WRITE, data);
      for (const [pipe, sequence] of [
        [PIPE, 2],
        [OTHER_PIPE, 1],
      ] as const) {
        await expect(gateway.connect(relayer).execute(requestId(1), pipe, sequence, NAMES.drug, WRITE, data))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestAlreadyExecuted")
          .withArgs(requestId(1));
      }
      expect(await drug.custodyLength(batchId(1))).to.equal(1);
    });

    it("requires a strictly increasing sequence per pipe, gaps allowed, pipes independent", async function () {
      const { gateway, evidence, relayer } = await loadFixture(deployGatewayFixture);
      const data = evidence.interface.encodeFunctionData("verify", [ethers.id("e")]);
      const run = (id: number, pipe: string, sequence: number) =>
        gateway.connect(relayer).execute(requestId(id), pipe, sequence, NAMES.evidence, READ, data);

      await expect(run(1, PIPE, 0))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewaySequenceNotIncreasing")
        .withArgs(PIPE, 0, 0);
      await run(1, PIPE, 3);
      await expect(run(2, PIPE, 3))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewaySequenceNotIncreasing")
        .withArgs(PIPE, 3, 3);
      await expect(run(2, PIPE, 2))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewaySequenceNotIncreasing")
        .withArgs(PIPE, 2, 3);
      await expect(run(2, OTHER_PIPE, 1)).to.emit(gateway, "InboundExecuted");
      await expect(run(3, PIPE, 10)).to.emit(gateway, "InboundExecuted");
      expect(await gateway.lastSequence(PIPE)).to.equal(10);
      expect(await gateway.lastSequence(OTHER_PIPE)).to.equal(1);
    });
  });

  describe("state versions and dependent writes (stale-read rejection)", function () {
    it("reports the contract-wide version after every operation; writes move it, reads do not", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const write = (n: number) => continueCustodyData(drug, batchId(1), custodian.address, dataHash(`step${n}`));
      const read = drug.interface.encodeFunctionData("custodyLength", [batchId(1)]);
      const target = await drug.getAddress();
      await expect(gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.drug, WRITE, write(1)))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(requestId(1), PIPE, 1, target, WRITE, true, EMPTY_HASH, 1);
      const lengthOne = abi.encode(["uint256"], [1]);
      await expect(gateway.connect(relayer).execute(requestId(2), PIPE, 2, NAMES.drug, READ, read))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(requestId(2), PIPE, 2, target, READ, true, ethers.keccak256(lengthOne), 1);
      await expect(gateway.connect(relayer).execute(requestId(3), PIPE, 3, NAMES.drug, WRITE, write(2)))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(requestId(3), PIPE, 3, target, WRITE, true, EMPTY_HASH, 2);
      expect(await drug.stateVersion(ethers.ZeroHash)).to.equal(2);
      expect(await drug.stateVersion(batchId(1))).to.equal(2);
      expect(await drug.stateVersion(batchId(2))).to.equal(0);
    });

    it("runs a dependent write when the key's version is the one the read saw", async function () {
      const { gateway, drug, relayer, manufacturer, custodian } = await loadFixture(deployGatewayFixture);
      await drug.connect(manufacturer).recordBatch(batchId(1), manufacturer.address, dataHash("batch"));
      const seen = await drug.stateVersion(batchId(1));
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      // A change of another key does not make the read stale.
      await drug.connect(manufacturer).recordBatch(batchId(2), manufacturer.address, dataHash("other"));
      await expect(
        gateway.connect(relayer).executeDependentWrite(requestId(1), PIPE, 1, NAMES.drug, data, batchId(1), seen),
      )
        .to.emit(gateway, "InboundExecuted")
        .withArgs(requestId(1), PIPE, 1, await drug.getAddress(), WRITE, true, EMPTY_HASH, 3);
      expect(await drug.custodyLength(batchId(1))).to.equal(1);
    });

    it("refuses a dependent write after the key changed, consuming neither id nor sequence", async function () {
      const { gateway, drug, relayer, manufacturer, custodian } = await loadFixture(deployGatewayFixture);
      await drug.connect(manufacturer).recordBatch(batchId(1), manufacturer.address, dataHash("batch"));
      const seen = await drug.stateVersion(batchId(1));
      await drug.connect(custodian).recordCustody(batchId(1), custodian.address, dataHash("local move"));
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      await expect(
        gateway.connect(relayer).executeDependentWrite(requestId(1), PIPE, 1, NAMES.drug, data, batchId(1), seen),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayStaleRead")
        .withArgs(NAMES.drug, batchId(1), seen, seen + 1n);
      expect(await gateway.lastSequence(PIPE)).to.equal(0);
      expect((await gateway.inboundRecord(requestId(1))).target).to.equal(ethers.ZeroAddress);
      // The contract-wide version (key zero) catches any change.
      await expect(
        gateway.connect(relayer).executeDependentWrite(requestId(1), PIPE, 1, NAMES.drug, data, ethers.ZeroHash, 1),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayStaleRead")
        .withArgs(NAMES.drug, ethers.ZeroHash, 1, 2);
    });

    it("applies every inbound refusal to dependent writes too", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      await gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.drug, WRITE, data);
      await expect(
        gateway.connect(relayer).executeDependentWrite(requestId(1), PIPE, 2, NAMES.drug, data, ethers.ZeroHash, 1),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestAlreadyExecuted")
        .withArgs(requestId(1));
      await expect(
        gateway.connect(relayer).executeDependentWrite(requestId(2), PIPE, 1, NAMES.drug, data, ethers.ZeroHash, 1),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewaySequenceNotIncreasing")
        .withArgs(PIPE, 1, 1);
      const hook = drug.interface.encodeFunctionData("compensate", [requestId(1)]);
      await expect(
        gateway.connect(relayer).executeDependentWrite(requestId(2), PIPE, 2, NAMES.drug, hook, ethers.ZeroHash, 1),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewaySelectorBlocked")
        .withArgs(NAMES.drug, hook.slice(0, 10));
    });
  });

  describe("compensation", function () {
    it("undoes a successful write exactly once", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      await gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.drug, WRITE, data);
      expect(await gateway.connect(relayer).compensate.staticCall(requestId(1))).to.equal(true);
      await expect(gateway.connect(relayer).compensate(requestId(1)))
        .to.emit(gateway, "Compensated")
        .withArgs(requestId(1), await drug.getAddress(), true, "0x")
        .and.to.emit(drug, "CustodyCompensated")
        .withArgs(batchId(1), requestId(1), 0);
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
      expect(await drug.stateVersion(batchId(1))).to.equal(2);
      expect(await gateway.inboundRecord(requestId(1))).to.deep.equal([await drug.getAddress(), WRITE, true, true]);
      await expect(gateway.connect(relayer).compensate(requestId(1)))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayAlreadyCompensated")
        .withArgs(requestId(1));
    });

    it("refuses an unknown request and a read", async function () {
      const { gateway, evidence, relayer } = await loadFixture(deployGatewayFixture);
      await expect(gateway.connect(relayer).compensate(requestId(404)))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnknownRequest")
        .withArgs(requestId(404));
      const read = evidence.interface.encodeFunctionData("verify", [ethers.id("e")]);
      await gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.evidence, READ, read);
      await expect(gateway.connect(relayer).compensate(requestId(1)))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestNotWrite")
        .withArgs(requestId(1));
    });

    it("records a compensation the business contract refuses, and lets it be retried later", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const step = (n: number) => continueCustodyData(drug, batchId(1), custodian.address, dataHash(`step${n}`));
      await gateway.connect(relayer).execute(requestId(1), PIPE, 1, NAMES.drug, WRITE, step(1));
      await gateway.connect(relayer).execute(requestId(2), PIPE, 2, NAMES.drug, WRITE, step(2));
      const refusal = drug.interface.encodeErrorResult("DrugTraceabilityStepNotLast", [batchId(1), requestId(1)]);

      await expect(gateway.connect(relayer).compensate(requestId(1)))
        .to.emit(gateway, "Compensated")
        .withArgs(requestId(1), await drug.getAddress(), false, refusal);
      expect((await gateway.inboundRecord(requestId(1))).compensated).to.equal(false);
      expect(await drug.custodyLength(batchId(1))).to.equal(2);

      await gateway.connect(relayer).compensate(requestId(2));
      await expect(gateway.connect(relayer).compensate(requestId(1)))
        .to.emit(gateway, "Compensated")
        .withArgs(requestId(1), await drug.getAddress(), true, "0x");
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
    });

    it("still compensates on the contract written to after its name moved to a new version", async function () {
      const { gateway, drug, admin, relayer, custodian } = await loadFixture(deployGatewayFixture);
      await gateway
        .connect(relayer)
        .execute(
          requestId(1),
          PIPE,
          1,
          NAMES.drug,
          WRITE,
          continueCustodyData(drug, batchId(1), custodian.address, dataHash("x")),
        );
      const drugV2 = await ethers.deployContract("DrugTraceability", [gateway, admin.address]);
      await gateway.registerContract(NAMES.drug, drugV2);
      await expect(gateway.connect(relayer).compensate(requestId(1)))
        .to.emit(drug, "CustodyCompensated")
        .withArgs(batchId(1), requestId(1), 0);
    });

    it("refuses a compensation that ran out of the relayer's gas", async function () {
      const { gateway, mock, relayer } = await loadFixture(deployGatewayFixture);
      await gateway
        .connect(relayer)
        .execute(requestId(1), PIPE, 1, NAMES.mock, WRITE, mock.interface.encodeFunctionData("write"));
      await mock.setExhaustOnCompensate(true);
      await expect(gateway.connect(relayer).compensate(requestId(1), { gasLimit: 3_000_000 }))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInsufficientGas")
        .withArgs(requestId(1));
      await mock.setExhaustOnCompensate(false);
      await expect(gateway.connect(relayer).compensate(requestId(1)))
        .to.emit(gateway, "Compensated")
        .withArgs(requestId(1), await mock.getAddress(), true, "0x");
    });
  });

  it("tags every step with the time of its block", async function () {
    const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
    await time.setNextBlockTimestamp(2_000_000_000);
    await gateway
      .connect(relayer)
      .execute(
        requestId(1),
        PIPE,
        1,
        NAMES.drug,
        WRITE,
        continueCustodyData(drug, batchId(1), custodian.address, dataHash("x")),
      );
    expect((await drug.custodyStep(batchId(1), 0)).timestamp).to.equal(2_000_000_000);
  });
});
