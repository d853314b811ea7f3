import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet } from "ethers";
import {
  AStatus,
  IStatus,
  Kind,
  Role,
  addAccount,
  deployConsortium,
  govern,
  joinInstitution,
} from "../helpers/governance";
import { ChainKind, KeyStatus, appKeyConsent, endpoint, id, newAppKey, scopedId } from "../helpers/registries";

/** A runtime code hash as an auditor reads it on the sub-chain (the registry cannot read a sub-chain). */
const CODE = id("runtime code");

/** A (4) with one service, B (5) with two services (two sub-chains), an audit institution (6) with an auditor. */
async function world() {
  const c = await deployConsortium(3);
  const [adminA, adminB, auditAdmin, opA, opB, signerA, signerB, signerB2, auditor, stranger] = c.others;
  const a = await joinInstitution(c, adminA, Kind.Business, "A");
  const b = await joinInstitution(c, adminB, Kind.Business, "B");
  const audit = await joinInstitution(c, auditAdmin, Kind.Audit, "Audit");
  for (const [admin, account, inst, role] of [
    [adminA, opA, a, Role.Operator],
    [adminA, signerA, a, Role.Business],
    [adminB, opB, b, Role.Operator],
    [adminB, signerB, b, Role.Business],
    [adminB, signerB2, b, Role.Business],
    [auditAdmin, auditor, audit, Role.Auditor],
  ] as const) {
    await addAccount(c, admin, account, inst, role);
  }
  const ids = {
    svcA: scopedId(a, "A/service"),
    chainA: scopedId(a, "A/chain"),
    svcB: scopedId(b, "B/service"),
    chainB: scopedId(b, "B/chain"),
    svcB2: scopedId(b, "B/service2"),
    chainB2: scopedId(b, "B/chain2"),
  };
  await c.services.connect(opA).registerService(ids.svcA, ids.chainA, signerA.address, endpoint());
  await c.services.connect(opB).registerService(ids.svcB, ids.chainB, signerB.address, endpoint());
  await c.services.connect(opB).registerService(ids.svcB2, ids.chainB2, signerB2.address, endpoint());
  const gatewayA = Wallet.createRandom().address;
  const gatewayB = Wallet.createRandom().address;
  return {
    ...c,
    a,
    b,
    audit,
    adminA,
    adminB,
    auditAdmin,
    opA,
    opB,
    signerA,
    signerB,
    auditor,
    stranger,
    ...ids,
    gatewayA,
    gatewayB,
  };
}

/** The world with the three sub-chains registered and one app on A's chain. */
async function withChains() {
  const w = await world();
  await w.chains.connect(w.opA).registerSubchain(w.chainA, ChainKind.Evm, 1001, w.svcA, w.gatewayA, "A chain");
  await w.chains.connect(w.opB).registerSubchain(w.chainB, ChainKind.Evm, 1002, w.svcB, w.gatewayB, "B chain");
  await w.chains
    .connect(w.opB)
    .registerSubchain(w.chainB2, ChainKind.FiscoBcos, 1003, w.svcB2, Wallet.createRandom().address, "B chain 2");
  const app = scopedId(w.a, "A/app");
  const keyWallet = Wallet.createRandom();
  const key = keyWallet.address;
  await w.chains
    .connect(w.opA)
    .registerApp(app, w.chainA, key, "A app", ...(await appKeyConsent(w, w.opA, app, keyWallet)));
  return { ...w, app, key, keyWallet };
}

