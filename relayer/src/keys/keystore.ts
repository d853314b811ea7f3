import { createDecipheriv, pbkdf2, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { promisify } from "node:util";
import {
  bytesToHex,
  getAddress,
  hexToBytes,
  isAddress,
  isHex,
  keccak256,
  type Address,
  type Hex,
  type PrivateKeyAccount,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { fastAccount } from "../../../lib/crypto/secp256k1";
import { CcgpError } from "../../../lib/infra/errors";

/** ethers' default scrypt cost (2^17): about a second per unlock, which is the point. */
export const DEFAULT_SCRYPT_N = 1 << 17;
export const MIN_PASSWORD_LENGTH = 8;

export interface CreateKeystoreOptions {
  /** Key to encrypt; a fresh random key when absent. */
  privateKey?: Hex;
  password: string;
  path: string;
  /** scrypt cost; lower it only in tests. */
  scryptN?: number;
  /** Replace an existing file (default: refuse, so a key is never lost by accident). */
  overwrite?: boolean;
}

/** Encrypts a key into a Web3 Secret Storage v3 file (mode 0600) and returns its address. */
export async function createKeystore(options: CreateKeystoreOptions): Promise<{ address: Address; path: string }> {
  const path = resolve(options.path);
  if (options.password.length < MIN_PASSWORD_LENGTH)
    throw new CcgpError(
      "KEYSTORE_WEAK_PASSWORD",
      `keystore password must have at least ${MIN_PASSWORD_LENGTH} characters`,
    );
  if (!options.overwrite && existsSync(path))
    throw new CcgpError("KEYSTORE_EXISTS", `keystore ${path} already exists; refusing to overwrite it`, { path });
  const privateKey = options.privateKey ?? generatePrivateKey();
  if (!isHex(privateKey) || privateKey.length !== 66)
    throw new CcgpError("KEYSTORE_BAD_KEY", "private key must be 32 bytes of 0x-prefixed hex");
  const account = privateKeyToAccount(privateKey);
  // ethers writes the file: only here, never in a relayer, which only opens keystores (below).
  const { encryptKeystoreJson } = await import("ethers");
  const json = await encryptKeystoreJson({ address: account.address, privateKey }, options.password, {
    scrypt: { N: options.scryptN ?? DEFAULT_SCRYPT_N },
  });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, json, { mode: 0o600 });
  return { address: account.address, path };
}

/** Reads the address a keystore declares, without decrypting it. */
export function keystoreAddress(path: string): Address {
  const parsed = readKeystoreJson(resolve(path)).parsed;
  if (typeof parsed.address !== "string")
    throw new CcgpError("KEYSTORE_INVALID", `keystore ${path} has no address field`, { path });
  const address = parsed.address.startsWith("0x") ? parsed.address : `0x${parsed.address}`;
  if (!isAddress(address, { strict: false }))
    throw new CcgpError("KEYSTORE_INVALID", `keystore ${path} has a malformed address field`, { path });
  return getAddress(address);
}

function readKeystoreJson(path: string): { text: string; parsed: Record<string, unknown> } {
  if (!existsSync(path)) throw new CcgpError("KEYSTORE_NOT_FOUND", `keystore file not found: ${path}`, { path });
  const text = readFileSync(path, "utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CcgpError("KEYSTORE_INVALID", `keystore ${path} is not JSON`, { path }, { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || (parsed as { version?: unknown }).version !== 3)
    throw new CcgpError("KEYSTORE_INVALID", `keystore ${path} is not a Web3 Secret Storage v3 file`, { path });
  return { text, parsed: parsed as Record<string, unknown> };
}

const scryptAsync = promisify(scrypt) as (
  password: BinaryLike,
  salt: BinaryLike,
  keylen: number,
  options: ScryptOptions,
) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

interface V3Crypto {
  cipher: string;
  ciphertext: string;
  cipherparams: { iv: string };
  kdf: string;
  kdfparams: { dklen: number; salt: string; n?: number; r?: number; p?: number; c?: number; prf?: string };
  mac: string;
}

const hex = (s: string): Uint8Array => hexToBytes((s.startsWith("0x") ? s : `0x${s}`) as Hex);

/** The key a v3 file's password derives (scrypt or pbkdf2, as the file says), by node's native crypto. */
async function deriveKey(c: V3Crypto, password: string): Promise<Buffer> {
  const k = c.kdfparams;
  const salt = hex(k.salt);
  if (c.kdf === "scrypt" && k.n && k.r && k.p)
    return scryptAsync(password.normalize("NFKC"), salt, k.dklen, {
      N: k.n,
      r: k.r,
      p: k.p,
      maxmem: 256 * k.n * k.r + (1 << 20),
    });
  if (c.kdf === "pbkdf2" && k.c && k.prf === "hmac-sha256")
    return pbkdf2Async(password.normalize("NFKC"), salt, k.c, k.dklen, "sha256");
  throw new Error(`unsupported key derivation ${c.kdf}`);
}

/**
 * Decrypts a v3 keystore into a viem account. A wrong password is refused naming the file.
 *
 * Web3 Secret Storage v3 by node's crypto (scrypt or pbkdf2, the keccak256 MAC, AES-128-CTR) rather than ethers':
 * a relayer then never loads ethers, and the native scrypt is several times faster than ethers' JavaScript one.
 * Files written by ethers, geth or Besu open the same (the round trip and a flipped byte are tested).
 */
export async function loadKeystore(path: string, password: string): Promise<PrivateKeyAccount> {
  const absolute = resolve(path);
  const { parsed } = readKeystoreJson(absolute);
  const c = ((parsed as { crypto?: V3Crypto; Crypto?: V3Crypto }).crypto ??
    (parsed as { Crypto?: V3Crypto }).Crypto) as V3Crypto;
  let privateKey: Hex;
  try {
    if (c.cipher !== "aes-128-ctr") throw new Error(`unsupported cipher ${c.cipher}`);
    const derived = await deriveKey(c, password);
    const ciphertext = hex(c.ciphertext);
    const mac = hexToBytes(keccak256(new Uint8Array([...derived.subarray(16, 32), ...ciphertext])));
    const expected = hex(c.mac);
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected))
      throw new CcgpError("KEYSTORE_BAD_PASSWORD", `wrong password for keystore ${absolute}`, { path: absolute });
    const decipher = createDecipheriv("aes-128-ctr", derived.subarray(0, 16), hex(c.cipherparams.iv));
    privateKey = bytesToHex(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  } catch (error) {
    if (error instanceof CcgpError) throw error;
    throw new CcgpError(
      "KEYSTORE_INVALID",
      `keystore ${absolute} cannot be decrypted`,
      { path: absolute },
      { cause: error },
    );
  }
  const account = fastAccount(privateKey);
  const declared =
    typeof parsed.address !== "string"
      ? undefined
      : parsed.address.startsWith("0x")
        ? parsed.address
        : `0x${parsed.address}`;
  if (declared !== undefined && (!isAddress(declared, { strict: false }) || getAddress(declared) !== account.address))
    throw new CcgpError("KEYSTORE_INVALID", `keystore ${absolute}: address field does not match the key`, {
      path: absolute,
    });
  return account;
}
