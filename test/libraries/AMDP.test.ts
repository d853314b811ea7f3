import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  AmdpError,
  AmdpErrorCode,
  countersign,
  countersignatureMessage,
  countersignatureTypes,
  domainSeparator,
  packetDomain,
  packetTypes,
  signPacket,
  verifySequence,
  type AmdpDomain,
  type Packet,
  type SignedPacket,
} from "../../lib/amdp";
import type { AMDPHarness } from "../../typechain-types";
import {
  PACKET_FIELDS,
  flipByte,
  flipField,
  loadVectors,
  malleate,
  signedFromVector,
  vectorAccounts,
  vectorDomain,
} from "../helpers/amdp";

const file = loadVectors();
const vectorsDomain = vectorDomain(file);

async function deployFixture() {
  const harness = await ethers.deployContract("AMDPHarness");
  const { chainId } = await ethers.provider.getNetwork();
  const ownDomain = packetDomain(chainId, (await harness.getAddress()) as Address);
  return { harness, ownDomain };
}

async function latestTimestamp(): Promise<bigint> {
  return BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
}

/** Calls the harness's `verifyWithDomain` for a signed packet. */
function verifyOnChain(
  harness: AMDPHarness,
  separator: Hex,
  signed: SignedPacket,
  expectedApp: Address,
  expectedProxy: Address,
) {
  return harness.verifyWithDomain(
    separator,
    signed.packet,
    signed.signatures.app,
    signed.signatures.proxy ?? "0x",
    expectedApp,
    expectedProxy,
  );
}

/** The on-chain error (name, args) equivalent of a relayer refusal: both sides must refuse alike. */
function onChainEquivalent(err: AmdpError, packet: Packet): [string, unknown[]] {
  const d = err.details as Record<string, unknown>;
  switch (err.code) {
    case AmdpErrorCode.SignerMismatch:
      return ["AmdpSignerMismatch", [d.declared, d.expected]];
    case AmdpErrorCode.BadAppSignature:
      return ["AmdpInvalidAppSignature", [d.recovered, d.expected]];
    case AmdpErrorCode.BadProxySignature:
      return ["AmdpInvalidProxySignature", [d.recovered, d.expected]];
    case AmdpErrorCode.MalformedSignature:
      return ["AmdpMalformedSignature", [d.stage]];
    case AmdpErrorCode.DeadlinePassed:
      return ["AmdpDeadlinePassed", [d.deadline, d.now]];
    case AmdpErrorCode.MalformedPacket:
      if (d.field === "packet.operation") return ["AmdpInvalidOperation", [packet.operation]];
  }
  throw new Error(`no on-chain equivalent for ${err.code}: ${err.message}`);
}

/** Expects the relayer to refuse `signed` and the library to revert with the equivalent custom error. */
async function expectSameRefusal(
  harness: AMDPHarness,
  domain: AmdpDomain,
  signed: SignedPacket,
  expectedApp: Address,
  expectedProxy: Address,
  label: string,
): Promise<AmdpErrorCode> {
  const now = await latestTimestamp();
  let relayerErr: unknown;
  try {
    await verifySequence(domain, signed, { expectedApp, expectedProxy, now });
  } catch (err) {
    relayerErr = err;
  }
  expect(relayerErr, `${label}: relayer accepted`).to.be.instanceOf(AmdpError);
  const [name, args] = onChainEquivalent(relayerErr as AmdpError, signed.packet);
  await expect(verifyOnChain(harness, domainSeparator(domain), signed, expectedApp, expectedProxy), label)
    .to.be.revertedWithCustomError(harness, name)
    .withArgs(...args);
  return (relayerErr as AmdpError).code;
}