describe("ChainRegistry", function () {
  describe("sub-chains", function () {
    it("registers a sub-chain fronted by the institution's service", async function () {
      const w = await loadFixture(world);
      await expect(
        w.chains.connect(w.opA).registerSubchain(w.chainA, ChainKind.Evm, 1001, w.svcA, w.gatewayA, "A chain"),
      )
        .to.emit(w.chains, "SubchainRegistered")
        .withArgs(w.chainA, w.a, w.opA.address, ChainKind.Evm, 1001, w.svcA, w.gatewayA, "A chain");
      const s = await w.chains.subchain(w.chainA);
      expect([s.institution, s.kind, s.chainId, s.service, s.gateway, s.registeredAt]).to.deep.equal([
        w.a,
        ChainKind.Evm,
        1001n,
        w.svcA,
        w.gatewayA,
        BigInt(await time.latest()),
      ]);
    });

    it("refuses the governance chain itself, chain id 0, kind None, a zero gateway or id, and a second registration", async function () {
      const w = await loadFixture(world);
      const reg = (over: { id?: string; kind?: bigint; chainId?: number; gw?: string } = {}) =>
        w.chains
          .connect(w.opA)
          .registerSubchain(
            over.id ?? w.chainA,
            over.kind ?? ChainKind.Evm,
            over.chainId ?? 1001,
            w.svcA,
            over.gw ?? w.gatewayA,
            "",
          );
      await expect(reg({ chainId: 31337 }))
        .to.be.revertedWithCustomError(w.chains, "SubchainIsGovernanceChain")
        .withArgs(31337);
      await expect(reg({ chainId: 0 }))
        .to.be.revertedWithCustomError(w.chains, "SubchainInvalidChainId")
        .withArgs(0);
      await expect(reg({ kind: ChainKind.None }))
        .to.be.revertedWithCustomError(w.chains, "SubchainInvalidKind")
        .withArgs(ChainKind.None);
      await expect(reg({ gw: ethers.ZeroAddress })).to.be.revertedWithCustomError(w.chains, "SubchainZeroGateway");
      await expect(reg({ id: ethers.ZeroHash })).to.be.revertedWithCustomError(w.chains, "SubchainZeroId");
      await reg();
      await expect(reg()).to.be.revertedWithCustomError(w.chains, "SubchainAlreadyRegistered").withArgs(w.chainA);
    });

    it("refuses a service that does not front the sub-chain, and an operator of another institution", async function () {
      const w = await loadFixture(world);
      await expect(w.chains.connect(w.opA).registerSubchain(w.chainA, ChainKind.Evm, 1001, w.svcB, w.gatewayA, ""))
        .to.be.revertedWithCustomError(w.chains, "SubchainServiceMismatch")
        .withArgs(w.chainA, w.svcB);
      await expect(w.chains.connect(w.opA).registerSubchain(w.chainA, ChainKind.Evm, 1001, id("none"), w.gatewayA, ""))
        .to.be.revertedWithCustomError(w.chains, "SubchainServiceMismatch")
        .withArgs(w.chainA, id("none"));
      await expect(w.chains.connect(w.opB).registerSubchain(w.chainA, ChainKind.Evm, 1001, w.svcA, w.gatewayA, ""))
        .to.be.revertedWithCustomError(w.chains, "SubchainIdNotOwned")
        .withArgs(w.chainA, w.b);
      await expect(w.chains.connect(w.stranger).registerSubchain(w.chainA, ChainKind.Evm, 1001, w.svcA, w.gatewayA, ""))
        .to.be.revertedWithCustomError(w.membership, "AccountNotActive")
        .withArgs(w.stranger.address, AStatus.None);
    });

    it("moves a sub-chain's gateway, by its operators only, never onto a registered contract", async function () {
      const w = await loadFixture(withChains);
      const gw = Wallet.createRandom().address;
      await expect(w.chains.connect(w.opA).setSubchainGateway(w.chainA, gw))
        .to.emit(w.chains, "SubchainGatewayChanged")
        .withArgs(w.chainA, w.opA.address, gw);
      expect((await w.chains.subchain(w.chainA)).gateway).to.equal(gw);
      await expect(w.chains.connect(w.opB).setSubchainGateway(w.chainA, gw))
        .to.be.revertedWithCustomError(w.chains, "ChainRegistryUnauthorizedOperator")
        .withArgs(w.opB.address, w.a);
      await expect(
        w.chains.connect(w.opA).setSubchainGateway(w.chainA, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(w.chains, "SubchainZeroGateway");
      await expect(w.chains.connect(w.opA).setSubchainGateway(id("none"), gw))
        .to.be.revertedWithCustomError(w.chains, "SubchainNotFound")
        .withArgs(id("none"));
      const business = Wallet.createRandom().address;
      await w.chains.connect(w.opA).registerContract("Ledger", w.chainA, business);
      await expect(w.chains.connect(w.opA).setSubchainGateway(w.chainA, business))
        .to.be.revertedWithCustomError(w.chains, "ContractIsGateway")
        .withArgs(w.chainA, business);
    });
  });

  describe("applications and keys", function () {
    it("registers an app with its reserved key", async function () {
      const w = await loadFixture(withChains);
      const keyWallet = Wallet.createRandom();
      const key = keyWallet.address;
      const app2 = scopedId(w.a, "A/app2");
      await expect(
        w.chains
          .connect(w.opA)
          .registerApp(app2, w.chainA, key, "second", ...(await appKeyConsent(w, w.opA, app2, keyWallet))),
      )
        .to.emit(w.chains, "AppRegistered")
        .withArgs(app2, w.a, w.opA.address, w.chainA, key, 2, "second");
      const a = await w.chains.app(app2);
      expect([a.key, a.institution, a.index, a.subchain]).to.deep.equal([key, w.a, 2n, w.chainA]);
      expect(await w.chains.appAt(2)).to.equal(app2);
      expect(await w.chains.appCount()).to.equal(2);
      const k = await w.chains.keyRecord(key);
      expect([k.status, k.app]).to.deep.equal([KeyStatus.Active, app2]);
    });

    it("refuses a zero or taken id or key, an unknown sub-chain and an operator of another institution", async function () {
      const w = await loadFixture(withChains);
      const keyWallet = Wallet.createRandom();
      const key = keyWallet.address;
      const consent = await appKeyConsent(w, w.opA, scopedId(w.a, "x"), keyWallet);
      await expect(
        w.chains.connect(w.opA).registerApp(ethers.ZeroHash, w.chainA, key, "", ...consent),
      ).to.be.revertedWithCustomError(w.chains, "AppZeroId");
      await expect(w.chains.connect(w.opA).registerApp(w.app, w.chainA, key, "", ...consent))
        .to.be.revertedWithCustomError(w.chains, "AppAlreadyRegistered")
        .withArgs(w.app);
      await expect(w.chains.connect(w.opA).registerApp(scopedId(w.a, "x"), id("none"), key, "", ...consent))
        .to.be.revertedWithCustomError(w.chains, "SubchainNotFound")
        .withArgs(id("none"));
      await expect(w.chains.connect(w.opB).registerApp(scopedId(w.a, "x"), w.chainA, key, "", ...consent))
        .to.be.revertedWithCustomError(w.chains, "ChainRegistryUnauthorizedOperator")
        .withArgs(w.opB.address, w.a);
      await expect(
        w.chains.connect(w.opA).registerApp(scopedId(w.a, "x"), w.chainA, ethers.ZeroAddress, "", ...consent),
      )
        .to.be.revertedWithCustomError(w.chains, "AppKeyInvalid")
        .withArgs(ethers.ZeroAddress);
      const again = await appKeyConsent(w, w.opA, scopedId(w.a, "x"), w.keyWallet);
      await expect(w.chains.connect(w.opA).registerApp(scopedId(w.a, "x"), w.chainA, w.key, "", ...again))
        .to.be.revertedWithCustomError(w.chains, "AppKeyTaken")
        .withArgs(w.key, w.app);
    });

    it("rotates a key: the old one is revoked for ever, the new one active", async function () {
      const w = await loadFixture(withChains);
      const rotation = await newAppKey(w, w.opA, w.app);
      const next = rotation[0];
      await expect(w.chains.connect(w.opA).rotateAppKey(w.app, ...rotation))
        .to.emit(w.chains, "AppKeyRotated")
        .withArgs(w.app, w.opA.address, next, w.key);
      expect((await w.chains.app(w.app)).key).to.equal(next);
      expect((await w.chains.keyRecord(w.key)).status).to.equal(KeyStatus.Revoked);
      expect((await w.chains.keyRecord(next)).status).to.equal(KeyStatus.Active);
      // the old key can never come back, on this app or another
      await expect(w.chains.connect(w.opA).rotateAppKey(w.app, ...(await newAppKey(w, w.opA, w.app, w.keyWallet))))
        .to.be.revertedWithCustomError(w.chains, "AppKeyTaken")
        .withArgs(w.key, w.app);
      await expect(
        w.chains
          .connect(w.opA)
          .registerApp(
            scopedId(w.a, "y"),
            w.chainA,
            w.key,
            "",
            ...(await appKeyConsent(w, w.opA, scopedId(w.a, "y"), w.keyWallet)),
          ),
      )
        .to.be.revertedWithCustomError(w.chains, "AppKeyTaken")
        .withArgs(w.key, w.app);
      await expect(w.chains.connect(w.opB).rotateAppKey(w.app, ...(await newAppKey(w, w.opA, w.app))))
        .to.be.revertedWithCustomError(w.chains, "ChainRegistryUnauthorizedOperator")
        .withArgs(w.opB.address, w.a);
      await expect(w.chains.connect(w.opA).rotateAppKey(id("none"), ...(await newAppKey(w, w.opA, id("none")))))
        .to.be.revertedWithCustomError(w.chains, "AppNotFound")
        .withArgs(id("none"));
      const [, deadline, signature] = await newAppKey(w, w.opA, w.app);
      await expect(w.chains.connect(w.opA).rotateAppKey(w.app, ethers.ZeroAddress, deadline, signature))
        .to.be.revertedWithCustomError(w.chains, "AppKeyInvalid")
        .withArgs(ethers.ZeroAddress);
    });

    it("revokes a key without a replacement, then gives the app a new one", async function () {
      const w = await loadFixture(withChains);
      await expect(w.chains.connect(w.opA).revokeAppKey(w.app))
        .to.emit(w.chains, "AppKeyRevoked")
        .withArgs(w.app, w.opA.address, w.key);
      expect((await w.chains.app(w.app)).key).to.equal(ethers.ZeroAddress);
      expect((await w.chains.keyRecord(w.key)).status).to.equal(KeyStatus.Revoked);
      await expect(w.chains.connect(w.opA).revokeAppKey(w.app))
        .to.be.revertedWithCustomError(w.chains, "AppKeyNotSet")
        .withArgs(w.app);
      await expect(w.chains.connect(w.opB).revokeAppKey(w.app))
        .to.be.revertedWithCustomError(w.chains, "ChainRegistryUnauthorizedOperator")
        .withArgs(w.opB.address, w.a);
      await expect(w.chains.connect(w.opA).revokeAppKey(id("none")))
        .to.be.revertedWithCustomError(w.chains, "AppNotFound")
        .withArgs(id("none"));
      const rotation = await newAppKey(w, w.opA, w.app);
      const next = rotation[0];
      await expect(w.chains.connect(w.opA).rotateAppKey(w.app, ...rotation))
        .to.emit(w.chains, "AppKeyRotated")
        .withArgs(w.app, w.opA.address, next, ethers.ZeroAddress);
    });
  });

  describe("business contracts (CNS)", function () {
    it("registers versions under a name; resolve gives the latest, every version stays readable", async function () {
      const w = await loadFixture(withChains);
      const [v1, v2] = [Wallet.createRandom().address, Wallet.createRandom().address];
      const hash = id("DrugTraceability");
      await expect(w.chains.connect(w.opB).registerContract("DrugTraceability", w.chainB, v1))
        .to.emit(w.chains, "ContractRegistered")
        .withArgs(hash, 1, w.opB.address, w.b, w.chainB, v1, ethers.ZeroHash, "DrugTraceability");
      expect(await w.chains.resolve(w.chainB, hash)).to.deep.equal([v1, 1n]);
      const t1 = await time.latest();
      await expect(w.chains.connect(w.opB).registerContract("DrugTraceability", w.chainB, v2))
        .to.emit(w.chains, "ContractRegistered")
        .withArgs(hash, 2, w.opB.address, w.b, w.chainB, v2, ethers.ZeroHash, "DrugTraceability");
      expect(await w.chains.resolve(w.chainB, hash)).to.deep.equal([v2, 2n]);
      const old = await w.chains.contractVersion(w.chainB, hash, 1);
      expect([old.contractAddress, old.registeredAt, old.reportHash]).to.deep.equal([v1, BigInt(t1), ethers.ZeroHash]);
      const cn = await w.chains.contractName(w.chainB, hash);
      expect([cn.institution, cn.latestVersion, cn.name]).to.deep.equal([w.b, 2n, "DrugTraceability"]);
      expect(await w.chains.nameOf(w.chainB, v1)).to.equal(hash);
      await expect(w.chains.contractVersion(w.chainB, hash, 3))
        .to.be.revertedWithCustomError(w.chains, "ContractVersionNotFound")
        .withArgs(w.chainB, hash, 3);
      await expect(w.chains.resolve(w.chainB, id("none")))
        .to.be.revertedWithCustomError(w.chains, "ContractNameNotFound")
        .withArgs(w.chainB, id("none"));
      // The name lives in chain B's namespace only.
      await expect(w.chains.resolve(w.chainB2, hash))
        .to.be.revertedWithCustomError(w.chains, "ContractNameNotFound")
        .withArgs(w.chainB2, hash);
    });

    it("namespaces names per sub-chain: only its institution's operators register there, others use the name at home", async function () {
      const w = await loadFixture(withChains);
      const hash = id("Evidence");
      const [atB, atA, atB2] = [
        Wallet.createRandom().address,
        Wallet.createRandom().address,
        Wallet.createRandom().address,
      ];
      await w.chains.connect(w.opB).registerContract("Evidence", w.chainB, atB);
      await expect(w.chains.connect(w.opA).registerContract("Evidence", w.chainB, Wallet.createRandom().address))
        .to.be.revertedWithCustomError(w.chains, "ChainRegistryUnauthorizedOperator")
        .withArgs(w.opA.address, w.b);
      // The same name on A's own sub-chain, and on B's second sub-chain, are separate names with their own versions.
      await w.chains.connect(w.opA).registerContract("Evidence", w.chainA, atA);
      await w.chains.connect(w.opB).registerContract("Evidence", w.chainB2, atB2);
      expect(await w.chains.resolve(w.chainB, hash)).to.deep.equal([atB, 1n]);
      expect(await w.chains.resolve(w.chainA, hash)).to.deep.equal([atA, 1n]);
      expect(await w.chains.resolve(w.chainB2, hash)).to.deep.equal([atB2, 1n]);
      expect((await w.chains.contractName(w.chainA, hash)).institution).to.equal(w.a);
    });

    it("refuses a bad name, an unknown sub-chain, the zero address, the gateway and an address already named", async function () {
      const w = await loadFixture(withChains);
      const addr = Wallet.createRandom().address;
      await expect(w.chains.connect(w.opB).registerContract("", w.chainB, addr))
        .to.be.revertedWithCustomError(w.chains, "ContractNameInvalid")
        .withArgs(0);
      await expect(w.chains.connect(w.opB).registerContract("n".repeat(65), w.chainB, addr))
        .to.be.revertedWithCustomError(w.chains, "ContractNameInvalid")
        .withArgs(65);
      await expect(w.chains.connect(w.opB).registerContract("N", id("none"), addr))
        .to.be.revertedWithCustomError(w.chains, "SubchainNotFound")
        .withArgs(id("none"));
      await expect(
        w.chains.connect(w.opB).registerContract("N", w.chainB, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(w.chains, "ContractZeroAddress");
      await expect(w.chains.connect(w.opB).registerContract("N", w.chainB, w.gatewayB))
        .to.be.revertedWithCustomError(w.chains, "ContractIsGateway")
        .withArgs(w.chainB, w.gatewayB);
      await w.chains.connect(w.opB).registerContract("N", w.chainB, addr);
      await expect(w.chains.connect(w.opB).registerContract("M", w.chainB, addr))
        .to.be.revertedWithCustomError(w.chains, "ContractAddressTaken")
        .withArgs(w.chainB, addr, id("N"));
      await expect(w.chains.connect(w.opB).registerContract("N", w.chainB, addr))
        .to.be.revertedWithCustomError(w.chains, "ContractAddressTaken")
        .withArgs(w.chainB, addr, id("N"));
      // the same address on another sub-chain is another contract
      await expect(w.chains.connect(w.opB).registerContract("M", w.chainB2, addr)).to.emit(
        w.chains,
        "ContractRegistered",
      );
    });
  });

  describe("audit attestation gate", function () {
    it("requires, once switched on by vote, an auditor's attestation, and records its report hash", async function () {
      const w = await loadFixture(withChains);
      const v = await w.voting.getAddress();
      await expect(govern(w, w.chains, "setAttestationRequired", [true]))
        .to.emit(w.chains, "AttestationRequirementChanged")
        .withArgs(true, v);
      expect(await w.chains.attestationRequired()).to.equal(true);
      const addr = Wallet.createRandom().address;
      await expect(w.chains.connect(w.opB).registerContract("Audited", w.chainB, addr))
        .to.be.revertedWithCustomError(w.chains, "ContractNotAttested")
        .withArgs(w.chainB, addr);
      const report = id("report.json");
      await expect(w.chains.connect(w.auditor).attest(w.chainB, addr, report, CODE))
        .to.emit(w.chains, "ContractAttested")
        .withArgs(w.chainB, addr, w.auditor.address, w.audit, report, CODE);
      const at = await w.chains.attestation(w.chainB, addr);
      expect([at.institution, at.auditor, at.reportHash, at.codeHash, at.attestedAt]).to.deep.equal([
        w.audit,
        w.auditor.address,
        report,
        CODE,
        BigInt(await time.latest()),
      ]);
      await expect(w.chains.connect(w.opB).registerContract("Audited", w.chainB, addr))
        .to.emit(w.chains, "ContractRegistered")
        .withArgs(id("Audited"), 1, w.opB.address, w.b, w.chainB, addr, report, "Audited");
      expect((await w.chains.contractVersion(w.chainB, id("Audited"), 1)).reportHash).to.equal(report);
      await govern(w, w.chains, "setAttestationRequired", [false]);
      await expect(w.chains.connect(w.opB).registerContract("Free", w.chainB, Wallet.createRandom().address)).to.emit(
        w.chains,
        "ContractRegistered",
      );
    });

    it("reaches names registered before the switch: resolve refuses an unattested latest version while it is on", async function () {
      const w = await loadFixture(withChains);
      const [old, audited] = [Wallet.createRandom().address, Wallet.createRandom().address];
      await w.chains.connect(w.opB).registerContract("Earlier", w.chainB, old);
      await govern(w, w.chains, "setAttestationRequired", [true]);
      // Registered unattested before the switch: refused now, at use, with no re-registration.
      await expect(w.chains.resolve(w.chainB, id("Earlier")))
        .to.be.revertedWithCustomError(w.chains, "ContractNotAttested")
        .withArgs(w.chainB, old);
      // An attestation given afterwards counts at once.
      await w.chains.connect(w.auditor).attest(w.chainB, old, id("late report"), CODE);
      expect(await w.chains.resolve(w.chainB, id("Earlier"))).to.deep.equal([old, 1n]);
      await w.chains.connect(w.auditor).attest(w.chainB, audited, id("report"), CODE);
      await w.chains.connect(w.opB).registerContract("Earlier", w.chainB, audited);
      expect(await w.chains.resolve(w.chainB, id("Earlier"))).to.deep.equal([audited, 2n]);
      // Switched off: every name resolves again, attested or not.
      const free = Wallet.createRandom().address;
      await govern(w, w.chains, "setAttestationRequired", [false]);
      await w.chains.connect(w.opB).registerContract("Unaudited", w.chainB, free);
      expect(await w.chains.resolve(w.chainB, id("Unaudited"))).to.deep.equal([free, 1n]);
      await govern(w, w.chains, "setAttestationRequired", [true]);
      await expect(w.chains.resolve(w.chainB, id("Unaudited")))
        .to.be.revertedWithCustomError(w.chains, "ContractNotAttested")
        .withArgs(w.chainB, free);
    });

    it("keeps the latest attestation of a contract", async function () {
      const w = await loadFixture(withChains);
      const addr = Wallet.createRandom().address;
      await w.chains.connect(w.auditor).attest(w.chainB, addr, id("r1"), CODE);
      await w.chains.connect(w.auditor).attest(w.chainB, addr, id("r2"), id("new code"));
      const at = await w.chains.attestation(w.chainB, addr);
      expect([at.reportHash, at.codeHash]).to.deep.equal([id("r2"), id("new code")]);
    });

    it("refuses attestations by non-auditors, by a suspended audit institution, and incomplete ones", async function () {
      const w = await loadFixture(withChains);
      const addr = Wallet.createRandom().address;
      await expect(w.chains.connect(w.opB).attest(w.chainB, addr, id("r"), CODE))
        .to.be.revertedWithCustomError(w.membership, "AccountRoleMismatch")
        .withArgs(w.opB.address, Role.Auditor, Role.Operator);
      await expect(
        w.chains.connect(w.auditor).attest(w.chainB, addr, ethers.ZeroHash, CODE),
      ).to.be.revertedWithCustomError(w.chains, "AttestationZeroReport");
      await expect(
        w.chains.connect(w.auditor).attest(w.chainB, ethers.ZeroAddress, id("r"), CODE),
      ).to.be.revertedWithCustomError(w.chains, "AttestationZeroContract");
      // No code hash, or the hash of an account without code: nothing was deployed there to audit.
      for (const none of [ethers.ZeroHash, ethers.keccak256("0x")])
        await expect(w.chains.connect(w.auditor).attest(w.chainB, addr, id("r"), none))
          .to.be.revertedWithCustomError(w.chains, "AttestationNoCode")
          .withArgs(none);
      await expect(w.chains.connect(w.auditor).attest(id("none"), addr, id("r"), CODE))
        .to.be.revertedWithCustomError(w.chains, "SubchainNotFound")
        .withArgs(id("none"));
      await govern(w, w.membership, "suspendInstitution", [w.audit]);
      await expect(w.chains.connect(w.auditor).attest(w.chainB, addr, id("r"), CODE))
        .to.be.revertedWithCustomError(w.membership, "InstitutionNotActive")
        .withArgs(w.audit, IStatus.Suspended);
    });

    it("refuses the switch called directly", async function () {
      const w = await loadFixture(withChains);
      await expect(w.chains.connect(w.governors[0]).setAttestationRequired(true))
        .to.be.revertedWithCustomError(w.chains, "GovernanceOnly")
        .withArgs(await w.governors[0].getAddress());
    });
  });
});
