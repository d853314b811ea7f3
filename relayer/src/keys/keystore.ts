import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { decryptKeystoreJson, encryptKeystoreJson, isError } from "ethers";
import { getAddress, isAddress, isHex, type Address, type Hex, type PrivateKeyAccount } from "viem";
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

/** Decrypts a v3 keystore into a viem account. A wrong password is refused naming the file. */
export async function loadKeystore(path: string, password: string): Promise<PrivateKeyAccount> {
  const absolute = resolve(path);
  const { text } = readKeystoreJson(absolute);
  try {
    const decrypted = await decryptKeystoreJson(text, password);
    return fastAccount(decrypted.privateKey as Hex);
  } catch (error) {
    if (isError(error, "INVALID_ARGUMENT") && error.argument === "password")
      throw new CcgpError("KEYSTORE_BAD_PASSWORD", `wrong password for keystore ${absolute}`, { path: absolute });
    if (isError(error, "INVALID_ARGUMENT") && error.argument === "address")
      throw new CcgpError("KEYSTORE_INVALID", `keystore ${absolute}: address field does not match the key`, {
        path: absolute,
      });
    throw new CcgpError(
      "KEYSTORE_INVALID",
      `keystore ${absolute} cannot be decrypted`,
      { path: absolute },
      {
        cause: error,
      },
    );
  }
}
