import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { certificateFingerprint } from "../../../relayer/src/server/tls";
import { DeployError } from "../../../lib/deploy/governance";

/** A certificate and its key on disk, with the SHA-256 fingerprint the service registry pins. */
export interface CertFiles {
  name: string;
  certPath: string;
  keyPath: string;
  /** Lowercase hex, no separators (what the relayer's pin policy compares). */
  fingerprint: string;
  /** The same as a bytes32, for `ServiceRegistry` endpoints. */
  fingerprint32: string;
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new DeployError(
      `openssl ${args[0]} failed${stderr ? `: ${stderr}` : ""} (is the openssl CLI installed?)`,
      { args },
      { cause: err },
    );
  }
}

function files(dir: string, name: string): CertFiles {
  const certPath = join(dir, `${name}.crt`);
  const fingerprint = certificateFingerprint(readFileSync(certPath, "utf8"));
  return { name, certPath, keyPath: join(dir, `${name}.key`), fingerprint, fingerprint32: `0x${fingerprint}` };
}

/**
 * The consortium's local PKI, made with the openssl CLI: one CA, and one certificate per service, valid for TLS
 * server and client use on 127.0.0.1 and localhost (mutual TLS between relayers). EC P-256 keys, short validity:
 * this is for a local run only.
 */
export class LocalPki {
  readonly ca: CertFiles;

  constructor(
    readonly dir: string,
    private readonly days = 30,
  ) {
    mkdirSync(dir, { recursive: true });
    const ext = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"];
    openssl(
      [
        "req",
        "-x509",
        ...EC_KEY,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        String(days),
        "-subj",
        "/CN=CCGP local consortium CA",
        ...ext,
      ],
      dir,
    );
    this.ca = files(dir, "ca");
  }

  /** A leaf certificate signed by the CA, named `name` (file names and CN). */
  issue(name: string): CertFiles {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
      throw new DeployError(`certificate name "${name}" must be lowercase letters, digits and -`, { name });
    writeFileSync(
      join(this.dir, `${name}.ext`),
      [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "extendedKeyUsage=serverAuth,clientAuth",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
      ].join("\n"),
    );
    openssl(
      ["req", "-new", ...EC_KEY, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`],
      this.dir,
    );
    openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${name}.crt`,
        "-days",
        String(this.days),
        "-extfile",
        `${name}.ext`,
      ],
      this.dir,
    );
    return files(this.dir, name);
  }
}
