import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { AbiCoder, Wallet } from "ethers";
import { PipeRegistry__factory } from "../../typechain-types";
import { AStatus, IStatus, Kind, PState, Role, addAccount, govern, joinInstitution } from "../helpers/governance";
import {
  CONTRACT_HASH,
  OPERATION_READ,
  OPERATION_WRITE,
  Pipe,
  OPERATION_FLAG_READ,
  Refusal,
  SEL_READ,
  SEL_WRITE,
  OPERATION_FLAG_WRITE,
  applyPipe,
  id,
  scopedId,
  pipeWorld,
  side,
  specOf,
  type PipeWorld,
  appKeyConsent,
  newAppKey,
} from "../helpers/registries";

const OTHER_SEL = "0x12345678";
const GRANT_ROLE = "0x2f2ff15d"; // grantRole(bytes32,address)

/** The world plus a second pipe from A to B, applied but not yet authorised. */
async function withApplied() {
  const w = await pipeWorld();
  const applied = await applyPipe(
    w,
    w.a.operator,
    specOf(w.a, w.b, { operations: OPERATION_FLAG_READ, selectors: [SEL_READ] }),
  );
  return { ...w, applied };
}

/** The world plus an active read-only pipe open to any selector. */
async function withWildcard() {
  const w = await pipeWorld();
  const wildcard = await applyPipe(
    w,
    w.a.operator,
    specOf(w.a, w.b, { operations: OPERATION_FLAG_READ, selectors: [] }),
  );
  await w.pipes.connect(w.b.operator).authorizePipe(wildcard);
  return { ...w, wildcard };
}

const check = (w: PipeWorld, pipeId: string, signer: string, op = OPERATION_WRITE, sel = SEL_WRITE) =>
  w.pipes.checkOperation(pipeId, signer, op, sel);

/**
 * `openingRoute` gives {checkOperation}'s answer and the same changing fields as `route`, with the hash of the fixed
 * ones (first 28 bytes of keccak256(abi.encode(targetService, contractName, sourceSubchain, targetSubchain))), and
 * `fixedRoute` gives those fixed fields.
 */
async function expectOpeningRoute(
  w: PipeWorld,
  pipeId: string,
  signer: string,
  op: number,
  sel: string,
  expected: bigint,
) {
  const [o, refusal] = await w.pipes.openingRoute(pipeId, signer, op, sel);
  expect(refusal).to.equal(expected);
  const r = await w.pipes.route(pipeId);
  const fixed = await w.pipes.fixedRoute(pipeId);
  expect([...fixed]).to.deep.equal([r.targetService, r.contractName, r.sourceSubchain, r.targetSubchain]);
  expect([o.status, o.sourceInstitution, o.targetInstitution, o.timeoutSeconds]).to.deep.equal([
    r.status,
    r.sourceInstitution,
    r.targetInstitution,
    r.timeoutSeconds,
  ]);
  expect([o.sourceAppKey, o.sourceServiceSigner, o.targetServiceSigner]).to.deep.equal([
    r.sourceAppKey,
    r.sourceServiceSigner,
    r.targetServiceSigner,
  ]);
  const hash = ethers.keccak256(
    AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32", "bytes32", "bytes32"], [...fixed]),
  );
  expect(o.fixedHash).to.equal(r.status === Pipe.None ? "0x" + "00".repeat(28) : hash.slice(0, 58));
}

