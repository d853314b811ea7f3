import { expect } from "chai";
import { TypedDataEncoder, Wallet } from "ethers";
import { keccak256, recoverAddress, recoverTypedDataAddress, toHex, type Hex } from "viem";
import { privateKeyToAccount, toAccount } from "viem/accounts";
import {
  AmdpError,
  AmdpErrorCode,
  Operation,
  PACKET_TYPE,
  COUNTERSIGNATURE_TYPE,
  countersign,
  countersignatureDigest,
  countersignatureMessage,
  decodePacket,
  domainSeparator,
  encodePacket,
  hashCountersignature,
  hashPacket,
  packetDigest,
  packetTypes,
  countersignatureTypes,
  signPacket,
  typedDataDigest,
  verifySequence,
  verifyStage1,
  type SignedPacket,
} from "../../../lib/amdp";
import { CcgpError } from "../../../lib/infra/errors";
import { buildVectors, serializeVectors } from "../../../scripts/gen-amdp-vectors";
import {
  PACKET_FIELDS,
  expectAmdpError,
  flipByte,
  flipField,
  loadVectors,
  malleate,
  signedFromVector,
  vectorAccounts,
  vectorDomain,
} from "../../helpers/amdp";

// Codec tests write arbitrary (also ill-typed) values into the parsed wire JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type WireJson = Record<string, any>;

const file = loadVectors();
const domain = vectorDomain(file);
const NOW = 1_700_000_000n;

function expected(i: number) {
  const v = file.vectors[i]!;
  return { expectedApp: v.appSigner, expectedProxy: v.proxySigner, now: NOW };
}

