import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet } from "ethers";
import { IStatus, Role, addAccount, govern } from "../helpers/governance";
import {
  ChainKind,
  OPERATION_READ,
  OPERATION_WRITE,
  Outcome,
  Pipe,
  OPERATION_FLAG_READ,
  Refusal,
  SEL_READ,
  SEL_WRITE,
  allowReporter,
  applyPipe,
  id,
  scopedId,
  pipeWorld,
  report,
  specOf,
  appKeyConsent,
  newAppKey,
} from "../helpers/registries";

/** Selectors a cross-chain call may never reach (the sub-chain gateway's own blocklist). */
const PRIVILEGED: Record<string, string> = Object.fromEntries(
  [
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
  ].map((sig) => [sig, ethers.id(sig).slice(0, 10)]),
);

/** The world with three active pipes A -> B (the example one, a read-only one and one on another contract). */
async function threePipes() {
  const w = await pipeWorld();
  await w.chains.connect(w.b.operator).registerContract("Evidence", w.b.subchain, Wallet.createRandom().address);
  const readOnly = await applyPipe(
    w,
    w.a.operator,
    specOf(w.a, w.b, { operations: OPERATION_FLAG_READ, selectors: [SEL_READ] }),
  );
  const evidence = await applyPipe(w, w.a.operator, specOf(w.a, w.b, { contractName: id("Evidence") }));
  for (const p of [readOnly, evidence]) await w.pipes.connect(w.b.operator).authorizePipe(p);
  const all = [
    { pipeId: w.pipeId, op: OPERATION_WRITE, sel: SEL_WRITE },
    { pipeId: readOnly, op: OPERATION_READ, sel: SEL_READ },
    { pipeId: evidence, op: OPERATION_WRITE, sel: SEL_WRITE },
  ];
  const answers = async (signer = w.a.appKey.address) =>
    Promise.all(all.map((p) => w.pipes.checkOperation(p.pipeId, signer, p.op, p.sel)));
  return { ...w, readOnly, evidence, all, answers };
}

