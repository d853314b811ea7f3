import { expect } from "chai";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, ENV_OVERRIDES, loadConfig } from "../../../relayer/src/config";
import { configDir, validRawConfig, writeConfig } from "../helpers/config";
import { expectCcgpError } from "../helpers/errors";

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PRIVATE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

describe("relayer/config", function () {
  let dir: string;
  beforeEach(function () {
    dir = configDir();
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  async function refused(mutate: (raw: Raw) => void, env: NodeJS.ProcessEnv = {}): Promise<ConfigError> {
    const raw = validRawConfig() as Raw;
    mutate(raw);
    const path = writeConfig(dir, raw);
    const error = await expectCcgpError(() => loadConfig({ path, env }), "CONFIG_INVALID");
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }

  it("loads a valid file, fills defaults and resolves paths against the file's directory", function () {
    const config = loadConfig({ path: writeConfig(dir, validRawConfig()), env: {} });
    expect(config.institutionId).to.equal(3);
    expect(config.chains.sub_a).to.include({ kind: "evm", chainId: 1001, confirmations: 3, startBlock: 10 });
    expect(config.chains.sub_a.pollIntervalMs).to.equal(1_000);
    expect(config.keys.service).to.deep.equal({
      kind: "keystore",
      path: join(dir, "service.json"),
      passwordEnv: "CCGP_SERVICE_KEY_PASSWORD",
    });
    expect(config.server.tls.ca).to.equal(join(dir, "ca.crt"));
    expect(config.store.path).to.equal(join(dir, "state/relayer.sqlite"));
    expect(config.metrics.prefix).to.equal("ccgp_");
    expect(config.auditor).to.equal(undefined);
  });

  it("takes an auditor API section, its index path resolved against the file's directory", function () {
    const raw = validRawConfig() as Raw;
    raw.auditor = { db: "state/auditor.sqlite", subchains: [{ chainId: 1002, rpcUrl: "http://127.0.0.1:8546" }] };
    const config = loadConfig({ path: writeConfig(dir, raw), env: {} });
    expect(config.auditor).to.deep.equal({
      db: join(dir, "state/auditor.sqlite"),
      index: true,
      fromBlock: 0,
      windowSeconds: 60,
      subchains: [{ chainId: 1002, rpcUrl: "http://127.0.0.1:8546" }],
    });
  });

  it("takes the file from CCGP_CONFIG", function () {
    const path = writeConfig(dir, validRawConfig());
    expect(loadConfig({ env: { CCGP_CONFIG: path } }).institutionId).to.equal(3);
  });

  const badFields: Array<[string, (raw: Raw) => void, string]> = [
    [
      "a sub-chain URL",
      (r) => (r.chains.sub_a.rpcUrl = "localhost:8545"),
      "config.chains.sub_a.rpcUrl: expected an http(s) URL",
    ],
    [
      "a non-http URL",
      (r) => (r.governance.rpcUrl = "ftp://x.example"),
      "config.governance.rpcUrl: expected an http(s) URL",
    ],
    ["a chain id of 0", (r) => (r.governance.chainId = 0), "config.governance.chainId: expected a chain id >= 1"],
    [
      "a short address",
      (r) => (r.governance.contracts.ledger = "0x1234"),
      "config.governance.contracts.ledger: expected a 0x-prefixed 20-byte address",
    ],
    [
      "a bad checksum",
      (r) => (r.chains.sub_a.gateway = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"),
      "config.chains.sub_a.gateway: expected a 0x-prefixed 20-byte address (mixed case must be a valid checksum)",
    ],
    [
      "a missing registry",
      (r) => delete r.governance.contracts.registries.pipes,
      "config.governance.contracts.registries.pipes: required",
    ],
    ["a port out of range", (r) => (r.server.port = 70_000), "config.server.port: expected at most 65535"],
    ["a port as text", (r) => (r.server.port = "8443"), "config.server.port: expected a number, got string"],
    ["a missing CA file", (r) => (r.server.tls.ca = "nope.crt"), "config.server.tls.ca: file not found"],
    ["a missing keystore", (r) => (r.keys.business.path = "gone.json"), "config.keys.business.path: file not found"],
    [
      "an unknown key kind",
      (r) => (r.keys.service.kind = "plain"),
      'config.keys.service.kind: expected one of "keystore", "external"',
    ],
    [
      "a bad variable name",
      (r) => (r.keys.business.passwordEnv = "MY PASSWORD"),
      "config.keys.business.passwordEnv: expected an environment variable name",
    ],
    [
      "a zero rate",
      (r) => (r.limits.perPipe.ratePerSecond = 0),
      "config.limits.perPipe.ratePerSecond: expected a rate above 0",
    ],
    ["no sub-chain", (r) => (r.chains = {}), "config.chains: expected at least one sub-chain"],
    [
      "an unknown chain kind",
      (r) => (r.chains.sub_a.kind = "cosmos"),
      'config.chains.sub_a.kind: expected one of "evm"',
    ],
    [
      "a bad chain name",
      (r) => (r.chains = { "Sub-A": r.chains.sub_a }),
      "config.chains.Sub-A: invalid name: chain names are lowercase letters",
    ],
    ["a bad log level", (r) => (r.log.level = "loud"), "config.log.level: Invalid option"],
    ["a negative institution", (r) => (r.institutionId = -1), "config.institutionId: expected at least 0"],
    ["an unknown field", (r) => (r.server.prot = 1), "config.server.prot: unknown field"],
    ["a missing section", (r) => delete r.store, "config.store: required"],
    ["clashing ports", (r) => (r.metrics.port = 8443), "config.metrics.port: same port as config.server.port (8443)"],
    [
      "an auditor API without the ops listener",
      (r) => ((r.auditor = { db: "state/auditor.sqlite" }), (r.metrics = { enabled: false })),
      "config.auditor: the auditor API is served on the ops listener: set config.metrics.enabled",
    ],
    [
      "an auditor index in the relayer's store",
      (r) => (r.auditor = { db: r.store.path }),
      "config.auditor.db: must not be the relayer's store (config.store.path)",
    ],
    [
      "a bad auditor sub-chain RPC",
      (r) => (r.auditor = { db: "state/auditor.sqlite", subchains: [{ chainId: 1002, rpcUrl: "ws://x" }] }),
      "config.auditor.subchains[0].rpcUrl: expected an http(s) URL",
    ],
  ];
  for (const [what, mutate, expected] of badFields)
    it(`refuses ${what}, naming the field`, async function () {
      const error = await refused(mutate);
      expect(error.message).to.include(expected);
      expect(error.issues.map((i) => `${i.path}: ${i.message}`).some((line) => line.startsWith(expected))).to.equal(
        true,
        error.message,
      );
    });

  it("lists every bad field at once", async function () {
    const error = await refused((r) => {
      r.governance.chainId = "x";
      r.chains.sub_a.confirmations = -1;
    });
    expect(error.issues.map((i) => i.path)).to.have.members([
      "config.governance.chainId",
      "config.chains.sub_a.confirmations",
    ]);
  });

  it("applies CCGP_* overrides over the file", function () {
    const config = loadConfig({
      path: writeConfig(dir, validRawConfig()),
      env: {
        CCGP_CHAIN_SUB_A_RPC: "https://sub-a.example:8545",
        CCGP_CHAIN_SUB_A_START_BLOCK: "77",
        CCGP_SERVER_PORT: "9443",
        CCGP_LOG_LEVEL: "warn",
        CCGP_METRICS_ENABLED: "false",
        CCGP_GOVERNANCE_RPC: "http://gov.example:8545",
      },
    });
    expect(config.chains.sub_a.rpcUrl).to.equal("https://sub-a.example:8545");
    expect(config.chains.sub_a.startBlock).to.equal(77);
    expect(config.server.port).to.equal(9443);
    expect(config.log.level).to.equal("warn");
    expect(config.metrics.enabled).to.equal(false);
    expect(config.governance.rpcUrl).to.equal("http://gov.example:8545");
  });

  it("names the variable when an override is bad", async function () {
    const error = await refused(() => undefined, { CCGP_SERVER_PORT: "eighty" });
    expect(error.message).to.include("config.server.port: expected a number, got string (from CCGP_SERVER_PORT)");
  });

  it("documents every fixed override under a CCGP_ name", function () {
    for (const o of ENV_OVERRIDES) expect(o.name).to.match(/^CCGP_[A-Z_]+$/);
  });

  describe("key material", function () {
    it("refuses a private key field, without echoing the key", async function () {
      const error = await refused((r) => (r.keys.service = { kind: "keystore", privateKey: PRIVATE_KEY }));
      expect(error.message).to.include('config.keys.service.privateKey: field "privateKey" holds a secret');
      expect(error.message).to.include("encrypted keystore");
      expect(error.message).to.not.include(PRIVATE_KEY.slice(2));
    });

    it("refuses a value that looks like a private key in any field", async function () {
      const error = await refused((r) => (r.keys.business.path = PRIVATE_KEY.slice(2)));
      expect(error.message).to.include("config.keys.business.path: value looks like a private key");
      expect(error.message).to.not.include(PRIVATE_KEY.slice(2));
    });

    it("refuses a mnemonic phrase", async function () {
      const phrase = "test test test test test test test test test test test junk";
      const error = await refused((r) => (r.keys.service.seedPhrase = phrase));
      expect(error.message).to.include("config.keys.service.seedPhrase");
      const error2 = await refused((r) => (r.keys.service.path = phrase));
      expect(error2.message).to.include("config.keys.service.path: value looks like a mnemonic phrase");
    });

    it("refuses a key slipped in through an environment variable", async function () {
      const error = await refused(() => undefined, { CCGP_TLS_KEY: PRIVATE_KEY });
      expect(error.message).to.include("config.server.tls.key: value looks like a private key");
    });

    it("refuses a password in the config", async function () {
      const error = await refused((r) => (r.keys.service.password = "hunter22"));
      expect(error.message).to.include('config.keys.service.password: field "password" holds a secret');
      expect(error.message).to.not.include("hunter22");
    });
  });

  describe("unreadable files", function () {
    it("names a missing file", async function () {
      const path = join(dir, "absent.json");
      const error = await expectCcgpError(() => loadConfig({ path, env: {} }), "CONFIG_NOT_FOUND");
      expect(error.message).to.include(`file not found: ${path}`);
    });

    it("refuses a file that is not JSON", async function () {
      const path = join(dir, "broken.json");
      writeFileSync(path, "{ institutionId: 3");
      const error = await expectCcgpError(() => loadConfig({ path, env: {} }), "CONFIG_NOT_JSON");
      expect(error.message).to.include("not valid JSON");
    });

    it("refuses to start without a config", async function () {
      const error = await expectCcgpError(() => loadConfig({ env: {} }), "CONFIG_MISSING");
      expect(error.message).to.include("CCGP_CONFIG");
    });
  });
});
