import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import {
  FAR_DEADLINE,
  NAMES,
  PIPE,
  OPERATION_READ,
  OPERATION_WRITE,
  deployGatewayFixture,
  gatewaySigner,
  interfaceId,
  requestId,
} from "./fixtures";
import { attested } from "../helpers/attest";

const abi = ethers.AbiCoder.defaultAbiCoder();
const EVIDENCE = ethers.id("contract.pdf");
const META = ethers.id("meta:court-filing");

describe("EvidenceDeposit (example business contract)", function () {
  it("refuses the zero gateway and answers ERC-165 without two-phase", async function () {
    const { evidence } = await loadFixture(deployGatewayFixture);
    const [admin] = await ethers.getSigners();
    const factory = await ethers.getContractFactory("EvidenceDeposit");
    await expect(factory.deploy(ethers.ZeroAddress, admin.address))
      .to.be.revertedWithCustomError(factory, "CrossChainBusinessInvalidGateway")
      .withArgs(ethers.ZeroAddress);
    const business = interfaceId(["gateway()", "compensate(bytes32)", "stateVersion(bytes32)"]);
    const twoPhase = interfaceId(["prepare(bytes32,bytes)", "commit(bytes32)", "rollback(bytes32)"]);
    expect(await evidence.supportsInterface(business)).to.equal(true);
    expect(await evidence.supportsInterface("0x7965db0b")).to.equal(true);
    expect(await evidence.supportsInterface(twoPhase)).to.equal(false);
  });

  describe("deposit (local, DEPOSITOR_ROLE) and verify", function () {
    it("deposits as the caller; verify and evidence report it; versions move", async function () {
      const { evidence, depositor } = await loadFixture(deployGatewayFixture);
      expect(await evidence.verify(EVIDENCE)).to.deep.equal([false, ethers.ZeroAddress, 0n]);
      await expect(evidence.connect(depositor).deposit(EVIDENCE, META))
        .to.emit(evidence, "EvidenceDeposited")
        .withArgs(EVIDENCE, depositor.address, ethers.ZeroHash, META);
      const [exists, who, timestamp] = await evidence.verify(EVIDENCE);
      expect([exists, who]).to.deep.equal([true, depositor.address]);
      expect(timestamp).to.be.greaterThan(0);
      expect(await evidence.evidence(EVIDENCE)).to.deep.equal([depositor.address, timestamp, 1n, META]);
      expect(await evidence.stateVersion(EVIDENCE)).to.equal(1);
      expect(await evidence.stateVersion(ethers.ZeroHash)).to.equal(1);
    });

    it("refuses a caller without the role, the zero hash, a second deposit", async function () {
      const { evidence, depositor, stranger } = await loadFixture(deployGatewayFixture);
      await expect(evidence.connect(stranger).deposit(EVIDENCE, META))
        .to.be.revertedWithCustomError(evidence, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, await evidence.DEPOSITOR_ROLE());
      await expect(evidence.connect(depositor).deposit(ethers.ZeroHash, META))
        .to.be.revertedWithCustomError(evidence, "EvidenceDepositInvalidHash")
        .withArgs(ethers.ZeroHash);
      await evidence.connect(depositor).deposit(EVIDENCE, META);
      await expect(evidence.connect(depositor).deposit(EVIDENCE, META))
        .to.be.revertedWithCustomError(evidence, "EvidenceDepositAlreadyDeposited")
        .withArgs(EVIDENCE, depositor.address);
    });
  });

  describe("cross-chain deposit and compensation", function () {
    it("deposits for a remote depositor through the gateway, tagged with the request id", async function () {
      const { evidence, gateway, relayer, stranger, inboundId } = await loadFixture(deployGatewayFixture);
      const data = evidence.interface.encodeFunctionData("depositCrossChain", [EVIDENCE, stranger.address, META]);
      await expect(attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.evidence, OPERATION_WRITE, data))
        .to.emit(evidence, "EvidenceDeposited")
        .withArgs(EVIDENCE, stranger.address, inboundId(1), META);
      expect((await evidence.verify(EVIDENCE))[1]).to.equal(stranger.address);
    });

    it("records a refused cross-chain deposit as a failed write", async function () {
      const { evidence, gateway, relayer, depositor, inboundId } = await loadFixture(deployGatewayFixture);
      await evidence.connect(depositor).deposit(EVIDENCE, META);
      const zeroDepositor = evidence.interface.encodeFunctionData("depositCrossChain", [
        ethers.id("other"),
        ethers.ZeroAddress,
        META,
      ]);
      const invalid = evidence.interface.encodeErrorResult("EvidenceDepositInvalidDepositor", [ethers.ZeroAddress]);
      await expect(
        attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.evidence, OPERATION_WRITE, zeroDepositor),
      )
        .to.emit(gateway, "ReturnDataRecorded")
        .withArgs(inboundId(1), invalid);
      const duplicate = evidence.interface.encodeFunctionData("depositCrossChain", [EVIDENCE, relayer.address, META]);
      const exists = evidence.interface.encodeErrorResult("EvidenceDepositAlreadyDeposited", [
        EVIDENCE,
        depositor.address,
      ]);
      await expect(
        attested(gateway, relayer).execute(PIPE, 2, FAR_DEADLINE, NAMES.evidence, OPERATION_WRITE, duplicate),
      )
        .to.emit(gateway, "ReturnDataRecorded")
        .withArgs(inboundId(2), exists);
    });

    it("compensation removes the deposit, keeps the version moving, allows a new deposit", async function () {
      const { evidence, gateway, relayer, stranger, depositor, inboundId } = await loadFixture(deployGatewayFixture);
      const data = evidence.interface.encodeFunctionData("depositCrossChain", [EVIDENCE, stranger.address, META]);
      await attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.evidence, OPERATION_WRITE, data);
      await expect(gateway.connect(relayer).compensate(PIPE, 1))
        .to.emit(evidence, "EvidenceDepositCompensated")
        .withArgs(EVIDENCE, inboundId(1));
      expect(await evidence.verify(EVIDENCE)).to.deep.equal([false, ethers.ZeroAddress, 0n]);
      expect(await evidence.evidence(EVIDENCE)).to.deep.equal([ethers.ZeroAddress, 0n, 2n, ethers.ZeroHash]);
      expect(await evidence.stateVersion(ethers.ZeroHash)).to.equal(2);
      await evidence.connect(depositor).deposit(EVIDENCE, META);
      expect(await evidence.stateVersion(EVIDENCE)).to.equal(3);
    });

    it("refuses cross-chain entry points from anyone but the gateway, and unknown compensations", async function () {
      const { evidence, gateway, stranger } = await loadFixture(deployGatewayFixture);
      await expect(evidence.connect(stranger).depositCrossChain(EVIDENCE, stranger.address, META))
        .to.be.revertedWithCustomError(evidence, "CrossChainBusinessUnauthorizedGateway")
        .withArgs(stranger.address);
      await expect(evidence.connect(stranger).compensate(requestId(1)))
        .to.be.revertedWithCustomError(evidence, "CrossChainBusinessUnauthorizedGateway")
        .withArgs(stranger.address);
      const gw = await gatewaySigner(gateway);
      await expect(evidence.connect(gw).compensate(requestId(1)))
        .to.be.revertedWithCustomError(evidence, "CrossChainBusinessUnknownRequest")
        .withArgs(requestId(1));
    });
  });

  describe("requestRemoteVerification (chain-initiated read)", function () {
    it("asks the gateway for a read of verify on the remote chain", async function () {
      const { evidence, gateway, stranger } = await loadFixture(deployGatewayFixture);
      const remoteName = ethers.id("EvidenceDeposit@chainA");
      const payload = evidence.interface.encodeFunctionData("verify", [EVIDENCE]);
      const id = await evidence.connect(stranger).requestRemoteVerification.staticCall(PIPE, remoteName, EVIDENCE);
      await expect(evidence.connect(stranger).requestRemoteVerification(PIPE, remoteName, EVIDENCE))
        .to.emit(gateway, "CrossChainRequested")
        .withArgs(id, PIPE, await evidence.getAddress(), remoteName, OPERATION_READ, payload, 1)
        .and.to.emit(evidence, "RemoteVerificationRequested")
        .withArgs(EVIDENCE, id, stranger.address, PIPE);
    });

    it("refuses the zero hash", async function () {
      const { evidence } = await loadFixture(deployGatewayFixture);
      await expect(evidence.requestRemoteVerification(PIPE, ethers.id("remote"), ethers.ZeroHash))
        .to.be.revertedWithCustomError(evidence, "EvidenceDepositInvalidHash")
        .withArgs(ethers.ZeroHash);
    });

    it("a verify read through the gateway returns (exists, depositor, timestamp)", async function () {
      const { evidence, gateway, relayer, depositor } = await loadFixture(deployGatewayFixture);
      await evidence.connect(depositor).deposit(EVIDENCE, META);
      const [, , timestamp] = await evidence.verify(EVIDENCE);
      const data = evidence.interface.encodeFunctionData("verify", [EVIDENCE]);
      const tx = await attested(gateway, relayer).execute(PIPE, 1, FAR_DEADLINE, NAMES.evidence, OPERATION_READ, data);
      const receipt = await tx.wait();
      const logs = receipt!.logs.map((log) => gateway.interface.parseLog(log)).filter((l) => l !== null);
      const returned = logs.find((l) => l.name === "ReturnDataRecorded")!.args.returnData as string;
      expect(abi.decode(["bool", "address", "uint64"], returned).toArray()).to.deep.equal([
        true,
        depositor.address,
        timestamp,
      ]);
    });
  });
});
