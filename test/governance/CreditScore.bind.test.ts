import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { CreditScore__factory } from "../../typechain-types";
import { deployConsortium } from "../helpers/governance";

/** The ledger is the first credit reporter, bound once by the deployer; later changes are votes. */
describe("CreditScore: binding the first reporter", function () {
  async function consortium() {
    return deployConsortium(3);
  }

  it("takes the ledger's reports after deployment", async function () {
    const c = await loadFixture(consortium);
    expect(await c.credit.isReporter(await c.ledger.getAddress())).to.equal(true);
  });

  it("refuses a second binding, another caller and the zero address", async function () {
    const c = await loadFixture(consortium);
    const other = c.others[0];
    await expect(c.credit.connect(c.deployer).bindReporter(other.address)).to.be.revertedWithCustomError(
      c.credit,
      "CreditReportersAlreadyBound",
    );
    await expect(c.credit.connect(other).bindReporter(other.address))
      .to.be.revertedWithCustomError(c.credit, "CreditUnauthorizedBinder")
      .withArgs(other.address);
    const p = await c.credit.params();
    const params = {
      initialScore: p.initialScore,
      maxScore: p.maxScore,
      restrictionThreshold: p.restrictionThreshold,
      expulsionThreshold: p.expulsionThreshold,
      completed: p.completed,
      failed: p.failed,
      timedOut: p.timedOut,
      badSignature: p.badSignature,
      replay: p.replay,
    };
    const fresh = await new CreditScore__factory(c.deployer).deploy(
      await c.membership.getAddress(),
      await c.voting.getAddress(),
      await c.pipes.getAddress(),
      params,
    );
    await expect(fresh.bindReporter(ethers.ZeroAddress)).to.be.revertedWithCustomError(fresh, "CreditZeroAddress");
    await expect(fresh.bindReporter(other.address))
      .to.emit(fresh, "CreditReporterChanged")
      .withArgs(other.address, true, await c.deployer.getAddress());
    expect(await fresh.isReporter(other.address)).to.equal(true);
  });
});
