import { expect } from "chai";
import { OPERATION_TWO_PHASE_WRITE } from "../../lib/domain/enums.generated";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Signature, TypedDataEncoder, type Wallet } from "ethers";
import {
  FAR_DEADLINE,
  MAX_PAYLOAD,
  NAMES,
  PIPE,
  OPERATION_WRITE,
  batchId,
  continueCustodyData,
  dataHash,
  deadlineIn,
} from "./fixtures";
import {
  ATTESTATION_TYPES,
  SET_CHANGE_TYPES,
  TEST_SUBCHAIN,
  attest,
  attestationOf,
  attesterKeys,
  deployGateway,
  domainOf,
  signSetChange,
  txIdOf,
  type Domain,
  type Packet,
} from "../helpers/attest";

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * The gateway runs an inbound packet only with `k` attestations of distinct current attesters over exactly what the
 * ledger opened, and takes a new attester set only from `k` of the current one with a higher epoch. Every check is
 * attacked: a missing, short, forged, flipped, replayed, duplicated, high-s or stale signature.
 */
describe("SubchainGateway: attestations", function () {
  /** A gateway whose attester set is `keys`, `threshold` of them. */
  async function deployWith(keys: Wallet[], threshold: number) {
    const [admin, relayer, stranger, custodian] = await ethers.getSigners();
    const gateway = await deployGateway(admin.address, MAX_PAYLOAD, { attesters: keys, threshold });
    await gateway.grantRole(await gateway.RELAYER_ROLE(), relayer.address);
    const drug = await ethers.deployContract("DrugTraceability", [gateway, admin.address]);
    await gateway.registerContract(NAMES.drug, drug);
    await drug.grantRole(await drug.CUSTODIAN_ROLE(), custodian.address);
    const domain: Domain = {
      chainId: (await ethers.provider.getNetwork()).chainId,
      gateway: await gateway.getAddress(),
    };
    const data = continueCustodyData(drug, batchId(1), custodian.address, dataHash("x"));
    const packet: Packet = {
      txId: txIdOf(PIPE, 1),
      pipeId: PIPE,
      sequence: 1,
      deadline: FAR_DEADLINE,
      contractName: NAMES.drug,
      operation: OPERATION_WRITE,
    };
    const run = (sigs: string, p: Packet = packet, d: string = data) => gateway.connect(relayer).execute(p, d, sigs);
    const digest = (p: Packet = packet, d: string = data, dom: Domain = domain, subchain = TEST_SUBCHAIN) =>
      TypedDataEncoder.hash(domainOf(dom), ATTESTATION_TYPES, attestationOf(p, d, dom.gateway, subchain));
    return { gateway, drug, admin, relayer, stranger, custodian, keys, domain, data, packet, run, digest };
  }
  const fixture = () => deployWith(attesterKeys(3), 2);
  /** One attester, one signature (k = 1): checked against its signer's seat, not the set's code. */
  const singleFixture = () => deployWith(attesterKeys(1), 1);

  /** Who a signature recovers to over `digest`, or null when it recovers to nobody. */
  const recovered = (digest: string, sig: string): string | null => {
    try {
      return ethers.recoverAddress(digest, sig);
    } catch {
      return null;
    }
  };

  describe("inbound packets", function () {
    it("runs a packet with k attestations of distinct current attesters, in any order", async function () {
      const f = await loadFixture(fixture);
      const sigs = await attest([f.keys[2], f.keys[0]], f.domain, f.packet, f.data);
      await expect(f.run(sigs)).to.emit(f.gateway, "InboundExecuted");
      expect((await f.gateway.inboundRecord(PIPE, 1)).success).to.equal(true);
    });

    it("computes the digest an off-chain EIP-712 signer computes", async function () {
      const f = await loadFixture(fixture);
      const p = f.packet;
      expect(
        await f.gateway.attestationDigest(
          p.txId,
          p.pipeId,
          p.sequence,
          p.contractName,
          p.operation,
          f.data,
          p.deadline,
        ),
      ).to.equal(f.digest());
      expect(await f.gateway.attestationDomainSeparator()).to.equal(TypedDataEncoder.hashDomain(domainOf(f.domain)));
      expect(await f.gateway.subchainId()).to.equal(TEST_SUBCHAIN);
    });

    it("the relayer key alone, without attestations, executes nothing", async function () {
      const f = await loadFixture(fixture);
      await expect(f.run("0x"))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationsInsufficient")
        .withArgs(0, 2);
      expect((await f.gateway.inboundRecord(PIPE, 1)).target).to.equal(ethers.ZeroAddress);
    });

    it("refuses one attestation short of k", async function () {
      const f = await loadFixture(fixture);
      await expect(f.run(await attest([f.keys[1]], f.domain, f.packet, f.data)))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationsInsufficient")
        .withArgs(1, 2);
    });

    it("still requires the relayer role: k attestations in a stranger's hands run nothing", async function () {
      const f = await loadFixture(fixture);
      const sigs = await attest(f.keys, f.domain, f.packet, f.data);
      await expect(f.gateway.connect(f.stranger).execute(f.packet, f.data, sigs))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayUnauthorizedRelayer")
        .withArgs(f.stranger.address);
    });

    it("refuses a forged attestation: a key that is no attester", async function () {
      const f = await loadFixture(fixture);
      const [forger] = attesterKeys(1);
      const sigs = await attest([f.keys[0], forger], f.domain, f.packet, f.data);
      await expect(f.run(sigs))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationSignerUnknown")
        .withArgs(1, forger.address);
    });

    it("refuses the same attester twice", async function () {
      const f = await loadFixture(fixture);
      const one = await attest([f.keys[1]], f.domain, f.packet, f.data);
      await expect(f.run(ethers.concat([one, one])))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttesterDuplicated")
        .withArgs(1, f.keys[1].address);
    });

    it("refuses a high-s signature (the malleable twin of a valid one)", async function () {
      const f = await loadFixture(fixture);
      const good = Signature.from(
        await f.keys[0].signTypedData(
          domainOf(f.domain),
          ATTESTATION_TYPES,
          attestationOf(f.packet, f.data, f.domain.gateway),
        ),
      );
      const twin = ethers.concat([
        good.r,
        ethers.toBeHex(SECP256K1_N - BigInt(good.s), 32),
        good.v === 27 ? "0x1c" : "0x1b",
      ]);
      // (s' = n - s with the other parity recovers to the same key: plain ecrecover would take it.)
      const other = await attest([f.keys[1]], f.domain, f.packet, f.data);
      await expect(f.run(ethers.concat([other, twin])))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationMalformed")
        .withArgs(1);
    });

    it("refuses attestation bytes that are not whole signatures", async function () {
      const f = await loadFixture(fixture);
      const sigs = await attest(f.keys.slice(0, 2), f.domain, f.packet, f.data);
      await expect(f.run(ethers.dataSlice(sigs, 0, 129)))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationsMalformed")
        .withArgs(129);
    });

    it("refuses every signature with one byte flipped, wherever the byte is", async function () {
      const f = await loadFixture(fixture);
      const sigs = ethers.getBytes(await attest(f.keys.slice(0, 2), f.domain, f.packet, f.data));
      // r, s and v of the first signature, then of the second.
      for (const at of [0, 17, 31, 32, 50, 63, 64, 65, 100, 129]) {
        const flipped = Uint8Array.from(sigs);
        flipped[at] ^= 0x01;
        const index = at < 65 ? 0 : 1;
        const sig = ethers.hexlify(flipped.slice(index * 65, index * 65 + 65));
        const who = at % 65 === 64 ? null : recovered(f.digest(), sig); // a flipped v (27 -> 26/28...) is malformed or another key
        const high = BigInt(ethers.dataSlice(sig, 32, 64)) > SECP256K1_N / 2n;
        const refusal = f.run(ethers.hexlify(flipped));
        if (who === null || high)
          await expect(refusal)
            .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationMalformed")
            .withArgs(index);
        else
          await expect(refusal)
            .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationSignerUnknown")
            .withArgs(index, who);
      }
      await expect(f.run(ethers.hexlify(sigs))).to.emit(f.gateway, "InboundExecuted");
    });

    it("refuses an attestation of any other field value: each signed field is checked", async function () {
      const f = await loadFixture(fixture);
      const sigs = await attest(f.keys.slice(0, 2), f.domain, f.packet, f.data);
      const other = continueCustodyData(f.drug, batchId(2), f.custodian.address, dataHash("x"));
      const changes: [string, Packet, string][] = [
        ["txId", { ...f.packet, txId: ethers.id("another tx") }, f.data],
        ["pipeId", { ...f.packet, pipeId: ethers.id("another pipe") }, f.data],
        ["sequence", { ...f.packet, sequence: 2 }, f.data],
        ["deadline", { ...f.packet, deadline: FAR_DEADLINE - 1n }, f.data],
        ["contractName", { ...f.packet, contractName: NAMES.evidence }, f.data],
        ["operation", { ...f.packet, operation: 0 }, f.data],
        ["payload", f.packet, other],
        ["selector", f.packet, f.drug.interface.getFunction("batch")!.selector + other.slice(10)],
      ];
      if ((await f.gateway.businessContract(NAMES.evidence))[0] === ethers.ZeroAddress) {
        const evidence = await ethers.deployContract("EvidenceDeposit", [f.gateway, f.admin.address]);
        await f.gateway.registerContract(NAMES.evidence, evidence);
      }
      for (const [field, p, d] of changes) {
        const who = recovered(f.digest(p, d), ethers.dataSlice(sigs, 0, 65));
        await expect(f.run(sigs, p, d), field)
          .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationSignerUnknown")
          .withArgs(0, who);
      }
    });

    it("refuses an attestation for another chain, gateway or sub-chain", async function () {
      const f = await loadFixture(fixture);
      const [admin] = await ethers.getSigners();
      const twin = await deployGateway(admin.address, MAX_PAYLOAD, { attesters: f.keys, threshold: 2 });
      const domains: [string, Domain, string][] = [
        ["chain", { ...f.domain, chainId: f.domain.chainId + 1n }, TEST_SUBCHAIN],
        ["gateway", { ...f.domain, gateway: await twin.getAddress() }, TEST_SUBCHAIN],
        ["sub-chain", f.domain, ethers.id("another sub-chain")],
      ];
      for (const [what, dom, subchain] of domains) {
        const sigs = await attest(f.keys.slice(0, 2), dom, f.packet, f.data, subchain);
        const who = recovered(f.digest(), ethers.dataSlice(sigs, 0, 65));
        await expect(f.run(sigs), what)
          .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationSignerUnknown")
          .withArgs(0, who);
      }
    });

    it("checks attestations on dependent writes and two-phase prepares too", async function () {
      const f = await loadFixture(fixture);
      await expect(f.gateway.connect(f.relayer).executeDependentWrite(f.packet, f.data, ethers.ZeroHash, 0, "0x"))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationsInsufficient")
        .withArgs(0, 2);
      await expect(
        f.gateway
          .connect(f.relayer)
          .executeDependentWrite({ ...f.packet, operation: 0 }, f.data, ethers.ZeroHash, 0, "0x"),
      )
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayInvalidOperation")
        .withArgs(0);
      const mock = await ethers.deployContract("MockTwoPhaseBusiness", [f.gateway]);
      await f.gateway.registerContract(NAMES.mock, mock);
      const staged = { ...f.packet, txId: ethers.id("2pc"), contractName: NAMES.mock, deadline: await deadlineIn() };
      // A prepare is attested as the two-phase write the ledger opened.
      const asOpened = { ...staged, operation: OPERATION_TWO_PHASE_WRITE };
      await expect(
        f.gateway.connect(f.relayer).prepare(staged, "0x", await attest([f.keys[0]], f.domain, asOpened, "0x")),
      )
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationsInsufficient")
        .withArgs(1, 2);
      const forged = await attest(f.keys.slice(0, 2), f.domain, { ...asOpened, txId: ethers.id("other") }, "0x");
      await expect(f.gateway.connect(f.relayer).prepare(staged, "0x", forged)).to.be.revertedWithCustomError(
        f.gateway,
        "SubchainGatewayAttestationSignerUnknown",
      );
      await expect(
        f.gateway.connect(f.relayer).prepare(staged, "0x", await attest(f.keys.slice(1), f.domain, asOpened, "0x")),
      ).to.emit(f.gateway, "TwoPhasePrepared");
    });
  });

  describe("attester set changes", function () {
    async function changed(
      f: Awaited<ReturnType<typeof fixture>>,
      signers: Wallet[],
      epoch: number,
      set: string[],
      k: number,
    ) {
      return f.gateway
        .connect(f.stranger)
        .updateAttesters(epoch, set, k, await signSetChange(signers, f.domain, epoch, set, k));
    }

    it("takes a set signed by k current attesters with a higher epoch, from anyone", async function () {
      const f = await loadFixture(fixture);
      const next = attesterKeys(2);
      const set = [f.keys[1].address, next[0].address, next[1].address];
      expect(await f.gateway.attesterSetChangeDigest(3, set, 2)).to.equal(
        TypedDataEncoder.hash(domainOf(f.domain), SET_CHANGE_TYPES, { epoch: 3, threshold: 2, attesters: set }),
      );
      await expect(changed(f, [f.keys[0], f.keys[2]], 3, set, 2))
        .to.emit(f.gateway, "AttesterSetUpdated")
        .withArgs(3, 2, set, f.stranger.address);
      expect(await f.gateway.attesterSet()).to.deep.equal([3n, 2n, set]);
      // The new set attests; the removed attester no longer counts.
      await expect(f.run(await attest([next[1], f.keys[1]], f.domain, f.packet, f.data))).to.emit(
        f.gateway,
        "InboundExecuted",
      );
      const p2 = { ...f.packet, sequence: 2, txId: txIdOf(PIPE, 2) };
      await expect(f.run(await attest([next[0], f.keys[0]], f.domain, p2, f.data), p2))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttesterNotCurrent")
        .withArgs(1, f.keys[0].address, 1);
    });

    it("refuses a replayed or stale set change", async function () {
      const f = await loadFixture(fixture);
      const set = attesterKeys(1).map((k) => k.address);
      const sigs = await signSetChange(f.keys.slice(0, 2), f.domain, 2, set, 1);
      await f.gateway.updateAttesters(2, set, 1, sigs);
      await expect(f.gateway.updateAttesters(2, set, 1, sigs))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttesterEpochStale")
        .withArgs(2, 2);
      await expect(changed(f, f.keys.slice(0, 2), 1, set, 1))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttesterEpochStale")
        .withArgs(1, 2);
    });

    it("refuses a change signed by fewer than k, by non-attesters, or by the set it installs", async function () {
      const f = await loadFixture(fixture);
      const next = attesterKeys(3);
      const set = next.map((k) => k.address);
      await expect(changed(f, [f.keys[0]], 2, set, 2))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationsInsufficient")
        .withArgs(1, 2);
      await expect(changed(f, next.slice(0, 2), 2, set, 2))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationSignerUnknown")
        .withArgs(0, next[0].address);
      await expect(changed(f, [f.keys[0], f.keys[0]], 2, set, 2))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttesterDuplicated")
        .withArgs(1, f.keys[0].address);
    });

    it("refuses a change whose signed epoch, threshold or set differs, or with a flipped byte", async function () {
      const f = await loadFixture(fixture);
      const set = attesterKeys(3).map((k) => k.address);
      const sigs = await signSetChange(f.keys.slice(0, 2), f.domain, 2, set, 2);
      const variants: [string, number, string[], number][] = [
        ["epoch", 3, set, 2],
        ["threshold", 2, set, 3],
        ["set", 2, [set[0], set[1], f.keys[0].address], 2],
      ];
      for (const [what, epoch, s, k] of variants) {
        const digest = await f.gateway.attesterSetChangeDigest(epoch, s, k);
        const who = recovered(digest, ethers.dataSlice(sigs, 0, 65));
        await expect(f.gateway.updateAttesters(epoch, s, k, sigs), what)
          .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationSignerUnknown")
          .withArgs(0, who);
      }
      const flipped = ethers.getBytes(sigs);
      flipped[70] ^= 0x01; // r of the second signature
      const digest = await f.gateway.attesterSetChangeDigest(2, set, 2);
      const who = recovered(digest, ethers.hexlify(flipped.slice(65)));
      const refusal = f.gateway.updateAttesters(2, set, 2, ethers.hexlify(flipped));
      if (who === null)
        await expect(refusal)
          .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationMalformed")
          .withArgs(1);
      else
        await expect(refusal)
          .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationSignerUnknown")
          .withArgs(1, who);
      await expect(f.gateway.updateAttesters(2, set, 2, sigs)).to.emit(f.gateway, "AttesterSetUpdated");
    });

    it("refuses a malformed set: empty, too large, a threshold of half or less, a zero or repeated attester", async function () {
      const f = await loadFixture(fixture);
      const [a, b, c] = attesterKeys(3).map((k) => k.address);
      const many = attesterKeys(33).map((k) => k.address);
      const cases: [string[], number, string, unknown[]][] = [
        [[], 1, "SubchainGatewayAttesterSetSizeInvalid", [0, 32]],
        [many, 17, "SubchainGatewayAttesterSetSizeInvalid", [33, 32]],
        [[a, b], 1, "SubchainGatewayAttesterThresholdInvalid", [1, 2]],
        [[a, b, c], 4, "SubchainGatewayAttesterThresholdInvalid", [4, 3]],
        [[a, ethers.ZeroAddress, c], 2, "SubchainGatewayAttesterInvalid", [1, ethers.ZeroAddress]],
        [[a, b, a], 2, "SubchainGatewayAttesterInvalid", [2, a]],
      ];
      for (const [set, k, error, args] of cases)
        await expect(changed(f, f.keys.slice(0, 2), 2, set, k))
          .to.be.revertedWithCustomError(f.gateway, error)
          .withArgs(...args);
      expect((await f.gateway.attesterSet())[0]).to.equal(1n);
    });

    it("the admin cannot change the set, and a gateway cannot be deployed without one", async function () {
      const f = await loadFixture(fixture);
      const factory = await ethers.getContractFactory("SubchainGateway");
      await expect(factory.deploy(f.admin.address, MAX_PAYLOAD, TEST_SUBCHAIN, [], 0, 1))
        .to.be.revertedWithCustomError(factory, "SubchainGatewayAttesterSetSizeInvalid")
        .withArgs(0, 32);
      await expect(factory.deploy(f.admin.address, MAX_PAYLOAD, TEST_SUBCHAIN, [f.keys[0].address], 1, 0))
        .to.be.revertedWithCustomError(factory, "SubchainGatewayAttesterEpochStale")
        .withArgs(0, 0);
      await expect(changed(f, [], 2, [f.admin.address], 1))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationsInsufficient")
        .withArgs(0, 2);
    });
  });
  describe("one attestation (k = 1, checked against the signer's seat)", function () {
    it("runs with the current attester's signature; refuses a forged key, a high-s twin and every flipped byte", async function () {
      const f = await loadFixture(singleFixture);
      const [outsider] = attesterKeys(1);
      await expect(f.run(await attest([outsider!], f.domain, f.packet, f.data)))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationSignerUnknown")
        .withArgs(0, outsider!.address);
      const sig = await attest(f.keys, f.domain, f.packet, f.data);
      const good = Signature.from(sig);
      const twin = ethers.concat([
        good.r,
        ethers.toBeHex(SECP256K1_N - BigInt(good.s), 32),
        good.v === 27 ? "0x1c" : "0x1b",
      ]);
      await expect(f.run(twin))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationMalformed")
        .withArgs(0);
      for (const at of [0, 17, 31, 32, 50, 63, 64]) {
        const flipped = ethers.getBytes(sig);
        flipped[at] ^= 0x01;
        const who = at === 64 ? null : recovered(f.digest(), ethers.hexlify(flipped));
        const high = BigInt(ethers.dataSlice(flipped, 32, 64)) > SECP256K1_N / 2n;
        const refusal = f.run(ethers.hexlify(flipped));
        if (who === null || high)
          await expect(refusal)
            .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationMalformed")
            .withArgs(0);
        else
          await expect(refusal)
            .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationSignerUnknown")
            .withArgs(0, who);
      }
      await expect(f.run(sig)).to.emit(f.gateway, "InboundExecuted");
    });

    it("refuses a signature for another gateway, and a removed attester once the set moved; a re-added one counts again", async function () {
      const f = await loadFixture(singleFixture);
      const twin = await deployGateway(f.admin.address, MAX_PAYLOAD, { attesters: f.keys, threshold: 1 });
      const elsewhere = { ...f.domain, gateway: await twin.getAddress() };
      await expect(f.run(await attest(f.keys, elsewhere, f.packet, f.data)))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttestationSignerUnknown")
        .withArgs(0, recovered(f.digest(), await attest(f.keys, elsewhere, f.packet, f.data)));
      const [next] = attesterKeys(1);
      const move = async (epoch: number, to: Wallet, by: Wallet) =>
        f.gateway.updateAttesters(epoch, [to.address], 1, await signSetChange([by], f.domain, epoch, [to.address], 1));
      await (await move(2, next!, f.keys[0]!)).wait();
      await expect(f.run(await attest(f.keys, f.domain, f.packet, f.data)))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttesterNotCurrent")
        .withArgs(0, f.keys[0]!.address, 1);
      await expect(f.run(await attest([next!], f.domain, f.packet, f.data))).to.emit(f.gateway, "InboundExecuted");
      // Back in the set at epoch 3: its seat is current again.
      await (await move(3, f.keys[0]!, next!)).wait();
      const p2 = { ...f.packet, sequence: 2, txId: txIdOf(PIPE, 2) };
      await expect(f.run(await attest([next!], f.domain, p2, f.data), p2))
        .to.be.revertedWithCustomError(f.gateway, "SubchainGatewayAttesterNotCurrent")
        .withArgs(0, next!.address, 2);
      await expect(f.run(await attest(f.keys, f.domain, p2, f.data), p2)).to.emit(f.gateway, "InboundExecuted");
    });
  });
});
