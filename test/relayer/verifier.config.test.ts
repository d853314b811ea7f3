/** The independent verifier's config: refused at start naming each bad field; key material is never accepted. */
import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../relayer/src/config/load";
import { exitOnBadConfig, refusalOf } from "./helpers/config";
import { loadVerifierConfig, parseVerifierConfig } from "../../relayer/src/verifier/config";
import { main } from "../../relayer/src/verifier/main";

const ADDRESS = "0x1111111111111111111111111111111111111111";

function valid(dir: string): Record<string, unknown> {
  writeFileSync(join(dir, "key.json"), "{}");
  return {
    institutionId: 4,
    governance: { rpcUrl: "http://127.0.0.1:8545", chainId: 1337001, contracts: { ledger: ADDRESS, chains: ADDRESS } },
    key: { kind: "keystore", path: "key.json", passwordEnv: "CCGP_KEYSTORE_PASSWORD" },
    chains: { sub_a: { kind: "evm", rpcUrl: "http://127.0.0.1:8546", chainId: 7001, gateway: ADDRESS } },
    health: { port: 9470 },
  };
}

const refusal = (raw: unknown, dir: string): string[] => refusalOf(() => parseVerifierConfig(raw, { baseDir: dir }));

describe("verifier config", () => {
  const dir = mkdtempSync(join(tmpdir(), "ccgp-verifier-config-"));

  it("accepts a whole config, with defaults, and resolves the key path against the config's directory", () => {
    const config = parseVerifierConfig(valid(dir), { baseDir: dir });
    expect(config.governance.confirmations).to.equal(1);
    expect(config.key).to.deep.include({ kind: "keystore", path: join(dir, "key.json") });
    expect(config.chains.sub_a!.confirmations).to.equal(2);
  });

  it("the process exits 2 on a bad config (the shared start-up), naming the field as the verifier's", async () => {
    const path = join(dir, "bad-process.json");
    writeFileSync(path, JSON.stringify({ ...valid(dir), extra: 1 }));
    const { code, stderr } = await exitOnBadConfig(() => main(["node", "ccgp-verifier", "--config", path]));
    expect(code).to.equal(2);
    expect(stderr)
      .to.match(/^verifier config/)
      .and.to.contain("extra");
  });

  it("names each bad field: an unknown field, a bad URL, a missing ledger", () => {
    const raw = valid(dir) as { governance: Record<string, unknown>; [k: string]: unknown };
    raw.extra = 1;
    raw.governance = { ...raw.governance, rpcUrl: "ftp://x", contracts: { chains: ADDRESS } };
    const issues = refusal(raw, dir);
    expect(issues.some((i) => i.startsWith("config.extra: unknown field"))).to.equal(true);
    expect(issues.some((i) => i.startsWith("config.governance.rpcUrl:"))).to.equal(true);
    expect(issues.some((i) => i.startsWith("config.governance.contracts.ledger:"))).to.equal(true);
  });

  it("refuses no sub-chain, a missing keystore file, and a private key in the file", () => {
    expect(refusal({ ...valid(dir), chains: {} }, dir)).to.deep.equal([
      "config.chains: expected at least one sub-chain",
    ]);
    const missing = refusal({ ...valid(dir), key: { kind: "keystore", path: "nope.json", passwordEnv: "X" } }, dir);
    expect(missing[0]).to.match(/^config\.key\.path: file not found/);
    const secret = refusal({ ...valid(dir), privateKey: `0x${"ab".repeat(32)}` }, dir);
    expect(secret.join("\n")).to.match(/privateKey/);
  });

  it("a file that is not there or not JSON is refused as such", () => {
    expect(() => loadVerifierConfig(join(dir, "absent.json"))).to.throw(ConfigError, /file not found/);
    writeFileSync(join(dir, "bad.json"), "{");
    expect(() => loadVerifierConfig(join(dir, "bad.json"))).to.throw(ConfigError, /not valid JSON/);
  });
});