describe("AMDP library", function () {
  describe("constants and domain", function () {
    it("type hashes equal the vectors' (and the TypeScript type strings)", async function () {
      const { harness } = await loadFixture(deployFixture);
      expect(await harness.packetTypehash()).to.equal(file.packetTypehash);
      expect(await harness.countersignatureTypehash()).to.equal(file.countersignatureTypehash);
      expect(keccak256(toHex(file.packetType))).to.equal(file.packetTypehash);
    });

    it("the deployed domain separator equals the TypeScript one for its real address and chain", async function () {
      const { harness, ownDomain } = await loadFixture(deployFixture);
      expect(await harness.domainSeparator()).to.equal(domainSeparator(ownDomain));
      const [, name, version, chainId, verifyingContract] = await harness.eip712Domain();
      expect([name, version, chainId, verifyingContract]).to.deep.equal([
        ownDomain.name,
        ownDomain.version,
        ownDomain.chainId,
        ownDomain.verifyingContract,
      ]);
    });
  });

  for (const v of file.vectors) {
    describe(`vector ${v.name}`, function () {
      const signed = signedFromVector(v);

      it("reproduces every hash", async function () {
        const { harness } = await loadFixture(deployFixture);
        expect(await harness.hashPacket(signed.packet)).to.equal(v.packetHash);
        expect(await harness.hashPacketCalldata(signed.packet)).to.equal(v.packetHash);
        expect(await harness.typedDataHash(file.domainSeparator, v.packetHash)).to.equal(v.digest);
        expect(await harness.countersignatureHash(v.packetHash, keccak256(v.appSignature), v.proxySigner)).to.equal(
          v.countersignatureHash,
        );
        expect(await harness.typedDataHash(file.domainSeparator, v.countersignatureHash)).to.equal(
          v.countersignatureDigest,
        );
      });

      it("accepts the vector's signatures and returns the packet hash", async function () {
        const { harness } = await loadFixture(deployFixture);
        expect(await verifyOnChain(harness, file.domainSeparator, signed, v.appSigner, v.proxySigner)).to.equal(
          v.packetHash,
        );
        await harness.verifyPayload(signed.packet, v.payload);
      });

      it("refuses the vector under another domain (the harness's own)", async function () {
        const { harness, ownDomain } = await loadFixture(deployFixture);
        await expectSameRefusal(harness, ownDomain, signed, v.appSigner, v.proxySigner, "own domain");
        await expect(
          harness.verifySequence(signed.packet, v.appSignature, v.proxySignature, v.appSigner, v.proxySigner),
        ).to.be.revertedWithCustomError(harness, "AmdpInvalidAppSignature");
      });

      it("refuses a one-bit flip of every packet field, as the relayer does", async function () {
        const { harness } = await loadFixture(deployFixture);
        for (const field of PACKET_FIELDS) {
          const bad = { ...signed, packet: flipField(signed.packet, field) };
          const code = await expectSameRefusal(harness, vectorsDomain, bad, v.appSigner, v.proxySigner, field);
          expect(code, field).to.equal(
            field === "signer" ? AmdpErrorCode.SignerMismatch : AmdpErrorCode.BadAppSignature,
          );
        }
      });

      it("refuses the high-s twin of each signature (OpenZeppelin ECDSA)", async function () {
        const { harness } = await loadFixture(deployFixture);
        const appTwin = { ...signed, signatures: { ...signed.signatures, app: malleate(v.appSignature) } };
        await expect(verifyOnChain(harness, file.domainSeparator, appTwin, v.appSigner, v.proxySigner))
          .to.be.revertedWithCustomError(harness, "AmdpMalformedSignature")
          .withArgs(1);
        const proxyTwin = { ...signed, signatures: { ...signed.signatures, proxy: malleate(v.proxySignature) } };
        await expect(verifyOnChain(harness, file.domainSeparator, proxyTwin, v.appSigner, v.proxySigner))
          .to.be.revertedWithCustomError(harness, "AmdpMalformedSignature")
          .withArgs(2);
      });

      it("refuses a one-bit flip of every byte of each signature, exactly as the relayer", async function () {
        const { harness } = await loadFixture(deployFixture);
        const seen = new Set<AmdpErrorCode>();
        for (let b = 0; b < 65; b++) {
          for (const which of ["app", "proxy"] as const) {
            const sigs = { ...signed.signatures, [which]: flipByte(signed.signatures[which]!, b) };
            const bad = { ...signed, signatures: sigs };
            seen.add(await expectSameRefusal(harness, vectorsDomain, bad, v.appSigner, v.proxySigner, `${which} ${b}`));
          }
        }
        expect([...seen]).to.include.members([AmdpErrorCode.MalformedSignature, AmdpErrorCode.BadProxySignature]);
      });
    });
  }

  describe("custom errors", function () {
    const v = file.vectors[0]!;
    const signed = signedFromVector(v);
    const { app, proxy } = vectorAccounts(file, v);
    const other = privateKeyToAccount(file.keys.app2.privateKey);
    const withSigs = (sigs: Partial<SignedPacket["signatures"]>): SignedPacket => ({
      ...signed,
      signatures: { ...signed.signatures, ...sigs } as SignedPacket["signatures"],
    });

    it("AmdpSignerMismatch(declared, expected)", async function () {
      const { harness } = await loadFixture(deployFixture);
      await expect(verifyOnChain(harness, file.domainSeparator, signed, other.address, v.proxySigner))
        .to.be.revertedWithCustomError(harness, "AmdpSignerMismatch")
        .withArgs(v.appSigner, other.address);
    });

    it("AmdpInvalidOperation(operation)", async function () {
      const { harness } = await loadFixture(deployFixture);
      const bad = { ...signed, packet: { ...signed.packet, operation: 2 } } as unknown as SignedPacket;
      await expect(verifyOnChain(harness, file.domainSeparator, bad, v.appSigner, v.proxySigner))
        .to.be.revertedWithCustomError(harness, "AmdpInvalidOperation")
        .withArgs(2);
      await expectSameRefusal(harness, vectorsDomain, bad, v.appSigner, v.proxySigner, "operation 2");
    });

    it("AmdpDeadlinePassed(deadline, now), accepted at the deadline itself", async function () {
      const { harness, ownDomain } = await loadFixture(deployFixture);
      const now = await latestTimestamp();
      for (const deadline of [now - 1n, now]) {
        const packet = { ...signed.packet, deadline };
        const appSig = await signPacket(app, ownDomain, packet);
        const proxySig = await countersign(proxy, ownDomain, packet, appSig);
        const call = harness.verifySequence(packet, appSig, proxySig, app.address, proxy.address);
        if (deadline < now)
          await expect(call).to.be.revertedWithCustomError(harness, "AmdpDeadlinePassed").withArgs(deadline, now);
        else expect(await call).to.equal(await harness.hashPacket(packet));
      }
      const stale = { ...signed, packet: { ...signed.packet, deadline: now - 1n } };
      await expectSameRefusal(harness, vectorsDomain, stale, v.appSigner, v.proxySigner, "deadline");
    });

    it("AmdpInvalidAppSignature(recovered, expected): signed by another key", async function () {
      const { harness } = await loadFixture(deployFixture);
      const appSig = await other.signTypedData({
        domain: vectorsDomain,
        types: packetTypes,
        primaryType: "Packet",
        message: signed.packet,
      });
      await expect(verifyOnChain(harness, file.domainSeparator, withSigs({ app: appSig }), v.appSigner, v.proxySigner))
        .to.be.revertedWithCustomError(harness, "AmdpInvalidAppSignature")
        .withArgs(other.address, v.appSigner);
    });

    it("AmdpInvalidProxySignature(recovered, expected): the app signs stage 2 (wrong stage order)", async function () {
      const { harness } = await loadFixture(deployFixture);
      const byApp = await app.signTypedData({
        domain: vectorsDomain,
        types: countersignatureTypes,
        primaryType: "Countersignature",
        message: countersignatureMessage(v.packetHash, v.appSignature, proxy.address),
      });
      await expect(verifyOnChain(harness, file.domainSeparator, withSigs({ proxy: byApp }), v.appSigner, v.proxySigner))
        .to.be.revertedWithCustomError(harness, "AmdpInvalidProxySignature")
        .withArgs(app.address, proxy.address);
    });

    it("AmdpInvalidProxySignature(recovered, expected): not the expected proxy", async function () {
      const { harness } = await loadFixture(deployFixture);
      const code = await expectSameRefusal(harness, vectorsDomain, signed, v.appSigner, other.address, "other proxy");
      expect(code).to.equal(AmdpErrorCode.BadProxySignature);
    });

    it("wrong stage order: signatures swapped, or a countersignature over another app signature", async function () {
      const { harness } = await loadFixture(deployFixture);
      const swapped = withSigs({ app: v.proxySignature, proxy: v.appSignature });
      expect(await expectSameRefusal(harness, vectorsDomain, swapped, v.appSigner, v.proxySigner, "swapped")).to.equal(
        AmdpErrorCode.BadAppSignature,
      );
      const overOther = await countersign(proxy, vectorsDomain, signed.packet, file.vectors[1]!.appSignature);
      const moved = withSigs({ proxy: overOther });
      expect(await expectSameRefusal(harness, vectorsDomain, moved, v.appSigner, v.proxySigner, "moved")).to.equal(
        AmdpErrorCode.BadProxySignature,
      );
    });

    it("AmdpMalformedSignature(stage): empty, short, long, bad v, unrecoverable r", async function () {
      const { harness } = await loadFixture(deployFixture);
      const cases: [Partial<SignedPacket["signatures"]>, number][] = [
        [{ app: "0x" }, 1],
        [{ app: v.appSignature.slice(0, -2) as Hex }, 1],
        [{ app: `${v.appSignature}00` }, 1],
        [{ app: `${v.appSignature.slice(0, -2)}00` as Hex }, 1],
        [{ app: `0x${"00".repeat(32)}${v.appSignature.slice(66)}` }, 1],
        [{ proxy: undefined }, 2],
        [{ proxy: `${v.proxySignature}00` }, 2],
        [{ proxy: `${v.proxySignature.slice(0, -2)}1d` as Hex }, 2],
        [{ proxy: `0x${"ff".repeat(32)}${v.proxySignature.slice(66)}` }, 2],
      ];
      for (const [sigs, stage] of cases)
        await expect(verifyOnChain(harness, file.domainSeparator, withSigs(sigs), v.appSigner, v.proxySigner))
          .to.be.revertedWithCustomError(harness, "AmdpMalformedSignature")
          .withArgs(stage);
    });

    it("AmdpPayloadMismatch(declared, actual)", async function () {
      const { harness } = await loadFixture(deployFixture);
      const payload = flipByte(v.payload, 0);
      await expect(harness.verifyPayload(signed.packet, payload))
        .to.be.revertedWithCustomError(harness, "AmdpPayloadMismatch")
        .withArgs(v.packet.payloadHash, keccak256(payload));
    });
  });

  describe("live signing under the ledger's own domain", function () {
    it("a packet signed by the TypeScript signer verifies on-chain and off-chain alike", async function () {
      const { harness, ownDomain } = await loadFixture(deployFixture);
      const v = file.vectors[1]!;
      const { app, proxy } = vectorAccounts(file, v);
      const packet = signedFromVector(v).packet;
      const appSig = await signPacket(app, ownDomain, packet);
      const proxySig = await countersign(proxy, ownDomain, packet, appSig);
      const onChain = await harness.verifySequence(packet, appSig, proxySig, app.address, proxy.address);
      const offChain = await verifySequence(
        ownDomain,
        { packet, payload: v.payload, signatures: { app: appSig, proxy: proxySig } },
        { expectedApp: app.address, expectedProxy: proxy.address, now: await latestTimestamp() },
      );
      expect(onChain).to.equal(offChain.packetHash);
    });
  });
});
