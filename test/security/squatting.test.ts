import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ethers } from "hardhat";
import { Wallet } from "ethers";
import {
  AStatus,
  PState,
  Role,
  accountConsent,
  addAccount,
  govern,
  pastDeadline,
  proposalIdOf,
} from "../helpers/governance";
import {
  CONTRACT,
  CONTRACT_HASH,
  ChainKind,
  KeyStatus,
  Svc,
  NodeKind,
  appKeyConsent,
  applyPipe,
  endpoint,
  id,
  newAppKey,
  scopedId,
  nodeConsent,
  nodeKey,
  pipeWorld,
  specOf,
} from "../helpers/registries";

type World = Awaited<ReturnType<typeof pipeWorld>>;

/** `side`'s admin asks for `key`'s address as a business account, with the key's own consent to that side. */
async function requestWithConsent(
  w: World,
  side: World["a"],
  key: Parameters<typeof accountConsent>[1] & { address: string },
) {
  const consent = await accountConsent(w, key, side.institution, Role.Business);
  return w.membership.connect(side.admin).requestAccount(key.address, side.institution, Role.Business, ...consent);
}

/**
 * Squatting: one institution takes what belongs to another (a contract name, an address, a node id, an app key) so that the
 * owner can no longer register it. Every attack here is performed by a fully legitimate member of the consortium.
 */
