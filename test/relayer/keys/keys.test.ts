import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  concat,
  hexToBigInt,
  numberToHex,
  parseEther,
  recoverMessageAddress,
  slice,
  verifyTypedData,
  type Hex,
  type TransactionSerializable,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  createKeystore,
  ExternalSigner,
  httpDigestSigner,
  keystoreAddress,
  keystoreCommand,
  loadKeystore,
  loadSigner,
  type DigestSigner,
} from "../../../relayer/src/keys";
import { expectCcgpError } from "../helpers/errors";

const KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" as const;
const PASSWORD = "correct horse battery";
const FAST = 1 << 10; // scrypt cost for tests only
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const typedData = {
  domain: { name: "CCGP", version: "1", chainId: 31337 },
  types: {
    Packet: [
      { name: "pipeId", type: "bytes32" },
      { name: "sequence", type: "uint64" },
    ],
  },
  primaryType: "Packet",
  message: { pipeId: `0x${"ab".repeat(32)}`, sequence: 7n },
} as const;

const tx: TransactionSerializable = {
  chainId: 31337,
  type: "eip1559",
  nonce: 3,
  to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  value: parseEther("0.01"),
  gas: 21_000n,
  maxFeePerGas: 2_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
};

/** A "KMS" backed by a local key: signs raw digests, as AWS KMS or an HSM would. */
const localDigestSigner =
  (key: Hex = KEY): DigestSigner =>
  ({ digest }) =>
    privateKeyToAccount(key).sign({ hash: digest });

