import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { bytesToHex, getAddress, hashStruct, hashTypedData, type Hex } from "viem";
import {
  AmdpError,
  countersignatureDigest,
  countersignatureMessage,
  countersignatureTypes,
  hashPacket,
  packetDigest,
  packetDomain,
  packetTypes,
  type Packet,
} from "../../../lib/amdp";
import { countersignatureStructHash, packetStructHash } from "../../../lib/amdp/eip712";

const hex = (bytes: number): Hex => bytesToHex(randomBytes(bytes));
const uint = (bits: number): bigint => BigInt(`0x${randomBytes(bits / 8).toString("hex")}`);

function randomPacket(i: number): Packet {
  const signer = hex(20);
  return {
    pipeId: hex(32),
    sourceInstitution: Number(uint(32)),
    targetInstitution: i % 5 === 0 ? 0xffff_ffff : Number(uint(32)),
    targetService: hex(32),
    contractName: hex(32),
    operation: (i % 2) as 0 | 1,
    selector: hex(4),
    payloadHash: hex(32),
    txId: hex(32),
    sequence: i % 7 === 0 ? (1n << 64n) - 1n : uint(64),
    deadline: i % 11 === 0 ? 0n : uint(64),
    // Checksummed or lower case (the packet's parse checks a checksum): the hash is of the 20 bytes.
    signer: i % 2 === 0 ? getAddress(signer) : signer,
  };
}

/** The small EIP-712 encoder of the AMDP types against viem's generic hashStruct as the reference. */
describe("amdp: EIP-712 struct hashes by the small encoder", function () {
  it("hashes 500 packets and countersignatures exactly as viem's hashStruct does", function () {
    for (let i = 0; i < 500; i++) {
      const packet = randomPacket(i);
      const reference = hashStruct({ data: packet, primaryType: "Packet", types: packetTypes });
      expect(packetStructHash(packet), `packet ${i}`).to.equal(reference);
      const message = { packetHash: reference, appSignatureHash: hex(32), signer: randomPacket(i + 1).signer };
      expect(countersignatureStructHash(message), `countersignature ${i}`).to.equal(
        hashStruct({ data: message, primaryType: "Countersignature", types: countersignatureTypes }),
      );
    }
  });

  it("gives the digests viem's hashTypedData gives, under many domains", function () {
    for (let i = 0; i < 100; i++) {
      const domain = packetDomain(i % 4 === 0 ? 31337n : uint(64), getAddress(hex(20)));
      const packet = randomPacket(i);
      const parsed = { ...packet, signer: getAddress(packet.signer) };
      expect(hashPacket(parsed)).to.equal(hashStruct({ data: parsed, primaryType: "Packet", types: packetTypes }));
      expect(packetDigest(domain, parsed), `packet ${i}`).to.equal(
        hashTypedData({ domain, types: packetTypes, primaryType: "Packet", message: parsed }),
      );
      const message = countersignatureMessage(hashPacket(parsed), hex(65), getAddress(hex(20)));
      expect(countersignatureDigest(domain, message), `countersignature ${i}`).to.equal(
        hashTypedData({ domain, types: countersignatureTypes, primaryType: "Countersignature", message }),
      );
    }
  });

  it("gives another hash for one flipped bit of any field", function () {
    const packet = randomPacket(1);
    const hash = packetStructHash(packet);
    for (const field of Object.keys(packet) as Array<keyof Packet>) {
      const v = packet[field];
      const flipped =
        typeof v === "bigint"
          ? v ^ 1n
          : typeof v === "number"
            ? (v ^ 1) >>> 0
            : (`${v.slice(0, -1)}${(Number.parseInt(v.slice(-1), 16) ^ 1).toString(16)}` as Hex);
      expect(packetStructHash({ ...packet, [field]: flipped }), field).to.not.equal(hash);
    }
  });

  it("refuses a field of the wrong size or range with MALFORMED_PACKET naming it, as viem refuses it", function () {
    const packet = randomPacket(2);
    const cases: Array<[keyof Packet, unknown]> = [
      ["pipeId", hex(31)],
      ["selector", hex(5)],
      ["signer", hex(21)],
      ["txId", "0x" + "zz".repeat(32)],
      ["sourceInstitution", 2 ** 32],
      ["operation", 256],
      ["sequence", 1n << 64n],
      ["deadline", -1n],
      ["targetInstitution", 1.5],
    ];
    for (const [field, value] of cases) {
      const bad = { ...packet, [field]: value } as Packet;
      let error: unknown;
      try {
        packetStructHash(bad);
      } catch (e) {
        error = e;
      }
      expect(error, field).to.be.instanceOf(AmdpError);
      expect((error as AmdpError).code, field).to.equal("MALFORMED_PACKET");
      expect((error as AmdpError).message, field).to.include(`"${field}"`);
      if (field !== "txId")
        expect(() => hashStruct({ data: bad, primaryType: "Packet", types: packetTypes }), field).to.throw();
    }
    expect(() =>
      countersignatureStructHash({ packetHash: hex(32), appSignatureHash: hex(31), signer: packet.signer }),
    ).to.throw(AmdpError, "appSignatureHash");
  });
});