describe("Security: squatting", function () {
  describe("contract names (namespaced per sub-chain)", function () {
    it("front-running B's name on A's own sub-chain does not stop B registering it on B's sub-chain", async function () {
      const w = await loadFixture(pipeWorld);
      const name = "Settlement";
      const squat = Wallet.createRandom().address;
      await w.chains.connect(w.a.operator).registerContract(name, w.a.subchain, squat);
      const own = Wallet.createRandom().address;
      await w.chains.connect(w.b.operator).registerContract(name, w.b.subchain, own);
      expect(await w.chains.resolve(w.b.subchain, id(name))).to.deep.equal([own, 1n]);
      expect(await w.chains.resolve(w.a.subchain, id(name))).to.deep.equal([squat, 1n]);
    });

    it("registering into another institution's sub-chain namespace is refused", async function () {
      const w = await loadFixture(pipeWorld);
      const before = await w.chains.resolve(w.b.subchain, CONTRACT_HASH);
      await expect(
        w.chains.connect(w.a.operator).registerContract(CONTRACT, w.b.subchain, Wallet.createRandom().address),
      )
        .to.be.revertedWithCustomError(w.chains, "ChainRegistryUnauthorizedOperator")
        .withArgs(w.a.operator.address, w.b.institution);
      expect(await w.chains.resolve(w.b.subchain, CONTRACT_HASH)).to.deep.equal(before);
    });

    it("a pipe to B cannot name a contract A registered under B's name elsewhere", async function () {
      const w = await loadFixture(pipeWorld);
      await w.chains.connect(w.a.operator).registerContract("OnlyAtA", w.a.subchain, Wallet.createRandom().address);
      await expect(w.pipes.connect(w.a.operator).applyPipe(specOf(w.a, w.b, { contractName: id("OnlyAtA") })))
        .to.be.revertedWithCustomError(w.pipes, "PipeContractMismatch")
        .withArgs(id("OnlyAtA"), w.b.subchain, w.b.institution);
      // The same name, once B registers it on its own sub-chain, makes a valid pipe target.
      await w.chains.connect(w.b.operator).registerContract("OnlyAtA", w.b.subchain, Wallet.createRandom().address);
      await applyPipe(w, w.a.operator, specOf(w.a, w.b, { contractName: id("OnlyAtA") }));
    });
  });

  describe("sub-chain, app and service ids (namespaced by the registering institution)", function () {
    it("A front-running B's service registration with B's ids is refused; B's own registration then goes through", async function () {
      const w = await loadFixture(pipeWorld);
      const [bService, bChain] = [scopedId(w.b.institution, "B/service2"), scopedId(w.b.institution, "B/chain2")];
      await addAccount(w, w.a.admin, w.spare1, w.a.institution, Role.Business);
      const aService = scopedId(w.a.institution, "A/service2");
      const services = w.services.connect(w.a.operator);
      await expect(services.registerService(bService, scopedId(w.a.institution, "A/chain2"), w.spare1, endpoint()))
        .to.be.revertedWithCustomError(w.services, "ServiceIdNotOwned")
        .withArgs(bService, w.a.institution);
      // A's own service id, fronting a sub-chain id of B's: the sub-chain id would be claimed, so it is refused too.
      await expect(services.registerService(aService, bChain, w.spare1, endpoint()))
        .to.be.revertedWithCustomError(w.services, "ServiceSubchainNotOwned")
        .withArgs(bChain, w.a.institution);
      for (const sid of [bService, aService]) expect((await w.services.service(sid)).status).to.equal(Svc.None);
      await addAccount(w, w.b.admin, w.spare2, w.b.institution, Role.Business);
      await expect(w.services.connect(w.b.operator).registerService(bService, bChain, w.spare2, endpoint())).to.emit(
        w.services,
        "ServiceRegistered",
      );
    });

    it("A registering a sub-chain, or an app, under an id of B's namespace is refused and leaves it free", async function () {
      const w = await loadFixture(pipeWorld);
      const bChain = scopedId(w.b.institution, "B/chain2");
      await expect(
        w.chains
          .connect(w.a.operator)
          .registerSubchain(bChain, ChainKind.Evm, 4242, w.a.service, Wallet.createRandom().address, ""),
      )
        .to.be.revertedWithCustomError(w.chains, "SubchainIdNotOwned")
        .withArgs(bChain, w.a.institution);
      expect((await w.chains.subchain(bChain)).institution).to.equal(0n);
      const bApp = scopedId(w.b.institution, "B/app2");
      const key = Wallet.createRandom();
      const consent = await appKeyConsent(w, w.a.operator, bApp, key); // the key does consent to A
      await expect(w.chains.connect(w.a.operator).registerApp(bApp, w.a.subchain, key.address, "", ...consent))
        .to.be.revertedWithCustomError(w.chains, "AppIdNotOwned")
        .withArgs(bApp, w.a.institution);
      expect((await w.chains.app(bApp)).index).to.equal(0n);
      expect((await w.chains.keyRecord(key.address)).status).to.equal(KeyStatus.None);
      const bKey = Wallet.createRandom();
      await expect(
        w.chains
          .connect(w.b.operator)
          .registerApp(bApp, w.b.subchain, bKey.address, "", ...(await appKeyConsent(w, w.b.operator, bApp, bKey))),
      ).to.emit(w.chains, "AppRegistered");
    });

    it("ids of no institution (number 0) and of an institution that never joined are nobody's to take", async function () {
      const w = await loadFixture(pipeWorld);
      const nobody = `0x00000000${id("orphan").slice(10)}`;
      const future = scopedId((await w.membership.institutionCount()) + 1n, "future/service");
      for (const sid of [nobody, future]) {
        await expect(w.services.connect(w.a.operator).registerService(sid, w.a.subchain, w.a.signer, endpoint()))
          .to.be.revertedWithCustomError(w.services, "ServiceIdNotOwned")
          .withArgs(sid, w.a.institution);
      }
    });
  });

  describe("accounts (an address joins only with its own key's consent)", function () {
    it("A's admin enrols an address it does not hold (B's HSM): no consent, or its own signature, is refused", async function () {
      const w = await loadFixture(pipeWorld);
      const hsm = Wallet.createRandom();
      const [deadline] = await accountConsent(w, hsm, w.a.institution, Role.Business);
      const forged = await accountConsent(w, w.a.admin, w.a.institution, Role.Business); // signed by A's admin
      for (const signature of ["0x", forged[1]]) {
        await expect(
          w.membership
            .connect(w.a.admin)
            .requestAccount(hsm.address, w.a.institution, Role.Business, deadline, signature),
        )
          .to.be.revertedWithCustomError(w.membership, "AccountConsentInvalid")
          .withArgs(hsm.address);
      }
      expect((await w.membership.account(hsm.address)).status).to.equal(AStatus.None);
    });

    it("a consent the key gave to B cannot be used by A, nor for another role", async function () {
      const w = await loadFixture(pipeWorld);
      const hsm = Wallet.createRandom();
      const consent = await accountConsent(w, hsm, w.b.institution, Role.Business);
      await expect(
        w.membership.connect(w.a.admin).requestAccount(hsm.address, w.a.institution, Role.Business, ...consent),
      )
        .to.be.revertedWithCustomError(w.membership, "AccountConsentInvalid")
        .withArgs(hsm.address);
      await expect(
        w.membership.connect(w.b.admin).requestAccount(hsm.address, w.b.institution, Role.Operator, ...consent),
      )
        .to.be.revertedWithCustomError(w.membership, "AccountConsentInvalid")
        .withArgs(hsm.address);
      await expect(
        w.membership.connect(w.b.admin).requestAccount(hsm.address, w.b.institution, Role.Business, ...consent),
      ).to.emit(w.membership, "AccountRequested");
    });

    it("a rejected request leaves the address free, and its vote can never activate the next request", async function () {
      const w = await loadFixture(pipeWorld);
      const key = Wallet.createRandom();
      const first = await proposalIdOf(w.voting, requestWithConsent(w, w.a, key));
      await w.voting.connect(w.governors[0]).vote(first, false);
      expect(await w.voting.state(first)).to.equal(PState.Rejected);
      // The key now consents to B; B's request takes the address.
      const second = await proposalIdOf(w.voting, requestWithConsent(w, w.b, key));
      expect((await w.membership.account(key.address)).institution).to.equal(w.b.institution);
      // A vote for the first request's action (nonce 0) cannot activate B's request (nonce 1).
      await expect(govern(w, w.membership, "activateAccount", [key.address, 0]))
        .to.be.revertedWithCustomError(w.membership, "AccountRequestSuperseded")
        .withArgs(key.address, 0);
      for (const g of w.governors) await w.voting.connect(g).vote(second, true);
      await w.voting.execute(second);
      expect(await w.membership.requireActiveAccount(key.address, Role.Business)).to.equal(w.b.institution);
    });

    it("an expired request leaves the address free; a pending one still holds it", async function () {
      const w = await loadFixture(pipeWorld);
      const key = Wallet.createRandom();
      const pid = await proposalIdOf(w.voting, requestWithConsent(w, w.a, key));
      await expect(requestWithConsent(w, w.b, key))
        .to.be.revertedWithCustomError(w.membership, "AccountAlreadyExists")
        .withArgs(key.address);
      await pastDeadline(w.voting, pid);
      expect(await w.voting.state(pid)).to.equal(PState.Expired);
      await expect(requestWithConsent(w, w.b, key)).to.emit(w.membership, "AccountRequested");
    });
  });

  describe("nodes (registering a node id needs the node key's signature)", function () {
    it("registering another institution's public node key is refused without the key's signature", async function () {
      const w = await loadFixture(pipeWorld);
      const node = nodeKey("B's validator");
      const args = [NodeKind.Governance, node.publicKey, "evil.example.org", 30303] as const;
      const [deadline, signedByOperator] = await nodeConsent(w, w.a.operator, ...args, { key: Wallet.createRandom() });
      for (const signature of ["0x", signedByOperator]) {
        await expect(w.services.connect(w.a.operator).registerNode(...args, deadline, signature))
          .to.be.revertedWithCustomError(w.services, "NodeConsentInvalid")
          .withArgs(node.nodeId);
      }
      // The node's consent to B, used by A: bound to B's institution.
      const toB = await nodeConsent(w, w.b.operator, ...args);
      await expect(w.services.connect(w.a.operator).registerNode(...args, ...toB))
        .to.be.revertedWithCustomError(w.services, "NodeConsentInvalid")
        .withArgs(node.nodeId);
      expect((await w.services.node(node.nodeId)).status).to.equal(0n);
      await expect(w.services.connect(w.b.operator).registerNode(...args, ...toB)).to.emit(
        w.services,
        "NodeRegistered",
      );
    });

    it("a rejected registration frees the id, and its vote can never enable the next registration", async function () {
      const w = await loadFixture(pipeWorld);
      const node = nodeKey("rejected");
      const argsA = [NodeKind.Governance, node.publicKey, "a.example.org", 30303] as const;
      const first = await proposalIdOf(
        w.voting,
        w.services.connect(w.a.operator).registerNode(...argsA, ...(await nodeConsent(w, w.a.operator, ...argsA))),
      );
      await w.voting.connect(w.governors[0]).vote(first, false);
      await w.voting.connect(w.governors[1]).vote(first, false);
      expect(await w.voting.state(first)).to.equal(PState.Rejected);
      const argsB = [NodeKind.Governance, node.publicKey, "b.example.org", 30304] as const;
      await w.services.connect(w.b.operator).registerNode(...argsB, ...(await nodeConsent(w, w.b.operator, ...argsB)));
      const n = await w.services.node(node.nodeId);
      expect([n.institution, n.host]).to.deep.equal([w.b.institution, "b.example.org"]);
      await expect(govern(w, w.services, "enableNode", [node.nodeId, 0]))
        .to.be.revertedWithCustomError(w.services, "NodeRegistrationSuperseded")
        .withArgs(node.nodeId, 0);
      expect(await w.services.isNodeEnabled(node.nodeId)).to.equal(false);
    });
  });

  describe("app keys (reserving a key needs the key's own signature)", function () {
    /** `signature` with one byte flipped at `at`. */
    const flip = (signature: string, at: number) => {
      const bytes = ethers.getBytes(signature);
      bytes[at] ^= 0x01;
      return ethers.hexlify(bytes);
    };

    it("A reserving B's app key (public: it signs every packet) for its own app is refused; B then reserves it", async function () {
      const w = await loadFixture(pipeWorld);
      const bKey = Wallet.createRandom(); // the key B's next app will use, already seen in B's packets
      const mine = scopedId(w.a.institution, "A/squat");
      const [deadline, byOperator] = await appKeyConsent(
        w,
        w.a.operator,
        mine,
        w.a.operator as unknown as Wallet & { address: string },
      );
      const toB = await appKeyConsent(w, w.b.operator, scopedId(w.b.institution, "B/next"), bKey); // the key's consent to B's app
      for (const [d, signature] of [[deadline, "0x"], [deadline, byOperator], toB] as const) {
        await expect(w.chains.connect(w.a.operator).registerApp(mine, w.a.subchain, bKey.address, "", d, signature))
          .to.be.revertedWithCustomError(w.chains, "AppKeyConsentInvalid")
          .withArgs(bKey.address);
      }
      expect((await w.chains.keyRecord(bKey.address)).status).to.equal(KeyStatus.None);
      await expect(
        w.chains
          .connect(w.b.operator)
          .registerApp(scopedId(w.b.institution, "B/next"), w.b.subchain, bKey.address, "", ...toB),
      ).to.emit(w.chains, "AppRegistered");
    });

    it("a rotation onto another institution's key is refused without that key's consent to this app", async function () {
      const w = await loadFixture(pipeWorld);
      const bKey = Wallet.createRandom();
      const [, deadline, toB] = await newAppKey(w, w.b.operator, w.b.app, bKey);
      await expect(w.chains.connect(w.a.operator).rotateAppKey(w.a.app, bKey.address, deadline, toB))
        .to.be.revertedWithCustomError(w.chains, "AppKeyConsentInvalid")
        .withArgs(bKey.address);
      expect((await w.chains.app(w.a.app)).key).to.equal(w.a.appKey.address);
    });

    it("every byte of the consent matters; a consent for another chain, contract, app, institution or deadline is refused", async function () {
      const w = await loadFixture(pipeWorld);
      const key = Wallet.createRandom();
      const app = scopedId(w.a.institution, "A/app2");
      const register = (deadline: bigint, signature: string) =>
        w.chains.connect(w.a.operator).registerApp(app, w.a.subchain, key.address, "", deadline, signature);
      const [deadline, signature] = await appKeyConsent(w, w.a.operator, app, key);
      for (const at of [0, 31, 32, 63]) {
        await expect(register(deadline, flip(signature, at)))
          .to.be.revertedWithCustomError(w.chains, "AppKeyConsentInvalid")
          .withArgs(key.address);
      }
      // v flipped, 64 bytes, a high-s twin: malformed for OpenZeppelin's ECDSA.
      const sig = ethers.Signature.from(signature);
      const highS = ethers.concat([
        sig.r,
        ethers.toBeHex(ethers.N - BigInt(sig.s), 32),
        sig.v === 27 ? "0x1c" : "0x1b",
      ]);
      for (const bad of [flip(signature, 64), sig.compactSerialized, highS]) {
        await expect(register(deadline, bad))
          .to.be.revertedWithCustomError(w.chains, "AppKeyConsentInvalid")
          .withArgs(key.address);
      }
      const { chainId } = await ethers.provider.getNetwork();
      const elsewhere = [
        { chainId: chainId + 1n }, // the same registry address on another chain
        { verifyingContract: await w.membership.getAddress() }, // another contract of this chain
        { appId: scopedId(w.a.institution, "A/other") },
        { institution: w.b.institution },
      ];
      for (const over of elsewhere) {
        const [d, s2] = await appKeyConsent(w, w.a.operator, app, key, over);
        await expect(register(d, s2))
          .to.be.revertedWithCustomError(w.chains, "AppKeyConsentInvalid")
          .withArgs(key.address);
      }
      // The signed deadline is part of the consent: another deadline with the same signature is refused.
      await expect(register(deadline + 1n, signature))
        .to.be.revertedWithCustomError(w.chains, "AppKeyConsentInvalid")
        .withArgs(key.address);
      const [past, expired] = await appKeyConsent(w, w.a.operator, app, key, {
        deadline: BigInt(await time.latest()) - 1n,
      });
      await expect(register(past, expired))
        .to.be.revertedWithCustomError(w.chains, "AppKeyConsentExpired")
        .withArgs(key.address, past);
      await expect(register(deadline, signature)).to.emit(w.chains, "AppRegistered");
    });

    it("a used consent cannot be replayed: the key stays reserved for the app it consented to", async function () {
      const w = await loadFixture(pipeWorld);
      const key = Wallet.createRandom();
      const consent = await appKeyConsent(w, w.a.operator, scopedId(w.a.institution, "A/app2"), key);
      await w.chains
        .connect(w.a.operator)
        .registerApp(scopedId(w.a.institution, "A/app2"), w.a.subchain, key.address, "", ...consent);
      await w.chains.connect(w.a.operator).revokeAppKey(scopedId(w.a.institution, "A/app2"));
      await expect(
        w.chains.connect(w.a.operator).rotateAppKey(scopedId(w.a.institution, "A/app2"), key.address, ...consent),
      )
        .to.be.revertedWithCustomError(w.chains, "AppKeyTaken")
        .withArgs(key.address, scopedId(w.a.institution, "A/app2"));
    });
  });

  describe("service signers", function () {
    it("A cannot make B's business account (or a non-member's key) its proxy's signer", async function () {
      const w = await loadFixture(pipeWorld);
      await expect(
        w.services
          .connect(w.a.operator)
          .registerService(scopedId(w.a.institution, "A/evil"), w.a.subchain, w.b.signer.address, endpoint()),
      )
        .to.be.revertedWithCustomError(w.services, "ServiceSignerTaken")
        .withArgs(w.b.signer.address, w.b.service);
      const outsider = Wallet.createRandom().address;
      await expect(
        w.services
          .connect(w.a.operator)
          .registerService(scopedId(w.a.institution, "A/evil"), w.a.subchain, outsider, endpoint()),
      )
        .to.be.revertedWithCustomError(w.membership, "AccountNotActive")
        .withArgs(outsider, AStatus.None);
    });
  });
});
