import {
  hashMessage,
  hashTypedData,
  isAddressEqual,
  isHex,
  keccak256,
  numberToHex,
  hexToBigInt,
  parseSignature,
  serializeSignature,
  serializeTransaction,
  size,
  slice,
  type Address,
  type Hex,
  type LocalAccount,
  type SignableMessage,
  type TransactionSerializable,
  type TypedDataDefinition,
} from "viem";
import { toAccount } from "viem/accounts";
import { CcgpError } from "../../../lib/infra/errors";
import { recoverHashSigner } from "../../../lib/crypto/secp256k1";

/** secp256k1 group order: signatures are normalised to s <= N/2 (EIP-2), as KMS/HSM outputs may not be. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** What the digest is for, so the external signer can apply its own policy before signing. */
export type SignPurpose =
  | { kind: "hash" }
  | { kind: "message"; message: SignableMessage }
  | { kind: "typedData"; typedData: TypedDataDefinition }
  | { kind: "transaction"; transaction: TransactionSerializable };

export interface DigestSignRequest {
  address: Address;
  /** The 32-byte digest to sign with raw secp256k1 (no prefixing). */
  digest: Hex;
  purpose: SignPurpose;
}

/**
 * The one thing a KMS/HSM must do: sign a 32-byte digest. It returns r||s (64 bytes) or r||s||v (65 bytes);
 * the adapter normalises s, finds the recovery bit, and checks the signature is from the expected address.
 */
export type DigestSigner = (request: DigestSignRequest) => Promise<Hex>;

/** A signer whose key lives elsewhere (KMS, HSM, remote signer), usable anywhere a viem account is. */
export class ExternalSigner {
  constructor(
    readonly address: Address,
    private readonly _sign: DigestSigner,
  ) {}

  /** Signs a digest externally; refuses a signature that does not recover to `address`. */
  async signDigest(digest: Hex, purpose: SignPurpose = { kind: "hash" }): Promise<Hex> {
    let raw: Hex;
    try {
      raw = await this._sign({ address: this.address, digest, purpose });
    } catch (error) {
      throw new CcgpError(
        "EXTERNAL_SIGNER_FAILED",
        `external signer for ${this.address} failed: ${(error as Error).message}`,
        { address: this.address, purpose: purpose.kind },
        { cause: error },
      );
    }
    return this._normalise(digest, raw);
  }

  private async _normalise(digest: Hex, raw: Hex): Promise<Hex> {
    if (!isHex(raw) || (size(raw) !== 64 && size(raw) !== 65))
      throw new CcgpError("EXTERNAL_SIGNER_BAD_SIGNATURE", "external signer returned no 64- or 65-byte signature", {
        address: this.address,
      });
    const r = slice(raw, 0, 32);
    let s = hexToBigInt(slice(raw, 32, 64));
    if (s > SECP256K1_N / 2n) s = SECP256K1_N - s;
    for (const yParity of [0, 1]) {
      const signature = serializeSignature({ r, s: numberToHex(s, { size: 32 }), yParity });
      const recovered = await recoverHashSigner(digest, signature).catch(() => undefined);
      if (recovered !== undefined && isAddressEqual(recovered, this.address)) return signature;
    }
    throw new CcgpError(
      "EXTERNAL_SIGNER_WRONG_KEY",
      `external signer returned a signature that does not recover to ${this.address}`,
      { address: this.address, digest },
    );
  }

  /** A viem `LocalAccount` whose every signature goes through `signDigest`. */
  toAccount(): LocalAccount {
    return toAccount({
      address: this.address,
      sign: ({ hash }) => this.signDigest(hash),
      signMessage: ({ message }) => this.signDigest(hashMessage(message), { kind: "message", message }),
      signTypedData: (typedData) =>
        this.signDigest(hashTypedData(typedData), {
          kind: "typedData",
          typedData: typedData as TypedDataDefinition,
        }),
      signTransaction: (async (
        transaction: TransactionSerializable,
        options?: { serializer?: typeof serializeTransaction },
      ) => {
        const serializer = options?.serializer ?? serializeTransaction;
        // As viem's own signer: a blob transaction is signed without its sidecars.
        const signable = transaction.type === "eip4844" ? { ...transaction, sidecars: false as const } : transaction;
        const digest = keccak256(await serializer(signable));
        const signature = await this.signDigest(digest, { kind: "transaction", transaction });
        return serializer(transaction, parseSignature(signature));
      }) as LocalAccount["signTransaction"],
    });
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/**
 * A `DigestSigner` that asks an HTTP service: `POST endpoint` with JSON
 * `{ address, digest, purpose, payload }` (bigints as decimal strings), answered by `{ "signature": "0x..." }`.
 * The service holds the key (KMS/HSM front) and may refuse by answering a non-2xx status.
 */
export function httpDigestSigner(endpoint: string, options: { timeoutMs?: number } = {}): DigestSigner {
  return async ({ address, digest, purpose }) => {
    const { kind, ...payload } = purpose;
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ address, digest, purpose: kind, payload }, jsonReplacer),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${endpoint} answered ${response.status}: ${text.slice(0, 200)}`);
    const body = JSON.parse(text) as { signature?: unknown };
    if (typeof body.signature !== "string" || !isHex(body.signature))
      throw new Error(`${endpoint} answered without a hex "signature" field`);
    return body.signature;
  };
}
