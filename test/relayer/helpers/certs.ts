import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** PEM files of one identity, plus the paths they were written to. */
export interface Identity {
  name: string;
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

const openssl = (args: string[], cwd: string): string =>
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] }).toString();

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** Test PKI made with the openssl CLI in a temp directory: CAs, and leaf certificates for 127.0.0.1/localhost. */
export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), "ccgp-pki-"));

  /** A self-signed CA. */
  ca(name: string): Identity {
    openssl(
      [
        "req",
        "-x509",
        ...EC,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.crt`,
        "-days",
        "2",
        "-subj",
        `/CN=${name}`,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ],
      this.dir,
    );
    return this._identity(name);
  }

  /** A leaf certificate signed by `ca`, valid for TLS server and client use on 127.0.0.1 and localhost. */
  leaf(name: string, ca: Identity): Identity {
    writeFileSync(
      join(this.dir, `${name}.ext`),
      [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "extendedKeyUsage=serverAuth,clientAuth",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
      ].join("\n"),
    );
    openssl(["req", "-new", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`], this.dir);
    openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        ca.certPath,
        "-CAkey",
        ca.keyPath,
        "-CAcreateserial",
        "-out",
        `${name}.crt`,
        "-days",
        "2",
        "-extfile",
        `${name}.ext`,
      ],
      this.dir,
    );
    return this._identity(name);
  }

  /** SHA-256 fingerprint as openssl prints it (`AB:CD:...`), to cross-check our own computation. */
  opensslFingerprint(identity: Identity): string {
    return openssl(["x509", "-noout", "-fingerprint", "-sha256", "-in", identity.certPath], this.dir)
      .trim()
      .split("=")[1];
  }

  private _identity(name: string): Identity {
    const certPath = join(this.dir, `${name}.crt`);
    const keyPath = join(this.dir, `${name}.key`);
    return { name, certPath, keyPath, cert: readFileSync(certPath, "utf8"), key: readFileSync(keyPath, "utf8") };
  }
}
