/**
 * The two-phase example: an asset transfer between two institutions' ledgers (a debit on one gateway, a credit on
 * another), two-phase and with compensation, at contract level on real gateways.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { AssetLedger, SubchainGateway } from "../../typechain-types";
import { attested, deployGateway } from "../helpers/attest";
import { MAX_PAYLOAD, PIPE, TxStatus, deadlineIn, gatewaySigner, txId } from "./fixtures";

const NAME = ethers.id("AssetLedger");
const alice = ethers.id("account:alice");
const bob = ethers.id("account:bob");

async function twoLedgersFixture() {
  const [admin, relayer, issuer, stranger] = await ethers.getSigners();
  const side = async () => {
    const gateway = (await deployGateway(admin.address, MAX_PAYLOAD)) as SubchainGateway;
    await gateway.grantRole(await gateway.RELAYER_ROLE(), relayer.address);
    const assets = (await ethers.deployContract("AssetLedger", [gateway, admin.address])) as unknown as AssetLedger;
    await gateway.registerContract(NAME, assets);
    await assets.grantRole(await assets.ISSUER_ROLE(), issuer.address);
    return { gateway, assets };
  };
  const a = await side();
  const b = await side();
  await a.assets.connect(issuer).issue(alice, 100);
  return { a, b, admin, relayer, issuer, stranger };
}

const debit = (l: AssetLedger, account: string, amount: number) =>
  l.interface.encodeFunctionData("debit", [account, amount]);
const credit = (l: AssetLedger, account: string, amount: number) =>
  l.interface.encodeFunctionData("credit", [account, amount]);

describe("AssetLedger: a transfer between two institutions' ledgers", function () {
  it("two-phase: both prepare (nothing moves, accounts locked), both commit", async function () {
    const { a, b, relayer, issuer } = await loadFixture(twoLedgersFixture);
    const deadline = await deadlineIn(600);
    await expect(attested(a.gateway, relayer).prepare(txId(1), PIPE, NAME, debit(a.assets, alice, 60), deadline))
      .to.emit(a.assets, "MoveStaged")
      .withArgs(txId(1), alice, false, 60);
    await attested(b.gateway, relayer).prepare(txId(1), PIPE, NAME, credit(b.assets, bob, 60), deadline);
    expect(await a.assets.balanceOf(alice)).to.equal(100);
    expect(await a.assets.staged(txId(1))).to.deep.equal([alice, false, 60n]);
    // A locked account takes no other write, local or cross-chain.
    await expect(a.assets.connect(issuer).issue(alice, 1))
      .to.be.revertedWithCustomError(a.assets, "AssetLedgerAccountLocked")
      .withArgs(alice, txId(1));
    await expect(attested(a.gateway, relayer).prepare(txId(2), PIPE, NAME, debit(a.assets, alice, 1), deadline))
      .to.be.revertedWithCustomError(a.gateway, "SubchainGatewayKeyLocked")
      .withArgs(await a.assets.getAddress(), alice, txId(1));
    await expect(a.gateway.connect(relayer).commit(txId(1)))
      .to.emit(a.assets, "BalanceMoved")
      .withArgs(alice, txId(1), false, 60, 40);
    await b.gateway.connect(relayer).commit(txId(1));
    expect(await a.assets.balanceOf(alice)).to.equal(40);
    expect(await b.assets.balanceOf(bob)).to.equal(60);
    expect(await a.gateway.lockHolder(a.assets, alice)).to.equal(ethers.ZeroHash);
    expect(await a.assets.stateVersion(alice)).to.equal(2); // issued, debited
  });

  it("two-phase: a debit above the balance is refused at prepare; rollback discards a staged move", async function () {
    const { a, b, relayer } = await loadFixture(twoLedgersFixture);
    const deadline = await deadlineIn(600);
    await expect(attested(a.gateway, relayer).prepare(txId(1), PIPE, NAME, debit(a.assets, alice, 101), deadline))
      .to.be.revertedWithCustomError(a.assets, "AssetLedgerInsufficientBalance")
      .withArgs(alice, 100, 101);
    await attested(b.gateway, relayer).prepare(txId(1), PIPE, NAME, credit(b.assets, bob, 101), deadline);
    await expect(b.gateway.connect(relayer).rollback(txId(1)))
      .to.emit(b.assets, "MoveDiscarded")
      .withArgs(txId(1), bob);
    expect(await b.assets.balanceOf(bob)).to.equal(0);
    expect((await b.gateway.twoPhaseTx(txId(1))).status).to.equal(TxStatus.RolledBack);
  });

  it("two-phase: refuses other calls, a zero account or amount", async function () {
    const { a, relayer } = await loadFixture(twoLedgersFixture);
    const deadline = await deadlineIn(600);
    const issue = a.assets.interface.encodeFunctionData("issue", [alice, 1]);
    await expect(attested(a.gateway, relayer).prepare(txId(1), PIPE, NAME, issue, deadline))
      .to.be.revertedWithCustomError(a.assets, "TwoPhaseBusinessUnsupportedCall")
      .withArgs(issue.slice(0, 10));
    await expect(
      attested(a.gateway, relayer).prepare(txId(1), PIPE, NAME, credit(a.assets, ethers.ZeroHash, 1), deadline),
    )
      .to.be.revertedWithCustomError(a.assets, "AssetLedgerInvalidAccount")
      .withArgs(ethers.ZeroHash);
    await expect(attested(a.gateway, relayer).prepare(txId(1), PIPE, NAME, credit(a.assets, bob, 0), deadline))
      .to.be.revertedWithCustomError(a.assets, "AssetLedgerInvalidAmount")
      .withArgs(0);
  });

  it("compensation: each side moves at once; undoing a spent credit fails (what two-phase avoids)", async function () {
    const { a, b, relayer } = await loadFixture(twoLedgersFixture);
    const deadline = await deadlineIn(600);
    await attested(a.gateway, relayer).execute(PIPE, 1, deadline, NAME, 1, debit(a.assets, alice, 30));
    await attested(b.gateway, relayer).execute(PIPE, 1, deadline, NAME, 1, credit(b.assets, bob, 30));
    expect(await a.assets.balanceOf(alice)).to.equal(70);
    expect(await b.assets.balanceOf(bob)).to.equal(30);
    // Bob spends the credit (another transfer out), then the first transfer is compensated.
    await attested(b.gateway, relayer).execute(PIPE, 2, deadline, NAME, 1, debit(b.assets, bob, 30));
    await expect(a.gateway.connect(relayer).compensate(PIPE, 1)).to.emit(a.assets, "MoveCompensated");
    expect(await a.assets.balanceOf(alice)).to.equal(100);
    await expect(b.gateway.connect(relayer).compensate(PIPE, 1))
      .to.emit(b.gateway, "Compensated")
      .withArgs(
        await b.gateway.inboundRequestId(PIPE, 1),
        PIPE,
        1,
        await b.assets.getAddress(),
        false,
        (data: string) => data.startsWith(b.assets.interface.getError("AssetLedgerInsufficientBalance")!.selector),
      );
  });

  it("only the gateway moves balances cross-chain; only an issuer issues", async function () {
    const { a, stranger } = await loadFixture(twoLedgersFixture);
    await expect(a.assets.connect(stranger).debit(alice, 1))
      .to.be.revertedWithCustomError(a.assets, "CrossChainBusinessUnauthorizedGateway")
      .withArgs(stranger.address);
    await expect(a.assets.connect(stranger).issue(alice, 1)).to.be.revertedWithCustomError(
      a.assets,
      "AccessControlUnauthorizedAccount",
    );
    const gw = await gatewaySigner(a.gateway);
    await expect(a.assets.connect(gw).compensate(txId(9)))
      .to.be.revertedWithCustomError(a.assets, "CrossChainBusinessUnknownRequest")
      .withArgs(txId(9));
    await expect(a.assets.connect(gw).commit(txId(9)))
      .to.be.revertedWithCustomError(a.assets, "TwoPhaseBusinessUnknownTx")
      .withArgs(txId(9));
  });
});