describe("Registry attacks", function () {
  describe("targeting the governance chain or privileged functions (the Poly Network lesson)", function () {
    it("registering the governance chain itself as a sub-chain", async function () {
      const w = await loadFixture(pipeWorld);
      const chainId = (await ethers.provider.getNetwork()).chainId;
      await expect(
        w.chains
          .connect(w.a.operator)
          .registerSubchain(
            scopedId(w.a.institution, "evil chain"),
            ChainKind.Evm,
            chainId,
            w.a.service,
            Wallet.createRandom().address,
            "",
          ),
      )
        .to.be.revertedWithCustomError(w.chains, "SubchainIsGovernanceChain")
        .withArgs(chainId);
    });

    it("registering a sub-chain's gateway as a business contract", async function () {
      const w = await loadFixture(pipeWorld);
      await expect(w.chains.connect(w.b.operator).registerContract("Gateway", w.b.subchain, w.b.gateway))
        .to.be.revertedWithCustomError(w.chains, "ContractIsGateway")
        .withArgs(w.b.subchain, w.b.gateway);
    });

    for (const [sig, selector] of Object.entries(PRIVILEGED)) {
      it(`a pipe allowing ${sig}`, async function () {
        const w = await loadFixture(pipeWorld);
        await expect(w.pipes.connect(w.a.operator).applyPipe(specOf(w.a, w.b, { selectors: [SEL_WRITE, selector] })))
          .to.be.revertedWithCustomError(w.pipes, "PipeSelectorBlocked")
          .withArgs(selector);
      });
    }

    it("a read-only pipe open to any selector asked for a privileged one", async function () {
      const w = await loadFixture(pipeWorld);
      const wildcard = await applyPipe(
        w,
        w.a.operator,
        specOf(w.a, w.b, { operations: OPERATION_FLAG_READ, selectors: [] }),
      );
      await w.pipes.connect(w.b.operator).authorizePipe(wildcard);
      for (const selector of Object.values(PRIVILEGED)) {
        expect(await w.pipes.checkOperation(wildcard, w.a.appKey.address, OPERATION_READ, selector)).to.equal(
          Refusal.SelectorNotAllowed,
        );
      }
    });

    it("a pipe naming a contract the target never registered (e.g. a governance contract)", async function () {
      const w = await loadFixture(pipeWorld);
      const name = id("VotingTickets");
      await expect(w.pipes.connect(w.a.operator).applyPipe(specOf(w.a, w.b, { contractName: name })))
        .to.be.revertedWithCustomError(w.pipes, "PipeContractMismatch")
        .withArgs(name, w.b.subchain, w.b.institution);
    });
  });

  describe("using a pipe without the right", function () {
    it("a key not reserved on the pipe: the target's, another app's of the same institution, a proxy signer", async function () {
      const w = await loadFixture(pipeWorld);
      const siblingApp = scopedId(w.a.institution, "A/sibling");
      const siblingKey = Wallet.createRandom();
      const sibling = siblingKey.address;
      await w.chains
        .connect(w.a.operator)
        .registerApp(
          siblingApp,
          w.a.subchain,
          sibling,
          "",
          ...(await appKeyConsent(w, w.a.operator, siblingApp, siblingKey)),
        );
      for (const signer of [w.b.appKey.address, sibling, w.a.signer.address, w.b.signer.address, w.stranger.address]) {
        await expect(w.pipes.requireOperation(w.pipeId, signer, OPERATION_WRITE, SEL_WRITE))
          .to.be.revertedWithCustomError(w.pipes, "PipeOperationRefused")
          .withArgs(w.pipeId, signer, Refusal.SignerNotReserved);
      }
    });

    it("a paused pipe, and a closed one that can never be reopened", async function () {
      const w = await loadFixture(pipeWorld);
      await w.pipes.connect(w.b.operator).pausePipe(w.pipeId);
      expect(await w.pipes.checkOperation(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE)).to.equal(
        Refusal.PipeNotActive,
      );
      await w.pipes.connect(w.b.operator).closePipe(w.pipeId);
      expect(await w.pipes.checkOperation(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE)).to.equal(
        Refusal.PipeNotActive,
      );
      await expect(w.pipes.connect(w.a.operator).resumePipe(w.pipeId))
        .to.be.revertedWithCustomError(w.pipes, "PipeInvalidStatus")
        .withArgs(w.pipeId, Pipe.Closed);
      await expect(govern(w, w.pipes, "resumePipe", [w.pipeId]))
        .to.be.revertedWithCustomError(w.pipes, "PipeInvalidStatus")
        .withArgs(w.pipeId, Pipe.Closed);
    });

    it("the other institution's operator acting for it", async function () {
      const w = await loadFixture(pipeWorld);
      await expect(w.pipes.connect(w.a.operator).applyPipe(specOf(w.b, w.a)))
        .to.be.revertedWithCustomError(w.pipes, "PipeUnauthorizedOperator")
        .withArgs(w.a.operator.address, w.b.institution);
      const applied = await applyPipe(w, w.a.operator, specOf(w.a, w.b));
      await expect(w.pipes.connect(w.a.operator).authorizePipe(applied))
        .to.be.revertedWithCustomError(w.pipes, "PipeUnauthorizedOperator")
        .withArgs(w.a.operator.address, w.b.institution);
      await expect(w.chains.connect(w.a.operator).rotateAppKey(w.b.app, ...(await newAppKey(w, w.b.operator, w.b.app))))
        .to.be.revertedWithCustomError(w.chains, "ChainRegistryUnauthorizedOperator")
        .withArgs(w.a.operator.address, w.b.institution);
      await expect(
        w.chains
          .connect(w.a.operator)
          .registerContract("DrugTraceability", w.b.subchain, Wallet.createRandom().address),
      )
        .to.be.revertedWithCustomError(w.chains, "ChainRegistryUnauthorizedOperator")
        .withArgs(w.a.operator.address, w.b.institution);
      await expect(
        w.services
          .connect(w.a.operator)
          .updateServiceEndpoint(w.b.service, { host: "evil", port: 1, tlsFingerprint: id("evil") }),
      )
        .to.be.revertedWithCustomError(w.services, "ServiceUnauthorizedOperator")
        .withArgs(w.a.operator.address, w.b.institution);
    });
  });

  describe("every dependent pipe refuses at once, in one transaction, without a loop", function () {
    it("a suspended or expelled institution, on either side", async function () {
      const w = await loadFixture(threePipes);
      expect(await w.answers()).to.deep.equal([Refusal.Allowed, Refusal.Allowed, Refusal.Allowed]);
      await govern(w, w.membership, "suspendInstitution", [w.b.institution]);
      expect(await w.answers()).to.deep.equal(Array(3).fill(Refusal.InstitutionNotActive));
      await govern(w, w.membership, "reinstateInstitution", [w.b.institution]);
      expect(await w.answers()).to.deep.equal(Array(3).fill(Refusal.Allowed));
      await govern(w, w.membership, "expelInstitution", [w.a.institution]);
      expect(await w.answers()).to.deep.equal(Array(3).fill(Refusal.InstitutionNotActive));
    });

    it("a revoked app key, then a new key only where the pipe was re-keyed", async function () {
      const w = await loadFixture(threePipes);
      const rotation = await newAppKey(w, w.a.operator, w.a.app);
      const next = rotation[0];
      await w.chains.connect(w.a.operator).rotateAppKey(w.a.app, ...rotation);
      expect(await w.answers()).to.deep.equal(Array(3).fill(Refusal.KeyRevoked));
      await w.pipes.syncPipeKey(w.readOnly);
      expect(await w.answers(next)).to.deep.equal([
        Refusal.SignerNotReserved,
        Refusal.Allowed,
        Refusal.SignerNotReserved,
      ]);
      expect(await w.answers()).to.deep.equal(Array(3).fill(Refusal.KeyRevoked));
    });

    it("a disabled service", async function () {
      const w = await loadFixture(threePipes);
      await govern(w, w.services, "disableService", [w.a.service]);
      expect(await w.answers()).to.deep.equal(Array(3).fill(Refusal.ServiceDisabled));
    });

    it("a proxy signing key revoked by its own institution, with no vote", async function () {
      const w = await loadFixture(threePipes);
      await w.membership.connect(w.b.admin).revokeOwnAccount(w.b.signer.address);
      expect(await w.answers()).to.deep.equal(Array(3).fill(Refusal.KeyRevoked));
      // rotating the service to a fresh business account heals the pipes
      await addAccount(w, w.b.admin, w.spare2, w.b.institution, Role.Business);
      await w.services.connect(w.b.operator).rotateServiceSigner(w.b.service, w.spare2.address);
      expect(await w.answers()).to.deep.equal(Array(3).fill(Refusal.Allowed));
      expect((await w.pipes.route(w.pipeId)).targetServiceSigner).to.equal(w.spare2.address);
    });

    it("a credit-restricted institution", async function () {
      const w = await loadFixture(threePipes);
      await allowReporter(w, w.spare1.address);
      await report(w, w.spare1, w.a.institution, Outcome.BadSignature, 5);
      expect(await w.answers()).to.deep.equal(Array(3).fill(Refusal.InstitutionRestricted));
    });
  });

  it("the expulsion proposal opens exactly once however many bad outcomes follow", async function () {
    const w = await loadFixture(pipeWorld);
    await allowReporter(w, w.spare1.address);
    const before = await w.voting.proposalCount();
    const tx = await (await w.credit.connect(w.spare1).reportOutcome(w.a.institution, Outcome.Replay, id("r0"))).wait();
    expect(tx!.logs.length).to.equal(1); // only OutcomesReported
    await report(w, w.spare1, w.a.institution, Outcome.Replay, 20); // down to 0
    expect(await w.credit.scoreOf(w.a.institution)).to.equal(0);
    expect(await w.voting.proposalCount()).to.equal(before + 1n);
    const filter = w.credit.filters.CreditExpulsionProposed(w.a.institution);
    expect(await w.credit.queryFilter(filter)).to.have.length(1);
  });

  it("poisoning the cache: anyone may re-sync, but only to the true state", async function () {
    const w = await loadFixture(pipeWorld);
    await govern(w, w.membership, "suspendInstitution", [w.a.institution]);
    await govern(w, w.services, "disableService", [w.b.service]);
    await w.chains.connect(w.b.operator).rotateAppKey(w.b.app, ...(await newAppKey(w, w.b.operator, w.b.app)));
    await w.pipes.connect(w.stranger).syncInstitution(w.a.institution);
    await w.pipes.connect(w.stranger).syncService(w.b.service);
    await w.pipes.connect(w.stranger).syncAccount(w.b.signer.address);
    await w.pipes.connect(w.stranger).syncKey(w.a.appKey.address);
    expect(await w.pipes.institutionUsability(w.a.institution)).to.deep.equal([false, false]);
    expect((await w.pipes.serviceUsability(2))[0]).to.equal(false);
    expect(await w.pipes.checkOperation(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE)).to.equal(
      Refusal.InstitutionNotActive,
    );
  });

  it("re-running the one-time wiring after deployment", async function () {
    const w = await loadFixture(pipeWorld);
    await expect(w.voting.connect(w.deployer).bootstrap([], [])).to.be.revertedWithCustomError(
      w.voting,
      "VotingAlreadyBootstrapped",
    );
    await expect(w.membership.connect(w.deployer).bindListener(w.stranger.address)).to.be.revertedWithCustomError(
      w.membership,
      "MembershipListenerAlreadyBound",
    );
    const [s, c, k] = [await w.services.getAddress(), await w.chains.getAddress(), await w.credit.getAddress()];
    await expect(w.pipes.connect(w.deployer).initialize(s, c, k)).to.be.revertedWithCustomError(
      w.pipes,
      "PipeRegistryAlreadyInitialized",
    );
    await expect(w.voting.connect(w.stranger).bootstrap([], []))
      .to.be.revertedWithCustomError(w.voting, "VotingBootstrapUnauthorized")
      .withArgs(w.stranger.address);
    expect((await w.membership.institution(w.a.institution)).status).to.equal(IStatus.Active);
  });
});
