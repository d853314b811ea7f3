import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConsortium } from "../../scripts/lib/consortium-config";
import { deployGovernance } from "../../scripts/lib/deploy-governance";

/** The operator tasks, on the embedded network, from a deployment record as scripts/deploy.ts writes it. */
describe("scripts: operator tasks (gov:*)", function () {
  const logs: string[] = [];
  const original = console.log;
  before(async () => {
    process.env.CCGP_DEPLOYMENTS = mkdtempSync(join(tmpdir(), "ccgp-tasks-"));
    const [deployer] = await ethers.getSigners();
    await deployGovernance(deployer, loadConsortium("config/consortium.local.json"), {
      network: "hardhat",
      recordDir: process.env.CCGP_DEPLOYMENTS,
    });
  });
  after(() => {
    delete process.env.CCGP_DEPLOYMENTS;
  });
  const quietly = async (name: string, args: Record<string, unknown>) => {
    logs.length = 0;
    console.log = (...a: unknown[]) => logs.push(a.join(" "));
    try {
      await hre.run(name, args);
    } finally {
      console.log = original;
    }
    return logs.join("\n");
  };

  it("applies, votes, executes and shows", async function () {
    expect(await quietly("gov:apply", { name: "Drug Maker", identity: "USCC:1", kind: "business", attributes: "{}", signer: 10 })).to.match(
      /^institution 4 applied; join proposal (\d+)$/,
    );
    const id = Number(/proposal (\d+)/.exec(logs[0])![1]);
    // governors of the embedded default are accounts 1, 3 and 5
    expect(await quietly("gov:vote", { id, signer: 1, against: false })).to.equal(`voted for proposal ${id}: now Active`);
    expect(await quietly("gov:vote", { id, signer: 3, against: false })).to.equal(`voted for proposal ${id}: now Passed`);
    expect(await quietly("gov:execute", { id, signer: 0 })).to.equal(`proposal ${id} executed`);
    const shown = await quietly("gov:show", {});
    expect(shown).to.match(/did:ccgp:31337:4 +Business Active +Drug Maker/);
    expect(shown).to.match(new RegExp(`proposal ${id} +Executed approveJoin\\(uint32\\)`));
  });

  it("proposes and requests accounts", async function () {
    expect(await quietly("gov:propose", { action: "suspendInstitution", args: "[4]", description: "", signer: 1 })).to.match(
      /^proposal \d+: suspendInstitution\(4\), deadline /,
    );
    const acct = (await ethers.getSigners())[12].address;
    const consent = await quietly("gov:account-consent", { institution: 4, role: "operator", signer: 12 });
    const [, deadline, signature] = consent.match(/--deadline (\d+) --consent (0x[0-9a-f]+)$/)!;
    expect(await quietly("gov:request-account", { account: acct, institution: 4, role: "operator", deadline, consent: signature, signer: 10 })).to.match(
      new RegExp(`^account ${acct} requested; proposal \\d+$`),
    );
    // The same consent a second time: its nonce is used.
    await expect(quietly("gov:request-account", { account: acct, institution: 4, role: "operator", deadline, consent: signature, signer: 10 })).to.be.rejectedWith(
      /AccountConsentInvalid/,
    );
  });

  it("refuses with the reason in one line", async function () {
    const refused = await quietly("gov:vote", { id: 2, signer: 2, against: false }).catch((e: Error) => e.message);
    expect(refused).to.match(/gov:vote: .*AccountNotActive/);
    await expect(quietly("gov:apply", { name: "X", identity: "Y", kind: "genesis", attributes: "{}", signer: 11 })).to.be.rejectedWith(
      "--kind genesis: expected one of business, audit",
    );
    await expect(quietly("gov:vote", { id: 1, signer: 99, against: false })).to.be.rejectedWith("--signer 99: the network has no account at that index");
  });
});
