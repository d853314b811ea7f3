import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { CcgpError } from "../../../lib/infra/errors";

/** PEM material for one side of a mutual-TLS connection. */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** The consortium CA: the only issuer whose certificates are accepted. */
  ca: string;
}

/**
 * Decides whether a peer certificate is allowed, by its SHA-256 fingerprint (lowercase hex, no colons).
 * Synchronous on purpose: it is asked during the TLS handshake and on every request, so it must read an
 * in-memory set (later: the fingerprints registered on the governance chain, kept in sync).
 */
export type PinPolicy = (fingerprint: string) => boolean;

/** `AB:CD:...` (Node's `fingerprint256`) or plain hex, to lowercase hex without separators. */
export function normalizeFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/:/g, "").toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new CcgpError("TLS_BAD_FINGERPRINT", `not a SHA-256 fingerprint: ${fingerprint}`, { fingerprint });
  return hex;
}

/** SHA-256 fingerprint of a PEM certificate (of its DER encoding, as `openssl x509 -fingerprint -sha256`). */
export function certificateFingerprint(pem: string): string {
  return normalizeFingerprint(new X509Certificate(pem).fingerprint256);
}

/** A pin policy over a fixed set of fingerprints (any accepted format). */
export function pinSet(fingerprints: Iterable<string>): PinPolicy {
  const allowed = new Set([...fingerprints].map(normalizeFingerprint));
  return (fingerprint) => allowed.has(fingerprint);
}

/** Reads PEM files; a missing file is refused naming it. */
export function loadTlsMaterial(paths: { cert: string; key: string; ca: string }): TlsMaterial {
  const read = (field: keyof typeof paths): string => {
    try {
      return readFileSync(paths[field], "utf8");
    } catch (error) {
      throw new CcgpError(
        "TLS_FILE_UNREADABLE",
        `TLS ${field} file ${paths[field]} cannot be read`,
        { field, path: paths[field] },
        { cause: error },
      );
    }
  };
  return { cert: read("cert"), key: read("key"), ca: read("ca") };
}
