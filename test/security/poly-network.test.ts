import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet } from "ethers";
import { deployGateway } from "../helpers/attest";
import { govern } from "../helpers/governance";
import {
  OPERATION_READ,
  OPERATION_WRITE,
  OPERATION_FLAG_READ,
  Refusal,
  SEL_READ,
  SEL_WRITE,
  applyPipe,
  id,
  pipeWorld,
  specOf,
} from "../helpers/registries";

/** Every function a cross-chain call may never reach, by signature. */
const PRIVILEGED = [
  "compensate(bytes32)",
  "prepare(bytes32,bytes)",
  "commit(bytes32)",
  "rollback(bytes32)",
  "grantRole(bytes32,address)",
  "revokeRole(bytes32,address)",
  "renounceRole(bytes32,address)",
  "transferOwnership(address)",
  "renounceOwnership()",
  "acceptOwnership()",
  "upgradeToAndCall(address,bytes)",
].map((sig) => ethers.id(sig).slice(0, 10));
const OTHER = ethers.id("drainAll()").slice(0, 10);

/** The world plus an active read-only pipe open to any selector, and a deployed sub-chain gateway. */
async function world() {
  const w = await pipeWorld();
  const wildcard = await applyPipe(
    w,
    w.a.operator,
    specOf(w.a, w.b, { operations: OPERATION_FLAG_READ, selectors: [] }),
  );
  await w.pipes.connect(w.b.operator).authorizePipe(wildcard);
  const gateway = await deployGateway(w.stranger.address, 4096);
  return { ...w, wildcard, gateway };
}

/**
 * Poly Network: a message reaches a function its route never granted (there: the keeper-changing function of the
 * manager contract). Here a packet must carry exactly what its pipe granted, and nothing privileged, ever.
 */
describe("Security: Poly Network (a packet reaching what its pipe did not grant)", function () {
  it("a selector the pipe does not list, on the pipe's own key", async function () {
    const w = await loadFixture(world);
    await expect(w.pipes.requireOperation(w.pipeId, w.a.appKey.address, OPERATION_WRITE, OTHER))
      .to.be.revertedWithCustomError(w.pipes, "PipeOperationRefused")
      .withArgs(w.pipeId, w.a.appKey.address, Refusal.SelectorNotAllowed);
  });

  it("a write through a read-only pipe, and an operation code past the known ones", async function () {
    const w = await loadFixture(world);
    await expect(w.pipes.requireOperation(w.wildcard, w.a.appKey.address, OPERATION_WRITE, SEL_READ))
      .to.be.revertedWithCustomError(w.pipes, "PipeOperationRefused")
      .withArgs(w.wildcard, w.a.appKey.address, Refusal.OperationNotAllowed);
    for (const op of [2, 3, 255]) {
      expect(await w.pipes.checkOperation(w.pipeId, w.a.appKey.address, op, SEL_WRITE)).to.equal(
        Refusal.OperationNotAllowed,
      );
    }
  });

  it("a pipe id that was never granted, and the reverse direction of a granted pipe", async function () {
    const w = await loadFixture(world);
    expect(await w.pipes.checkOperation(id("forged pipe"), w.a.appKey.address, OPERATION_WRITE, SEL_WRITE)).to.equal(
      Refusal.PipeUnknown,
    );
    // B's app key on A's pipe: the pipe grants only A -> B.
    expect(await w.pipes.checkOperation(w.pipeId, w.b.appKey.address, OPERATION_WRITE, SEL_WRITE)).to.equal(
      Refusal.SignerNotReserved,
    );
  });

  it("every privileged selector and the zero selector on a read-only pipe open to any selector", async function () {
    const w = await loadFixture(world);
    for (const selector of [...PRIVILEGED, "0x00000000"]) {
      expect(await w.pipes.checkOperation(w.wildcard, w.a.appKey.address, OPERATION_READ, selector)).to.equal(
        Refusal.SelectorNotAllowed,
      );
    }
  });

  it("the registry and the sub-chain gateway refuse the same privileged list", async function () {
    const w = await loadFixture(world);
    for (const selector of PRIVILEGED) {
      expect([await w.pipes.isSelectorBlocked(selector), await w.gateway.isSelectorBlocked(selector)]).to.deep.equal([
        true,
        true,
      ]);
    }
    for (const selector of [SEL_WRITE, SEL_READ, OTHER]) {
      expect([await w.pipes.isSelectorBlocked(selector), await w.gateway.isSelectorBlocked(selector)]).to.deep.equal([
        false,
        false,
      ]);
    }
  });

  it("a selector governance blocks during an incident is refused by every existing pipe in the same block", async function () {
    const w = await loadFixture(world);
    expect(await w.pipes.checkOperation(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE)).to.equal(
      Refusal.Allowed,
    );
    expect(await w.pipes.checkOperation(w.wildcard, w.a.appKey.address, OPERATION_READ, SEL_WRITE)).to.equal(
      Refusal.Allowed,
    );
    await govern(w, w.pipes, "setSelectorBlocked", [SEL_WRITE, true]);
    await expect(w.pipes.requireOperation(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE))
      .to.be.revertedWithCustomError(w.pipes, "PipeOperationRefused")
      .withArgs(w.pipeId, w.a.appKey.address, Refusal.SelectorNotAllowed);
    await expect(w.pipes.requireOperation(w.wildcard, w.a.appKey.address, OPERATION_READ, SEL_WRITE))
      .to.be.revertedWithCustomError(w.pipes, "PipeOperationRefused")
      .withArgs(w.wildcard, w.a.appKey.address, Refusal.SelectorNotAllowed);
    // The other selector of the same pipe is untouched.
    expect(await w.pipes.checkOperation(w.pipeId, w.a.appKey.address, OPERATION_READ, SEL_READ)).to.equal(
      Refusal.Allowed,
    );
  });

  it("a pipe applied before a block and activated after it", async function () {
    const w = await loadFixture(world);
    const applied = await applyPipe(w, w.a.operator, specOf(w.a, w.b, { selectors: [OTHER] }));
    await govern(w, w.pipes, "setSelectorBlocked", [OTHER, true]);
    await w.pipes.connect(w.b.operator).authorizePipe(applied);
    expect(await w.pipes.checkOperation(applied, w.a.appKey.address, OPERATION_WRITE, OTHER)).to.equal(
      Refusal.SelectorNotAllowed,
    );
  });

  it("a contract the target never registered, or one registered on the source's sub-chain", async function () {
    const w = await loadFixture(world);
    await w.chains.connect(w.a.operator).registerContract("Vault", w.a.subchain, Wallet.createRandom().address);
    for (const name of [id("VotingTickets"), id("Vault")]) {
      await expect(w.pipes.connect(w.a.operator).applyPipe(specOf(w.a, w.b, { contractName: name })))
        .to.be.revertedWithCustomError(w.pipes, "PipeContractMismatch")
        .withArgs(name, w.b.subchain, w.b.institution);
    }
  });
});
