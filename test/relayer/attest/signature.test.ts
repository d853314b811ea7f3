import { expect } from "chai";
import { keccak256, recoverTypedDataAddress, toHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  ATTESTATION_TYPES,
  SET_CHANGE_TYPES,
  attestationDomain,
  attestationSigner,
  attesterSetChangeSigner,
  signAttestation,
  signAttesterSetChange,
  type Attestation,
} from "../../../relayer/src/attest/attestation";
import { flipByte } from "../../helpers/amdp";

const CHAIN_ID = 31338;

function attestation(i: number, gateway: Address): Attestation {
  return {
    txId: keccak256(toHex(`tx ${i}`)),
    pipeId: keccak256(toHex(`pipe ${i % 3}`)),
    sequence: BigInt(i) * 7919n,
    subchain: keccak256(toHex("sub-chain B")),
    gateway,
    contractName: keccak256(toHex("DrugTraceability")),
    operation: i % 2,
    selector: toHex(i * 131, { size: 4 }),
    payloadHash: keccak256(toHex(`payload ${i}`)),
    deadline: 1_900_000_000n + BigInt(i),
  };
}

/** The signer of an attestation or attester-set change, against viem's `recoverTypedDataAddress` as the reference. */
describe("attest: attestation and attester-set signatures", function () {
  const gateway = privateKeyToAccount(generatePrivateKey()).address;

  it("recovers the attester of many attestations as viem's recoverTypedDataAddress does", async function () {
    for (let i = 0; i < 40; i++) {
      const attester = privateKeyToAccount(generatePrivateKey());
      const a = attestation(i, gateway);
      const signature = await signAttestation(attester, CHAIN_ID, a);
      const reference = await recoverTypedDataAddress({
        domain: attestationDomain(CHAIN_ID, gateway),
        types: ATTESTATION_TYPES,
        primaryType: "Attestation",
        message: a,
        signature,
      });
      expect(reference).to.equal(attester.address);
      expect(await attestationSigner(CHAIN_ID, a, signature)).to.equal(reference);
    }
  });

  it("never recovers the attester from a flipped byte of the signature, or of another chain or field", async function () {
    const attester = privateKeyToAccount(generatePrivateKey());
    const a = attestation(1, gateway);
    const signature = await signAttestation(attester, CHAIN_ID, a);
    for (const at of [0, 17, 31, 32, 50, 63, 64]) {
      const recovered = await attestationSigner(CHAIN_ID, a, flipByte(signature, at)).catch(() => "unrecoverable");
      expect(recovered, `signature byte ${at}`).to.not.equal(attester.address);
    }
    expect(await attestationSigner(CHAIN_ID + 1, a, signature)).to.not.equal(attester.address);
    expect(await attestationSigner(CHAIN_ID, { ...a, sequence: a.sequence + 1n }, signature)).to.not.equal(
      attester.address,
    );
    expect(
      await attestationSigner(CHAIN_ID, { ...a, payloadHash: flipByte(a.payloadHash, 9) }, signature),
    ).to.not.equal(attester.address);
  });

  it("recovers the signer of attester-set changes as viem does, and refuses a flipped byte", async function () {
    for (let i = 0; i < 10; i++) {
      const member = privateKeyToAccount(generatePrivateKey());
      const attesters = Array.from({ length: 1 + (i % 4) }, () => privateKeyToAccount(generatePrivateKey()).address);
      const change = { epoch: BigInt(i + 1), threshold: 1 + (i % 2), attesters };
      const signature = await signAttesterSetChange(member, CHAIN_ID, gateway, change);
      const reference = await recoverTypedDataAddress({
        domain: attestationDomain(CHAIN_ID, gateway),
        types: SET_CHANGE_TYPES,
        primaryType: "AttesterSetChange",
        message: change,
        signature,
      });
      expect(await attesterSetChangeSigner(CHAIN_ID, gateway, change, signature)).to.equal(reference);
      expect(reference).to.equal(member.address);
      const flipped: Hex = flipByte(signature, 40);
      const recovered = await attesterSetChangeSigner(CHAIN_ID, gateway, change, flipped).catch(() => "unrecoverable");
      expect(recovered).to.not.equal(member.address);
    }
  });
});
