/** The standalone attester's config: refused at start naming each bad field; key material is never accepted. */
import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../relayer/src/config/load";
import { exitOnBadConfig, refusalOf } from "./helpers/config";
import { loadAttesterConfig, parseAttesterConfig } from "../../relayer/src/attest/config";
import { main } from "../../relayer/src/attest/main";

const ADDRESS = "0x1111111111111111111111111111111111111111";

function valid(dir: string): Record<string, unknown> {
  writeFileSync(join(dir, "key.json"), "{}");
  const contracts = { ledger: ADDRESS, pipes: ADDRESS, chains: ADDRESS, attesters: ADDRESS };
  return {
    institutionId: 4,
    governance: { rpcUrl: "http://127.0.0.1:8545", contracts },
    key: { kind: "keystore", path: "key.json", passwordEnv: "CCGP_KEYSTORE_PASSWORD" },
    listen: { port: 9480 },
  };
}

const refusal = (raw: unknown, dir: string): string[] => refusalOf(() => parseAttesterConfig(raw, { baseDir: dir }));

describe("attester config", () => {
  const dir = mkdtempSync(join(tmpdir(), "ccgp-attester-config-"));

  it("accepts a whole config, with defaults, and resolves the key path against the config's directory", () => {
    const config = parseAttesterConfig(valid(dir), { baseDir: dir });
    expect(config.governance).to.include({ fromBlock: 0, followIntervalMs: 100 });
    expect(config.listen).to.deep.equal({ host: "127.0.0.1", port: 9480 });
    expect(config.key).to.deep.include({ kind: "keystore", path: join(dir, "key.json") });
  });

  it("names each bad field: an unknown field, a bad URL, a missing attester registry, a bad port", () => {
    const raw = valid(dir) as { governance: Record<string, unknown>; [k: string]: unknown };
    raw.extra = 1;
    raw.governance = { rpcUrl: "ftp://x", contracts: { ledger: ADDRESS, pipes: ADDRESS, chains: ADDRESS } };
    raw.listen = { port: 70_000 };
    const issues = refusal(raw, dir);
    expect(issues.some((i) => i.startsWith("config.extra: unknown field"))).to.equal(true);
    expect(issues.some((i) => i.startsWith("config.governance.rpcUrl:"))).to.equal(true);
    expect(issues.some((i) => i.startsWith("config.governance.contracts.attesters:"))).to.equal(true);
    expect(issues.some((i) => i.startsWith("config.listen.port:"))).to.equal(true);
  });

  it("refuses a missing keystore file and a private key in the file", () => {
    const missing = refusal({ ...valid(dir), key: { kind: "keystore", path: "nope.json", passwordEnv: "X" } }, dir);
    expect(missing[0]).to.match(/^config\.key\.path: file not found/);
    const secret = refusal({ ...valid(dir), privateKey: `0x${"ab".repeat(32)}` }, dir);
    expect(secret.join("\n")).to.match(/privateKey/);
    expect(() => loadAttesterConfig(join(dir, "absent.json"))).to.throw(ConfigError, /file not found/);
  });

  it("the process exits 2 on a bad config, naming the field as the attester's", async () => {
    const path = join(dir, "bad-process.json");
    writeFileSync(path, JSON.stringify({ ...valid(dir), extra: 1 }));
    const { code, stderr } = await exitOnBadConfig(() => main(["node", "ccgp-attester", "--config", path]));
    expect(code).to.equal(2);
    expect(stderr)
      .to.match(/^attester config/)
      .and.to.contain("extra");
  });
});