describe("PipeRegistry", function () {
  describe("construction and initialize", function () {
    async function fresh() {
      const w = await pipeWorld();
      const pipes = await new PipeRegistry__factory(w.deployer).deploy(
        await w.membership.getAddress(),
        await w.voting.getAddress(),
      );
      return { ...w, fresh: pipes };
    }

    it("refuses zero addresses", async function () {
      const w = await loadFixture(fresh);
      const f = new PipeRegistry__factory(w.deployer);
      await expect(f.deploy(ethers.ZeroAddress, await w.voting.getAddress())).to.be.revertedWithCustomError(
        f,
        "PipeRegistryZeroAddress",
      );
      await expect(f.deploy(await w.membership.getAddress(), ethers.ZeroAddress)).to.be.revertedWithCustomError(
        f,
        "PipeRegistryZeroAddress",
      );
      const [s, c, k] = [await w.services.getAddress(), await w.chains.getAddress(), await w.credit.getAddress()];
      await expect(w.fresh.initialize(ethers.ZeroAddress, c, k)).to.be.revertedWithCustomError(
        w.fresh,
        "PipeRegistryZeroAddress",
      );
      await expect(w.fresh.initialize(s, ethers.ZeroAddress, k)).to.be.revertedWithCustomError(
        w.fresh,
        "PipeRegistryZeroAddress",
      );
      await expect(w.fresh.initialize(s, c, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        w.fresh,
        "PipeRegistryZeroAddress",
      );
    });

    it("refuses everything but views until initialised, then initialises once, by the deployer", async function () {
      const w = await loadFixture(fresh);
      await expect(w.fresh.connect(w.a.operator).applyPipe(specOf(w.a, w.b))).to.be.revertedWithCustomError(
        w.fresh,
        "PipeRegistryNotInitialized",
      );
      await expect(w.fresh.syncInstitution(4)).to.be.revertedWithCustomError(w.fresh, "PipeRegistryNotInitialized");
      await expect(w.fresh.syncAccount(w.a.signer.address)).to.be.revertedWithCustomError(
        w.fresh,
        "PipeRegistryNotInitialized",
      );
      await expect(w.fresh.syncService(w.a.service)).to.be.revertedWithCustomError(
        w.fresh,
        "PipeRegistryNotInitialized",
      );
      await expect(w.fresh.syncKey(w.a.appKey.address)).to.be.revertedWithCustomError(
        w.fresh,
        "PipeRegistryNotInitialized",
      );
      const [s, c, k] = [await w.services.getAddress(), await w.chains.getAddress(), await w.credit.getAddress()];
      await expect(w.fresh.connect(w.stranger).initialize(s, c, k))
        .to.be.revertedWithCustomError(w.fresh, "PipeRegistryUnauthorizedInitializer")
        .withArgs(w.stranger.address);
      await expect(w.fresh.initialize(s, c, k))
        .to.emit(w.fresh, "PipeRegistryInitialized")
        .withArgs(s, c, k);
      expect(await w.fresh.registries()).to.deep.equal([await w.membership.getAddress(), s, c, k]);
      await expect(w.fresh.initialize(s, c, k)).to.be.revertedWithCustomError(
        w.fresh,
        "PipeRegistryAlreadyInitialized",
      );
    });
  });

  describe("applyPipe", function () {
    it("records the pipe and its route, applied, with an id from the chain, the registry and its number", async function () {
      const w = await loadFixture(pipeWorld);
      const spec = specOf(w.a, w.b, {
        operations: OPERATION_FLAG_READ,
        selectors: [SEL_READ, OTHER_SEL, "0xaabbccdd"],
        ratePerMinute: 60,
      });
      const expected = ethers.keccak256(
        AbiCoder.defaultAbiCoder().encode(["uint256", "address", "uint256"], [31337, await w.pipes.getAddress(), 2]),
      );
      await expect(w.pipes.connect(w.a.operator).applyPipe(spec))
        .to.emit(w.pipes, "PipeApplied")
        .withArgs(expected, w.a.institution, w.b.institution, w.a.operator.address, anyValue);
      expect(await w.pipes.pipeCount()).to.equal(2);
      const r = await w.pipes.route(expected);
      expect([r.status, r.operations, r.sourceInstitution, r.targetInstitution]).to.deep.equal([
        Pipe.Applied,
        BigInt(OPERATION_FLAG_READ),
        w.a.institution,
        w.b.institution,
      ]);
      expect([r.sourceApp, r.targetApp, r.sourceAppKey, r.targetAppKey]).to.deep.equal([
        w.a.app,
        w.b.app,
        w.a.appKey.address,
        w.b.appKey.address,
      ]);
      expect([r.sourceService, r.targetService, r.sourceServiceSigner, r.targetServiceSigner]).to.deep.equal([
        w.a.service,
        w.b.service,
        w.a.signer.address,
        w.b.signer.address,
      ]);
      expect([r.sourceSubchain, r.targetSubchain, r.contractName]).to.deep.equal([
        w.a.subchain,
        w.b.subchain,
        CONTRACT_HASH,
      ]);
      expect([r.ratePerMinute, r.maxPayloadBytes, r.timeoutSeconds]).to.deep.equal([60n, 4096n, 300n]);
      const p = await w.pipes.pipe(expected);
      expect([
        p.applicant,
        p.appliedAt,
        p.pausedByGovernance,
        p.sourceKeyIndex,
        p.sourceServiceIndex,
        p.targetServiceIndex,
      ]).to.deep.equal([w.a.operator.address, BigInt(await time.latest()), false, 1n, 1n, 2n]);
      expect(p.selectors).to.deep.equal([SEL_READ, OTHER_SEL, "0xaabbccdd"]);
      expect(await check(w, expected, w.a.appKey.address, OPERATION_READ, SEL_READ)).to.equal(Refusal.PipeNotActive);
      expect((await w.pipes.route(id("none"))).status).to.equal(Pipe.None);
    });

    it("refuses a caller who is not an active operator of the source app's institution", async function () {
      const w = await loadFixture(pipeWorld);
      await expect(w.pipes.connect(w.stranger).applyPipe(specOf(w.a, w.b)))
        .to.be.revertedWithCustomError(w.membership, "AccountNotActive")
        .withArgs(w.stranger.address, AStatus.None);
      await expect(w.pipes.connect(w.b.operator).applyPipe(specOf(w.a, w.b)))
        .to.be.revertedWithCustomError(w.pipes, "PipeUnauthorizedOperator")
        .withArgs(w.b.operator.address, w.a.institution);
    });

    it("refuses unknown apps, apps on one sub-chain, and an app whose key is revoked", async function () {
      const w = await loadFixture(pipeWorld);
      const op = w.pipes.connect(w.a.operator);
      await expect(op.applyPipe(specOf(w.a, w.b, { sourceApp: id("none") })))
        .to.be.revertedWithCustomError(w.pipes, "PipeAppNotFound")
        .withArgs(id("none"));
      await expect(op.applyPipe(specOf(w.a, w.b, { targetApp: id("none") })))
        .to.be.revertedWithCustomError(w.pipes, "PipeAppNotFound")
        .withArgs(id("none"));
      const twin = scopedId(w.a.institution, "A/app2");
      const twinKey = Wallet.createRandom();
      await w.chains
        .connect(w.a.operator)
        .registerApp(twin, w.a.subchain, twinKey.address, "", ...(await appKeyConsent(w, w.a.operator, twin, twinKey)));
      await expect(op.applyPipe(specOf(w.a, w.b, { targetApp: twin })))
        .to.be.revertedWithCustomError(w.pipes, "PipeSameSubchain")
        .withArgs(w.a.subchain);
      await w.chains.connect(w.a.operator).revokeAppKey(w.a.app);
      await expect(op.applyPipe(specOf(w.a, w.b)))
        .to.be.revertedWithCustomError(w.pipes, "PipeAppKeyNotSet")
        .withArgs(w.a.app);
    });

    it("refuses a target institution that is not active or is credit-restricted, and a restricted source", async function () {
      const w = await loadFixture(pipeWorld);
      const op = w.pipes.connect(w.a.operator);
      await govern(w, w.credit, "adjustScore", [w.b.institution, -500, "test"]);
      await expect(op.applyPipe(specOf(w.a, w.b)))
        .to.be.revertedWithCustomError(w.pipes, "PipeInstitutionRestricted")
        .withArgs(w.b.institution);
      await govern(w, w.credit, "adjustScore", [w.b.institution, 500, "test"]);
      await govern(w, w.credit, "adjustScore", [w.a.institution, -500, "test"]);
      await expect(op.applyPipe(specOf(w.a, w.b)))
        .to.be.revertedWithCustomError(w.pipes, "PipeInstitutionRestricted")
        .withArgs(w.a.institution);
      await govern(w, w.credit, "adjustScore", [w.a.institution, 500, "test"]);
      await govern(w, w.membership, "suspendInstitution", [w.b.institution]);
      await expect(op.applyPipe(specOf(w.a, w.b)))
        .to.be.revertedWithCustomError(w.pipes, "PipeInstitutionNotActive")
        .withArgs(w.b.institution, IStatus.Suspended);
    });

    it("refuses a service that is unknown, of another institution, or does not front the app's sub-chain", async function () {
      const w = await loadFixture(pipeWorld);
      const op = w.pipes.connect(w.a.operator);
      await expect(op.applyPipe(specOf(w.a, w.b, { sourceService: id("none") })))
        .to.be.revertedWithCustomError(w.pipes, "PipeServiceNotFound")
        .withArgs(id("none"));
      await expect(op.applyPipe(specOf(w.a, w.b, { sourceService: w.b.service })))
        .to.be.revertedWithCustomError(w.pipes, "PipeServiceMismatch")
        .withArgs(w.b.service, w.a.app);
      await expect(op.applyPipe(specOf(w.a, w.b, { targetService: w.a.service })))
        .to.be.revertedWithCustomError(w.pipes, "PipeServiceMismatch")
        .withArgs(w.a.service, w.b.app);
      // A's second service fronts another sub-chain of A
      await addAccount(w, w.a.admin, w.spare1, w.a.institution, Role.Business);
      const aOther = scopedId(w.a.institution, "A/other");
      await w.services
        .connect(w.a.operator)
        .registerService(aOther, scopedId(w.a.institution, "A/chain2"), w.spare1.address, {
          host: "h",
          port: 1,
          tlsFingerprint: id("c"),
        });
      await expect(op.applyPipe(specOf(w.a, w.b, { sourceService: aOther })))
        .to.be.revertedWithCustomError(w.pipes, "PipeServiceMismatch")
        .withArgs(aOther, w.a.app);
    });

    it("refuses a contract name not registered on the target sub-chain by the target institution", async function () {
      const w = await loadFixture(pipeWorld);
      const op = w.pipes.connect(w.a.operator);
      await expect(op.applyPipe(specOf(w.a, w.b, { contractName: id("Unknown") })))
        .to.be.revertedWithCustomError(w.pipes, "PipeContractMismatch")
        .withArgs(id("Unknown"), w.b.subchain, w.b.institution);
      // A's own contract, on A's chain: a pipe cannot point the target side at it
      await w.chains.connect(w.a.operator).registerContract("AContract", w.a.subchain, Wallet.createRandom().address);
      await expect(op.applyPipe(specOf(w.a, w.b, { contractName: id("AContract") })))
        .to.be.revertedWithCustomError(w.pipes, "PipeContractMismatch")
        .withArgs(id("AContract"), w.b.subchain, w.b.institution);
    });

    it("refuses bad operations and selector sets", async function () {
      const w = await loadFixture(pipeWorld);
      const op = w.pipes.connect(w.a.operator);
      for (const operations of [0, 4, 255]) {
        await expect(op.applyPipe(specOf(w.a, w.b, { operations })))
          .to.be.revertedWithCustomError(w.pipes, "PipeInvalidOperations")
          .withArgs(operations);
      }
      await expect(
        op.applyPipe(specOf(w.a, w.b, { operations: OPERATION_FLAG_WRITE, selectors: [] })),
      ).to.be.revertedWithCustomError(w.pipes, "PipeSelectorsRequired");
      const many = Array.from({ length: 17 }, (_, i) => ethers.toBeHex(i + 1, 4));
      await expect(op.applyPipe(specOf(w.a, w.b, { selectors: many })))
        .to.be.revertedWithCustomError(w.pipes, "PipeTooManySelectors")
        .withArgs(17, 16);
      await expect(op.applyPipe(specOf(w.a, w.b, { selectors: many.slice(0, 16) }))).to.emit(w.pipes, "PipeApplied");
      await expect(op.applyPipe(specOf(w.a, w.b, { selectors: [SEL_WRITE, "0x00000000"] })))
        .to.be.revertedWithCustomError(w.pipes, "PipeSelectorInvalid")
        .withArgs("0x00000000");
      await expect(op.applyPipe(specOf(w.a, w.b, { selectors: [SEL_WRITE, SEL_READ, SEL_WRITE] })))
        .to.be.revertedWithCustomError(w.pipes, "PipeSelectorDuplicate")
        .withArgs(SEL_WRITE);
    });

    it("refuses limits out of range, naming them", async function () {
      const w = await loadFixture(pipeWorld);
      const op = w.pipes.connect(w.a.operator);
      for (const [rate, payload, timeout] of [
        [0, 4096, 300],
        [1_000_001, 4096, 300],
        [600, 0, 300],
        [600, 65_537, 300],
        [600, 4096, 9],
        [600, 4096, 604_801],
      ]) {
        await expect(
          op.applyPipe(specOf(w.a, w.b, { ratePerMinute: rate, maxPayloadBytes: payload, timeoutSeconds: timeout })),
        )
          .to.be.revertedWithCustomError(w.pipes, "PipeInvalidLimits")
          .withArgs(rate, payload, timeout);
      }
      await expect(
        op.applyPipe(specOf(w.a, w.b, { ratePerMinute: 1_000_000, maxPayloadBytes: 65_536, timeoutSeconds: 604_800 })),
      ).to.emit(w.pipes, "PipeApplied");
      await expect(
        op.applyPipe(specOf(w.a, w.b, { ratePerMinute: 1, maxPayloadBytes: 1, timeoutSeconds: 10 })),
      ).to.emit(w.pipes, "PipeApplied");
    });
  });

  describe("authorizePipe and activation", function () {
    it("activates at once when no vote is required", async function () {
      const w = await loadFixture(withApplied);
      await expect(w.pipes.connect(w.b.operator).authorizePipe(w.applied))
        .to.emit(w.pipes, "PipeAuthorized")
        .withArgs(w.applied, w.b.operator.address, 0)
        .and.to.emit(w.pipes, "PipeActivated")
        .withArgs(w.applied, w.b.operator.address);
      expect((await w.pipes.route(w.applied)).status).to.equal(Pipe.Active);
      expect(await check(w, w.applied, w.a.appKey.address, OPERATION_READ, SEL_READ)).to.equal(Refusal.Allowed);
    });

    it("refuses the source side, a second authorisation, an unknown pipe and a side that is no longer active", async function () {
      const w = await loadFixture(withApplied);
      await expect(w.pipes.connect(w.a.operator).authorizePipe(w.applied))
        .to.be.revertedWithCustomError(w.pipes, "PipeUnauthorizedOperator")
        .withArgs(w.a.operator.address, w.b.institution);
      await expect(w.pipes.connect(w.b.operator).authorizePipe(id("none")))
        .to.be.revertedWithCustomError(w.pipes, "PipeNotFound")
        .withArgs(id("none"));
      await expect(w.pipes.connect(w.b.operator).authorizePipe(w.pipeId))
        .to.be.revertedWithCustomError(w.pipes, "PipeInvalidStatus")
        .withArgs(w.pipeId, Pipe.Active);
      await govern(w, w.membership, "suspendInstitution", [w.a.institution]);
      await expect(w.pipes.connect(w.b.operator).authorizePipe(w.applied))
        .to.be.revertedWithCustomError(w.pipes, "PipeInstitutionNotActive")
        .withArgs(w.a.institution, IStatus.Suspended);
    });

    it("with the vote switched on, authorisation opens the activation vote, and the vote activates", async function () {
      const w = await loadFixture(withApplied);
      const v = await w.voting.getAddress();
      await expect(govern(w, w.pipes, "setActivationVoteRequired", [true]))
        .to.emit(w.pipes, "PipeActivationVoteChanged")
        .withArgs(true, v);
      expect(await w.pipes.activationVoteRequired()).to.equal(true);
      const next = (await w.voting.proposalCount()) + 1n;
      await expect(w.pipes.connect(w.b.operator).authorizePipe(w.applied))
        .to.emit(w.pipes, "PipeAuthorized")
        .withArgs(w.applied, w.b.operator.address, next)
        .and.not.to.emit(w.pipes, "PipeActivated");
      const p = await w.voting.proposal(next);
      expect([p.target, p.data, p.proposer]).to.deep.equal([
        await w.pipes.getAddress(),
        w.pipes.interface.encodeFunctionData("activatePipe", [w.applied]),
        w.b.operator.address,
      ]);
      expect((await w.pipes.route(w.applied)).status).to.equal(Pipe.Authorized);
      expect(await check(w, w.applied, w.a.appKey.address, OPERATION_READ, SEL_READ)).to.equal(Refusal.PipeNotActive);
      for (const g of w.governors.slice(0, 2)) await w.voting.connect(g).vote(next, true);
      expect(await w.voting.state(next)).to.equal(PState.Passed);
      await expect(w.voting.execute(next)).to.emit(w.pipes, "PipeActivated").withArgs(w.applied, v);
      expect(await check(w, w.applied, w.a.appKey.address, OPERATION_READ, SEL_READ)).to.equal(Refusal.Allowed);
    });

    it("refuses activation of a pipe that is not authorised, and the governed functions called directly", async function () {
      const w = await loadFixture(withApplied);
      await expect(govern(w, w.pipes, "activatePipe", [w.applied]))
        .to.be.revertedWithCustomError(w.pipes, "PipeInvalidStatus")
        .withArgs(w.applied, Pipe.Applied);
      await expect(govern(w, w.pipes, "activatePipe", [id("none")]))
        .to.be.revertedWithCustomError(w.pipes, "PipeNotFound")
        .withArgs(id("none"));
      const gov = await w.governors[0].getAddress();
      await expect(w.pipes.connect(w.governors[0]).activatePipe(w.applied))
        .to.be.revertedWithCustomError(w.pipes, "GovernanceOnly")
        .withArgs(gov);
      await expect(w.pipes.connect(w.governors[0]).setActivationVoteRequired(true))
        .to.be.revertedWithCustomError(w.pipes, "GovernanceOnly")
        .withArgs(gov);
      await expect(w.pipes.connect(w.governors[0]).setSelectorBlocked(OTHER_SEL, true))
        .to.be.revertedWithCustomError(w.pipes, "GovernanceOnly")
        .withArgs(gov);
    });
  });

  describe("pause, resume and close", function () {
    it("lets either side pause and resume, refusing the operation while paused", async function () {
      const w = await loadFixture(pipeWorld);
      await expect(w.pipes.connect(w.b.operator).pausePipe(w.pipeId))
        .to.emit(w.pipes, "PipePaused")
        .withArgs(w.pipeId, w.b.operator.address, false);
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.PipeNotActive);
      await expect(w.pipes.connect(w.b.operator).pausePipe(w.pipeId))
        .to.be.revertedWithCustomError(w.pipes, "PipeInvalidStatus")
        .withArgs(w.pipeId, Pipe.Paused);
      await expect(w.pipes.connect(w.a.operator).resumePipe(w.pipeId))
        .to.emit(w.pipes, "PipeResumed")
        .withArgs(w.pipeId, w.a.operator.address);
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.Allowed);
      await expect(w.pipes.connect(w.a.operator).resumePipe(w.pipeId))
        .to.be.revertedWithCustomError(w.pipes, "PipeInvalidStatus")
        .withArgs(w.pipeId, Pipe.Active);
    });

    it("a pipe paused by vote is resumed only by vote", async function () {
      const w = await loadFixture(pipeWorld);
      const v = await w.voting.getAddress();
      await expect(govern(w, w.pipes, "pausePipe", [w.pipeId]))
        .to.emit(w.pipes, "PipePaused")
        .withArgs(w.pipeId, v, true);
      expect((await w.pipes.pipe(w.pipeId)).pausedByGovernance).to.equal(true);
      await expect(w.pipes.connect(w.a.operator).resumePipe(w.pipeId))
        .to.be.revertedWithCustomError(w.pipes, "PipePausedByGovernance")
        .withArgs(w.pipeId);
      await expect(govern(w, w.pipes, "resumePipe", [w.pipeId]))
        .to.emit(w.pipes, "PipeResumed")
        .withArgs(w.pipeId, v);
      expect((await w.pipes.pipe(w.pipeId)).pausedByGovernance).to.equal(false);
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.Allowed);
    });

    it("closes for good, from any state, by either side or by vote", async function () {
      const w = await loadFixture(withApplied);
      await expect(w.pipes.connect(w.b.operator).closePipe(w.applied))
        .to.emit(w.pipes, "PipeClosed")
        .withArgs(w.applied, w.b.operator.address);
      await expect(w.pipes.connect(w.b.operator).authorizePipe(w.applied))
        .to.be.revertedWithCustomError(w.pipes, "PipeInvalidStatus")
        .withArgs(w.applied, Pipe.Closed);
      await w.pipes.connect(w.a.operator).pausePipe(w.pipeId);
      await expect(govern(w, w.pipes, "closePipe", [w.pipeId]))
        .to.emit(w.pipes, "PipeClosed")
        .withArgs(w.pipeId, await w.voting.getAddress());
      for (const fn of ["resumePipe", "pausePipe", "closePipe"] as const) {
        await expect(w.pipes.connect(w.a.operator)[fn](w.pipeId))
          .to.be.revertedWithCustomError(w.pipes, "PipeInvalidStatus")
          .withArgs(w.pipeId, Pipe.Closed);
      }
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.PipeNotActive);
    });

    it("refuses operators of a third institution and unknown pipes", async function () {
      const w = await loadFixture(pipeWorld);
      await addAccount(w, w.admins[0], w.spare1, 1n, Role.Operator);
      for (const fn of ["pausePipe", "resumePipe", "closePipe"] as const) {
        await expect(w.pipes.connect(w.spare1)[fn](w.pipeId))
          .to.be.revertedWithCustomError(w.pipes, "PipeUnauthorizedCaller")
          .withArgs(w.pipeId, w.spare1.address);
        await expect(w.pipes.connect(w.a.operator)[fn](id("none")))
          .to.be.revertedWithCustomError(w.pipes, "PipeNotFound")
          .withArgs(id("none"));
      }
      await expect(w.pipes.connect(w.a.signer).pausePipe(w.pipeId))
        .to.be.revertedWithCustomError(w.membership, "AccountRoleMismatch")
        .withArgs(w.a.signer.address, Role.Operator, Role.Business);
    });
  });

  describe("key rotation and syncPipeKey", function () {
    it("refuses the old key at once; anyone then gives the pipe the app's new key", async function () {
      const w = await loadFixture(pipeWorld);
      const next = Wallet.createRandom();
      await expect(
        w.chains.connect(w.a.operator).rotateAppKey(w.a.app, ...(await newAppKey(w, w.a.operator, w.a.app, next))),
      )
        .to.emit(w.pipes, "KeyUsabilitySynced")
        .withArgs(w.a.appKey.address, 1, false);
      expect(await w.pipes.keyUsability(w.a.appKey.address)).to.deep.equal([1n, false]);
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.KeyRevoked);
      expect(await check(w, w.pipeId, next.address)).to.equal(Refusal.SignerNotReserved);
      await expect(w.pipes.connect(w.stranger).syncPipeKey(w.pipeId))
        .to.emit(w.pipes, "PipeKeySynced")
        .withArgs(w.pipeId, next.address, w.stranger.address, w.a.appKey.address);
      expect((await w.pipes.route(w.pipeId)).sourceAppKey).to.equal(next.address);
      expect(await w.pipes.keyUsability(next.address)).to.deep.equal([2n, true]);
      expect(await check(w, w.pipeId, next.address)).to.equal(Refusal.Allowed);
      expect(await check(w, w.pipeId, next.address, OPERATION_READ, SEL_READ)).to.equal(Refusal.Allowed);
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.KeyRevoked);
      await expect(w.pipes.syncPipeKey(w.pipeId))
        .to.be.revertedWithCustomError(w.pipes, "PipeKeyUnchanged")
        .withArgs(w.pipeId, next.address);
    });

    it("re-keys a paused pipe without activating it, refuses a closed pipe, an app without a key and an unknown pipe", async function () {
      const w = await loadFixture(pipeWorld);
      await w.pipes.connect(w.a.operator).pausePipe(w.pipeId);
      await w.chains.connect(w.a.operator).revokeAppKey(w.a.app);
      expect(await w.pipes.keyUsability(w.a.appKey.address)).to.deep.equal([1n, false]);
      await expect(w.pipes.syncPipeKey(w.pipeId))
        .to.be.revertedWithCustomError(w.pipes, "PipeAppKeyNotSet")
        .withArgs(w.a.app);
      const rotation = await newAppKey(w, w.a.operator, w.a.app);
      const next = rotation[0];
      await w.chains.connect(w.a.operator).rotateAppKey(w.a.app, ...rotation);
      await w.pipes.syncPipeKey(w.pipeId);
      expect(await check(w, w.pipeId, next)).to.equal(Refusal.PipeNotActive);
      await w.pipes.connect(w.a.operator).resumePipe(w.pipeId);
      expect(await check(w, w.pipeId, next)).to.equal(Refusal.Allowed);
      await w.pipes.connect(w.a.operator).closePipe(w.pipeId);
      await expect(w.pipes.syncPipeKey(w.pipeId))
        .to.be.revertedWithCustomError(w.pipes, "PipeInvalidStatus")
        .withArgs(w.pipeId, Pipe.Closed);
      await expect(w.pipes.syncPipeKey(id("none")))
        .to.be.revertedWithCustomError(w.pipes, "PipeNotFound")
        .withArgs(id("none"));
    });
  });

  describe("selector blocklist", function () {
    it("refuses privileged selectors always and governance-blocked ones for new pipes", async function () {
      const w = await loadFixture(pipeWorld);
      const op = w.pipes.connect(w.a.operator);
      await expect(op.applyPipe(specOf(w.a, w.b, { selectors: [SEL_WRITE, GRANT_ROLE] })))
        .to.be.revertedWithCustomError(w.pipes, "PipeSelectorBlocked")
        .withArgs(GRANT_ROLE);
      expect(await w.pipes.isSelectorBlocked(OTHER_SEL)).to.equal(false);
      const v = await w.voting.getAddress();
      await expect(govern(w, w.pipes, "setSelectorBlocked", [OTHER_SEL, true]))
        .to.emit(w.pipes, "SelectorBlockChanged")
        .withArgs(OTHER_SEL, true, v);
      expect(await w.pipes.isSelectorBlocked(OTHER_SEL)).to.equal(true);
      await expect(op.applyPipe(specOf(w.a, w.b, { selectors: [OTHER_SEL] })))
        .to.be.revertedWithCustomError(w.pipes, "PipeSelectorBlocked")
        .withArgs(OTHER_SEL);
      await govern(w, w.pipes, "setSelectorBlocked", [OTHER_SEL, false]);
      await expect(op.applyPipe(specOf(w.a, w.b, { selectors: [OTHER_SEL] }))).to.emit(w.pipes, "PipeApplied");
      await expect(govern(w, w.pipes, "setSelectorBlocked", ["0x00000000", true]))
        .to.be.revertedWithCustomError(w.pipes, "PipeSelectorInvalid")
        .withArgs("0x00000000");
      expect(await w.pipes.isSelectorBlocked("0x00000000")).to.equal(true);
      expect(await w.pipes.isSelectorBlocked(GRANT_ROLE)).to.equal(true);
    });

    it("a block reaches every existing pipe from its own transaction on, and an unblock restores them", async function () {
      const w = await loadFixture(withWildcard);
      const answers = () =>
        Promise.all([
          check(w, w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE),
          check(w, w.pipeId, w.a.appKey.address, OPERATION_READ, SEL_READ),
          check(w, w.wildcard, w.a.appKey.address, OPERATION_READ, SEL_WRITE),
          w.pipes.openingRoute(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE).then((r) => r[1]),
        ]);
      expect(await answers()).to.deep.equal([Refusal.Allowed, Refusal.Allowed, Refusal.Allowed, Refusal.Allowed]);
      await govern(w, w.pipes, "setSelectorBlocked", [SEL_WRITE, true]);
      expect(await answers()).to.deep.equal([
        Refusal.SelectorNotAllowed,
        Refusal.Allowed,
        Refusal.SelectorNotAllowed,
        Refusal.SelectorNotAllowed,
      ]);
      await expect(w.pipes.requireOperation(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE))
        .to.be.revertedWithCustomError(w.pipes, "PipeOperationRefused")
        .withArgs(w.pipeId, w.a.appKey.address, Refusal.SelectorNotAllowed);
      // A pipe paused before the block and resumed after it writes its grants again: still refused.
      await w.pipes.connect(w.a.operator).pausePipe(w.pipeId);
      await w.pipes.connect(w.a.operator).resumePipe(w.pipeId);
      expect((await answers())[0]).to.equal(Refusal.SelectorNotAllowed);
      await govern(w, w.pipes, "setSelectorBlocked", [SEL_WRITE, false]);
      expect(await answers()).to.deep.equal([Refusal.Allowed, Refusal.Allowed, Refusal.Allowed, Refusal.Allowed]);
    });
  });

  describe("checkOperation: every answer", function () {
    type Case = [
      name: string,
      setup: (w: PipeWorld & { wildcard: string }) => Promise<[string, string, number, string]>,
      expected: bigint,
    ];
    const cases: Case[] = [
      ["an allowed write", async (w) => [w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE], Refusal.Allowed],
      ["an allowed read", async (w) => [w.pipeId, w.a.appKey.address, OPERATION_READ, SEL_READ], Refusal.Allowed],
      [
        "a read of any selector on a read-only pipe open to any",
        async (w) => [w.wildcard, w.a.appKey.address, OPERATION_READ, OTHER_SEL],
        Refusal.Allowed,
      ],
      [
        "an unknown pipe",
        async (w) => [id("none"), w.a.appKey.address, OPERATION_WRITE, SEL_WRITE],
        Refusal.PipeUnknown,
      ],
      [
        "an applied pipe",
        async (w) => [
          await applyPipe(w, w.a.operator, specOf(w.a, w.b)),
          w.a.appKey.address,
          OPERATION_WRITE,
          SEL_WRITE,
        ],
        Refusal.PipeNotActive,
      ],
      [
        "the target's key",
        async (w) => [w.pipeId, w.b.appKey.address, OPERATION_WRITE, SEL_WRITE],
        Refusal.SignerNotReserved,
      ],
      [
        "the source proxy's signer",
        async (w) => [w.pipeId, w.a.signer.address, OPERATION_WRITE, SEL_WRITE],
        Refusal.SignerNotReserved,
      ],
      [
        "the zero address",
        async (w) => [w.pipeId, ethers.ZeroAddress, OPERATION_WRITE, SEL_WRITE],
        Refusal.SignerNotReserved,
      ],
      ["an unknown operation", async (w) => [w.pipeId, w.a.appKey.address, 2, SEL_WRITE], Refusal.OperationNotAllowed],
      [
        "a write on a read-only pipe",
        async (w) => [w.wildcard, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE],
        Refusal.OperationNotAllowed,
      ],
      [
        "another selector",
        async (w) => [w.pipeId, w.a.appKey.address, OPERATION_WRITE, OTHER_SEL],
        Refusal.SelectorNotAllowed,
      ],
      [
        "the zero selector",
        async (w) => [w.pipeId, w.a.appKey.address, OPERATION_WRITE, "0x00000000"],
        Refusal.SelectorNotAllowed,
      ],
      [
        "a privileged selector on a pipe open to any",
        async (w) => [w.wildcard, w.a.appKey.address, OPERATION_READ, GRANT_ROLE],
        Refusal.SelectorNotAllowed,
      ],
      [
        "the zero selector on a pipe open to any",
        async (w) => [w.wildcard, w.a.appKey.address, OPERATION_READ, "0x00000000"],
        Refusal.SelectorNotAllowed,
      ],
      [
        "a suspended source",
        async (w) => {
          await govern(w, w.membership, "suspendInstitution", [w.a.institution]);
          return [w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE];
        },
        Refusal.InstitutionNotActive,
      ],
      [
        "an expelled target, on the pipe open to any",
        async (w) => {
          await govern(w, w.membership, "expelInstitution", [w.b.institution]);
          return [w.wildcard, w.a.appKey.address, OPERATION_READ, OTHER_SEL];
        },
        Refusal.InstitutionNotActive,
      ],
      [
        "a credit-restricted target",
        async (w) => {
          await govern(w, w.credit, "adjustScore", [w.b.institution, -401, ""]);
          return [w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE];
        },
        Refusal.InstitutionRestricted,
      ],
      [
        "a disabled target service",
        async (w) => {
          await govern(w, w.services, "disableService", [w.b.service]);
          return [w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE];
        },
        Refusal.ServiceDisabled,
      ],
      [
        "a revoked source proxy signer",
        async (w) => {
          await w.membership.connect(w.a.signer).revokeOwnAccount(w.a.signer.address);
          return [w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE];
        },
        Refusal.KeyRevoked,
      ],
      [
        "a revoked app key",
        async (w) => {
          await w.chains.connect(w.a.operator).revokeAppKey(w.a.app);
          return [w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE];
        },
        Refusal.KeyRevoked,
      ],
    ];

    for (const [name, setup, expected] of cases) {
      it(`${name}: ${Object.entries(Refusal).find(([, v]) => v === expected)![0]}`, async function () {
        const w = await loadFixture(withWildcard);
        const [pipeId, signer, op, sel] = await setup(w);
        expect(await w.pipes.checkOperation(pipeId, signer, op, sel)).to.equal(expected);
        await expectOpeningRoute(w, pipeId, signer, op, sel, expected);
        if (expected === Refusal.Allowed) await w.pipes.requireOperation(pipeId, signer, op, sel);
        else
          await expect(w.pipes.requireOperation(pipeId, signer, op, sel))
            .to.be.revertedWithCustomError(w.pipes, "PipeOperationRefused")
            .withArgs(pipeId, signer, expected);
      });
    }

    it("answers the first refusal in the order of Refusal", async function () {
      const w = await loadFixture(withWildcard);
      await govern(w, w.membership, "suspendInstitution", [w.a.institution]);
      await govern(w, w.credit, "adjustScore", [w.b.institution, -401, ""]);
      await govern(w, w.services, "disableService", [w.b.service]);
      // institution before credit before service, selector before institution, signer before operation
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.InstitutionNotActive);
      expect(await check(w, w.pipeId, w.a.appKey.address, OPERATION_WRITE, OTHER_SEL)).to.equal(
        Refusal.SelectorNotAllowed,
      );
      expect(await check(w, w.pipeId, w.b.appKey.address, 2, OTHER_SEL)).to.equal(Refusal.SignerNotReserved);
      await govern(w, w.membership, "reinstateInstitution", [w.a.institution]);
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.InstitutionRestricted);
      await govern(w, w.credit, "adjustScore", [w.b.institution, 401, ""]);
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.ServiceDisabled);
      await govern(w, w.services, "enableService", [w.b.service]);
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.Allowed);
      await w.pipes.connect(w.a.operator).pausePipe(w.pipeId);
      expect(await check(w, w.pipeId, w.b.appKey.address, 2, OTHER_SEL)).to.equal(Refusal.PipeNotActive);
    });

    it("openingRoute follows a proxy signer rotation and a re-keyed pipe, as route does", async function () {
      const w = await loadFixture(pipeWorld);
      await addAccount(w, w.b.admin, w.spare2, w.b.institution, Role.Business);
      await w.services.connect(w.b.operator).rotateServiceSigner(w.b.service, w.spare2.address);
      await expectOpeningRoute(w, w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE, Refusal.Allowed);
      expect(
        (await w.pipes.openingRoute(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE))[0].targetServiceSigner,
      ).to.equal(w.spare2.address);
      const rotation = await newAppKey(w, w.a.operator, w.a.app);
      const next = rotation[0];
      await w.chains.connect(w.a.operator).rotateAppKey(w.a.app, ...rotation);
      await expectOpeningRoute(w, w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE, Refusal.KeyRevoked);
      await w.pipes.syncPipeKey(w.pipeId);
      await expectOpeningRoute(w, w.pipeId, next, OPERATION_WRITE, SEL_WRITE, Refusal.Allowed);
      await expectOpeningRoute(w, w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE, Refusal.KeyRevoked);
    });

    it("checks selectors past the first ones (up to 16)", async function () {
      const w = await loadFixture(pipeWorld);
      const sels = Array.from({ length: 16 }, (_, i) => ethers.toBeHex(0x1000 + i, 4));
      const pipeId = await applyPipe(w, w.a.operator, specOf(w.a, w.b, { selectors: sels }));
      await w.pipes.connect(w.b.operator).authorizePipe(pipeId);
      for (const sel of sels)
        expect(await check(w, pipeId, w.a.appKey.address, OPERATION_WRITE, sel)).to.equal(Refusal.Allowed);
      expect(await check(w, pipeId, w.a.appKey.address, OPERATION_WRITE, ethers.toBeHex(0x1010, 4))).to.equal(
        Refusal.SelectorNotAllowed,
      );
      await w.pipes.connect(w.b.operator).pausePipe(pipeId);
      for (const sel of sels)
        expect(await check(w, pipeId, w.a.appKey.address, OPERATION_WRITE, sel)).to.equal(Refusal.PipeNotActive);
    });
  });

  describe("the usability cache", function () {
    it("is re-read from the sources by anyone, idempotently", async function () {
      const w = await loadFixture(pipeWorld);
      await expect(w.pipes.connect(w.stranger).syncInstitution(w.a.institution)).not.to.emit(
        w.pipes,
        "InstitutionUsabilitySynced",
      );
      await expect(w.pipes.syncService(w.a.service)).not.to.emit(w.pipes, "ServiceUsabilitySynced");
      await expect(w.pipes.syncKey(w.a.appKey.address)).not.to.emit(w.pipes, "KeyUsabilitySynced");
      await expect(w.pipes.syncAccount(w.stranger.address)).not.to.emit(w.pipes, "ServiceUsabilitySynced");
      await expect(w.pipes.syncKey(w.b.appKey.address)).not.to.emit(w.pipes, "KeyUsabilitySynced"); // no pipe uses it
      expect(await w.pipes.keyUsability(w.b.appKey.address)).to.deep.equal([0n, false]);
      await expect(w.pipes.syncService(id("none")))
        .to.be.revertedWithCustomError(w.pipes, "PipeServiceNotFound")
        .withArgs(id("none"));
      expect(await w.pipes.institutionUsability(w.a.institution)).to.deep.equal([true, false]);
    });

    it("isServingSigner follows rotation, disabling and the signer's account, each in its own transaction", async function () {
      const w = await loadFixture(pipeWorld);
      const old = w.a.signer.address;
      expect(await w.pipes.isServingSigner(old)).to.equal(true);
      expect(await w.pipes.isServingSigner(w.stranger.address)).to.equal(false);
      await govern(w, w.services, "disableService", [w.a.service]);
      expect(await w.pipes.isServingSigner(old)).to.equal(false);
      await govern(w, w.services, "enableService", [w.a.service]);
      expect(await w.pipes.isServingSigner(old)).to.equal(true);
      await govern(w, w.membership, "suspendAccount", [old]);
      expect(await w.pipes.isServingSigner(old)).to.equal(false);
      await govern(w, w.membership, "reinstateAccount", [old]);
      expect(await w.pipes.isServingSigner(old)).to.equal(true);
      const next = Wallet.createRandom();
      await addAccount(w, w.a.admin, next, w.a.institution, Role.Business);
      await w.services.connect(w.a.operator).rotateServiceSigner(w.a.service, next.address);
      expect(await w.pipes.isServingSigner(old)).to.equal(false);
      expect(await w.pipes.isServingSigner(next.address)).to.equal(true);
      // Re-reading the sources changes nothing: the rotated-out key never serves again.
      await w.pipes.connect(w.stranger).syncService(w.a.service);
      await w.pipes.connect(w.stranger).syncAccount(old);
      expect(await w.pipes.isServingSigner(old)).to.equal(false);
    });

    it("asks the credit score for a restriction at every check: a parameter change reaches the pipe at once", async function () {
      const w = await loadFixture(pipeWorld);
      const p = await w.credit.params();
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
      await govern(w, w.credit, "setParams", [
        { ...params, restrictionThreshold: p.initialScore, expulsionThreshold: 0 },
      ]);
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.Allowed); // both at the initial score
      await govern(w, w.credit, "adjustScore", [w.b.institution, -1, "below"]);
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.InstitutionRestricted);
      await govern(w, w.credit, "setParams", [params]);
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.Allowed);
      expect(await w.pipes.institutionUsability(w.b.institution)).to.deep.equal([true, false]);
    });

    it("follows suspension, reinstatement and expulsion pushed by Membership", async function () {
      const w = await loadFixture(pipeWorld);
      await expect(govern(w, w.membership, "suspendInstitution", [w.b.institution]))
        .to.emit(w.pipes, "InstitutionUsabilitySynced")
        .withArgs(w.b.institution, false, false);
      await expect(govern(w, w.membership, "reinstateInstitution", [w.b.institution]))
        .to.emit(w.pipes, "InstitutionUsabilitySynced")
        .withArgs(w.b.institution, true, false);
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.Allowed);
      await govern(w, w.membership, "expelInstitution", [w.b.institution]);
      expect(await w.pipes.institutionUsability(w.b.institution)).to.deep.equal([false, false]);
    });

    it("works for institutions and services past the first usability word (32 and above)", async function () {
      const w = await loadFixture(pipeWorld);
      const applicant = w.spare1;
      for (let n = (await w.membership.institutionCount()) + 1n; n < 40n; n++)
        await joinInstitution(w, applicant, Kind.Business, `filler ${n}`);
      // 31 more services of A (indices 3 to 33), each with its own signing account
      for (let i = 0; i < 31; i++) {
        const key = Wallet.createRandom();
        const signer = key.address;
        await addAccount(w, w.a.admin, key, w.a.institution, Role.Business);
        await w.services
          .connect(w.a.operator)
          .registerService(
            scopedId(w.a.institution, `filler ${i}`),
            scopedId(w.a.institution, `filler chain ${i}`),
            signer,
            {
              host: "h",
              port: 1,
              tlsFingerprint: id("c"),
            },
          );
      }
      const signers = await ethers.getSigners();
      const [admin, op, signer] = [w.spare2, signers[18], signers[19]];
      const far = await side(w, "Far Away", admin, op, signer, 1040n);
      expect(far.institution).to.equal(40n);
      expect((await w.services.service(far.service)).index).to.equal(34n);
      await w.chains.connect(op).registerContract("FarContract", far.subchain, Wallet.createRandom().address);
      const pipeId = await applyPipe(
        w,
        w.a.operator,
        specOf(w.a, far, { contractName: id("FarContract"), selectors: [SEL_WRITE] }),
      );
      await w.pipes.connect(op).authorizePipe(pipeId);
      expect(await check(w, pipeId, w.a.appKey.address)).to.equal(Refusal.Allowed);
      await govern(w, w.membership, "suspendInstitution", [far.institution]);
      expect(await check(w, pipeId, w.a.appKey.address)).to.equal(Refusal.InstitutionNotActive);
      expect(await check(w, w.pipeId, w.a.appKey.address)).to.equal(Refusal.Allowed); // the first word is untouched
      await govern(w, w.membership, "reinstateInstitution", [far.institution]);
      await govern(w, w.services, "disableService", [far.service]);
      expect(await check(w, pipeId, w.a.appKey.address)).to.equal(Refusal.ServiceDisabled);
    });

    it("refuses an operator whose institution was suspended from driving its pipes", async function () {
      const w = await loadFixture(pipeWorld);
      await govern(w, w.membership, "suspendInstitution", [w.a.institution]);
      await expect(w.pipes.connect(w.a.operator).pausePipe(w.pipeId))
        .to.be.revertedWithCustomError(w.membership, "InstitutionNotActive")
        .withArgs(w.a.institution, IStatus.Suspended);
      // the other side still can, and so can a vote
      await expect(w.pipes.connect(w.b.operator).pausePipe(w.pipeId)).to.emit(w.pipes, "PipePaused");
    });
  });
});
