import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet } from "ethers";
import { AStatus, Kind, Role, accountConsent, govern } from "../helpers/governance";
import {
  ChainKind,
  NodeKind,
  OPERATION_READ,
  OPERATION_WRITE,
  OPERATION_FLAG_READ,
  Refusal,
  SEL_WRITE,
  appKeyConsent,
  applyPipe,
  endpoint,
  nodeConsent,
  nodeKey,
  pipeWorld,
  scopedId,
  specOf,
} from "../helpers/registries";

const ZERO32 = ethers.ZeroHash;

/**
 * Nomad: a zero or default value taken as a valid one (there: the zero root accepted as proven). Zero ids, zero
 * addresses, default enum values and records never written are refused by name, and change nothing.
 */
describe("Security: Nomad (zero and default values)", function () {
  async function world() {
    const w = await pipeWorld();
    const wildcard = await applyPipe(
      w,
      w.a.operator,
      specOf(w.a, w.b, { operations: OPERATION_FLAG_READ, selectors: [] }),
    );
    await w.pipes.connect(w.b.operator).authorizePipe(wildcard);
    return { ...w, wildcard };
  }

  it("accounts: the zero address, the None role, an unknown account's activation", async function () {
    const w = await loadFixture(world);
    await expect(
      w.membership.connect(w.a.admin).requestAccount(ethers.ZeroAddress, w.a.institution, Role.Business, 0n, "0x"),
    ).to.be.revertedWithCustomError(w.membership, "MembershipZeroAddress");
    const key = Wallet.createRandom();
    await expect(
      w.membership
        .connect(w.a.admin)
        .requestAccount(
          key.address,
          w.a.institution,
          Role.None,
          ...(await accountConsent(w, key, w.a.institution, Role.None)),
        ),
    )
      .to.be.revertedWithCustomError(w.membership, "AccountRoleNotAllowed")
      .withArgs(Kind.Business, Role.None);
    await expect(govern(w, w.membership, "activateAccount", [key.address, 0]))
      .to.be.revertedWithCustomError(w.membership, "AccountNotFound")
      .withArgs(key.address);
    expect((await w.membership.account(key.address)).status).to.equal(AStatus.None);
    await expect(w.membership.requireActiveAccount(ethers.ZeroAddress, Role.None))
      .to.be.revertedWithCustomError(w.membership, "AccountNotActive")
      .withArgs(ethers.ZeroAddress, AStatus.None);
  });

  it("nodes: the None kind, an unknown node's enabling, a zero node id", async function () {
    const w = await loadFixture(world);
    const node = nodeKey("nomad");
    const args = [NodeKind.None, node.publicKey, "n", 1] as const;
    await expect(
      w.services.connect(w.a.operator).registerNode(...args, ...(await nodeConsent(w, w.a.operator, ...args))),
    )
      .to.be.revertedWithCustomError(w.services, "NodeKindMismatch")
      .withArgs(NodeKind.None, Kind.Business);
    for (const nodeId of [ZERO32, node.nodeId]) {
      await expect(govern(w, w.services, "enableNode", [nodeId, 0]))
        .to.be.revertedWithCustomError(w.services, "NodeNotFound")
        .withArgs(nodeId);
    }
    expect(await w.services.isNodeEnabled(ZERO32)).to.equal(false);
  });

  it("chain registry: zero ids, the None kind, chain id 0, a zero gateway, key or contract address", async function () {
    const w = await loadFixture(world);
    const c = w.chains.connect(w.a.operator);
    await expect(
      c.registerSubchain(ZERO32, ChainKind.Evm, 9, w.a.service, Wallet.createRandom().address, ""),
    ).to.be.revertedWithCustomError(w.chains, "SubchainZeroId");
    const [deadline, signature] = await appKeyConsent(
      w,
      w.a.operator,
      scopedId(w.a.institution, "A/app2"),
      Wallet.createRandom(),
    );
    await expect(
      c.registerApp(ZERO32, w.a.subchain, Wallet.createRandom().address, "", deadline, signature),
    ).to.be.revertedWithCustomError(w.chains, "AppZeroId");
    await expect(
      c.registerApp(scopedId(w.a.institution, "A/app2"), w.a.subchain, ethers.ZeroAddress, "", deadline, signature),
    )
      .to.be.revertedWithCustomError(w.chains, "AppKeyInvalid")
      .withArgs(ethers.ZeroAddress);
    await expect(c.registerContract("Zero", w.a.subchain, ethers.ZeroAddress)).to.be.revertedWithCustomError(
      w.chains,
      "ContractZeroAddress",
    );
    await expect(c.setSubchainGateway(w.a.subchain, ethers.ZeroAddress)).to.be.revertedWithCustomError(
      w.chains,
      "SubchainZeroGateway",
    );
    await expect(w.chains.resolve(w.b.subchain, ZERO32))
      .to.be.revertedWithCustomError(w.chains, "ContractNameNotFound")
      .withArgs(w.b.subchain, ZERO32);
    await expect(w.chains.resolve(ZERO32, ethers.id("DrugTraceability")))
      .to.be.revertedWithCustomError(w.chains, "ContractNameNotFound")
      .withArgs(ZERO32, ethers.id("DrugTraceability"));
  });

  it("services: a zero id, a zero sub-chain, a zero fingerprint", async function () {
    const w = await loadFixture(world);
    const s = w.services.connect(w.a.operator);
    await expect(s.registerService(ZERO32, w.a.subchain, w.a.signer.address, endpoint())).to.be.revertedWithCustomError(
      w.services,
      "ServiceZeroId",
    );
    await expect(s.registerService(scopedId(w.a.institution, "s"), ZERO32, w.a.signer.address, endpoint()))
      .to.be.revertedWithCustomError(w.services, "ServiceInvalidSubchain")
      .withArgs(ZERO32);
    await expect(
      s.registerService(scopedId(w.a.institution, "s"), w.a.subchain, w.a.signer.address, endpoint("h", 1, ZERO32)),
    )
      .to.be.revertedWithCustomError(w.services, "ServiceInvalidFingerprint")
      .withArgs(ZERO32);
  });

  it("pipes: the zero pipe id, the zero signer, the zero selector (also on a pipe open to any selector)", async function () {
    const w = await loadFixture(world);
    expect(await w.pipes.checkOperation(ZERO32, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE)).to.equal(
      Refusal.PipeUnknown,
    );
    expect(await w.pipes.checkOperation(w.pipeId, ethers.ZeroAddress, OPERATION_WRITE, SEL_WRITE)).to.equal(
      Refusal.SignerNotReserved,
    );
    expect(await w.pipes.checkOperation(w.pipeId, w.a.appKey.address, OPERATION_WRITE, "0x00000000")).to.equal(
      Refusal.SelectorNotAllowed,
    );
    expect(await w.pipes.checkOperation(w.wildcard, w.a.appKey.address, OPERATION_READ, "0x00000000")).to.equal(
      Refusal.SelectorNotAllowed,
    );
    await expect(govern(w, w.pipes, "setSelectorBlocked", ["0x00000000", true]))
      .to.be.revertedWithCustomError(w.pipes, "PipeSelectorInvalid")
      .withArgs("0x00000000");
    await expect(w.pipes.connect(w.a.operator).applyPipe(specOf(w.a, w.b, { operations: 0 })))
      .to.be.revertedWithCustomError(w.pipes, "PipeInvalidOperations")
      .withArgs(0);
    await expect(w.pipes.connect(w.a.operator).applyPipe(specOf(w.a, w.b, { contractName: ZERO32 })))
      .to.be.revertedWithCustomError(w.pipes, "PipeContractMismatch")
      .withArgs(ZERO32, w.b.subchain, w.b.institution);
    const r = await w.pipes.route(ZERO32);
    expect([r.status, r.sourceAppKey]).to.deep.equal([0n, ethers.ZeroAddress]);
  });
});
