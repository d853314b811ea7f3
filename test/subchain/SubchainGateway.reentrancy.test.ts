import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  FAR_DEADLINE,
  MAX_TWO_PHASE_DURATION,
  PIPE,
  TxStatus,
  OPERATION_WRITE,
  deadlineIn,
  deployGatewayFixture,
  txId,
} from "./fixtures";
import { attested } from "../helpers/attest";

const ATTACKER = ethers.id("ReentrantBusinessMock");
const KEY = ethers.id("key");
/** `ReentrantBusinessMock.Hook`: where the armed call is made. */
const Hook = { Write: 0, Compensate: 1, Prepare: 2, Commit: 3, Rollback: 4 } as const;

/**
 * A malicious business contract calls back into the gateway from inside the call the gateway makes to it: from a
 * cross-chain write, a compensation and each two-phase hook. Directly it is refused by the role check (a business
 * contract never holds a role); through a relayer that forwards anyone's call, by the gateway's global guard.
 */
describe("SubchainGateway: re-entrancy", function () {
  async function attackFixture() {
    const f = await deployGatewayFixture();
    const attacker = await ethers.deployContract("ReentrantBusinessMock", [f.gateway]);
    await f.gateway.registerContract(ATTACKER, attacker);
    const forwarder = await ethers.deployContract("RelayerForwarderMock", [f.gateway]);
    await f.gateway.grantRole(await f.gateway.RELAYER_ROLE(), forwarder);
    const write = attacker.interface.encodeFunctionData("write");
    // Nested calls are refused before their attestations are read (role check, then the guard): none needed.
    const packet = (sequence: number, id = txId(sequence)) => ({
      txId: id,
      pipeId: PIPE,
      sequence,
      deadline: FAR_DEADLINE,
      contractName: ATTACKER,
      operation: OPERATION_WRITE,
    });
    const gatewayCall = {
      execute: (sequence: number) => f.gateway.interface.encodeFunctionData("execute", [packet(sequence), write, "0x"]),
      dependentWrite: (sequence: number) =>
        f.gateway.interface.encodeFunctionData("executeDependentWrite", [
          packet(sequence),
          write,
          ethers.ZeroHash,
          0,
          "0x",
        ]),
      compensate: (sequence: number) => f.gateway.interface.encodeFunctionData("compensate", [PIPE, sequence]),
      prepare: async (id: string) =>
        f.gateway.interface.encodeFunctionData("prepare", [
          { ...packet(1, id), deadline: await deadlineIn() },
          write,
          "0x",
        ]),
      commit: (id: string) => f.gateway.interface.encodeFunctionData("commit", [id]),
      rollback: (id: string) => f.gateway.interface.encodeFunctionData("rollback", [id]),
      rollbackExpired: (id: string) => f.gateway.interface.encodeFunctionData("rollbackExpired", [id]),
      reserve: () => f.gateway.interface.encodeFunctionData("reserveInboundRecords", [PIPE, 1, 1]),
    };
    const viaForwarder = (data: string) => forwarder.interface.encodeFunctionData("forward", [data]);
    return { ...f, attacker, forwarder, write, gatewayCall, viaForwarder };
  }

  const gatewayError = async (name: string, args: unknown[]) => {
    const gateway = await ethers.getContractFactory("SubchainGateway");
    return gateway.interface.encodeErrorResult(name, args);
  };

  describe("a business contract calling back is refused: it never holds a role", function () {
    it("from a cross-chain write: every gateway entry point, the write recorded as failed", async function () {
      const { gateway, attacker, relayer, write, gatewayCall, inboundId } = await loadFixture(attackFixture);
      const refused = await gatewayError("SubchainGatewayUnauthorizedRelayer", [await attacker.getAddress()]);
      const nested = [
        gatewayCall.execute(1),
        gatewayCall.execute(100),
        gatewayCall.compensate(1),
        await gatewayCall.prepare(txId(1)),
        gatewayCall.commit(txId(1)),
        gatewayCall.rollback(txId(1)),
        gatewayCall.reserve(),
      ];
      for (const [i, data] of nested.entries()) {
        const sequence = i + 1;
        await attacker.arm(Hook.Write, gateway, data);
        await expect(attested(gateway, relayer).execute(PIPE, sequence, FAR_DEADLINE, ATTACKER, OPERATION_WRITE, write))
          .to.emit(gateway, "InboundExecuted")
          .withArgs(
            inboundId(sequence),
            PIPE,
            sequence,
            await attacker.getAddress(),
            OPERATION_WRITE,
            false,
            ethers.keccak256(refused),
            0,
          )
          .and.to.emit(gateway, "ReturnDataRecorded")
          .withArgs(inboundId(sequence), refused);
        expect(await gateway.inboundRecord(PIPE, sequence)).to.deep.equal([
          await attacker.getAddress(),
          OPERATION_WRITE,
          false,
          false,
        ]);
      }
      expect(await attacker.writes()).to.equal(0);
      expect(await gateway.inboundRecord(PIPE, 100)).to.deep.equal([ethers.ZeroAddress, 0n, false, false]);
    });

    it("from a compensation: recorded as a failed compensation, which may be retried", async function () {
      const { gateway, attacker, relayer, write, gatewayCall, inboundId } = await loadFixture(attackFixture);
      await attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, ATTACKER, OPERATION_WRITE, write);
      const refused = await gatewayError("SubchainGatewayUnauthorizedRelayer", [await attacker.getAddress()]);
      await attacker.arm(Hook.Compensate, gateway, gatewayCall.compensate(1));
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.emit(gateway, "Compensated")
        .withArgs(inboundId(1), PIPE, 1, await attacker.getAddress(), false, refused);
      expect(await attacker.writes()).to.equal(1);
      await attacker.disarm();
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.emit(gateway, "Compensated")
        .withArgs(inboundId(1), PIPE, 1, await attacker.getAddress(), true, "0x");
      expect(await attacker.writes()).to.equal(0);
    });

    it("from the two-phase hooks: prepare, commit and rollback revert with the refusal", async function () {
      const { gateway, attacker, relayer, gatewayCall } = await loadFixture(attackFixture);
      const self = await attacker.getAddress();
      await attacker.arm(Hook.Prepare, gateway, gatewayCall.commit(txId(1)));
      await expect(attested(gateway, relayer).prepare(txId(1), PIPE, ATTACKER, "0x", await deadlineIn()))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnauthorizedRelayer")
        .withArgs(self);

      await attacker.disarm();
      await attested(gateway, relayer).prepare(txId(1), PIPE, ATTACKER, "0x", await deadlineIn());
      await attacker.arm(Hook.Commit, gateway, gatewayCall.rollback(txId(1)));
      await expect(gateway.connect(relayer).commit(txId(1)))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnauthorizedRelayer")
        .withArgs(self);
      await attacker.arm(Hook.Rollback, gateway, gatewayCall.commit(txId(1)));
      await expect(gateway.connect(relayer).rollback(txId(1)))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayUnauthorizedRelayer")
        .withArgs(self);
      expect((await gateway.twoPhaseTx(txId(1))).status).to.equal(TxStatus.Prepared);
    });

    it("and can never be given a role", async function () {
      const { gateway, attacker } = await loadFixture(attackFixture);
      await expect(gateway.grantRole(await gateway.RELAYER_ROLE(), attacker))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayRoleForBusinessContract")
        .withArgs(await attacker.getAddress());
    });
  });

  describe("through a relayer that forwards anyone's call, the global guard refuses every entry point", function () {
    it("from a cross-chain write: recorded as the write's failure, nothing nested ran", async function () {
      const { gateway, attacker, forwarder, relayer, write, gatewayCall, viaForwarder, inboundId } =
        await loadFixture(attackFixture);
      const guarded = await gatewayError("ReentrancyGuardReentrantCall", []);
      const nested = [
        gatewayCall.execute(1),
        gatewayCall.execute(2),
        gatewayCall.dependentWrite(3),
        gatewayCall.compensate(1),
        await gatewayCall.prepare(txId(1)),
        gatewayCall.commit(txId(1)),
        gatewayCall.rollback(txId(1)),
        gatewayCall.rollbackExpired(txId(1)),
      ];
      // Through both inbound entry points.
      const outer = [
        (sequence: number) =>
          attested(gateway, relayer).execute(PIPE, sequence, FAR_DEADLINE, ATTACKER, OPERATION_WRITE, write),
        (sequence: number) =>
          attested(gateway, relayer).executeDependentWrite(
            PIPE,
            sequence,
            FAR_DEADLINE,
            ATTACKER,
            write,
            ethers.ZeroHash,
            0,
          ),
      ];
      for (const [o, run] of outer.entries()) {
        for (const [i, data] of nested.entries()) {
          const sequence = 10 + 10 * o + i;
          await attacker.arm(Hook.Write, forwarder, viaForwarder(data));
          await expect(run(sequence)).to.emit(gateway, "ReturnDataRecorded").withArgs(inboundId(sequence), guarded);
          expect((await gateway.inboundRecord(PIPE, sequence)).success).to.equal(false);
        }
      }
      expect(await attacker.writes()).to.equal(0);
      for (const sequence of [1, 2, 3]) {
        expect(await gateway.inboundRecord(PIPE, sequence)).to.deep.equal([ethers.ZeroAddress, 0n, false, false]);
      }
      expect(await gateway.lockHolder(attacker, KEY)).to.equal(ethers.ZeroHash);
    });

    it("from a compensation: recorded as a failed compensation, the write compensated once", async function () {
      const { gateway, attacker, forwarder, relayer, write, gatewayCall, viaForwarder, inboundId } =
        await loadFixture(attackFixture);
      await attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, ATTACKER, OPERATION_WRITE, write);
      await attacker.arm(Hook.Compensate, forwarder, viaForwarder(gatewayCall.compensate(1)));
      const guarded = await gatewayError("ReentrancyGuardReentrantCall", []);
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.emit(gateway, "Compensated")
        .withArgs(inboundId(1), PIPE, 1, await attacker.getAddress(), false, guarded);
      expect(await attacker.writes()).to.equal(1);
      expect((await gateway.inboundRecord(PIPE, 1)).compensated).to.equal(false);
      await attacker.disarm();
      await gateway.connect(relayer).compensate(PIPE, 1);
      expect(await attacker.writes()).to.equal(0);
      expect((await gateway.inboundRecord(PIPE, 1)).compensated).to.equal(true);
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.be.revertedWithCustomError(gateway, "SubchainGatewayAlreadyCompensated")
        .withArgs(PIPE, 1);
    });

    it("from the two-phase hooks: prepare, commit and rollback revert, the transaction unchanged", async function () {
      const { gateway, attacker, forwarder, relayer, stranger, gatewayCall, viaForwarder } =
        await loadFixture(attackFixture);
      const nested = [
        gatewayCall.commit(txId(1)),
        gatewayCall.rollback(txId(1)),
        await gatewayCall.prepare(txId(2)),
        gatewayCall.execute(1),
      ];
      for (const data of nested) {
        await attacker.arm(Hook.Prepare, forwarder, viaForwarder(data));
        await expect(
          attested(gateway, relayer).prepare(txId(1), PIPE, ATTACKER, "0x", await deadlineIn()),
        ).to.be.revertedWithCustomError(gateway, "ReentrancyGuardReentrantCall");
      }
      expect((await gateway.twoPhaseTx(txId(1))).target).to.equal(ethers.ZeroAddress);

      await attacker.disarm();
      await attested(gateway, relayer).prepare(txId(1), PIPE, ATTACKER, "0x", await deadlineIn());
      const finishes = [
        [Hook.Commit, () => gateway.connect(relayer).commit(txId(1))],
        [Hook.Rollback, () => gateway.connect(relayer).rollback(txId(1))],
      ] as const;
      for (const [hook, finish] of finishes) {
        for (const data of nested) {
          await attacker.arm(hook, forwarder, viaForwarder(data));
          await expect(finish()).to.be.revertedWithCustomError(gateway, "ReentrancyGuardReentrantCall");
        }
      }
      expect((await gateway.twoPhaseTx(txId(1))).status).to.equal(TxStatus.Prepared);
      expect(await gateway.lockHolder(attacker, KEY)).to.equal(txId(1));

      // The release of an expired transaction, open to anyone, is guarded too.
      await time.increase(MAX_TWO_PHASE_DURATION + 15 * 60 + 1); // past the deadline and the grace
      await attacker.arm(Hook.Rollback, forwarder, viaForwarder(gatewayCall.rollbackExpired(txId(1))));
      await expect(gateway.connect(stranger).rollbackExpired(txId(1))).to.be.revertedWithCustomError(
        gateway,
        "ReentrancyGuardReentrantCall",
      );
      await attacker.disarm();
      await expect(gateway.connect(stranger).rollbackExpired(txId(1)))
        .to.emit(gateway, "TwoPhaseRolledBack")
        .withArgs(txId(1), await attacker.getAddress(), stranger.address);
      expect(await gateway.lockHolder(attacker, KEY)).to.equal(ethers.ZeroHash);
    });

    it("lets a nested call that makes no external call through: a reservation during a write", async function () {
      const { gateway, attacker, forwarder, relayer, write, gatewayCall, viaForwarder } =
        await loadFixture(attackFixture);
      await attacker.arm(Hook.Write, forwarder, viaForwarder(gatewayCall.reserve()));
      await expect(attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, ATTACKER, OPERATION_WRITE, write))
        .to.emit(gateway, "InboundRecordsReserved")
        .withArgs(PIPE, 0, 1, await forwarder.getAddress())
        .and.to.emit(attacker, "AttackSucceeded");
      // The outer record was completed after the nested change to its word, not over it.
      expect(await gateway.inboundRecord(PIPE, 1)).to.deep.equal([
        await attacker.getAddress(),
        OPERATION_WRITE,
        true,
        false,
      ]);
      expect(await attacker.writes()).to.equal(1);
    });
  });
});
