/**
 * The config of each process an institution runs beside its relayers (the independent verifier, the attester):
 * refused at start naming each bad field; key material is never accepted. One table, one row per role: both read
 * their file through the same reader and the same role parser, and each row keeps its own fields' checks.
 */
import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../../relayer/src/config/load";
import type { RoleConfigOptions } from "../../../relayer/src/config/role";
import { exitOnBadConfig, refusalOf } from "../helpers/config";
import { loadAttesterConfig, parseAttesterConfig } from "../../../relayer/src/attest/config";
import { main as attesterMain } from "../../../relayer/src/attest/main";
import { loadVerifierConfig, parseVerifierConfig } from "../../../relayer/src/verifier/config";
import { main as verifierMain } from "../../../relayer/src/verifier/main";

const ADDRESS = "0x1111111111111111111111111111111111111111";
const KEY = { kind: "keystore", path: "key.json", passwordEnv: "CCGP_KEYSTORE_PASSWORD" };

type Raw = { governance: Record<string, unknown>; [k: string]: unknown };

interface Role {
  name: "verifier" | "attester";
  /** The fields beside `key` of a whole config. */
  valid: () => Record<string, unknown>;
  parse: (raw: unknown, options: RoleConfigOptions) => { key: unknown };
  load: (path: string) => unknown;
  main: (argv: readonly string[]) => Promise<number>;
  /** What a whole config gets by default. */
  defaults: (config: never) => void;
  /** Breaks `raw` in this role's own fields and returns the paths the refusal must name. */
  breakFields: (raw: Raw) => string[];
  /** This role's own refusals beyond the shared ones. */
  more?: (refusal: (raw: unknown) => string[], valid: () => Record<string, unknown>) => void;
}

const ROLES: Role[] = [
  {
    name: "verifier",
    valid: () => ({
      institutionId: 4,
      governance: {
        rpcUrl: "http://127.0.0.1:8545",
        chainId: 1337001,
        contracts: { ledger: ADDRESS, chains: ADDRESS },
      },
      chains: { sub_a: { kind: "evm", rpcUrl: "http://127.0.0.1:8546", chainId: 7001, gateway: ADDRESS } },
      health: { port: 9470 },
    }),
    parse: parseVerifierConfig,
    load: loadVerifierConfig,
    main: verifierMain,
    defaults: (config: ReturnType<typeof parseVerifierConfig>) => {
      expect(config.governance.confirmations).to.equal(1);
      expect(config.chains.sub_a!.confirmations).to.equal(2);
    },
    breakFields: (raw) => {
      raw.governance = { ...raw.governance, rpcUrl: "ftp://x", contracts: { chains: ADDRESS } };
      return ["config.governance.rpcUrl:", "config.governance.contracts.ledger:"];
    },
    more: (refusal, valid) =>
      expect(refusal({ ...valid(), chains: {} })).to.deep.equal(["config.chains: expected at least one sub-chain"]),
  },
  {
    name: "attester",
    valid: () => ({
      institutionId: 4,
      governance: {
        rpcUrl: "http://127.0.0.1:8545",
        contracts: { ledger: ADDRESS, pipes: ADDRESS, chains: ADDRESS, attesters: ADDRESS },
      },
      listen: { port: 9480 },
    }),
    parse: parseAttesterConfig,
    load: loadAttesterConfig,
    main: attesterMain,
    defaults: (config: ReturnType<typeof parseAttesterConfig>) => {
      expect(config.governance).to.include({ fromBlock: 0, followIntervalMs: 100 });
      expect(config.listen).to.deep.equal({ host: "127.0.0.1", port: 9480 });
    },
    breakFields: (raw) => {
      raw.governance = { rpcUrl: "ftp://x", contracts: { ledger: ADDRESS, pipes: ADDRESS, chains: ADDRESS } };
      raw.listen = { port: 70_000 };
      return ["config.governance.rpcUrl:", "config.governance.contracts.attesters:", "config.listen.port:"];
    },
  },
];

for (const role of ROLES) {
  describe(`${role.name} config`, () => {
    const dir = mkdtempSync(join(tmpdir(), `ccgp-${role.name}-config-`));
    const valid = (): Record<string, unknown> => {
      writeFileSync(join(dir, "key.json"), "{}");
      return { ...role.valid(), key: KEY };
    };
    const refusal = (raw: unknown): string[] => refusalOf(() => role.parse(raw, { baseDir: dir }));

    it("accepts a whole config, with defaults, and resolves the key path against the config's directory", () => {
      const config = role.parse(valid(), { baseDir: dir });
      role.defaults(config as never);
      expect(config.key).to.deep.include({ kind: "keystore", path: join(dir, "key.json") });
    });

    it(`the process exits 2 on a bad config (the shared start-up), naming the field as the ${role.name}'s`, async () => {
      const path = join(dir, "bad-process.json");
      writeFileSync(path, JSON.stringify({ ...valid(), extra: 1 }));
      const { code, stderr } = await exitOnBadConfig(() => role.main(["node", `ccgp-${role.name}`, "--config", path]));
      expect(code).to.equal(2);
      expect(stderr)
        .to.match(new RegExp(`^${role.name} config`))
        .and.to.contain("extra");
    });

    it("names each bad field: an unknown field and the role's own broken fields", () => {
      const raw = valid() as Raw;
      raw.extra = 1;
      const paths = role.breakFields(raw);
      const issues = refusal(raw);
      expect(issues.some((i) => i.startsWith("config.extra: unknown field"))).to.equal(true);
      for (const path of paths)
        expect(
          issues.some((i) => i.startsWith(path)),
          path,
        ).to.equal(true);
    });

    it("refuses a missing keystore file and a private key in the file (and the role's own refusals)", () => {
      const missing = refusal({ ...valid(), key: { kind: "keystore", path: "nope.json", passwordEnv: "X" } });
      expect(missing[0]).to.match(/^config\.key\.path: file not found/);
      const secret = refusal({ ...valid(), privateKey: `0x${"ab".repeat(32)}` });
      expect(secret.join("\n")).to.match(/privateKey/);
      role.more?.(refusal, valid);
    });

    it("a file that is not there, not JSON or not an object is refused as such", () => {
      expect(() => role.load(join(dir, "absent.json"))).to.throw(ConfigError, /file not found/);
      writeFileSync(join(dir, "bad.json"), "{");
      expect(() => role.load(join(dir, "bad.json"))).to.throw(ConfigError, /not valid JSON/);
      writeFileSync(join(dir, "list.json"), "[]");
      expect(() => role.load(join(dir, "list.json"))).to.throw(ConfigError, /expected a JSON object/);
    });
  });
}
