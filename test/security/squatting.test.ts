import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet } from "ethers";
import { CONTRACT, CONTRACT_HASH, applyPipe, id, pipeWorld, specOf } from "../helpers/registries";

/**
 * Squatting: one institution takes what belongs to another (a contract name, an address, a node id) so that the
 * owner can no longer register it. Every attack here is performed by a fully legitimate member of the consortium.
 */
describe("Security: squatting", function () {
  describe("contract names (namespaced per sub-chain)", function () {
    it("front-running B's name on A's own sub-chain does not stop B registering it on B's sub-chain", async function () {
      const w = await loadFixture(pipeWorld);
      const name = "Settlement";
      const squat = Wallet.createRandom().address;
      await w.chains.connect(w.a.operator).registerContract(name, w.a.subchain, squat);
      const own = Wallet.createRandom().address;
      await w.chains.connect(w.b.operator).registerContract(name, w.b.subchain, own);
      expect(await w.chains.resolve(w.b.subchain, id(name))).to.deep.equal([own, 1n]);
      expect(await w.chains.resolve(w.a.subchain, id(name))).to.deep.equal([squat, 1n]);
    });

    it("registering into another institution's sub-chain namespace is refused", async function () {
      const w = await loadFixture(pipeWorld);
      const before = await w.chains.resolve(w.b.subchain, CONTRACT_HASH);
      await expect(w.chains.connect(w.a.operator).registerContract(CONTRACT, w.b.subchain, Wallet.createRandom().address))
        .to.be.revertedWithCustomError(w.chains, "ChainRegistryUnauthorizedOperator")
        .withArgs(w.a.operator.address, w.b.institution);
      expect(await w.chains.resolve(w.b.subchain, CONTRACT_HASH)).to.deep.equal(before);
    });

    it("a pipe to B cannot name a contract A registered under B's name elsewhere", async function () {
      const w = await loadFixture(pipeWorld);
      await w.chains.connect(w.a.operator).registerContract("OnlyAtA", w.a.subchain, Wallet.createRandom().address);
      await expect(w.pipes.connect(w.a.operator).applyPipe(specOf(w.a, w.b, { contractName: id("OnlyAtA") })))
        .to.be.revertedWithCustomError(w.pipes, "PipeContractMismatch")
        .withArgs(id("OnlyAtA"), w.b.subchain, w.b.institution);
      // The same name, once B registers it on its own sub-chain, makes a valid pipe target.
      await w.chains.connect(w.b.operator).registerContract("OnlyAtA", w.b.subchain, Wallet.createRandom().address);
      await applyPipe(w, w.a.operator, specOf(w.a, w.b, { contractName: id("OnlyAtA") }));
    });
  });
});