describe("relayer/keys", function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), "ccgp-keys-"));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  describe("keystore", function () {
    it("round-trips a key: create, then load and sign", async function () {
      const path = join(dir, "service.json");
      const created = await createKeystore({ privateKey: KEY, password: PASSWORD, path, scryptN: FAST });
      expect(created.address).to.equal(privateKeyToAccount(KEY).address);
      expect(statSync(path).mode & 0o777).to.equal(0o600);
      expect(readFileSync(path, "utf8")).to.not.include(KEY.slice(2));
      expect(keystoreAddress(path)).to.equal(created.address);

      const account = await loadKeystore(path, PASSWORD);
      expect(account.address).to.equal(created.address);
      const signature = await account.signTypedData(typedData);
      expect(await verifyTypedData({ ...typedData, address: created.address, signature })).to.equal(true);
    });

    it("creates a fresh random key when none is given", async function () {
      const a = await createKeystore({ password: PASSWORD, path: join(dir, "a.json"), scryptN: FAST });
      const b = await createKeystore({ password: PASSWORD, path: join(dir, "b.json"), scryptN: FAST });
      expect(a.address).to.not.equal(b.address);
      expect((await loadKeystore(a.path, PASSWORD)).address).to.equal(a.address);
    });

    it("refuses a wrong password, naming the file", async function () {
      const { path } = await createKeystore({
        privateKey: KEY,
        password: PASSWORD,
        path: join(dir, "k.json"),
        scryptN: FAST,
      });
      const error = await expectCcgpError(() => loadKeystore(path, "not the password"), "KEYSTORE_BAD_PASSWORD");
      expect(error.message).to.equal(`wrong password for keystore ${path}`);
    });

    it("names a missing keystore file", async function () {
      const path = join(dir, "absent.json");
      const error = await expectCcgpError(() => loadKeystore(path, PASSWORD), "KEYSTORE_NOT_FOUND");
      expect(error.message).to.equal(`keystore file not found: ${path}`);
    });

    it("refuses a file that is not a v3 keystore", async function () {
      const path = join(dir, "junk.json");
      writeFileSync(path, JSON.stringify({ version: 1 }));
      await expectCcgpError(() => loadKeystore(path, PASSWORD), "KEYSTORE_INVALID");
      writeFileSync(path, "not json");
      await expectCcgpError(() => loadKeystore(path, PASSWORD), "KEYSTORE_INVALID");
    });

    it("refuses a keystore whose ciphertext was tampered with (one byte flipped)", async function () {
      const { path } = await createKeystore({
        privateKey: KEY,
        password: PASSWORD,
        path: join(dir, "k.json"),
        scryptN: FAST,
      });
      const json = JSON.parse(readFileSync(path, "utf8"));
      const c: string = json.Crypto.ciphertext; // ethers writes "Crypto", as geth does
      json.Crypto.ciphertext = (c[0] === "0" ? "1" : "0") + c.slice(1);
      writeFileSync(path, JSON.stringify(json));
      // The MAC covers the ciphertext, so tampering reads exactly like a wrong password.
      await expectCcgpError(() => loadKeystore(path, PASSWORD), "KEYSTORE_BAD_PASSWORD");
    });

    it("never overwrites a keystore and refuses short passwords", async function () {
      const path = join(dir, "k.json");
      await createKeystore({ privateKey: KEY, password: PASSWORD, path, scryptN: FAST });
      await expectCcgpError(() => createKeystore({ password: PASSWORD, path, scryptN: FAST }), "KEYSTORE_EXISTS");
      expect((await loadKeystore(path, PASSWORD)).address).to.equal(privateKeyToAccount(KEY).address);
      await expectCcgpError(
        () => createKeystore({ password: "short", path: join(dir, "s.json") }),
        "KEYSTORE_WEAK_PASSWORD",
      );
      await expectCcgpError(
        () => createKeystore({ privateKey: "0x1234", password: PASSWORD, path: join(dir, "x.json") }),
        "KEYSTORE_BAD_KEY",
      );
    });

    it("creates and inspects keystores from the CLI, secrets from the environment", async function () {
      const lines: string[] = [];
      const env = { PW: PASSWORD, IMPORT: KEY };
      const out = join(dir, "cli.json");
      await keystoreCommand({ env, print: (l) => lines.push(l) }).parseAsync(
        ["create", "--out", out, "--password-env", "PW", "--private-key-env", "IMPORT", "--scrypt-n", String(FAST)],
        { from: "user" },
      );
      await keystoreCommand({ env, print: (l) => lines.push(l) }).parseAsync(["address", out], { from: "user" });
      const address = privateKeyToAccount(KEY).address;
      expect(lines[0]).to.equal(`${address} ${out}`);
      expect(lines[1]).to.equal(address);
      const missing = keystoreCommand({ env: {}, print: () => undefined });
      missing.exitOverride();
      await expectCcgpError(
        () => missing.parseAsync(["create", "--out", join(dir, "y.json")], { from: "user" }),
        "KEYSTORE_ENV_MISSING",
      );
    });
  });

  describe("loadSigner", function () {
    it("opens a keystore with the password from the variable the config names", async function () {
      const { path } = await createKeystore({
        privateKey: KEY,
        password: PASSWORD,
        path: join(dir, "k.json"),
        scryptN: FAST,
      });
      const source = { kind: "keystore" as const, path, passwordEnv: "CCGP_TEST_PW" };
      const signer = await loadSigner(source, { role: "service", env: { CCGP_TEST_PW: PASSWORD } });
      expect(signer.address).to.equal(privateKeyToAccount(KEY).address);
      const error = await expectCcgpError(
        () => loadSigner(source, { role: "service", env: {} }),
        "KEYSTORE_PASSWORD_MISSING",
      );
      expect(error.message).to.include("config.keys.service.passwordEnv: environment variable CCGP_TEST_PW is not set");
    });
  });

  describe("ExternalSigner", function () {
    const local = privateKeyToAccount(KEY);

    it("signs typed data, messages and transactions exactly as the local key would", async function () {
      const account = new ExternalSigner(local.address, localDigestSigner()).toAccount();
      expect(account.address).to.equal(local.address);
      expect(await account.signTypedData(typedData)).to.equal(await local.signTypedData(typedData));
      expect(await account.signMessage({ message: "heartbeat" })).to.equal(
        await local.signMessage({ message: "heartbeat" }),
      );
      expect(await account.signTransaction(tx)).to.equal(await local.signTransaction(tx));
      const legacy: TransactionSerializable = {
        chainId: 31337,
        type: "legacy",
        nonce: 0,
        to: tx.to,
        gas: 21_000n,
        gasPrice: 1n,
      };
      expect(await account.signTransaction(legacy)).to.equal(await local.signTransaction(legacy));
    });

    it("passes the purpose to the signer so a KMS policy can inspect it", async function () {
      const seen: string[] = [];
      const account = new ExternalSigner(local.address, (req) => {
        seen.push(req.purpose.kind);
        return localDigestSigner()(req);
      }).toAccount();
      await account.signTypedData(typedData);
      await account.signTransaction(tx);
      expect(seen).to.deep.equal(["typedData", "transaction"]);
    });

    it("normalises a high-s signature without v (as KMS returns them)", async function () {
      const kms: DigestSigner = async (req) => {
        const sig = await localDigestSigner()(req);
        const highS = N - hexToBigInt(slice(sig, 32, 64));
        return concat([slice(sig, 0, 32), numberToHex(highS, { size: 32 })]);
      };
      const account = new ExternalSigner(local.address, kms).toAccount();
      const signature = await account.signMessage({ message: "m" });
      expect(signature).to.equal(await local.signMessage({ message: "m" }));
      expect(await recoverMessageAddress({ message: "m", signature })).to.equal(local.address);
    });

    it("refuses a signature with one byte flipped", async function () {
      const flipped: DigestSigner = async (req) => {
        const sig = await localDigestSigner()(req);
        const bytes = Buffer.from(sig.slice(2), "hex");
        bytes[10] ^= 0x01;
        return `0x${bytes.toString("hex")}`;
      };
      const signer = new ExternalSigner(local.address, flipped);
      await expectCcgpError(() => signer.toAccount().signTypedData(typedData), "EXTERNAL_SIGNER_WRONG_KEY");
    });

    it("refuses a signature from another key, garbage, and a failing signer", async function () {
      const other = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba" as const;
      await expectCcgpError(
        () => new ExternalSigner(local.address, localDigestSigner(other)).signDigest(`0x${"11".repeat(32)}`),
        "EXTERNAL_SIGNER_WRONG_KEY",
      );
      await expectCcgpError(
        () => new ExternalSigner(local.address, async () => "0x1234").signDigest(`0x${"11".repeat(32)}`),
        "EXTERNAL_SIGNER_BAD_SIGNATURE",
      );
      const error = await expectCcgpError(
        () =>
          new ExternalSigner(local.address, async () => {
            throw new Error("HSM offline");
          }).signDigest(`0x${"11".repeat(32)}`),
        "EXTERNAL_SIGNER_FAILED",
      );
      expect(error.message).to.include("HSM offline");
    });

    describe("over HTTP", function () {
      let server: Server;
      let url: string;
      let refuse = false;
      before(async function () {
        server = createServer((req, res) => {
          const chunks: Buffer[] = [];
          req.on("data", (c: Buffer) => chunks.push(c));
          req.on("end", () => {
            const body = JSON.parse(Buffer.concat(chunks).toString()) as { digest: Hex; purpose: string };
            if (refuse) {
              res.writeHead(403).end("policy: refused");
              return;
            }
            void local.sign({ hash: body.digest }).then((signature) => {
              res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ signature }));
            });
          });
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sign`;
      });
      after(async function () {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });

      it("signs through an HTTP signing service configured as an external key", async function () {
        refuse = false;
        const account = await loadSigner(
          { kind: "external", address: local.address, endpoint: url },
          { role: "business" },
        );
        expect(await account.signTypedData(typedData)).to.equal(await local.signTypedData(typedData));
        expect(await new ExternalSigner(local.address, httpDigestSigner(url)).toAccount().signTransaction(tx)).to.equal(
          await local.signTransaction(tx),
        );
      });

      it("reports a refusal of the signing service", async function () {
        refuse = true;
        const signer = new ExternalSigner(local.address, httpDigestSigner(url));
        const error = await expectCcgpError(() => signer.signDigest(`0x${"22".repeat(32)}`), "EXTERNAL_SIGNER_FAILED");
        expect(error.message).to.include("403");
      });
    });
  });
});
