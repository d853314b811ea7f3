import { expect } from "chai";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { JsonRpcProvider, Wallet, type Signer } from "ethers";
import { keccak256, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { countersign, packetDomain, signPacket } from "../../lib/amdp";
import { deployGovernance } from "../../lib/deploy/governance";
import { loadConsortium } from "../../lib/domain/consortium-config";
import { deployLedger } from "../../lib/deploy/ledger";
import { Issue, Reason, Side, TxState, resultSetHash } from "../../lib/domain/ledger-types";
import { formatReport, openedTransactions, reconcile } from "../../lib/domain/reconcile";
import { CreditScoreMock__factory, PipeAuthorityMock__factory } from "../../typechain-types";
import { startHardhatNode, type HardhatNode } from "../helpers/hardhat-node";
import {
  CHAIN_A,
  PIPE,
  executed,
  ledgerFixture,
  makeRoute,
  openTx,
  readStep,
  record,
  writeStep,
  type World,
} from "./fixtures";

const run = promisify(execFile);

describe("TransactionLedger: reconciliation", () => {
  let w: World;
  beforeEach(async () => {
    w = await loadFixture(ledgerFixture);
  });

  const endorse = (i: number, txId: string, hash: string) =>
    w.ledger.connect(w.auditors[i]!.wallet).endorse(txId, hash);

  /** One transaction in each interesting state; returns their ids by name. */
  async function population() {
    const confirmed = await executed(w);
    await endorse(0, confirmed.txId, resultSetHash(confirmed.results));
    await endorse(1, confirmed.txId, resultSetHash(confirmed.results));
    const disputed = await executed(w);
    await endorse(2, disputed.txId, keccak256(toHex("another view")));
    await endorse(0, disputed.txId, resultSetHash(disputed.results));
    await endorse(1, disputed.txId, resultSetHash(disputed.results));
    const executing = await openTx(w);
    await record(w, executing, 0);
    const compensating = await openTx(w, { steps: [writeStep(), readStep(Side.Source)] });
    await record(w, compensating, 0);
    await record(w, compensating, 1, { success: false });
    const manual = await openTx(w);
    await w.ledger.connect(w.srcProxy.wallet).escalate(manual.txId, "node down");
    const failedClean = await openTx(w);
    await record(w, failedClean, 0, { success: false });
    const resolved = await openTx(w);
    await w.ledger.connect(w.srcProxy.wallet).escalate(resolved.txId, "x");
    await w.ledger.connect(w.c.governors[0]!).resolve(resolved.txId, "checked by hand");
    const fresh = await openTx(w, { deadline: BigInt(await time.latest()) + 3000n });
    return { confirmed, disputed, executing, compensating, manual, failedClean, resolved, fresh };
  }

  /** Every opened transaction, in opening order, from the TxOpened events. */
  const allIds = async () => (await openedTransactions(w.ledger)).map((o) => o.txId);

  it("lists inconsistent and overdue transactions, and only those", async () => {
    const p = await population();
    const ids = await allIds();
    expect(ids).to.have.length(Number(await w.ledger.txCount()));
    let items = await w.ledger.unresolvedAmong(ids);
    expect(items.map((i) => [i.txId, Number(i.issue)])).to.deep.equal([
      [p.disputed.txId, Issue.Disputed],
      [p.compensating.txId, Issue.Uncompensated],
      [p.manual.txId, Issue.Abnormal],
    ]);
    // Past the deadlines of the 30-minute transactions, the one still executing is overdue; the fresh one is not.
    await time.increaseTo(p.executing.deadline + 1n);
    items = await w.ledger.unresolvedAmong(ids);
    expect(items.map((i) => [i.txId, Number(i.issue)])).to.deep.include([p.executing.txId, Issue.Overdue]);
    expect(items.map((i) => i.txId)).not.to.include(p.fresh.txId);
    const overdue = items.find((i) => i.txId === p.executing.txId)!;
    expect([Number(overdue.state), overdue.deadline]).to.deep.equal([TxState.Executing, p.executing.deadline]);
    // Undoing the write makes the compensated transaction consistent again.
    await w.ledger.connect(w.tgtProxy.wallet).recordCompensation({
      txId: p.compensating.txId,
      step: 0,
      subchain: p.compensating.steps[0]!.subchain,
      subchainTx: keccak256(toHex("undo")),
      blockNumber: 1n,
      resultHash: keccak256(toHex("undone")),
      success: true,
    });
    items = await w.ledger.unresolvedAmong(ids);
    expect(items.map((i) => i.txId)).not.to.include(p.compensating.txId);
  });

  it("takes bounded pages of ids and skips unknown ones", async () => {
    const p = await population();
    const unknown = keccak256(toHex("never opened"));
    const items = await w.ledger.unresolvedAmong([unknown, p.manual.txId, unknown]);
    expect(items.map((i) => i.txId)).to.deep.equal([p.manual.txId]);
    await expect(w.ledger.unresolvedAmong([]))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidPage")
      .withArgs(0, 500);
    const tooMany = Array.from({ length: 501 }, () => unknown);
    await expect(w.ledger.unresolvedAmong(tooMany))
      .to.be.revertedWithCustomError(w.ledger, "LedgerInvalidPage")
      .withArgs(501, 500);
  });

  it("reports them with what is inconsistent (lib/domain/reconcile)", async () => {
    const p = await population();
    // Small pages and block ranges: the same report.
    const report = await reconcile(w.ledger, { pageSize: 3, blockRange: 7 });
    expect(report.scanned).to.equal(await w.ledger.txCount());
    expect(report.missing).to.equal(0n);
    const byId = new Map(report.entries.map((e) => [e.txId, e]));
    expect(byId.get(p.compensating.txId)!.writesNotUndone).to.deep.equal([0]);
    expect(byId.get(p.compensating.txId)!.reason).to.equal(Reason.StepFailed);
    expect(byId.get(p.disputed.txId)!.weightAgainst).to.equal(1n);
    expect(byId.get(p.manual.txId)!.pipeId).to.equal(PIPE);
    const text = formatReport(report);
    expect(text).to.include(`${report.scanned} transaction(s) scanned, 3 to look at`);
    expect(byId.get(p.manual.txId)!.number).to.equal(5n);
    // Starting the scan after the first events: the report says some were missed.
    const late = await reconcile(w.ledger, { fromBlock: (await ethers.provider.getBlockNumber()) - 2 });
    expect(late.missing).to.be.greaterThan(0n);
    expect(formatReport(late)).to.include("not found in the events: scan from an earlier block");
    expect(text).to.include(
      `${p.compensating.txId} pipe ${PIPE}: Uncompensated (Compensating, reason StepFailed, 1/2 steps, writes not undone: step 0)`,
    );
    expect(text).to.include(
      `${p.disputed.txId} pipe ${PIPE}: Disputed (Confirmed, reason None, 2/2 steps, weight 1 endorsed another result set)`,
    );
    expect(text).to.include(`${p.manual.txId} pipe ${PIPE}: Abnormal (Manual, reason Escalated, 0/2 steps)`);
  });

  describe("scripts/reconcile.ts against a real node process", function () {
    this.timeout(240_000);
    let node: HardhatNode;
    before(async () => {
      node = await startHardhatNode();
    });
    after(async () => node?.stop());

    const reconcileScript = (env: Record<string, string>) =>
      run("npx", ["hardhat", "run", "scripts/reconcile.ts", "--network", "localhost"], {
        env: { ...process.env, CCGP_RPC_URL: node.url, ...env },
      }).then(
        (out) => ({ ...out, code: 0 }),
        (err: { stdout: string; stderr: string; code: number }) => err,
      );

    async function funded(provider: JsonRpcProvider): Promise<Wallet> {
      const wallet = Wallet.createRandom().connect(provider);
      await provider.send("hardhat_setBalance", [wallet.address, "0x56BC75E2D63100000"]);
      return wallet as unknown as Wallet;
    }

    it("prints the overdue transaction and exits 2; refuses a missing ledger", async () => {
      const provider = new JsonRpcProvider(node.url);
      const deployer: Signer = await provider.getSigner(0);
      const { membership, voting } = await deployGovernance(deployer, loadConsortium("config/consortium.local.json"), {
        network: "node",
      });
      const pipes = await new PipeAuthorityMock__factory(deployer).deploy();
      const credit = await new CreditScoreMock__factory(deployer).deploy();
      const { ledger } = await deployLedger(deployer, {
        membership: await membership.getAddress(),
        voting: await voting.getAddress(),
        pipes: await pipes.getAddress(),
        credit: await credit.getAddress(),
      });
      const [srcApp, srcProxy, tgtApp, tgtProxy] = [
        await funded(provider),
        await funded(provider),
        await funded(provider),
        await funded(provider),
      ];
      const keys = {
        source: 1,
        target: 2,
        srcApp: { address: srcApp.address as Address },
        srcProxy: { address: srcProxy.address as Address },
        tgtApp: { address: tgtApp.address as Address },
        tgtProxy: { address: tgtProxy.address as Address },
      };
      await (await pipes.setRoute(PIPE, makeRoute(keys as Parameters<typeof makeRoute>[0]))).wait();
      const domain = packetDomain(31337, (await ledger.getAddress()) as Address);
      const t0 = BigInt((await provider.getBlock("latest"))!.timestamp);
      const packet = {
        pipeId: PIPE,
        sourceInstitution: 1,
        targetInstitution: 2,
        targetService: makeRoute(keys as Parameters<typeof makeRoute>[0]).targetService as Hex,
        contractName: keccak256(toHex("EvidenceDeposit")),
        operation: 1 as const,
        selector: "0x2f0c7b1a" as Hex,
        payloadHash: keccak256(toHex("payload")),
        txId: keccak256(toHex("node tx")),
        sequence: 1n,
        deadline: t0 + 600n,
        signer: srcApp.address as Address,
      };
      const appSignature = await signPacket(privateKeyToAccount(srcApp.privateKey as Hex), domain, packet);
      const proxySignature = await countersign(
        privateKeyToAccount(srcProxy.privateKey as Hex),
        domain,
        packet,
        appSignature,
      );
      const steps = [
        { side: Side.Source, subchain: CHAIN_A, operation: 0, dependsOn: 255 },
        { ...writeStep(), dependsOn: 0 },
      ];
      await (await ledger.connect(srcProxy).open([{ packet, appSignature, proxySignature }], steps, t0 + 300n)).wait();

      const clean = await reconcileScript({ CCGP_LEDGER: await ledger.getAddress() });
      expect(clean.code, clean.stderr).to.equal(0);
      expect(clean.stdout).to.include("1 transaction(s) scanned, 0 to look at");

      await provider.send("evm_increaseTime", [400]);
      await provider.send("evm_mine", []);
      const late = await reconcileScript({ CCGP_LEDGER: await ledger.getAddress() });
      expect(late.code, late.stderr).to.equal(2);
      expect(late.stdout).to.include("1 transaction(s) scanned, 1 to look at");
      expect(late.stdout).to.match(
        new RegExp(
          `#1 ${packet.txId} pipe ${PIPE}: Overdue \\(Open, reason None, 0/2 steps, \\d+s past its deadline\\)`,
        ),
      );

      const missing = await reconcileScript({ CCGP_LEDGER: srcApp.address });
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.include(`CCGP_LEDGER ${srcApp.address}: no contract there`);
      const unset = await reconcileScript({ CCGP_LEDGER: "", CCGP_DEPLOYMENTS: "/nonexistent" });
      expect(unset.code).to.equal(1);
      expect(unset.stderr).to.include("no ledger address: set CCGP_LEDGER");
      provider.destroy();
    });
  });
});
