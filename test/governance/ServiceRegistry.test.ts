import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  AStatus,
  IStatus,
  Kind,
  Role,
  addAccount,
  deployConsortium,
  govern,
  joinInstitution,
  pass,
  proposalIdOf,
} from "../helpers/governance";
import { NodeKind, Svc, endpoint, id, nodeConsent, nodeKey, scopedId } from "../helpers/registries";

/** Two business institutions (A = 4, B = 5) with operators and business accounts, and an audit institution (6). */
async function world() {
  const c = await deployConsortium(3);
  const [adminA, adminB, auditAdmin, opA, opB, signerA, signerA2, signerB, auditor, stranger] = c.others;
  const a = await joinInstitution(c, adminA, Kind.Business, "A");
  const b = await joinInstitution(c, adminB, Kind.Business, "B");
  const audit = await joinInstitution(c, auditAdmin, Kind.Audit, "Audit");
  for (const [admin, account, inst, role] of [
    [adminA, opA, a, Role.Operator],
    [adminA, signerA, a, Role.Business],
    [adminA, signerA2, a, Role.Business],
    [adminB, opB, b, Role.Operator],
    [adminB, signerB, b, Role.Business],
    [auditAdmin, auditor, audit, Role.Auditor],
  ] as const) {
    await addAccount(c, admin, account, inst, role);
  }
  const svc = scopedId(a, "A/service");
  const chain = scopedId(a, "A/chain");
  const register = (over: { id?: string; chain?: string; signer?: string; ep?: ReturnType<typeof endpoint> } = {}) =>
    c.services
      .connect(opA)
      .registerService(over.id ?? svc, over.chain ?? chain, over.signer ?? signerA.address, over.ep ?? endpoint());
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
    signerA2,
    signerB,
    auditor,
    stranger,
    svc,
    chain,
    register,
  };
}

/** The world with A's service registered and enabled by vote. */
async function enabled() {
  const w = await world();
  await pass(w, await proposalIdOf(w.voting, w.register()));
  return w;
}