describe("AMDP (relayer)", function () {
  describe("shared vectors", function () {
    it("the committed file is what the generator produces", async function () {
      expect(serializeVectors(await buildVectors())).to.equal(serializeVectors(file));
    });

    it("type strings and hashes match ethers' EIP-712 encoder", function () {
      expect(TypedDataEncoder.from(mutable(packetTypes)).encodeType("Packet")).to.equal(PACKET_TYPE);
      expect(TypedDataEncoder.from(mutable(countersignatureTypes)).encodeType("Countersignature")).to.equal(
        COUNTERSIGNATURE_TYPE,
      );
      expect(keccak256(toHex(PACKET_TYPE))).to.equal(file.packetTypehash);
      expect(keccak256(toHex(COUNTERSIGNATURE_TYPE))).to.equal(file.countersignatureTypehash);
      expect(domainSeparator(domain)).to.equal(file.domainSeparator);
      expect(TypedDataEncoder.hashDomain(file.domain)).to.equal(file.domainSeparator);
    });

    for (const [i, v] of file.vectors.entries()) {
      describe(`vector ${v.name}`, function () {
        const signed = signedFromVector(v);
        const { app, proxy } = vectorAccounts(file, v);

        it("reproduces every hash byte for byte", function () {
          expect(keccak256(v.payload)).to.equal(v.packet.payloadHash);
          expect(hashPacket(signed.packet)).to.equal(v.packetHash);
          expect(packetDigest(domain, signed.packet)).to.equal(v.digest);
          expect(typedDataDigest(domain, v.packetHash)).to.equal(v.digest);
          const counter = countersignatureMessage(v.packetHash, v.appSignature, v.proxySigner);
          expect(counter.appSignatureHash).to.equal(v.appSignatureHash);
          expect(hashCountersignature(counter)).to.equal(v.countersignatureHash);
          expect(countersignatureDigest(domain, counter)).to.equal(v.countersignatureDigest);
          expect(typedDataDigest(domain, v.countersignatureHash)).to.equal(v.countersignatureDigest);
        });

        it("reproduces every signature byte for byte", async function () {
          expect(app.address).to.equal(v.appSigner);
          expect(proxy.address).to.equal(v.proxySigner);
          expect(await signPacket(app, domain, signed.packet)).to.equal(v.appSignature);
          expect(await countersign(proxy, domain, signed.packet, v.appSignature)).to.equal(v.proxySignature);
        });

        it("agrees with an independent EIP-712 implementation (ethers)", async function () {
          const ethersDomain = { ...file.domain };
          const message = { ...v.packet };
          expect(TypedDataEncoder.hashStruct("Packet", mutable(packetTypes), message)).to.equal(v.packetHash);
          expect(TypedDataEncoder.hash(ethersDomain, mutable(packetTypes), message)).to.equal(v.digest);
          const wallet = new Wallet(file.keys[v.appKey].privateKey);
          expect(await wallet.signTypedData(ethersDomain, mutable(packetTypes), message)).to.equal(v.appSignature);
          const counter = { packetHash: v.packetHash, appSignatureHash: v.appSignatureHash, signer: v.proxySigner };
          const proxyWallet = new Wallet(file.keys[v.proxyKey].privateKey);
          expect(await proxyWallet.signTypedData(ethersDomain, mutable(countersignatureTypes), counter)).to.equal(
            v.proxySignature,
          );
        });

        it("recovers both signers with viem's typed-data recovery", async function () {
          const appSigner = await recoverTypedDataAddress({
            domain,
            types: packetTypes,
            primaryType: "Packet",
            message: signed.packet,
            signature: v.appSignature,
          });
          expect(appSigner).to.equal(v.appSigner);
          expect(await recoverAddress({ hash: v.countersignatureDigest, signature: v.proxySignature })).to.equal(
            v.proxySigner,
          );
        });

        it("verifies the whole sequence", async function () {
          const result = await verifySequence(domain, signed, expected(i));
          expect(result).to.deep.include({
            packetHash: v.packetHash,
            digest: v.digest,
            appSigner: v.appSigner,
            countersignatureHash: v.countersignatureHash,
            countersignatureDigest: v.countersignatureDigest,
            proxySigner: v.proxySigner,
          });
          const stage1 = await verifyStage1(domain, signed, expected(i));
          expect(stage1.packetHash).to.equal(v.packetHash);
        });

        it("encodes to the canonical wire text and decodes back", function () {
          expect(encodePacket(signed)).to.equal(v.wire);
          expect(decodePacket(v.wire)).to.deep.equal(signed);
          expect(encodePacket(decodePacket(v.wire))).to.equal(v.wire);
        });

        it("refuses a one-bit flip of every byte of the app signature", async function () {
          for (let b = 0; b < 65; b++) {
            const bad = withSigs(signed, { app: flipByte(v.appSignature, b) });
            const err = await refused(() => verifySequence(domain, bad, expected(i)));
            expect([AmdpErrorCode.MalformedSignature, AmdpErrorCode.BadAppSignature], `byte ${b}`).to.include(err.code);
            if (b === 64) expect(err.code).to.equal(AmdpErrorCode.MalformedSignature);
            expect(err.details.stage).to.equal(1);
          }
        });

        it("refuses a one-bit flip of every byte of the proxy signature", async function () {
          for (let b = 0; b < 65; b++) {
            const bad = withSigs(signed, { proxy: flipByte(v.proxySignature, b) });
            const err = await refused(() => verifySequence(domain, bad, expected(i)));
            expect([AmdpErrorCode.MalformedSignature, AmdpErrorCode.BadProxySignature], `byte ${b}`).to.include(
              err.code,
            );
            expect(err.details.stage).to.equal(2);
          }
        });

        it("refuses a one-bit flip of every packet field", async function () {
          for (const field of PACKET_FIELDS) {
            const bad = { ...signed, packet: flipField(signed.packet, field) };
            const code = field === "signer" ? AmdpErrorCode.SignerMismatch : AmdpErrorCode.BadAppSignature;
            await expectAmdpError(() => verifySequence(domain, bad, expected(i)), code);
          }
        });

        it("refuses the high-s malleable twin of each signature", async function () {
          const twin = malleate(v.appSignature);
          // The twin is a valid ECDSA signature by the same key: only the low-s rule refuses it.
          expect(await recoverAddress({ hash: v.digest, signature: twin })).to.equal(v.appSigner);
          const err = await expectAmdpError(
            () => verifySequence(domain, withSigs(signed, { app: twin }), expected(i)),
            AmdpErrorCode.MalformedSignature,
          );
          expect(err.details).to.include({ stage: 1, field: "signatures.app" });
          const proxyTwin = malleate(v.proxySignature);
          expect(await recoverAddress({ hash: v.countersignatureDigest, signature: proxyTwin })).to.equal(
            v.proxySigner,
          );
          const err2 = await expectAmdpError(
            () => verifySequence(domain, withSigs(signed, { proxy: proxyTwin }), expected(i)),
            AmdpErrorCode.MalformedSignature,
          );
          expect(err2.details).to.include({ stage: 2, field: "signatures.proxy" });
        });
      });
    }
  });

  describe("verification refusals", function () {
    const v = file.vectors[0]!;
    const signed = signedFromVector(v);
    const { app, proxy } = vectorAccounts(file, v);
    const other = privateKeyToAccount(file.keys.app2.privateKey);

    it("SIGNER_MISMATCH: the declared signer is not the key reserved on the pipe", async function () {
      const err = await expectAmdpError(
        () => verifySequence(domain, signed, { ...expected(0), expectedApp: other.address }),
        AmdpErrorCode.SignerMismatch,
      );
      expect(err.details).to.include({ declared: v.appSigner, expected: other.address, field: "packet.signer" });
    });

    it("SIGNER_MISMATCH: a packet declaring and signed by another key", async function () {
      const packet = { ...signed.packet, signer: other.address };
      const appSig = await signPacket(other, domain, packet);
      const forged = {
        ...signed,
        packet,
        signatures: { app: appSig, proxy: await countersign(proxy, domain, packet, appSig) },
      };
      await expectAmdpError(() => verifySequence(domain, forged, expected(0)), AmdpErrorCode.SignerMismatch);
    });

    it("BAD_APP_SIGNATURE: the packet signed by a key other than its declared signer", async function () {
      const appSig = await other.signTypedData({
        domain,
        types: packetTypes,
        primaryType: "Packet",
        message: signed.packet,
      });
      const err = await expectAmdpError(
        () => verifySequence(domain, withSigs(signed, { app: appSig }), expected(0)),
        AmdpErrorCode.BadAppSignature,
      );
      expect(err.details).to.include({ recovered: other.address, expected: v.appSigner });
    });

    it("BAD_APP_SIGNATURE: a signature for another domain (chain or ledger)", async function () {
      for (const d of [vectorDomainWith({ chainId: 1n }), vectorDomainWith({ verifyingContract: v.appSigner })])
        await expectAmdpError(() => verifySequence(d, signed, expected(0)), AmdpErrorCode.BadAppSignature);
    });

    it("BAD_PROXY_SIGNATURE: the proxy is not the expected one", async function () {
      const err = await expectAmdpError(
        () => verifySequence(domain, signed, { ...expected(0), expectedProxy: other.address }),
        AmdpErrorCode.BadProxySignature,
      );
      // The countersignature names its signer, so a different expected proxy changes the digest itself.
      expect(err.details).to.include({ expected: other.address });
      expect(err.details.recovered).to.not.equal(other.address);
    });

    it("wrong stage order: the two signatures swapped", async function () {
      const swapped = withSigs(signed, { app: v.proxySignature, proxy: v.appSignature });
      await expectAmdpError(() => verifySequence(domain, swapped, expected(0)), AmdpErrorCode.BadAppSignature);
    });

    it("wrong stage order: the proxy signs the packet as stage 1", async function () {
      const byProxy = await proxy.signTypedData({
        domain,
        types: packetTypes,
        primaryType: "Packet",
        message: signed.packet,
      });
      const err = await expectAmdpError(
        () => verifySequence(domain, withSigs(signed, { app: byProxy }), expected(0)),
        AmdpErrorCode.BadAppSignature,
      );
      expect(err.details.recovered).to.equal(proxy.address);
    });

    it("wrong stage order: the app signs the countersignature", async function () {
      const byApp = await app.signTypedData({
        domain,
        types: countersignatureTypes,
        primaryType: "Countersignature",
        message: countersignatureMessage(v.packetHash, v.appSignature, proxy.address),
      });
      const err = await expectAmdpError(
        () => verifySequence(domain, withSigs(signed, { proxy: byApp }), expected(0)),
        AmdpErrorCode.BadProxySignature,
      );
      expect(err.details).to.include({ recovered: app.address, expected: proxy.address });
    });

    it("wrong stage order: a countersignature over a different app signature", async function () {
      const otherAppSig = file.vectors[1]!.appSignature;
      const counter = await countersign(proxy, domain, signed.packet, otherAppSig);
      await expectAmdpError(
        () => verifySequence(domain, withSigs(signed, { proxy: counter }), expected(0)),
        AmdpErrorCode.BadProxySignature,
      );
      // ...and the proxy countersigning before the app signed (over an empty stage 1).
      const early = await proxy.signTypedData({
        domain,
        types: countersignatureTypes,
        primaryType: "Countersignature",
        message: { packetHash: v.packetHash, appSignatureHash: keccak256("0x"), signer: proxy.address },
      });
      await expectAmdpError(
        () => verifySequence(domain, withSigs(signed, { proxy: early }), expected(0)),
        AmdpErrorCode.BadProxySignature,
      );
    });

    it("DEADLINE_PASSED after the deadline, accepted at it", async function () {
      const deadline = signed.packet.deadline;
      const err = await expectAmdpError(
        () => verifySequence(domain, signed, { ...expected(0), now: deadline + 1n }),
        AmdpErrorCode.DeadlinePassed,
      );
      expect(err.details).to.include({ deadline, now: deadline + 1n });
      await verifySequence(domain, signed, { ...expected(0), now: deadline });
    });

    it("DEADLINE_PASSED against the local clock by default", async function () {
      const packet = { ...signed.packet, deadline: BigInt(Math.floor(Date.now() / 1000)) - 10n };
      const appSig = await signPacket(app, domain, packet);
      const stale = {
        ...signed,
        packet,
        signatures: { app: appSig, proxy: await countersign(proxy, domain, packet, appSig) },
      };
      const { now: _now, ...noClock } = expected(0);
      await expectAmdpError(() => verifySequence(domain, stale, noClock), AmdpErrorCode.DeadlinePassed);
    });

    it("PAYLOAD_MISMATCH: a payload byte flipped, or bytes added", async function () {
      const flipped = { ...signed, payload: flipByte(signed.payload, 7) };
      const err = await expectAmdpError(
        () => verifySequence(domain, flipped, expected(0)),
        AmdpErrorCode.PayloadMismatch,
      );
      expect(err.details).to.include({ field: "payload", declared: v.packet.payloadHash });
      const longer = { ...signed, payload: `${signed.payload}00` as Hex };
      await expectAmdpError(() => verifyStage1(domain, longer, expected(0)), AmdpErrorCode.PayloadMismatch);
    });

    it("MALFORMED_SIGNATURE: missing, short, long, v not 27/28, unrecoverable r", async function () {
      const cases: [Partial<SignedPacket["signatures"]>, number][] = [
        [{ proxy: undefined }, 2],
        [{ app: v.appSignature.slice(0, -2) as Hex }, 1],
        [{ app: `${v.appSignature}00` }, 1],
        [{ proxy: `${v.proxySignature.slice(0, -2)}00` as Hex }, 2],
        [{ app: `${v.appSignature.slice(0, -2)}01` as Hex }, 1],
        [{ app: `0x${"00".repeat(32)}${v.appSignature.slice(66)}` }, 1],
        [{ proxy: `0x${"ff".repeat(32)}${v.proxySignature.slice(66)}` }, 2],
        [{ app: "0xzz" as Hex }, 1],
      ];
      for (const [sigs, stage] of cases) {
        const err = await expectAmdpError(
          () => verifySequence(domain, withSigs(signed, sigs), expected(0)),
          AmdpErrorCode.MalformedSignature,
        );
        expect(err.details.stage).to.equal(stage);
      }
    });

    it("MALFORMED_PACKET: unknown operation, wrong field lengths", async function () {
      const cases: [Record<string, unknown>, string][] = [
        [{ operation: 2 }, "packet.operation"],
        [{ pipeId: "0x1234" }, "packet.pipeId"],
        [{ selector: `0x${"00".repeat(32)}` }, "packet.selector"],
        [{ sequence: 1 }, "packet.sequence"],
        [{ sourceInstitution: 2 ** 32 }, "packet.sourceInstitution"],
      ];
      for (const [patch, field] of cases) {
        const bad = { ...signed, packet: { ...signed.packet, ...patch } } as SignedPacket;
        const err = await expectAmdpError(
          () => verifySequence(domain, bad, expected(0)),
          AmdpErrorCode.MalformedPacket,
        );
        expect(err.details.field).to.equal(field);
      }
    });

    it("OVERSIZED: a payload above the configured limit", async function () {
      const err = await expectAmdpError(
        () => verifySequence(domain, signed, { ...expected(0), maxPayloadBytes: 63 }),
        AmdpErrorCode.Oversized,
      );
      expect(err.details).to.include({ bytes: 64, maxPayloadBytes: 63 });
      await verifySequence(domain, signed, { ...expected(0), maxPayloadBytes: 64 });
    });
  });

  describe("signing", function () {
    const v = file.vectors[0]!;
    const signed = signedFromVector(v);
    const { app, proxy } = vectorAccounts(file, v);

    it("refuses to sign a packet that declares another signer", async function () {
      await expectAmdpError(() => signPacket(proxy, domain, signed.packet), AmdpErrorCode.SignerMismatch);
    });

    it("refuses to countersign a malformed app signature", async function () {
      await expectAmdpError(
        () => countersign(proxy, domain, signed.packet, malleate(v.appSignature)),
        AmdpErrorCode.MalformedSignature,
      );
    });

    it("works with any external signer (viem toAccount) and refuses a high-s one", async function () {
      const external = (malleable: boolean) =>
        toAccount({
          address: app.address,
          signMessage: (args) => app.signMessage(args),
          signTransaction: (tx) => app.signTransaction(tx),
          signTypedData: async (args) => {
            const sig = await app.signTypedData(args);
            return malleable ? malleate(sig) : sig;
          },
        });
      expect(await signPacket(external(false), domain, signed.packet)).to.equal(v.appSignature);
      await expectAmdpError(() => signPacket(external(true), domain, signed.packet), AmdpErrorCode.MalformedSignature);
    });

    it("signs for the read and write operations", async function () {
      for (const operation of [Operation.Read, Operation.Write]) {
        const packet = { ...signed.packet, operation };
        const appSig = await signPacket(app, domain, packet);
        const proxySig = await countersign(proxy, domain, packet, appSig);
        const result = await verifySequence(
          domain,
          { ...signed, packet, signatures: { app: appSig, proxy: proxySig } },
          expected(0),
        );
        expect(result.packet.operation).to.equal(operation);
      }
    });
  });

  describe("codec", function () {
    const v = file.vectors[0]!;
    const patched = (patch: (w: WireJson) => void): string => {
      const copy = JSON.parse(v.wire) as WireJson;
      patch(copy);
      return JSON.stringify(copy);
    };

    it("round-trips every vector and a stage-1-only packet", function () {
      for (const vec of file.vectors) expect(encodePacket(decodePacket(vec.wire))).to.equal(vec.wire);
      const stage1 = patched((w) => delete w.signatures.proxy);
      const decoded = decodePacket(stage1);
      expect(decoded.signatures).to.deep.equal({ app: v.appSignature });
      expect(encodePacket(decoded)).to.equal(stage1);
    });

    it("normalises hex case and address checksums to the canonical form", function () {
      const upper = patched((w) => {
        w.packet.pipeId = `0x${w.packet.pipeId.slice(2).toUpperCase()}`;
        w.packet.signer = w.packet.signer.toLowerCase();
        w.signatures.app = `0x${w.signatures.app.slice(2).toUpperCase()}`;
      });
      expect(encodePacket(decodePacket(upper))).to.equal(v.wire);
    });

    const refusals: [string, (w: WireJson) => void, AmdpErrorCode, string][] = [
      ["version 2", (w) => (w.version = 2), AmdpErrorCode.MalformedPacket, "version"],
      ["an unknown top-level field", (w) => (w.extra = 1), AmdpErrorCode.MalformedPacket, "extra"],
      ["an unknown packet field", (w) => (w.packet.nonce = "1"), AmdpErrorCode.MalformedPacket, "packet.nonce"],
      ["a missing packet field", (w) => delete w.packet.txId, AmdpErrorCode.MalformedPacket, "packet.txId"],
      [
        "a short bytes32",
        (w) => (w.packet.pipeId = w.packet.pipeId.slice(0, -2)),
        AmdpErrorCode.MalformedPacket,
        "packet.pipeId",
      ],
      [
        "a long bytes4",
        (w) => (w.packet.selector = `${w.packet.selector}00`),
        AmdpErrorCode.MalformedPacket,
        "packet.selector",
      ],
      ["hex without 0x", (w) => (w.packet.txId = w.packet.txId.slice(2)), AmdpErrorCode.MalformedPacket, "packet.txId"],
      [
        "a non-hex digit",
        (w) => (w.packet.contractName = `0x${"g".repeat(64)}`),
        AmdpErrorCode.MalformedPacket,
        "packet.contractName",
      ],
      [
        "uint32 overflow",
        (w) => (w.packet.targetInstitution = 2 ** 32),
        AmdpErrorCode.MalformedPacket,
        "packet.targetInstitution",
      ],
      [
        "a negative uint32",
        (w) => (w.packet.sourceInstitution = -1),
        AmdpErrorCode.MalformedPacket,
        "packet.sourceInstitution",
      ],
      [
        "a fractional uint32",
        (w) => (w.packet.sourceInstitution = 1.5),
        AmdpErrorCode.MalformedPacket,
        "packet.sourceInstitution",
      ],
      [
        "uint64 overflow",
        (w) => (w.packet.sequence = (1n << 64n).toString()),
        AmdpErrorCode.MalformedPacket,
        "packet.sequence",
      ],
      ["uint64 as a JSON number", (w) => (w.packet.deadline = 5), AmdpErrorCode.MalformedPacket, "packet.deadline"],
      [
        "uint64 with a leading zero",
        (w) => (w.packet.sequence = "01"),
        AmdpErrorCode.MalformedPacket,
        "packet.sequence",
      ],
      // Found by the chaos fuzzer: a non-decimal string reached the range check's BigInt and threw (503, not a refusal).
      ["uint64 not a number", (w) => (w.packet.deadline = "x"), AmdpErrorCode.MalformedPacket, "packet.deadline"],
      ["uint64 as bare 0x", (w) => (w.packet.sequence = "0x"), AmdpErrorCode.MalformedPacket, "packet.sequence"],
      ["uint64 in hex", (w) => (w.packet.sequence = "0x10"), AmdpErrorCode.MalformedPacket, "packet.sequence"],
      ["operation 2", (w) => (w.packet.operation = 2), AmdpErrorCode.MalformedPacket, "packet.operation"],
      [
        "a bad address checksum",
        (w) => (w.packet.signer = flipCase(w.packet.signer)),
        AmdpErrorCode.MalformedPacket,
        "packet.signer",
      ],
      ["an odd-length payload", (w) => (w.payload = `${w.payload}0`), AmdpErrorCode.MalformedPacket, "payload"],
      [
        "a 64-byte app signature",
        (w) => (w.signatures.app = w.signatures.app.slice(0, -2)),
        AmdpErrorCode.MalformedSignature,
        "signatures.app",
      ],
      [
        "a 66-byte proxy signature",
        (w) => (w.signatures.proxy = `${w.signatures.proxy}00`),
        AmdpErrorCode.MalformedSignature,
        "signatures.proxy",
      ],
      ["a missing app signature", (w) => delete w.signatures.app, AmdpErrorCode.MalformedSignature, "signatures.app"],
      ["a flipped payload byte", (w) => (w.payload = flipByte(w.payload, 3)), AmdpErrorCode.PayloadMismatch, "payload"],
      [
        "a flipped payloadHash",
        (w) => (w.packet.payloadHash = flipByte(w.packet.payloadHash, 31)),
        AmdpErrorCode.PayloadMismatch,
        "payload",
      ],
    ];
    for (const [what, patch, code, field] of refusals) {
      it(`refuses ${what} (${code}, naming ${field})`, async function () {
        const err = await expectAmdpError(() => decodePacket(patched(patch)), code);
        expect(err.details.field).to.equal(field);
        expect(err.message).to.contain(field === "payload" ? "payload" : field);
      });
    }

    it("refuses text that is not JSON or not an object", async function () {
      const err = await expectAmdpError(() => decodePacket("{"), AmdpErrorCode.MalformedPacket);
      expect(err.cause).to.be.instanceOf(SyntaxError);
      await expectAmdpError(() => decodePacket("[]"), AmdpErrorCode.MalformedPacket);
      await expectAmdpError(() => decodePacket("null"), AmdpErrorCode.MalformedPacket);
    });

    it("OVERSIZED: payload above the limit, and wire text far above it before parsing", async function () {
      const big = decodePacket(file.vectors[4]!.wire);
      const err = await expectAmdpError(
        () => decodePacket(file.vectors[4]!.wire, { maxPayloadBytes: 4095 }),
        AmdpErrorCode.Oversized,
      );
      expect(err.details).to.include({ field: "payload", bytes: 4096, maxPayloadBytes: 4095 });
      expect(decodePacket(file.vectors[4]!.wire, { maxPayloadBytes: 4096 })).to.deep.equal(big);
      const huge = "x".repeat(2 * 65536 + 5000);
      const err2 = await expectAmdpError(() => decodePacket(huge), AmdpErrorCode.Oversized);
      expect(err2.details.field).to.equal("(wire)");
    });

    it("encodePacket refuses what decodePacket refuses", async function () {
      const signed = decodePacket(v.wire);
      await expectAmdpError(() => encodePacket({ ...signed, payload: "0x00" }), AmdpErrorCode.PayloadMismatch);
      await expectAmdpError(
        () => encodePacket({ ...signed, packet: { ...signed.packet, sequence: -1n } }),
        AmdpErrorCode.MalformedPacket,
      );
      await expectAmdpError(() => encodePacket(signed, { maxPayloadBytes: 1 }), AmdpErrorCode.Oversized);
    });

    it("errors share the CcgpError base with code, details and cause", function () {
      let caught: unknown;
      try {
        decodePacket("{");
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(CcgpError).and.instanceOf(AmdpError);
      const json = (caught as AmdpError).toJSON();
      expect(json).to.include({ name: "AmdpError", code: "MALFORMED_PACKET" });
      expect(json.details).to.deep.equal({ field: "(wire)" });
    });
  });
});

function withSigs(signed: SignedPacket, sigs: Partial<SignedPacket["signatures"]>): SignedPacket {
  return { ...signed, signatures: { ...signed.signatures, ...sigs } as SignedPacket["signatures"] };
}

async function refused(action: () => Promise<unknown>): Promise<AmdpError> {
  try {
    await action();
  } catch (err) {
    expect(err).to.be.instanceOf(AmdpError);
    return err as AmdpError;
  }
  throw new Error("expected a refusal, the packet was accepted");
}

function vectorDomainWith(patch: Partial<typeof domain>): typeof domain {
  return { ...domain, ...patch };
}

function flipCase(address: string): string {
  const i = address.slice(2).search(/[a-fA-F]/) + 2;
  const c = address[i]!;
  return `${address.slice(0, i)}${c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()}${address.slice(i + 1)}`;
}

/** ethers wants mutable type arrays. */
function mutable<T>(types: T): Record<string, { name: string; type: string }[]> {
  return JSON.parse(JSON.stringify(types)) as Record<string, { name: string; type: string }[]>;
}
