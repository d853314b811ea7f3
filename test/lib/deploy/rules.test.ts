import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { BaseContract } from "ethers";
import { RuleKind } from "../../../lib/deploy/rules";
import { deployConsortium } from "../../helpers/governance";

/** Every governed function (an `onlyGovernance` refusal) of every governance contract, by contract. */
const GOVERNED: Record<string, string[]> = {
  membership: [
    "approveJoin",
    "suspendInstitution",
    "reinstateInstitution",
    "expelInstitution",
    "setWeight",
    "activateAccount",
    "suspendAccount",
    "reinstateAccount",
    "revokeAccount",
    "setListener",
  ],
  voting: ["setRule", "setModule"],
  services: ["enableService", "disableService", "enableNode", "disableNode"],
  chains: ["setAttestationRequired"],
  pipes: ["activatePipe", "pausePipe", "resumePipe", "closePipe", "setActivationVoteRequired", "setSelectorBlocked"],
  credit: ["setParams", "setReporter", "adjustScore"],
};

async function consortium() {
  return deployConsortium(3);
}

describe("scripts: default rules", function () {
  it("give every governed action of a deployment a rule, so each can be proposed", async function () {
    const c = await loadFixture(consortium);
    const missing: string[] = [];
    for (const [name, fns] of Object.entries(GOVERNED)) {
      const contract = (c as unknown as Record<string, BaseContract>)[name];
      for (const fn of fns) {
        const rule = await c.voting.ruleOf(await contract.getAddress(), contract.interface.getFunction(fn)!.selector);
        if (rule.kind === BigInt(RuleKind.None)) missing.push(`${name}.${fn}`);
      }
    }
    expect(missing).to.deep.equal([]);
  });

  it("make the modules that open proposals modules", async function () {
    const c = await loadFixture(consortium);
    for (const m of [c.membership, c.services, c.pipes, c.credit])
      expect(await c.voting.isModule(await m.getAddress())).to.equal(true);
    expect(await c.voting.isModule(await c.chains.getAddress())).to.equal(false);
  });
});