describe("ServiceRegistry", function () {
  describe("registerService", function () {
    it("records the service, opens the enabling vote and caches it as not yet enabled", async function () {
      const w = await loadFixture(world);
      const ep = endpoint("relayer-a.example.org", 9443, id("cert-a"));
      const next = (await w.voting.proposalCount()) + 1n;
      const tx = w.register({ ep });
      await expect(tx)
        .to.emit(w.services, "ServiceRegistered")
        .withArgs(w.svc, w.a, w.opA.address, w.chain, w.signerA.address, ep.host, ep.port, ep.tlsFingerprint, 1, next)
        .and.to.emit(w.pipes, "ServiceUsabilitySynced")
        .withArgs(w.svc, 1, w.signerA.address, false, true);
      const p = await w.voting.proposal(next);
      expect([p.target, p.data, p.proposer]).to.deep.equal([
        await w.services.getAddress(),
        w.services.interface.encodeFunctionData("enableService", [w.svc]),
        w.opA.address,
      ]);
      const s = await w.services.service(w.svc);
      expect([
        s.status,
        s.signer,
        s.institution,
        s.subchain,
        s.host,
        s.port,
        s.tlsFingerprint,
        s.index,
        s.lastSeen,
      ]).to.deep.equal([
        Svc.Registered,
        w.signerA.address,
        w.a,
        w.chain,
        ep.host,
        BigInt(ep.port),
        ep.tlsFingerprint,
        1n,
        0n,
      ]);
      expect(s.registeredAt).to.equal(await time.latest());
      const ref = await w.services.serviceRef(w.svc);
      expect([ref.status, ref.index, ref.institution, ref.signer, ref.subchain]).to.deep.equal([
        Svc.Registered,
        1n,
        w.a,
        w.signerA.address,
        w.chain,
      ]);
      expect(await w.services.serviceAt(1)).to.equal(w.svc);
      expect(await w.services.serviceCount()).to.equal(1);
      expect(await w.services.serviceOfSigner(w.signerA.address)).to.equal(w.svc);
      expect(await w.pipes.serviceUsability(1)).to.deep.equal([false, true, w.signerA.address]);
    });

    it("refuses callers who are not active operators", async function () {
      const w = await loadFixture(world);
      await expect(w.services.connect(w.stranger).registerService(w.svc, w.chain, w.signerA.address, endpoint()))
        .to.be.revertedWithCustomError(w.membership, "AccountNotActive")
        .withArgs(w.stranger.address, AStatus.None);
      await expect(w.services.connect(w.signerA).registerService(w.svc, w.chain, w.signerA.address, endpoint()))
        .to.be.revertedWithCustomError(w.membership, "AccountRoleMismatch")
        .withArgs(w.signerA.address, Role.Operator, Role.Business);
    });

    it("refuses a zero or taken id and a zero sub-chain", async function () {
      const w = await loadFixture(world);
      await expect(w.register({ id: ethers.ZeroHash })).to.be.revertedWithCustomError(w.services, "ServiceZeroId");
      await expect(w.register({ chain: ethers.ZeroHash }))
        .to.be.revertedWithCustomError(w.services, "ServiceInvalidSubchain")
        .withArgs(ethers.ZeroHash);
      await w.register();
      await expect(w.register({ signer: w.signerA2.address }))
        .to.be.revertedWithCustomError(w.services, "ServiceAlreadyRegistered")
        .withArgs(w.svc);
    });

    it("refuses an empty or too long host, port 0 and a zero fingerprint", async function () {
      const w = await loadFixture(world);
      for (const ep of [endpoint(""), endpoint("h".repeat(254)), endpoint("h", 0)]) {
        await expect(w.register({ ep }))
          .to.be.revertedWithCustomError(w.services, "ServiceInvalidEndpoint")
          .withArgs(ep.host, ep.port);
      }
      await expect(w.register({ ep: endpoint("h".repeat(253)) })).to.emit(w.services, "ServiceRegistered");
      await expect(
        w.register({ id: scopedId(w.a, "x"), signer: w.signerA2.address, ep: endpoint("h", 1, ethers.ZeroHash) }),
      )
        .to.be.revertedWithCustomError(w.services, "ServiceInvalidFingerprint")
        .withArgs(ethers.ZeroHash);
    });

    it("refuses a signer that is not an active business account of the institution, or already signs", async function () {
      const w = await loadFixture(world);
      await expect(w.register({ signer: w.opA.address }))
        .to.be.revertedWithCustomError(w.membership, "AccountRoleMismatch")
        .withArgs(w.opA.address, Role.Business, Role.Operator);
      await expect(w.register({ signer: w.stranger.address }))
        .to.be.revertedWithCustomError(w.membership, "AccountNotActive")
        .withArgs(w.stranger.address, AStatus.None);
      await expect(w.register({ signer: w.signerB.address }))
        .to.be.revertedWithCustomError(w.services, "ServiceSignerWrongInstitution")
        .withArgs(w.signerB.address, w.b, w.a);
      await w.register();
      await expect(w.register({ id: scopedId(w.a, "A/second") }))
        .to.be.revertedWithCustomError(w.services, "ServiceSignerTaken")
        .withArgs(w.signerA.address, w.svc);
    });
  });

  describe("enable and disable (governed)", function () {
    it("enables by vote, then disables and re-enables, keeping the pipe registry's cache in step", async function () {
      const w = await loadFixture(world);
      const pid = await proposalIdOf(w.voting, w.register());
      for (const g of w.governors) await w.voting.connect(g).vote(pid, true);
      const v = await w.voting.getAddress();
      await expect(w.voting.execute(pid))
        .to.emit(w.services, "ServiceEnabled")
        .withArgs(w.svc, v)
        .and.to.emit(w.pipes, "ServiceUsabilitySynced")
        .withArgs(w.svc, 1, w.signerA.address, true, true);
      expect((await w.services.service(w.svc)).status).to.equal(Svc.Enabled);
      await expect(govern(w, w.services, "disableService", [w.svc]))
        .to.emit(w.services, "ServiceDisabled")
        .withArgs(w.svc, v);
      expect((await w.pipes.serviceUsability(1))[0]).to.equal(false);
      await expect(govern(w, w.services, "enableService", [w.svc])).to.emit(w.services, "ServiceEnabled");
      expect((await w.pipes.serviceUsability(1))[0]).to.equal(true);
    });

    it("disables a registration before it is enabled (a rejection)", async function () {
      const w = await loadFixture(world);
      await w.register();
      await expect(govern(w, w.services, "disableService", [w.svc])).to.emit(w.services, "ServiceDisabled");
      expect((await w.services.service(w.svc)).status).to.equal(Svc.Disabled);
    });

    it("refuses enabling an enabled service, disabling a disabled one, or an unknown one", async function () {
      const w = await loadFixture(enabled);
      await expect(govern(w, w.services, "enableService", [w.svc]))
        .to.be.revertedWithCustomError(w.services, "ServiceInvalidStatus")
        .withArgs(w.svc, Svc.Enabled);
      await govern(w, w.services, "disableService", [w.svc]);
      await expect(govern(w, w.services, "disableService", [w.svc]))
        .to.be.revertedWithCustomError(w.services, "ServiceInvalidStatus")
        .withArgs(w.svc, Svc.Disabled);
      await expect(govern(w, w.services, "enableService", [id("none")]))
        .to.be.revertedWithCustomError(w.services, "ServiceNotFound")
        .withArgs(id("none"));
    });

    it("refuses the governed functions called directly", async function () {
      const w = await loadFixture(enabled);
      const s = w.services.connect(w.governors[0]);
      for (const call of [
        () => s.enableService(w.svc),
        () => s.disableService(w.svc),
        () => s.enableNode(w.svc, 0),
        () => s.disableNode(w.svc),
      ]) {
        await expect(call())
          .to.be.revertedWithCustomError(w.services, "GovernanceOnly")
          .withArgs(await w.governors[0].getAddress());
      }
    });
  });

  describe("updateServiceEndpoint and rotateServiceSigner", function () {
    it("updates the endpoint, by an operator of the institution only", async function () {
      const w = await loadFixture(enabled);
      const ep = endpoint("new.example.org", 443, id("cert-2"));
      await expect(w.services.connect(w.opA).updateServiceEndpoint(w.svc, ep))
        .to.emit(w.services, "ServiceEndpointUpdated")
        .withArgs(w.svc, w.opA.address, ep.host, ep.port, ep.tlsFingerprint);
      const s = await w.services.service(w.svc);
      expect([s.host, s.port, s.tlsFingerprint, s.status]).to.deep.equal([
        ep.host,
        443n,
        ep.tlsFingerprint,
        Svc.Enabled,
      ]);
      await expect(w.services.connect(w.opB).updateServiceEndpoint(w.svc, ep))
        .to.be.revertedWithCustomError(w.services, "ServiceUnauthorizedOperator")
        .withArgs(w.opB.address, w.a);
      await expect(w.services.connect(w.opA).updateServiceEndpoint(id("none"), ep))
        .to.be.revertedWithCustomError(w.services, "ServiceNotFound")
        .withArgs(id("none"));
      await expect(w.services.connect(w.opA).updateServiceEndpoint(w.svc, endpoint("")))
        .to.be.revertedWithCustomError(w.services, "ServiceInvalidEndpoint")
        .withArgs("", 8443);
    });

    it("rotates the signer: the old one stops signing for the service and can never sign for one again", async function () {
      const w = await loadFixture(enabled);
      await expect(w.services.connect(w.opA).rotateServiceSigner(w.svc, w.signerA2.address))
        .to.emit(w.services, "ServiceSignerRotated")
        .withArgs(w.svc, w.opA.address, w.signerA2.address, w.signerA.address)
        .and.to.emit(w.pipes, "ServiceUsabilitySynced")
        .withArgs(w.svc, 1, w.signerA2.address, true, true);
      expect(await w.services.serviceOfSigner(w.signerA.address)).to.equal(ethers.ZeroHash);
      expect(await w.services.serviceOfSigner(w.signerA2.address)).to.equal(w.svc);
      await expect(w.services.connect(w.signerA).heartbeat(w.svc))
        .to.be.revertedWithCustomError(w.services, "ServiceUnauthorizedSigner")
        .withArgs(w.svc, w.signerA.address);
      await expect(w.services.connect(w.opA).rotateServiceSigner(w.svc, w.signerA.address))
        .to.be.revertedWithCustomError(w.services, "ServiceSignerTaken")
        .withArgs(w.signerA.address, w.svc);
      await expect(w.services.connect(w.opB).rotateServiceSigner(w.svc, w.signerB.address))
        .to.be.revertedWithCustomError(w.services, "ServiceUnauthorizedOperator")
        .withArgs(w.opB.address, w.a);
      await expect(w.services.connect(w.opA).rotateServiceSigner(id("none"), w.signerB.address))
        .to.be.revertedWithCustomError(w.services, "ServiceNotFound")
        .withArgs(id("none"));
    });

    it("follows the signer's account in Membership: suspended or revoked, the service's signer is inactive at once", async function () {
      const w = await loadFixture(enabled);
      await expect(govern(w, w.membership, "suspendAccount", [w.signerA.address]))
        .to.emit(w.pipes, "ServiceUsabilitySynced")
        .withArgs(w.svc, 1, w.signerA.address, true, false);
      await govern(w, w.membership, "reinstateAccount", [w.signerA.address]);
      expect(await w.pipes.serviceUsability(1)).to.deep.equal([true, true, w.signerA.address]);
      await w.membership.connect(w.signerA).revokeOwnAccount(w.signerA.address);
      expect(await w.pipes.serviceUsability(1)).to.deep.equal([true, false, w.signerA.address]);
    });
  });

  describe("heartbeat", function () {
    it("records when the service was last seen, by its signer only", async function () {
      const w = await loadFixture(enabled);
      expect(await w.services.lastSeen(w.svc)).to.equal(0);
      const tx = await w.services.connect(w.signerA).heartbeat(w.svc);
      const at = await time.latest();
      await expect(tx).to.emit(w.services, "ServiceHeartbeat").withArgs(w.svc, w.signerA.address, at);
      expect(await w.services.lastSeen(w.svc)).to.equal(at);
      await time.increase(60);
      await w.services.connect(w.signerA).heartbeat(w.svc);
      expect(await w.services.lastSeen(w.svc)).to.equal(at + 61);
      await expect(w.services.connect(w.opA).heartbeat(w.svc))
        .to.be.revertedWithCustomError(w.services, "ServiceUnauthorizedSigner")
        .withArgs(w.svc, w.opA.address);
      await expect(w.services.connect(w.signerA).heartbeat(id("none")))
        .to.be.revertedWithCustomError(w.services, "ServiceNotFound")
        .withArgs(id("none"));
    });

    it("refuses a heartbeat signed by a revoked account", async function () {
      const w = await loadFixture(enabled);
      await w.membership.connect(w.adminA).revokeOwnAccount(w.signerA.address);
      await expect(w.services.connect(w.signerA).heartbeat(w.svc))
        .to.be.revertedWithCustomError(w.membership, "AccountNotActive")
        .withArgs(w.signerA.address, AStatus.Revoked);
    });
  });

  describe("governance nodes", function () {
    const key = (n: number) => nodeKey(n).publicKey;

    it("registers a business institution's governance node and enables it by vote", async function () {
      const w = await loadFixture(world);
      const pub = key(1);
      const nodeId = nodeKey(1).nodeId;
      const next = (await w.voting.proposalCount()) + 1n;
      await expect(
        w.services
          .connect(w.opA)
          .registerNode(
            NodeKind.Governance,
            pub,
            "node-a.example.org",
            30303,
            ...(await nodeConsent(w, w.opA, NodeKind.Governance, pub, "node-a.example.org", 30303)),
          ),
      )
        .to.emit(w.services, "NodeRegistered")
        .withArgs(nodeId, w.a, w.opA.address, NodeKind.Governance, pub, "node-a.example.org", 30303, next);
      const n = await w.services.node(nodeId);
      expect([n.status, n.kind, n.institution, n.host, n.port, n.publicKey]).to.deep.equal([
        Svc.Registered,
        NodeKind.Governance,
        w.a,
        "node-a.example.org",
        30303n,
        pub,
      ]);
      expect(await w.services.isNodeEnabled(nodeId)).to.equal(false);
      await pass(w, next);
      expect(await w.services.isNodeEnabled(nodeId)).to.equal(true);
      const v = await w.voting.getAddress();
      await expect(govern(w, w.services, "disableNode", [nodeId]))
        .to.emit(w.services, "NodeDisabled")
        .withArgs(nodeId, v);
      expect(await w.services.isNodeEnabled(nodeId)).to.equal(false);
      await expect(govern(w, w.services, "disableNode", [nodeId]))
        .to.be.revertedWithCustomError(w.services, "NodeInvalidStatus")
        .withArgs(nodeId, Svc.Disabled);
      await expect(govern(w, w.services, "enableNode", [nodeId, 0]))
        .to.emit(w.services, "NodeEnabled")
        .withArgs(nodeId, v);
      await expect(govern(w, w.services, "enableNode", [nodeId, 0]))
        .to.be.revertedWithCustomError(w.services, "NodeInvalidStatus")
        .withArgs(nodeId, Svc.Enabled);
      await expect(govern(w, w.services, "enableNode", [id("none"), 0]))
        .to.be.revertedWithCustomError(w.services, "NodeNotFound")
        .withArgs(id("none"));
    });

    it("matches the node kind to the institution: genesis, governance (business) or audit (by its auditor)", async function () {
      const w = await loadFixture(world);
      const genesisOp = w.stranger;
      await addAccount(w, w.admins[0], genesisOp, 1n, Role.Operator);
      await expect(
        w.services
          .connect(genesisOp)
          .registerNode(
            NodeKind.Genesis,
            key(2),
            "v1",
            30303,
            ...(await nodeConsent(w, genesisOp, NodeKind.Genesis, key(2), "v1", 30303)),
          ),
      ).to.emit(w.services, "NodeRegistered");
      await expect(
        w.services
          .connect(w.auditor)
          .registerNode(
            NodeKind.Audit,
            key(3),
            "audit",
            30303,
            ...(await nodeConsent(w, w.auditor, NodeKind.Audit, key(3), "audit", 30303)),
          ),
      ).to.emit(w.services, "NodeRegistered");
      await expect(
        w.services
          .connect(w.opA)
          .registerNode(
            NodeKind.Genesis,
            key(4),
            "x",
            1,
            ...(await nodeConsent(w, w.opA, NodeKind.Genesis, key(4), "x", 1)),
          ),
      )
        .to.be.revertedWithCustomError(w.services, "NodeKindMismatch")
        .withArgs(NodeKind.Genesis, Kind.Business);
      await expect(
        w.services
          .connect(w.auditor)
          .registerNode(
            NodeKind.Governance,
            key(4),
            "x",
            1,
            ...(await nodeConsent(w, w.auditor, NodeKind.Governance, key(4), "x", 1)),
          ),
      )
        .to.be.revertedWithCustomError(w.services, "NodeKindMismatch")
        .withArgs(NodeKind.Governance, Kind.Audit);
      await expect(
        w.services
          .connect(genesisOp)
          .registerNode(
            NodeKind.None,
            key(4),
            "x",
            1,
            ...(await nodeConsent(w, genesisOp, NodeKind.None, key(4), "x", 1)),
          ),
      )
        .to.be.revertedWithCustomError(w.services, "NodeKindMismatch")
        .withArgs(NodeKind.None, Kind.Genesis);
    });

    it("refuses other registrars, a bad public key, a bad endpoint and a node registered twice", async function () {
      const w = await loadFixture(world);
      await expect(
        w.services
          .connect(w.signerA)
          .registerNode(
            NodeKind.Governance,
            key(5),
            "x",
            1,
            ...(await nodeConsent(w, w.signerA, NodeKind.Governance, key(5), "x", 1)),
          ),
      )
        .to.be.revertedWithCustomError(w.services, "NodeUnauthorizedRegistrar")
        .withArgs(w.signerA.address, Role.Business);
      await expect(
        w.services
          .connect(w.stranger)
          .registerNode(
            NodeKind.Governance,
            key(5),
            "x",
            1,
            ...(await nodeConsent(w, w.stranger, NodeKind.Governance, key(5), "x", 1)),
          ),
      )
        .to.be.revertedWithCustomError(w.services, "NodeUnauthorizedRegistrar")
        .withArgs(w.stranger.address, Role.None);
      await expect(
        w.services
          .connect(w.opA)
          .registerNode(
            NodeKind.Governance,
            "0x04" + key(5).slice(2),
            "x",
            1,
            ...(await nodeConsent(w, w.opA, NodeKind.Governance, "0x04" + key(5).slice(2), "x", 1)),
          ),
      )
        .to.be.revertedWithCustomError(w.services, "NodeInvalidPublicKey")
        .withArgs(65);
      await expect(
        w.services
          .connect(w.opA)
          .registerNode(
            NodeKind.Governance,
            key(5),
            "",
            1,
            ...(await nodeConsent(w, w.opA, NodeKind.Governance, key(5), "", 1)),
          ),
      )
        .to.be.revertedWithCustomError(w.services, "NodeInvalidEndpoint")
        .withArgs("", 1);
      await expect(
        w.services
          .connect(w.opA)
          .registerNode(
            NodeKind.Governance,
            key(5),
            "x",
            0,
            ...(await nodeConsent(w, w.opA, NodeKind.Governance, key(5), "x", 0)),
          ),
      )
        .to.be.revertedWithCustomError(w.services, "NodeInvalidEndpoint")
        .withArgs("x", 0);
      await w.services
        .connect(w.opA)
        .registerNode(
          NodeKind.Governance,
          key(5),
          "x",
          1,
          ...(await nodeConsent(w, w.opA, NodeKind.Governance, key(5), "x", 1)),
        );
      await expect(
        w.services
          .connect(w.opA)
          .registerNode(
            NodeKind.Governance,
            key(5),
            "y",
            2,
            ...(await nodeConsent(w, w.opA, NodeKind.Governance, key(5), "y", 2)),
          ),
      )
        .to.be.revertedWithCustomError(w.services, "NodeAlreadyRegistered")
        .withArgs(ethers.keccak256(key(5)));
    });

    it("refuses an operator of a suspended institution", async function () {
      const w = await loadFixture(world);
      await govern(w, w.membership, "suspendInstitution", [w.a]);
      await expect(
        w.services
          .connect(w.opA)
          .registerNode(
            NodeKind.Governance,
            key(6),
            "x",
            1,
            ...(await nodeConsent(w, w.opA, NodeKind.Governance, key(6), "x", 1)),
          ),
      )
        .to.be.revertedWithCustomError(w.membership, "InstitutionNotActive")
        .withArgs(w.a, IStatus.Suspended);
    });
  });

  describe("attester endpoints", function () {
    it("publishes, replaces and withdraws the caller's own endpoint, with its institution in the event", async function () {
      const w = await loadFixture(world);
      expect(await w.services.attesterEndpoint(w.auditor.address)).to.equal("");
      await expect(w.services.connect(w.auditor).setAttesterEndpoint("http://127.0.0.1:8490"))
        .to.emit(w.services, "AttesterEndpointSet")
        .withArgs(w.auditor.address, w.audit, "http://127.0.0.1:8490");
      await w.services.connect(w.auditor).setAttesterEndpoint("https://attest.audit.example");
      expect(await w.services.attesterEndpoint(w.auditor.address)).to.equal("https://attest.audit.example");
      // One key's entry is its own: another account's call writes only that account's entry.
      await w.services.connect(w.signerB).setAttesterEndpoint("http://10.0.0.2:1");
      expect(await w.services.attesterEndpoint(w.auditor.address)).to.equal("https://attest.audit.example");
      await expect(w.services.connect(w.auditor).setAttesterEndpoint(""))
        .to.emit(w.services, "AttesterEndpointSet")
        .withArgs(w.auditor.address, w.audit, "");
      expect(await w.services.attesterEndpoint(w.auditor.address)).to.equal("");
    });

    it("refuses a caller that is not an active account now, and a URL that is not http(s) or too long, changing nothing", async function () {
      const w = await loadFixture(world);
      await expect(w.services.connect(w.stranger).setAttesterEndpoint("http://x:1"))
        .to.be.revertedWithCustomError(w.services, "AttesterEndpointUnauthorized")
        .withArgs(w.stranger.address);
      await w.services.connect(w.auditor).setAttesterEndpoint("http://a:1");
      for (const url of [
        "ftp://a:1",
        "http://",
        "https://",
        "HTTP://a:1",
        "127.0.0.1:8490",
        `http://${"a".repeat(250)}`,
      ])
        await expect(w.services.connect(w.auditor).setAttesterEndpoint(url))
          .to.be.revertedWithCustomError(w.services, "AttesterEndpointInvalid")
          .withArgs(url);
      expect(await w.services.attesterEndpoint(w.auditor.address)).to.equal("http://a:1");
      // A revoked key can no longer point relayers anywhere.
      await w.membership.connect(w.auditAdmin).revokeOwnAccount(w.auditor.address);
      await expect(w.services.connect(w.auditor).setAttesterEndpoint("http://b:1"))
        .to.be.revertedWithCustomError(w.services, "AttesterEndpointUnauthorized")
        .withArgs(w.auditor.address);
    });
  });
});
