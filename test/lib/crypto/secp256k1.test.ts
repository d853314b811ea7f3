import { expect } from "chai";
import { keccak256, recoverAddress, toHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { countersignatureTypes } from "../../../lib/amdp";
import { fastAccount, forceSecp256k1Backend, recoverHashSigner, secp256k1Backend } from "../../../lib/crypto/secp256k1";
import { flipByte } from "../../helpers/amdp";
import { expectCcgpError } from "../../relayer/helpers/errors";

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe("relayer/keys: secp256k1 (native libsecp256k1, viem's JavaScript as the fallback)", function () {
  it("uses the native binding on this machine", function () {
    expect(secp256k1Backend()).to.equal("native");
  });

  for (const backend of ["native", "js"] as const) {
    describe(`${backend} backend`, function () {
      before(() => forceSecp256k1Backend(backend));
      after(() => forceSecp256k1Backend(undefined));

      it("signs hashes, messages, typed data and transactions to the same bytes as viem", async function () {
        for (let i = 0; i < 12; i++) {
          const key = generatePrivateKey();
          const [fast, viem] = [fastAccount(key), privateKeyToAccount(key)];
          expect(fast.address).to.equal(viem.address);
          const hash = keccak256(toHex(`hash ${i}`));
          expect(await fast.sign({ hash })).to.equal(await viem.sign({ hash }));
          expect(await fast.signMessage({ message: `message ${i}` })).to.equal(
            await viem.signMessage({ message: `message ${i}` }),
          );
          const typed = {
            domain: { name: "CCGP-AMDP", version: "1", chainId: 31337n, verifyingContract: viem.address },
            types: countersignatureTypes,
            primaryType: "Countersignature" as const,
            message: { packetHash: hash, appSignatureHash: keccak256(hash), signer: viem.address },
          };
          expect(await fast.signTypedData(typed)).to.equal(await viem.signTypedData(typed));
          const base = { chainId: 31337, to: viem.address, data: toHex(`call ${i}`) as Hex, gas: 200_000n, nonce: i };
          for (const tx of [
            { ...base, type: "eip1559" as const, maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 1n },
            { ...base, type: "legacy" as const, gasPrice: 1_000_000_000n },
            { ...base, type: "eip2930" as const, gasPrice: 1_000_000_000n, accessList: [] },
          ])
            expect(await fast.signTransaction(tx), tx.type).to.equal(await viem.signTransaction(tx));
        }
      });

      it("recovers the signer as viem does, with v as 27/28 or 0/1", async function () {
        for (let i = 0; i < 12; i++) {
          const account = privateKeyToAccount(generatePrivateKey());
          const hash = keccak256(toHex(`recover ${i}`));
          const signature = await account.sign({ hash });
          expect(await recoverHashSigner(hash, signature)).to.equal(account.address);
          expect(await recoverHashSigner(hash, signature)).to.equal(await recoverAddress({ hash, signature }));
          const v01 = `${signature.slice(0, 130)}0${Number.parseInt(signature.slice(130), 16) - 27}` as Hex;
          expect(await recoverHashSigner(hash, v01)).to.equal(account.address);
        }
      });

      it("never recovers the signer from a signature or hash with one flipped byte", async function () {
        const account = privateKeyToAccount(generatePrivateKey());
        const hash = keccak256(toHex("flip"));
        const signature = await account.sign({ hash });
        for (const at of [0, 31, 32, 63]) {
          const recovered = await recoverHashSigner(hash, flipByte(signature, at)).catch(() => "unrecoverable");
          expect(recovered, `signature byte ${at}`).to.not.equal(account.address);
        }
        expect(await recoverHashSigner(flipByte(hash, 5), signature)).to.not.equal(account.address);
      });

      it("throws on an unrecoverable (r, s): r = 0, r >= n, a bad v", async function () {
        const hash = keccak256(toHex("bad"));
        const s = `${"11".repeat(32)}`;
        // The same refusal on both backends.
        await expectCcgpError(() => recoverHashSigner(hash, `0x${"00".repeat(32)}${s}1b`), "SIGNATURE_UNRECOVERABLE");
        await expectCcgpError(
          () => recoverHashSigner(hash, `0x${SECP256K1_N.toString(16)}${s}1b`),
          "SIGNATURE_UNRECOVERABLE",
        );
        const good = await privateKeyToAccount(generatePrivateKey()).sign({ hash });
        await expectCcgpError(
          () => recoverHashSigner(hash, `${good.slice(0, 130)}1d` as Hex),
          "SIGNATURE_UNRECOVERABLE",
        );
      });
    });
  }
});
