import { expect } from "chai";
import { ethers } from "hardhat";
import type { Interface } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex } from "viem";
import { deployLedger } from "../../lib/deploy/ledger";
import { ledgerRules } from "../../lib/deploy/ledger-rules";
import { RuleKind } from "../../lib/deploy/rules";
import { VerifierKind } from "../../lib/domain/ledger-types";
import {
  LedgerEndorsement__factory,
  LedgerRecovery__factory,
  LedgerViews__factory,
  TransactionLedger__factory,
} from "../../typechain-types";
import { govern, proposalIdOf } from "../helpers/governance";
import { PIPE, ledgerFixture, openTx, type World } from "./fixtures";

describe("TransactionLedger: deployment, governed settings and the recovery module", () => {
  let w: World;
  beforeEach(async () => {
    w = await loadFixture(ledgerFixture);
  });

  const addresses = async () => ({
    membership: await w.c.membership.getAddress(),
    voting: await w.c.voting.getAddress(),
    pipes: await w.pipes.getAddress(),
    credit: await w.credit.getAddress(),
  });

  /** Proposes, passes and executes a governed call on the ledger; returns the execution (to expect its refusal). */
  const governed = async (fn: "setPipeAuthority" | "setCreditScore" | "setMaxRetries", arg: string | number) => {
    // Through the generic Interface: the typed overloads want a literal function name.
    const data = (w.ledger.interface as Interface).encodeFunctionData(fn, [arg]);
    const id = await proposalIdOf(
      w.c.voting,
      w.c.voting.connect(w.c.governors[0]!).propose(await w.ledger.getAddress(), data, fn),
    );
    for (const g of w.c.governors) await w.c.voting.connect(g).vote(id, true);
    return w.c.voting.execute(id);
  };

  it("is wired as deployed", async () => {
    const a = await addresses();
    expect(await w.ledger.membership()).to.equal(a.membership);
    expect(await w.ledger.governance()).to.equal(a.voting);
    expect(await w.ledger.pipeAuthority()).to.equal(a.pipes);
    expect(await w.ledger.creditScore()).to.equal(a.credit);
    expect(await w.ledger.maxRetries()).to.equal(3n);
    expect(await w.ledger.recoveryModule()).to.equal(await w.recovery.getAddress());
    expect(await w.recovery.membership()).to.equal(a.membership);
  });

  it("refuses missing contracts and a recovery module built for other contracts", async () => {
    const a = await addresses();
    const [deployer] = await ethers.getSigners();
    const eoa = await w.outsider.getAddress();
    await expect(new LedgerRecovery__factory(deployer).deploy(eoa, a.voting))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidAddress")
      .withArgs(eoa);
    const factory = new TransactionLedger__factory(deployer);
    const recovery = await w.recovery.getAddress();
    await expect(factory.deploy(a.membership, a.voting, eoa, a.credit, 3, recovery))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidAddress")
      .withArgs(eoa);
    await expect(factory.deploy(a.membership, a.voting, a.pipes, eoa, 3, recovery))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidAddress")
      .withArgs(eoa);
    await expect(factory.deploy(a.membership, a.voting, a.pipes, a.credit, 3, eoa))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidAddress")
      .withArgs(eoa);
    await expect(factory.deploy(a.membership, a.voting, a.pipes, a.credit, 15, recovery))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidMaxRetries")
      .withArgs(15, 14);
    // A module built for another voting contract (here: the membership contract stands in).
    const other = await new LedgerRecovery__factory(deployer).deploy(a.membership, a.membership);
    await expect(factory.deploy(a.membership, a.voting, a.pipes, a.credit, 3, await other.getAddress()))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidAddress")
      .withArgs(await other.getAddress());
  });

  it("the recovery module refuses direct calls", async () => {
    const o = await openTx(w);
    await expect(w.recovery.connect(w.srcProxy.wallet).escalate(o.txId, "x")).to.be.revertedWithCustomError(
      w.recovery,
      "LedgerDirectCall",
    );
    await expect(w.recovery.expire(o.txId)).to.be.revertedWithCustomError(w.recovery, "LedgerDirectCall");
    await expect(w.recovery.setMaxRetries(1)).to.be.revertedWithCustomError(w.recovery, "LedgerDirectCall");
  });

  it("the view and endorsement modules, made by the ledger, refuse direct calls; the ledger's view entrance refuses outsiders", async () => {
    const o = await openTx(w);
    const views = LedgerViews__factory.connect(await w.ledger.viewsModule(), w.outsider);
    const endorsement = LedgerEndorsement__factory.connect(await w.ledger.endorsementModule(), w.outsider);
    expect(await ethers.provider.getCode(await views.getAddress())).to.not.equal("0x");
    await expect(views.transaction(o.txId)).to.be.revertedWithCustomError(views, "LedgerDirectCall");
    await expect(views.pipeOf(PIPE)).to.be.revertedWithCustomError(views, "LedgerDirectCall");
    await expect(endorsement.endorse(o.txId, ethers.ZeroHash)).to.be.revertedWithCustomError(
      endorsement,
      "LedgerDirectCall",
    );
    // The ledger's own view calls go through its fallback; anyone else (or an unknown function) is refused.
    const prefix = keccak256(toHex("LedgerViews.call")).slice(0, 10);
    const inner = views.interface.encodeFunctionData("transaction", [o.txId]).slice(2);
    await expect(
      w.outsider.sendTransaction({ to: await w.ledger.getAddress(), data: prefix + inner }),
    ).to.be.revertedWithCustomError(w.ledger, "LedgerDirectCall");
    await expect(
      w.outsider.sendTransaction({ to: await w.ledger.getAddress(), data: "0xdeadbeef" }),
    ).to.be.revertedWithCustomError(w.ledger, "LedgerDirectCall");
    // Served through the ledger, the same views read the ledger's storage.
    expect((await w.ledger.transaction(o.txId)).pipeId).to.equal(PIPE);
  });

  it("governance swaps the pipe authority and the credit contract, and sets the retry bound", async () => {
    const pipes2 = await ethers.deployContract("PipeAuthorityMock");
    const credit2 = await ethers.deployContract("CreditScoreMock");
    await expect(governed("setPipeAuthority", await pipes2.getAddress()))
      .to.emit(w.ledger, "PipeAuthoritySet")
      .withArgs(await pipes2.getAddress());
    await expect(governed("setCreditScore", await credit2.getAddress()))
      .to.emit(w.ledger, "CreditScoreSet")
      .withArgs(await credit2.getAddress());
    expect(await w.ledger.pipeAuthority()).to.equal(await pipes2.getAddress());
    expect(await w.ledger.creditScore()).to.equal(await credit2.getAddress());
    // The new authority does not know the pipe: opening is refused.
    await expect(openTx(w)).to.be.revertedWithCustomError(w.ledger, "LedgerUnknownPipe").withArgs(PIPE);
    const eoa = await w.outsider.getAddress();
    await expect(governed("setPipeAuthority", eoa))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidAddress")
      .withArgs(eoa);
    await expect(governed("setCreditScore", eoa))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidAddress")
      .withArgs(eoa);
    await expect(governed("setMaxRetries", 15))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidMaxRetries")
      .withArgs(15, 14);
    await expect(w.ledger.setPipeAuthority(await pipes2.getAddress())).to.be.revertedWithCustomError(
      w.ledger,
      "GovernanceOnly",
    );
    await expect(w.ledger.setCreditScore(await credit2.getAddress())).to.be.revertedWithCustomError(
      w.ledger,
      "GovernanceOnly",
    );
  });

  it("the default rules: weighted endorsers, majority retries, unanimous swaps", async () => {
    const rules = ledgerRules({ target: await w.ledger.getAddress(), iface: w.ledger.interface });
    const bySelector = new Map(rules.map((r) => [r.selector, r.rule]));
    expect(bySelector.get(w.ledger.interface.getFunction("setVerifier").selector)).to.deep.include({
      kind: RuleKind.Weighted,
      thresholdBps: 5_000,
    });
    expect(bySelector.get(w.ledger.interface.getFunction("setMaxRetries").selector)!.kind).to.equal(
      RuleKind.GenesisMajority,
    );
    expect(bySelector.get(w.ledger.interface.getFunction("setPipeAuthority").selector)!.kind).to.equal(
      RuleKind.UnanimousGenesis,
    );
    expect(bySelector.get(w.ledger.interface.getFunction("setCreditScore").selector)!.kind).to.equal(
      RuleKind.UnanimousGenesis,
    );
    // The fixture installed them: the voting contract holds each.
    for (const r of rules) {
      const onChain = await w.c.voting.ruleOf(r.target, r.selector);
      expect([Number(onChain.kind), Number(onChain.thresholdBps)]).to.deep.equal([r.rule.kind, r.rule.thresholdBps]);
    }
    // Weighted: more than half of the genesis weight (2 of 3 equal governors) suffices for a verifier.
    await expect(
      govern(
        w.c,
        w.ledger,
        "setVerifier",
        [w.auditors[2]!.address, VerifierKind.Auditor, 5],
        w.c.governors.slice(0, 2),
      ),
    ).to.emit(w.ledger, "VerifierSet");
  });

  it("deployLedger finds what exists instead of deploying twice", async () => {
    const [deployer] = await ethers.getSigners();
    const lines: string[] = [];
    const existing = { ledger: await w.ledger.getAddress(), recovery: await w.recovery.getAddress() };
    const nonce = await deployer.getNonce();
    const again = await deployLedger(deployer, await addresses(), { existing, log: (l) => lines.push(l) });
    expect(await deployer.getNonce()).to.equal(nonce);
    expect(lines).to.deep.equal([
      `found LedgerRecovery at ${existing.recovery}`,
      `found TransactionLedger at ${existing.ledger}`,
    ]);
    expect(await again.ledger.getAddress()).to.equal(existing.ledger);
    expect(again.rules).to.have.length(4);
  });

  it("views answer for unknown transactions and out-of-range steps", async () => {
    const unknown = keccak256(toHex("unknown"));
    const status = await w.ledger.statusOf(unknown);
    expect([status.state, status.deadline, status.stepsDone, status.stepCount]).to.deep.equal([0n, 0n, 0n, 0n]);
    const opened = await w.ledger.openedOf(unknown, keccak256(toHex("no pipe")));
    expect([opened.state, opened.deadline, opened.lastSequence, opened.steps]).to.deep.equal([0n, 0n, 0n, []]);
    await expect(w.ledger.stepOf(unknown, 0))
      .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownTx")
      .withArgs(unknown);
    const o = await openTx(w);
    await expect(w.ledger.stepOf(o.txId, 2))
      .to.be.revertedWithCustomError(w.ledger, "LedgerUnknownStep")
      .withArgs(o.txId, 2);
    expect(await w.ledger.readVersionOf(o.txId, 200)).to.equal(0n);
    expect(await w.ledger.attemptsOf(o.txId, 200)).to.deep.equal([0n, 0n]);
    expect(await w.ledger.hasEndorsed(o.txId, await w.outsider.getAddress())).to.equal(false);
    expect(await w.ledger.refusalReported(unknown)).to.equal(false);
  });
});
