import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ethers } from "hardhat";
import { ConfigError, loadConsortium, parseConsortium } from "../../lib/domain/consortium-config";
import { DeployError, deployGovernance } from "../../lib/deploy/governance";
import { startHardhatNode, type HardhatNode } from "../helpers/hardhat-node";

const run = promisify(execFile);
const local = JSON.parse(readFileSync("config/consortium.local.json", "utf8"));

function refusal(raw: unknown): string[] {
  try {
    parseConsortium(raw);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error("the config was accepted");
}

describe("scripts: deploy and bootstrap", function () {
  describe("consortium file", function () {
    it("accepts the embedded default", function () {
      const cfg = loadConsortium("config/consortium.local.json");
      expect(cfg.genesis).to.have.length(3);
      expect(cfg.genesis[0].weight).to.equal(1);
    });

    it("names every bad or missing field", function () {
      const g = local.genesis[0];
      expect(refusal({ ...local, genesis: [] })).to.deep.equal(["genesis: expected at least one genesis institution"]);
      expect(refusal({ ...local, genesis: [{ ...g, governors: [] }] })).to.deep.equal([
        "genesis.0.governors: expected at least one governor address",
      ]);
      expect(refusal({ ...local, genesis: [{ ...g, admin: "0x123" }] })).to.deep.equal([
        "genesis.0.admin: expected a 0x-prefixed 20-byte address",
      ]);
      expect(
        refusal({ ...local, genesis: [g, { ...g, name: "", governors: [local.genesis[1].governors[0]] }] }),
      ).to.deep.equal(["genesis.1.name: expected a non-empty name"]);
      expect(refusal({ ...local, genesis: [{ ...g, weight: 0 }] })[0]).to.match(/^genesis\.0\.weight: /);
      expect(refusal({ ...local, genesis: [g, { ...g, name: "Other" }] })).to.deep.equal([
        `genesis.1.governors.0: ${g.governors[0]} is already listed at genesis.0.governors.0`,
      ]);
      const { name: _name, ...noName } = local;
      expect(refusal(noName)[0]).to.match(/^name: /);
      expect(refusal({ ...local, extra: 1 })[0]).to.match(/^\(root\): .*extra/);
      const { identity: _identity, ...noIdentity } = g;
      expect(refusal({ ...local, genesis: [noIdentity] })[0]).to.match(/^genesis\.0\.identity: /);
    });

    it("gives the credit parameters their defaults and names a bad one", function () {
      expect(loadConsortium("config/consortium.local.json").credit).to.deep.equal({
        initialScore: 1000,
        maxScore: 2000,
        restrictionThreshold: 600,
        expulsionThreshold: 300,
        completed: 1,
        failed: -20,
        timedOut: -10,
        badSignature: -100,
        replay: -100,
      });
      expect(refusal({ ...local, credit: { expulsionThreshold: 700 } })).to.deep.equal([
        "credit: expected expulsionThreshold < restrictionThreshold <= initialScore <= maxScore",
      ]);
      expect(refusal({ ...local, credit: { failed: 5 } })[0]).to.match(/^credit\.failed: /);
      expect(refusal({ ...local, credit: { bonus: 5 } })[0]).to.match(/^credit: .*bonus/);
    });

    it("names a missing file and a file that is not JSON", function () {
      const dir = mkdtempSync(join(tmpdir(), "ccgp-"));
      expect(() => loadConsortium(join(dir, "none.json"))).to.throw(
        ConfigError,
        /cannot read consortium config .*none\.json/,
      );
      writeFileSync(join(dir, "bad.json"), "{ not json");
      expect(() => loadConsortium(join(dir, "bad.json"))).to.throw(ConfigError, /bad\.json is not valid JSON/);
    });
  });

  describe("on the embedded network", function () {
    it("does nothing twice and says what it found", async function () {
      const [deployer] = await ethers.getSigners();
      const cfg = loadConsortium("config/consortium.local.json");
      const recordDir = mkdtempSync(join(tmpdir(), "ccgp-deploy-"));
      const first: string[] = [];
      const a = await deployGovernance(deployer, cfg, { network: "test", recordDir, log: (l) => first.push(l) });
      expect(first.join("\n")).to.match(/deployed Membership[\s\S]*deployed VotingTickets[\s\S]*created 3 genesis/);
      expect(first.slice(3)).to.deep.equal([
        `deployed PipeRegistry at ${a.record.pipes}`,
        `deployed ServiceRegistry at ${a.record.services}`,
        `deployed ChainRegistry at ${a.record.chains}`,
        `deployed CreditScore at ${a.record.credit}`,
        `deployed AttesterRegistry at ${a.record.attesters}`,
        `deployed LedgerRecovery at ${a.record.ledgerRecovery}`,
        `deployed TransactionLedger at ${a.record.ledger}`,
        "wired PipeRegistry to the service, chain and credit registries",
        "bound Membership to tell PipeRegistry of status changes",
        "bound CreditScore to take the ledger's outcome reports",
        "installed 20 registry and ledger action rules and 3 voting modules",
      ]);
      const nonce = await deployer.getNonce();
      const second: string[] = [];
      const b = await deployGovernance(deployer, cfg, { network: "test", recordDir, log: (l) => second.push(l) });
      expect(second).to.deep.equal([
        `found Membership at ${a.record.membership}`,
        `found VotingTickets at ${a.record.voting}`,
        "found the genesis set already created: 3 institution(s)",
        `found PipeRegistry at ${a.record.pipes}`,
        `found ServiceRegistry at ${a.record.services}`,
        `found ChainRegistry at ${a.record.chains}`,
        `found CreditScore at ${a.record.credit}`,
        `found AttesterRegistry at ${a.record.attesters}`,
        `found LedgerRecovery at ${a.record.ledgerRecovery}`,
        `found TransactionLedger at ${a.record.ledger}`,
        "found PipeRegistry wired to the service, chain and credit registries",
        "found Membership telling PipeRegistry of status changes",
        "found CreditScore taking the ledger's outcome reports",
        "found the registry and ledger rules installed",
      ]);
      for (const c of [b.pipes, b.services, b.chains, b.credit]) expect(await c.getAddress()).to.be.properAddress;
      expect(await b.membership.listener()).to.equal(a.record.pipes);
      expect(await b.voting.isModule(a.record.pipes!)).to.equal(true);
      expect(await b.voting.isModule(a.record.services!)).to.equal(true);
      expect(await b.voting.isModule(a.record.credit!)).to.equal(true);
      expect((await b.pipes.registries()).credit).to.equal(a.record.credit);
      expect(await deployer.getNonce()).to.equal(nonce); // not one transaction sent
      expect(b.record).to.deep.equal(a.record);
    });

    it("resumes after an interrupted deployment", async function () {
      const [deployer] = await ethers.getSigners();
      const cfg = loadConsortium("config/consortium.local.json");
      const recordDir = mkdtempSync(join(tmpdir(), "ccgp-deploy-"));
      const a = await deployGovernance(deployer, cfg, { network: "resume", recordDir });
      // Forget the last two steps, as if the process died after deploying Membership.
      const path = join(recordDir, "resume-31337.json");
      const rec = JSON.parse(readFileSync(path, "utf8"));
      const fresh = await ethers.deployContract("Membership");
      writeFileSync(
        path,
        JSON.stringify({ ...rec, membership: await fresh.getAddress(), voting: undefined, initialized: false }),
      );
      const lines: string[] = [];
      const b = await deployGovernance(deployer, cfg, { network: "resume", recordDir, log: (l) => lines.push(l) });
      expect(lines[0]).to.equal(`found Membership at ${await fresh.getAddress()}`);
      expect(lines[1]).to.match(/^deployed VotingTickets/);
      expect(lines[2]).to.equal("created 3 genesis institution(s) with 3 governor(s)");
      expect(b.record.voting).to.not.equal(a.record.voting);
      // Everything after VotingTickets points at it, so it is deployed again and wired to the new pair.
      expect(lines.slice(3, 7).every((l) => l.startsWith("deployed "))).to.equal(true);
      expect(b.record.pipes).to.not.equal(a.record.pipes);
      expect(await b.membership.listener()).to.equal(b.record.pipes);
      expect(await b.voting.bootstrapped()).to.equal(true);
    });

    it("resumes after dying between two registries", async function () {
      const [deployer] = await ethers.getSigners();
      const cfg = loadConsortium("config/consortium.local.json");
      const recordDir = mkdtempSync(join(tmpdir(), "ccgp-deploy-"));
      // The process dies right after recording ServiceRegistry (the log line follows the record write).
      const dying = (l: string) => {
        if (l.startsWith("deployed ServiceRegistry")) throw new Error("killed");
      };
      await expect(deployGovernance(deployer, cfg, { network: "mid", recordDir, log: dying })).to.be.rejectedWith(
        "killed",
      );
      const rec = JSON.parse(readFileSync(join(recordDir, "mid-31337.json"), "utf8"));
      expect([rec.services !== undefined, rec.chains, rec.wired]).to.deep.equal([true, undefined, false]);
      const lines: string[] = [];
      const b = await deployGovernance(deployer, cfg, { network: "mid", recordDir, log: (l) => lines.push(l) });
      expect(lines.slice(3)).to.deep.equal([
        `found PipeRegistry at ${rec.pipes}`,
        `found ServiceRegistry at ${rec.services}`,
        `deployed ChainRegistry at ${b.record.chains}`,
        `deployed CreditScore at ${b.record.credit}`,
        `deployed AttesterRegistry at ${b.record.attesters}`,
        `deployed LedgerRecovery at ${b.record.ledgerRecovery}`,
        `deployed TransactionLedger at ${b.record.ledger}`,
        "wired PipeRegistry to the service, chain and credit registries",
        "bound Membership to tell PipeRegistry of status changes",
        "bound CreditScore to take the ledger's outcome reports",
        "installed 20 registry and ledger action rules and 3 voting modules",
      ]);
    });

    it("stops, naming the problem, when a recorded registry no longer matches what PipeRegistry reads", async function () {
      const [deployer] = await ethers.getSigners();
      const cfg = loadConsortium("config/consortium.local.json");
      const recordDir = mkdtempSync(join(tmpdir(), "ccgp-deploy-"));
      await deployGovernance(deployer, cfg, { network: "lost", recordDir });
      const path = join(recordDir, "lost-31337.json");
      const rec = JSON.parse(readFileSync(path, "utf8"));
      writeFileSync(path, JSON.stringify({ ...rec, credit: undefined }));
      await expect(deployGovernance(deployer, cfg, { network: "lost", recordDir })).to.be.rejectedWith(
        DeployError,
        /^PipeRegistry 0x[0-9a-fA-F]{40} reads other registries than the recorded ones$/,
      );
    });
  });

  describe("against a real node process", function () {
    this.timeout(180_000);
    let node: HardhatNode;
    before(async () => {
      node = await startHardhatNode();
    });
    after(async () => node?.stop());

    const deploy = (env: Record<string, string>) =>
      run("npx", ["hardhat", "run", "scripts/deploy.ts", "--network", "localhost"], {
        env: { ...process.env, CCGP_RPC_URL: node.url, ...env },
      }).catch((err: { stdout: string; stderr: string; code: number }) => err);

    it("refuses a bad file naming the field, before deploying anything", async function () {
      const dir = mkdtempSync(join(tmpdir(), "ccgp-"));
      const bad = join(dir, "bad.json");
      writeFileSync(
        bad,
        JSON.stringify({ ...local, genesis: [{ ...local.genesis[0], governors: ["not-an-address"] }] }),
      );
      const out = (await deploy({ CCGP_CONSORTIUM: bad, CCGP_DEPLOYMENTS: dir })) as {
        stdout: string;
        stderr: string;
        code?: number;
      };
      expect(out.code).to.equal(1);
      expect(out.stderr).to.include("genesis.0.governors.0: expected a 0x-prefixed 20-byte address");
      expect(out.stdout).to.not.include("deployed");
      const provider = new ethers.JsonRpcProvider(node.url);
      expect(await provider.getBlockNumber()).to.equal(0);
      provider.destroy();
    });

    it("deploys, and a second run finds everything", async function () {
      const dir = mkdtempSync(join(tmpdir(), "ccgp-"));
      const first = (await deploy({ CCGP_DEPLOYMENTS: dir })) as { stdout: string };
      expect(first.stdout).to.match(
        /deployed Membership[\s\S]*created 3 genesis[\s\S]*did:ccgp:31337:3: Genesis Logistics C/,
      );
      const second = (await deploy({ CCGP_DEPLOYMENTS: dir })) as { stdout: string };
      expect(second.stdout).to.include("found Membership");
      expect(second.stdout).to.include("found the genesis set already created: 3 institution(s)");
      expect(second.stdout).to.not.include("deployed");
    });
  });
});
