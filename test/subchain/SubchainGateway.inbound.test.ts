import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  FAR_DEADLINE,
  MAX_PAYLOAD,
  NAMES,
  OTHER_PIPE,
  PIPE,
  OPERATION_READ,
  OPERATION_WRITE,
  batchId,
  continueCustodyData,
  dataHash,
  deployGatewayFixture,
  inboundRequestIdOf,
} from "./fixtures";
import { attested, deployGateway } from "../helpers/attest";

const EMPTY_HASH = ethers.keccak256("0x");
const abi = ethers.AbiCoder.defaultAbiCoder();
const NEVER_EXECUTED = [ethers.ZeroAddress, 0n, false, false];

describe("SubchainGateway: inbound execute, replay protection, compensation", function () {
  async function depositedFixture() {
    const f = await deployGatewayFixture();
    const evidenceHash = ethers.id("evidence-1");
    await f.evidence.connect(f.depositor).deposit(evidenceHash, ethers.id("meta"));
    return { ...f, evidenceHash };
  }

  describe("write", function () {
    it("calls the registered contract with the derived request id appended and records the outcome", async function () {
      const { gateway, drug, relayer, custodian, inboundId } = await loadFixture(deployGatewayFixture);
      const id = inboundId(1);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("warehouse"));
      const [ok, result] = await attested(gateway, relayer).executeStatic(
        PIPE,
        1,
        FAR_DEADLINE,
        NAMES.drug,
        OPERATION_WRITE,
        data,
      );
      expect([ok, result]).to.deep.equal([true, "0x"]);

      await expect(attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(id, PIPE, 1, await drug.getAddress(), OPERATION_WRITE, true, EMPTY_HASH, 1)
        .and.to.emit(drug, "CustodyContinued")
        .withArgs(batchId(1), custodian.address, id, dataHash("warehouse"), 0)
        .and.not.to.emit(gateway, "ReturnDataRecorded");

      expect(await gateway.inboundRecord(PIPE, 1)).to.deep.equal([
        await drug.getAddress(),
        OPERATION_WRITE,
        true,
        false,
      ]);
      const step = await drug.custodyStep(batchId(1), 0);
      expect(step.custodian).to.equal(custodian.address);
      expect(step.requestId).to.equal(id);
    });

    it("takes a packet from any of the sub-chain's relayers, once: a second route racing it is refused, a revoked one too", async function () {
      const { gateway, drug, relayer, custodian, stranger } = await loadFixture(deployGatewayFixture);
      // A second relayer of the side (an alternate route): same role, same attestations.
      const alternate = stranger;
      await gateway.grantRole(await gateway.RELAYER_ROLE(), alternate.address);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("failover"));
      await expect(
        attested(gateway, alternate).execute(PIPE, 3, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data),
      ).to.emit(gateway, "InboundExecuted");
      await expect(attested(gateway, relayer).execute(PIPE, 3, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestAlreadyExecuted")
        .withArgs(PIPE, 3);
      expect(await drug.custodyLength(batchId(1))).to.equal(1);
      // Removed from the sub-chain's relayers: refused before anything is read.
      await gateway.revokeRole(await gateway.RELAYER_ROLE(), alternate.address);
      await expect(attested(gateway, alternate).execute(PIPE, 4, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnauthorizedRelayer")
        .withArgs(alternate.address);
      expect(await gateway.inboundRecord(PIPE, 4)).to.deep.equal(NEVER_EXECUTED);
    });

    it("records a reverting business write as a failure and consumes the packet for good", async function () {
      const { gateway, drug, relayer, custodian, inboundId } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), ethers.ZeroAddress, dataHash("x"));
      const revertData = drug.interface.encodeErrorResult("DrugTraceabilityInvalidParty", [ethers.ZeroAddress]);

      await expect(attested(gateway, relayer).execute(PIPE, 5, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(
          inboundId(5),
          PIPE,
          5,
          await drug.getAddress(),
          OPERATION_WRITE,
          false,
          ethers.keccak256(revertData),
          0,
        )
        .and.to.emit(gateway, "ReturnDataRecorded")
        .withArgs(inboundId(5), revertData);
      expect(await gateway.inboundRecord(PIPE, 5)).to.deep.equal([
        await drug.getAddress(),
        OPERATION_WRITE,
        false,
        false,
      ]);
      expect(await drug.custodyLength(batchId(1))).to.equal(0);

      // Not replayable, not even with calldata that would now succeed, and nothing to compensate.
      const good = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      await expect(attested(gateway, relayer).execute(PIPE, 5, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, good))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestAlreadyExecuted")
        .withArgs(PIPE, 5);
      await expect(gateway.connect(relayer).compensate(PIPE, 5))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestFailed")
        .withArgs(PIPE, 5);
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
    });

    it("never reaches the gateway's own admin functions: they go to the business contract, which refuses", async function () {
      const { gateway, drug, relayer, stranger, inboundId } = await loadFixture(deployGatewayFixture);
      const evil = ethers.id("evil");
      const data = gateway.interface.encodeFunctionData("registerContract", [evil, stranger.address]);
      await expect(attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(inboundId(1), PIPE, 1, await drug.getAddress(), OPERATION_WRITE, false, EMPTY_HASH, 0);
      expect(await gateway.businessContract(evil)).to.deep.equal([ethers.ZeroAddress, 0n]);
    });
  });

  describe("read", function () {
    it("runs a read with STATICCALL and records its return data", async function () {
      const { gateway, evidence, relayer, depositor, evidenceHash, inboundId } = await loadFixture(depositedFixture);
      const data = evidence.interface.encodeFunctionData("verify", [evidenceHash]);
      const [, , timestamp] = await evidence.verify(evidenceHash);
      const expected = abi.encode(["bool", "address", "uint64"], [true, depositor.address, timestamp]);

      const [ok, result] = await attested(gateway, relayer).executeStatic(
        PIPE,
        1,
        FAR_DEADLINE,
        NAMES.evidence,
        OPERATION_READ,
        data,
      );
      expect([ok, result]).to.deep.equal([true, expected]);
      await expect(attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.evidence, OPERATION_READ, data))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(
          inboundId(1),
          PIPE,
          1,
          await evidence.getAddress(),
          OPERATION_READ,
          true,
          ethers.keccak256(expected),
          1,
        )
        .and.to.emit(gateway, "ReturnDataRecorded")
        .withArgs(inboundId(1), expected);
      expect(await gateway.inboundRecord(PIPE, 1)).to.deep.equal([
        await evidence.getAddress(),
        OPERATION_READ,
        true,
        false,
      ]);
    });

    it("a read cannot write: a state-changing call sent as a read fails and changes nothing", async function () {
      const { gateway, drug, relayer, custodian, inboundId } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      await expect(attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_READ, data))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(inboundId(1), PIPE, 1, await drug.getAddress(), OPERATION_READ, false, EMPTY_HASH, 0);
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
      expect(await gateway.inboundRecord(PIPE, 1)).to.deep.equal([
        await drug.getAddress(),
        OPERATION_READ,
        false,
        false,
      ]);
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestNotWrite")
        .withArgs(PIPE, 1);
    });

    it("records a read that burns all its gas as a failed read (it changed nothing)", async function () {
      const { gateway, mock, relayer, inboundId } = await loadFixture(deployGatewayFixture);
      const data = mock.interface.encodeFunctionData("exhaustGas");
      await expect(
        attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.mock, OPERATION_READ, data, {
          gasLimit: 3_000_000,
        }),
      )
        .to.emit(gateway, "InboundExecuted")
        .withArgs(inboundId(1), PIPE, 1, await mock.getAddress(), OPERATION_READ, false, EMPTY_HASH, 0);
    });
  });

  describe("refusals", function () {
    it("refuses every caller without the relayer role, naming it", async function () {
      const { gateway, drug, stranger, admin, custodian } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      for (const caller of [stranger, admin]) {
        const calls = [
          () => attested(gateway, caller).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data),
          () =>
            attested(gateway, caller).executeDependentWrite(
              PIPE,
              1,
              FAR_DEADLINE,
              NAMES.drug,
              data,
              ethers.ZeroHash,
              0,
            ),
          () => gateway.connect(caller).compensate(PIPE, 1),
          () => gateway.connect(caller).reserveInboundRecords(PIPE, 1, 1),
        ];
        for (const call of calls) {
          await expect(call())
            .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnauthorizedRelayer")
            .withArgs(caller.address);
        }
      }
    });

    it("refuses an unknown operation, a zero pipe, the sequence zero", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      await expect(attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, 2, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidOperation")
        .withArgs(2);
      await expect(
        attested(gateway, relayer).execute(ethers.ZeroHash, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidPipe")
        .withArgs(ethers.ZeroHash);
      await expect(attested(gateway, relayer).execute(PIPE, 0, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidSequence")
        .withArgs(PIPE, 0);
    });

    it("refuses an unregistered contract name", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      const unknown = ethers.id("SubchainGateway");
      await expect(attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, unknown, OPERATION_WRITE, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayContractNotRegistered")
        .withArgs(unknown);
    });

    it("refuses every blocklisted hook and privileged selector, for reads and writes", async function () {
      const { gateway, drug, relayer, stranger } = await loadFixture(deployGatewayFixture);
      const role = await drug.CUSTODIAN_ROLE();
      const id = ethers.id("any");
      const blocked = [
        drug.interface.encodeFunctionData("compensate", [id]),
        drug.interface.encodeFunctionData("prepare", [id, "0x"]),
        drug.interface.encodeFunctionData("commit", [id]),
        drug.interface.encodeFunctionData("rollback", [id]),
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
        for (const op of [OPERATION_READ, OPERATION_WRITE]) {
          await expect(attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, op, data))
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
        attested(gateway, relayer).execute(
          PIPE,
          1,
          FAR_DEADLINE,
          NAMES.evidence,
          OPERATION_READ,
          padded(MAX_PAYLOAD + 1),
        ),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayPayloadTooLarge")
        .withArgs(MAX_PAYLOAD + 1, MAX_PAYLOAD);
      await expect(
        attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.evidence, OPERATION_READ, "0xabcdef"),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayCallDataTooShort")
        .withArgs(3);
      await expect(
        attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.evidence, OPERATION_READ, padded(MAX_PAYLOAD)),
      ).to.emit(gateway, "InboundExecuted");
    });

    it("refuses a write that ran out of the relayer's gas instead of recording a failure", async function () {
      const { gateway, mock, relayer, inboundId } = await loadFixture(deployGatewayFixture);
      const data = mock.interface.encodeFunctionData("exhaustGas");
      await expect(
        attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.mock, OPERATION_WRITE, data, {
          gasLimit: 3_000_000,
        }),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInsufficientGas")
        .withArgs(inboundId(1));
      expect(await gateway.inboundRecord(PIPE, 1)).to.deep.equal(NEVER_EXECUTED);
      // Nothing consumed: the packet still runs.
      const write = mock.interface.encodeFunctionData("write");
      await expect(attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.mock, OPERATION_WRITE, write))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(inboundId(1), PIPE, 1, await mock.getAddress(), OPERATION_WRITE, true, EMPTY_HASH, 1);
    });
  });

  describe("packet deadline: the gateway refuses an expired packet as the last guard", function () {
    /** A fixture with a write, a read and a dependent write at hand, and a deadline a minute ahead. */
    async function deadlineFixture() {
      const f = await deployGatewayFixture();
      await f.drug.connect(f.manufacturer).recordBatch(batchId(1), f.manufacturer.address, dataHash("batch"));
      const write = continueCustodyData(f.drug, batchId(1), f.custodian.address, dataHash("late"));
      const read = f.drug.interface.encodeFunctionData("custodyLength", [batchId(1)]);
      const deadline = BigInt((await time.latest()) + 60);
      return { ...f, write, read, deadline };
    }

    it("runs a packet at its deadline second itself", async function () {
      const { gateway, drug, relayer, write, read, deadline, inboundId } = await loadFixture(deadlineFixture);
      const target = await drug.getAddress();
      await time.setNextBlockTimestamp(deadline);
      await expect(attested(gateway, relayer).execute(PIPE, 1, deadline, NAMES.drug, OPERATION_WRITE, write))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(inboundId(1), PIPE, 1, target, OPERATION_WRITE, true, EMPTY_HASH, 2);
      expect(await time.latest()).to.equal(Number(deadline));

      // A read and a dependent write, each at its own deadline second (mined together in one block).
      const version = await drug.stateVersion(batchId(1));
      await ethers.provider.send("evm_setAutomine", [false]);
      try {
        await time.setNextBlockTimestamp(deadline + 1n);
        const readTx = await attested(gateway, relayer).execute(
          PIPE,
          2,
          deadline + 1n,
          NAMES.drug,
          OPERATION_READ,
          read,
          {
            gasLimit: 500_000,
          },
        );
        const writeTx = await attested(gateway, relayer).executeDependentWrite(
          PIPE,
          3,
          deadline + 1n,
          NAMES.drug,
          write,
          batchId(1),
          version,
          { gasLimit: 500_000 },
        );
        await ethers.provider.send("evm_mine", []);
        await expect(readTx).to.emit(gateway, "InboundExecuted");
        await expect(writeTx).to.emit(gateway, "InboundExecuted");
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
      expect(await gateway.inboundRecord(PIPE, 2)).to.deep.equal([target, OPERATION_READ, true, false]);
      expect(await gateway.inboundRecord(PIPE, 3)).to.deep.equal([target, OPERATION_WRITE, true, false]);
    });

    it("refuses a write, a read and a dependent write one second after the deadline, consuming nothing", async function () {
      const { gateway, drug, relayer, write, read, deadline } = await loadFixture(deadlineFixture);
      const version = await drug.stateVersion(batchId(1));
      const late = deadline + 1n;
      const calls = [
        (s: number) => attested(gateway, relayer).execute(PIPE, s, deadline, NAMES.drug, OPERATION_WRITE, write),
        (s: number) => attested(gateway, relayer).execute(PIPE, s, deadline, NAMES.drug, OPERATION_READ, read),
        (s: number) =>
          attested(gateway, relayer).executeDependentWrite(PIPE, s, deadline, NAMES.drug, write, batchId(1), version),
      ];
      for (const [i, call] of calls.entries()) {
        const sequence = i + 1;
        await time.setNextBlockTimestamp(late + BigInt(i));
        await expect(call(sequence))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayPacketExpired")
          .withArgs(PIPE, sequence, deadline, late + BigInt(i));
        expect(await gateway.inboundRecord(PIPE, sequence)).to.deep.equal(NEVER_EXECUTED);
      }
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
      expect(await drug.stateVersion(batchId(1))).to.equal(version);
    });

    it("refuses the zero deadline (a relayer that forgot it)", async function () {
      const { gateway, relayer, write } = await loadFixture(deadlineFixture);
      const next = (await time.latest()) + 5;
      await time.setNextBlockTimestamp(next);
      await expect(attested(gateway, relayer).execute(PIPE, 1, 0, NAMES.drug, OPERATION_WRITE, write))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayPacketExpired")
        .withArgs(PIPE, 1, 0, next);
    });

    it("reports a replay after the deadline as a replay, not as expired", async function () {
      const { gateway, relayer, write, deadline } = await loadFixture(deadlineFixture);
      await attested(gateway, relayer).execute(PIPE, 1, deadline, NAMES.drug, OPERATION_WRITE, write);
      await time.increaseTo(deadline + 10n);
      await expect(attested(gateway, relayer).execute(PIPE, 1, deadline, NAMES.drug, OPERATION_WRITE, write))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestAlreadyExecuted")
        .withArgs(PIPE, 1);
    });

    it("still compensates a write after its deadline (undoing after expiry is compensation's job)", async function () {
      const { gateway, drug, relayer, write, deadline, inboundId } = await loadFixture(deadlineFixture);
      await attested(gateway, relayer).execute(PIPE, 1, deadline, NAMES.drug, OPERATION_WRITE, write);
      expect(await drug.custodyLength(batchId(1))).to.equal(1);
      await time.increaseTo(deadline + 3600n);
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.emit(gateway, "Compensated")
        .withArgs(inboundId(1), PIPE, 1, await drug.getAddress(), true, "0x");
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
      expect(await gateway.inboundRecord(PIPE, 1)).to.deep.equal([
        await drug.getAddress(),
        OPERATION_WRITE,
        true,
        true,
      ]);
    });
  });

  describe("replay protection: each packet (pipe, sequence) at most once, in any order", function () {
    it("refuses a replay whatever it carries, by either entry point; the same sequence of another pipe runs", async function () {
      const { gateway, drug, evidence, relayer, custodian, inboundId } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      await attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data);
      const read = evidence.interface.encodeFunctionData("verify", [ethers.id("e")]);
      const replays = [
        () => attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data),
        () => attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.evidence, OPERATION_READ, read),
        () =>
          attested(gateway, relayer).executeDependentWrite(PIPE, 1, FAR_DEADLINE, NAMES.drug, data, ethers.ZeroHash, 1),
      ];
      for (const replay of replays) {
        await expect(replay())
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestAlreadyExecuted")
          .withArgs(PIPE, 1);
      }
      expect(await drug.custodyLength(batchId(1))).to.equal(1);

      await expect(attested(gateway, relayer).execute(OTHER_PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(
          inboundId(1, OTHER_PIPE),
          OTHER_PIPE,
          1,
          await drug.getAddress(),
          OPERATION_WRITE,
          true,
          EMPTY_HASH,
          2,
        );
      expect(await drug.custodyLength(batchId(1))).to.equal(2);
    });

    it("accepts gaps and late packets: the order is the relayer's, the once-only rule the gateway's", async function () {
      const { gateway, evidence, relayer } = await loadFixture(deployGatewayFixture);
      const data = evidence.interface.encodeFunctionData("verify", [ethers.id("e")]);
      const run = (sequence: number) =>
        attested(gateway, relayer).execute(PIPE, sequence, FAR_DEADLINE, NAMES.evidence, OPERATION_READ, data);
      for (const sequence of [10, 3, 1, 11, 12, 2 ** 40])
        await expect(run(sequence)).to.emit(gateway, "InboundExecuted");
      for (const sequence of [10, 3, 1, 11, 12, 2 ** 40]) {
        await expect(run(sequence))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestAlreadyExecuted")
          .withArgs(PIPE, sequence);
      }
      for (const sequence of [2, 4, 9, 13, 2 ** 40 - 1]) {
        expect(await gateway.inboundRecord(PIPE, sequence)).to.deep.equal(NEVER_EXECUTED);
      }
      await expect(run(2)).to.emit(gateway, "InboundExecuted");
    });

    it("derives each request id from the chain, the gateway, the pipe and the sequence", async function () {
      const { gateway, admin, inboundId } = await loadFixture(deployGatewayFixture);
      const { chainId } = await ethers.provider.getNetwork();
      const ids = new Set<string>();
      for (const pipe of [PIPE, OTHER_PIPE]) {
        for (const sequence of [1, 2, 12, 2n ** 64n - 1n]) {
          const id = await gateway.inboundRequestId(pipe, sequence);
          expect(id).to.equal(inboundRequestIdOf(chainId, await gateway.getAddress(), pipe, sequence));
          expect(id).to.equal(inboundId(sequence, pipe));
          ids.add(id);
        }
      }
      expect(ids.size).to.equal(8);
      const other = await deployGateway(admin.address, MAX_PAYLOAD);
      expect(await other.inboundRequestId(PIPE, 1)).to.not.equal(inboundId(1));
    });

    it("keeps the records of 12 packets per word independent (property test against a model)", async function () {
      const { gateway, drug, evidence, mock, relayer } = await loadFixture(deployGatewayFixture);
      type Outcome = { target: string; operation: number; success: boolean; compensated: boolean };
      const model = new Map<number, Outcome>();
      const kinds = [
        { name: NAMES.mock, op: OPERATION_WRITE, data: mock.interface.encodeFunctionData("write"), ok: true, at: mock },
        {
          name: NAMES.drug,
          op: OPERATION_WRITE,
          data: continueCustodyData(drug, batchId(1), ethers.ZeroAddress, dataHash("x")),
          ok: false,
          at: drug,
        },
        {
          name: NAMES.evidence,
          op: OPERATION_READ,
          data: evidence.interface.encodeFunctionData("verify", [ethers.id("e")]),
          ok: true,
          at: evidence,
        },
        {
          name: NAMES.drug,
          op: OPERATION_READ,
          data: drug.interface.encodeFunctionData("custodyStep", [batchId(1), 0]),
          ok: false,
          at: drug,
        },
      ];
      // mulberry32: a seeded generator, so a failure replays identically.
      let seed = 20240611;
      const random = (n: number) => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) % n;
      };
      const seen = new Set<string>();
      for (let step = 0; step < 160; ++step) {
        const sequence = 1 + random(40);
        const known = model.get(sequence);
        if (!known) {
          const kind = kinds[random(kinds.length)];
          await expect(attested(gateway, relayer).execute(PIPE, sequence, FAR_DEADLINE, kind.name, kind.op, kind.data))
            .to.emit(gateway, "InboundExecuted")
            .withArgs(
              await gateway.inboundRequestId(PIPE, sequence),
              PIPE,
              sequence,
              await kind.at.getAddress(),
              kind.op,
              kind.ok,
              (hash: string) => ethers.isHexString(hash, 32),
              (version: bigint) => version >= 0n,
            );
          const target = await kind.at.getAddress();
          model.set(sequence, { target, operation: kind.op, success: kind.ok, compensated: false });
          seen.add("execute");
        } else if (random(3) === 0) {
          seen.add("replay");
          await expect(
            attested(gateway, relayer).execute(
              PIPE,
              sequence,
              FAR_DEADLINE,
              kinds[0].name,
              OPERATION_WRITE,
              kinds[0].data,
            ),
          )
            .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestAlreadyExecuted")
            .withArgs(PIPE, sequence);
        } else {
          const compensation = gateway.connect(relayer).compensate(PIPE, sequence);
          if (known.operation === OPERATION_READ) {
            await expect(compensation)
              .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestNotWrite")
              .withArgs(PIPE, sequence);
            seen.add("compensate a read");
          } else if (!known.success) {
            await expect(compensation)
              .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestFailed")
              .withArgs(PIPE, sequence);
            seen.add("compensate a failed write");
          } else if (known.compensated) {
            await expect(compensation)
              .to.be.revertedWithCustomError(gateway, "SubchainGatewayAlreadyCompensated")
              .withArgs(PIPE, sequence);
            seen.add("compensate twice");
          } else {
            await expect(compensation)
              .to.emit(gateway, "Compensated")
              .withArgs(await gateway.inboundRequestId(PIPE, sequence), PIPE, sequence, known.target, true, "0x");
            known.compensated = true;
            seen.add("compensate");
          }
        }
      }
      // Every transition of the model was taken at least once.
      expect([...seen].sort()).to.deep.equal([
        "compensate",
        "compensate a failed write",
        "compensate a read",
        "compensate twice",
        "execute",
        "replay",
      ]);
      for (let sequence = 0; sequence <= 48; ++sequence) {
        const known = model.get(sequence);
        const expected = known ? [known.target, known.operation, known.success, known.compensated] : NEVER_EXECUTED;
        expect(await gateway.inboundRecord(PIPE, sequence)).to.deep.equal(expected, `sequence ${sequence}`);
        expect(await gateway.inboundRecord(OTHER_PIPE, sequence)).to.deep.equal(NEVER_EXECUTED);
      }
      const compensable = [...model.values()].filter(
        (o) => o.operation === OPERATION_WRITE && o.success && !o.compensated,
      );
      expect(await mock.writes()).to.equal(compensable.length);
    });
  });

  describe("reserving record words ahead", function () {
    it("pays for a word ahead without touching its records, and makes the packets there cheaper", async function () {
      const { gateway, evidence, relayer } = await loadFixture(deployGatewayFixture);
      const read = evidence.interface.encodeFunctionData("verify", [ethers.id("e")]);
      const run = (sequence: number) =>
        attested(gateway, relayer).execute(PIPE, sequence, FAR_DEADLINE, NAMES.evidence, OPERATION_READ, read);
      await run(1);
      // Words 0-2 (sequences 0-35) are reserved, word 0 already in use; word 3 (36-47) stays fresh.
      await expect(gateway.connect(relayer).reserveInboundRecords(PIPE, 5, 3))
        .to.emit(gateway, "InboundRecordsReserved")
        .withArgs(PIPE, 0, 3, relayer.address);
      expect(await gateway.inboundRecord(PIPE, 1)).to.deep.equal([
        await evidence.getAddress(),
        OPERATION_READ,
        true,
        false,
      ]);
      for (const sequence of [0, 2, 11, 12, 35]) {
        expect(await gateway.inboundRecord(PIPE, sequence)).to.deep.equal(NEVER_EXECUTED);
      }
      await expect(run(1))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestAlreadyExecuted")
        .withArgs(PIPE, 1);

      const gasOf = async (sequence: number) => (await (await run(sequence)).wait())!.gasUsed;
      const reserved = await gasOf(24);
      const fresh = await gasOf(36);
      expect(fresh - reserved).to.be.greaterThan(15_000n);
      expect(await gateway.inboundRecord(PIPE, 24)).to.deep.equal([
        await evidence.getAddress(),
        OPERATION_READ,
        true,
        false,
      ]);
    });

    it("refuses a zero pipe and a reservation of 0 or more than MAX_RESERVED_WORDS words", async function () {
      const { gateway, relayer } = await loadFixture(deployGatewayFixture);
      const max = await gateway.MAX_RESERVED_WORDS();
      await expect(gateway.connect(relayer).reserveInboundRecords(ethers.ZeroHash, 1, 1))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidPipe")
        .withArgs(ethers.ZeroHash);
      for (const words of [0n, max + 1n]) {
        await expect(gateway.connect(relayer).reserveInboundRecords(PIPE, 1, words))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidReservation")
          .withArgs(words, max);
      }
      await expect(gateway.connect(relayer).reserveInboundRecords(PIPE, 2n ** 64n - 1n, max))
        .to.emit(gateway, "InboundRecordsReserved")
        .withArgs(PIPE, (2n ** 64n - 1n) / 12n, max, relayer.address);
    });
  });

  describe("state versions and dependent writes (stale-read rejection)", function () {
    it("reports the contract-wide version after every operation; writes move it, reads do not", async function () {
      const { gateway, drug, relayer, custodian, inboundId } = await loadFixture(deployGatewayFixture);
      const write = (n: number) => continueCustodyData(drug, batchId(1), custodian.address, dataHash(`step${n}`));
      const read = drug.interface.encodeFunctionData("custodyLength", [batchId(1)]);
      const target = await drug.getAddress();
      await expect(attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, write(1)))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(inboundId(1), PIPE, 1, target, OPERATION_WRITE, true, EMPTY_HASH, 1);
      const lengthOne = abi.encode(["uint256"], [1]);
      await expect(attested(gateway, relayer).execute(PIPE, 2, FAR_DEADLINE, NAMES.drug, OPERATION_READ, read))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(inboundId(2), PIPE, 2, target, OPERATION_READ, true, ethers.keccak256(lengthOne), 1);
      await expect(attested(gateway, relayer).execute(PIPE, 3, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, write(2)))
        .to.emit(gateway, "InboundExecuted")
        .withArgs(inboundId(3), PIPE, 3, target, OPERATION_WRITE, true, EMPTY_HASH, 2);
      expect(await drug.stateVersion(ethers.ZeroHash)).to.equal(2);
      expect(await drug.stateVersion(batchId(1))).to.equal(2);
      expect(await drug.stateVersion(batchId(2))).to.equal(0);
    });

    it("runs a dependent write when the key's version is the one the read saw", async function () {
      const { gateway, drug, relayer, manufacturer, custodian, inboundId } = await loadFixture(deployGatewayFixture);
      await drug.connect(manufacturer).recordBatch(batchId(1), manufacturer.address, dataHash("batch"));
      const seen = await drug.stateVersion(batchId(1));
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      // A change of another key does not make the read stale.
      await drug.connect(manufacturer).recordBatch(batchId(2), manufacturer.address, dataHash("other"));
      const tx = attested(gateway, relayer).executeDependentWrite(
        PIPE,
        1,
        FAR_DEADLINE,
        NAMES.drug,
        data,
        batchId(1),
        seen,
      );
      await expect(tx)
        .to.emit(gateway, "InboundExecuted")
        .withArgs(inboundId(1), PIPE, 1, await drug.getAddress(), OPERATION_WRITE, true, EMPTY_HASH, 3);
      // The version the write relied on, for a verifier to tie the recorded read and write to.
      await expect(tx).to.emit(gateway, "DependentWriteChecked").withArgs(inboundId(1), batchId(1), seen);
      expect(await drug.custodyLength(batchId(1))).to.equal(1);
      expect(await gateway.inboundRecord(PIPE, 1)).to.deep.equal([
        await drug.getAddress(),
        OPERATION_WRITE,
        true,
        false,
      ]);
    });

    it("refuses a dependent write after the key changed, consuming nothing", async function () {
      const { gateway, drug, relayer, manufacturer, custodian } = await loadFixture(deployGatewayFixture);
      await drug.connect(manufacturer).recordBatch(batchId(1), manufacturer.address, dataHash("batch"));
      const seen = await drug.stateVersion(batchId(1));
      await drug.connect(custodian).recordCustody(batchId(1), custodian.address, dataHash("local move"));
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      await expect(
        attested(gateway, relayer).executeDependentWrite(PIPE, 1, FAR_DEADLINE, NAMES.drug, data, batchId(1), seen),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayStaleRead")
        .withArgs(NAMES.drug, batchId(1), seen, seen + 1n);
      expect(await gateway.inboundRecord(PIPE, 1)).to.deep.equal(NEVER_EXECUTED);
      // The contract-wide version (key zero) catches any change.
      await expect(
        attested(gateway, relayer).executeDependentWrite(PIPE, 1, FAR_DEADLINE, NAMES.drug, data, ethers.ZeroHash, 1),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayStaleRead")
        .withArgs(NAMES.drug, ethers.ZeroHash, 1, 2);
      // After a fresh read, the same packet runs.
      await expect(
        attested(gateway, relayer).executeDependentWrite(
          PIPE,
          1,
          FAR_DEADLINE,
          NAMES.drug,
          data,
          batchId(1),
          seen + 1n,
        ),
      ).to.emit(gateway, "InboundExecuted");
    });

    it("applies every inbound refusal to dependent writes too", async function () {
      const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      await attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data);
      await expect(
        attested(gateway, relayer).executeDependentWrite(PIPE, 0, FAR_DEADLINE, NAMES.drug, data, ethers.ZeroHash, 1),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidSequence")
        .withArgs(PIPE, 0);
      await expect(
        attested(gateway, relayer).executeDependentWrite(
          ethers.ZeroHash,
          2,
          FAR_DEADLINE,
          NAMES.drug,
          data,
          ethers.ZeroHash,
          1,
        ),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInvalidPipe")
        .withArgs(ethers.ZeroHash);
      const hook = drug.interface.encodeFunctionData("compensate", [ethers.id("r")]);
      await expect(
        attested(gateway, relayer).executeDependentWrite(PIPE, 2, FAR_DEADLINE, NAMES.drug, hook, ethers.ZeroHash, 1),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewaySelectorBlocked")
        .withArgs(NAMES.drug, hook.slice(0, 10));
      const unknown = ethers.id("Unknown");
      await expect(
        attested(gateway, relayer).executeDependentWrite(PIPE, 2, FAR_DEADLINE, unknown, data, ethers.ZeroHash, 1),
      )
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayContractNotRegistered")
        .withArgs(unknown);
    });
  });

  describe("compensation", function () {
    it("undoes a successful write exactly once", async function () {
      const { gateway, drug, relayer, custodian, inboundId } = await loadFixture(deployGatewayFixture);
      const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
      await attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data);
      expect(await gateway.connect(relayer).compensate.staticCall(PIPE, 1)).to.equal(true);
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.emit(gateway, "Compensated")
        .withArgs(inboundId(1), PIPE, 1, await drug.getAddress(), true, "0x")
        .and.to.emit(drug, "CustodyCompensated")
        .withArgs(batchId(1), inboundId(1), 0);
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
      expect(await drug.stateVersion(batchId(1))).to.equal(2);
      expect(await gateway.inboundRecord(PIPE, 1)).to.deep.equal([
        await drug.getAddress(),
        OPERATION_WRITE,
        true,
        true,
      ]);
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayAlreadyCompensated")
        .withArgs(PIPE, 1);
      // A compensated packet is still consumed.
      await expect(attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, data))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestAlreadyExecuted")
        .withArgs(PIPE, 1);
    });

    it("refuses a packet never executed and a read", async function () {
      const { gateway, evidence, relayer } = await loadFixture(deployGatewayFixture);
      for (const [pipe, sequence] of [
        [PIPE, 404],
        [PIPE, 0],
        [ethers.ZeroHash, 1],
      ] as const) {
        await expect(gateway.connect(relayer).compensate(pipe, sequence))
          .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnknownRequest")
          .withArgs(pipe, sequence);
      }
      const read = evidence.interface.encodeFunctionData("verify", [ethers.id("e")]);
      await attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.evidence, OPERATION_READ, read);
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRequestNotWrite")
        .withArgs(PIPE, 1);
      await expect(gateway.connect(relayer).compensate(OTHER_PIPE, 1))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnknownRequest")
        .withArgs(OTHER_PIPE, 1);
    });

    it("records a compensation the business contract refuses, and lets it be retried later", async function () {
      const { gateway, drug, relayer, custodian, inboundId } = await loadFixture(deployGatewayFixture);
      const step = (n: number) => continueCustodyData(drug, batchId(1), custodian.address, dataHash(`step${n}`));
      await attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, step(1));
      await attested(gateway, relayer).execute(PIPE, 2, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, step(2));
      const refusal = drug.interface.encodeErrorResult("DrugTraceabilityStepNotLast", [batchId(1), inboundId(1)]);

      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.emit(gateway, "Compensated")
        .withArgs(inboundId(1), PIPE, 1, await drug.getAddress(), false, refusal);
      expect((await gateway.inboundRecord(PIPE, 1)).compensated).to.equal(false);
      expect(await drug.custodyLength(batchId(1))).to.equal(2);

      await gateway.connect(relayer).compensate(PIPE, 2);
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.emit(gateway, "Compensated")
        .withArgs(inboundId(1), PIPE, 1, await drug.getAddress(), true, "0x");
      expect(await drug.custodyLength(batchId(1))).to.equal(0);
    });

    it("compensates on the contract written to after its name moved to a new version or was removed", async function () {
      const { gateway, drug, admin, relayer, custodian, inboundId } = await loadFixture(deployGatewayFixture);
      const write = (n: number) => continueCustodyData(drug, batchId(n), custodian.address, dataHash("x"));
      await attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, write(1));
      await attested(gateway, relayer).execute(PIPE, 2, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, write(2));
      const drugV2 = await ethers.deployContract("DrugTraceability", [gateway, admin.address]);
      await gateway.registerContract(NAMES.drug, drugV2);
      await attested(gateway, relayer).execute(PIPE, 3, FAR_DEADLINE, NAMES.drug, OPERATION_WRITE, write(3));
      expect((await gateway.inboundRecord(PIPE, 1)).target).to.equal(await drug.getAddress());
      expect((await gateway.inboundRecord(PIPE, 3)).target).to.equal(await drugV2.getAddress());

      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.emit(drug, "CustodyCompensated")
        .withArgs(batchId(1), inboundId(1), 0);
      await expect(gateway.connect(relayer).compensate(PIPE, 3))
        .to.emit(drugV2, "CustodyCompensated")
        .withArgs(batchId(3), inboundId(3), 0);
      await gateway.unregisterContract(NAMES.drug);
      await expect(gateway.connect(relayer).compensate(PIPE, 2))
        .to.emit(drug, "CustodyCompensated")
        .withArgs(batchId(2), inboundId(2), 0);
    });

    it("refuses a compensation that ran out of the relayer's gas", async function () {
      const { gateway, mock, relayer, inboundId } = await loadFixture(deployGatewayFixture);
      await attested(gateway, relayer).execute(
        PIPE,
        1,
        FAR_DEADLINE,
        NAMES.mock,
        OPERATION_WRITE,
        mock.interface.encodeFunctionData("write"),
      );
      await mock.setExhaustOnCompensate(true);
      await expect(gateway.connect(relayer).compensate(PIPE, 1, { gasLimit: 3_000_000 }))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayInsufficientGas")
        .withArgs(inboundId(1));
      expect((await gateway.inboundRecord(PIPE, 1)).compensated).to.equal(false);
      await mock.setExhaustOnCompensate(false);
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.emit(gateway, "Compensated")
        .withArgs(inboundId(1), PIPE, 1, await mock.getAddress(), true, "0x");
    });
  });

  it("tags every step with the time of its block", async function () {
    const { gateway, drug, relayer, custodian } = await loadFixture(deployGatewayFixture);
    await time.setNextBlockTimestamp(2_000_000_000);
    await attested(gateway, relayer).execute(
      PIPE,
      1,
      FAR_DEADLINE,
      NAMES.drug,
      OPERATION_WRITE,
      continueCustodyData(drug, batchId(1), custodian.address, dataHash("x")),
    );
    expect((await drug.custodyStep(batchId(1), 0)).timestamp).to.equal(2_000_000_000);
  });
});
