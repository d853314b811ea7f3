/**
 * Refuses key material in the config. The schema has no field for a key, but a strict schema alone would
 * answer "unknown field"; an operator who pasted a private key deserves to be told what they did.
 */

/** Field names that hold secrets. `passwordEnv` (the *name* of a variable) is fine and does not match. */
const SECRET_FIELD = /^(private_?key|priv_?key|pk|secret|secret_?key|mnemonic|seed|seed_?phrase|passphrase|password)$/i;

/** 32 bytes of hex: a secp256k1 private key. The config has no hash-like field, so nothing legitimate matches. */
const HEX_KEY = /^(0x)?[0-9a-fA-F]{64}$/;

/** A BIP-39 phrase: 12 to 24 lowercase words. */
const MNEMONIC = /^([a-z]+ ){11,23}[a-z]+$/;

export interface SecretFinding {
  path: string;
  message: string;
}

const ADVICE =
  "keys must never be in the config; put the key in an encrypted keystore " +
  '(keys.<role> = { kind: "keystore", path, passwordEnv }) or use an external signer';

function describe(key: string, value: unknown): string | undefined {
  if (SECRET_FIELD.test(key)) return `field "${key}" holds a secret: ${ADVICE}`;
  if (typeof value !== "string") return undefined;
  if (HEX_KEY.test(value.trim())) return `value looks like a private key: ${ADVICE}`;
  if (MNEMONIC.test(value.trim())) return `value looks like a mnemonic phrase: ${ADVICE}`;
  return undefined;
}

/** Walks the raw config (before validation) and reports every field that holds or looks like a key. */
export function findSecrets(node: unknown, path = "config"): SecretFinding[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => findSecrets(item, `${path}[${i}]`));
  if (typeof node !== "object" || node === null) return [];
  const findings: SecretFinding[] = [];
  for (const [key, value] of Object.entries(node)) {
    const here = `${path}.${key}`;
    const message = describe(key, value);
    if (message !== undefined) findings.push({ path: here, message });
    else findings.push(...findSecrets(value, here));
  }
  return findings;
}
