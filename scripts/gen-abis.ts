/**
 * The ABIs of the contracts' interfaces as plain `as const` constants (`lib/abi/interfaces.generated.ts`), written
 * at every compile from the artifacts, beside the typechain bindings and, like them, not committed. The relayer and
 * the verifier call through viem with these: exactly typed, and without loading typechain's ethers factories.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = join(__dirname, "..");
export const ABIS_FILE = join(ROOT, "lib", "abi", "interfaces.generated.ts");
const INTERFACES = "contracts/interfaces";

/** The generated module's text: `export const <Interface>Abi = [...] as const;` for each interface. */
export function generateAbis(root = ROOT): string {
  const dir = join(root, "artifacts", INTERFACES);
  const lines = [
    "// Generated from the artifacts at every compile (scripts/gen-abis.ts). Do not edit; not committed.",
    "",
  ];
  for (const source of readdirSync(dir)
    .filter((f) => f.endsWith(".sol"))
    .sort()) {
    for (const file of readdirSync(join(dir, source))
      .filter((f) => f.endsWith(".json") && !f.endsWith(".dbg.json"))
      .sort()) {
      const artifact = JSON.parse(readFileSync(join(dir, source, file), "utf8")) as {
        contractName: string;
        abi: unknown[];
      };
      lines.push(
        `/** ${INTERFACES}/${source} */`,
        `export const ${artifact.contractName}Abi = ${JSON.stringify(artifact.abi)} as const;`,
        "",
      );
    }
  }
  return lines.join("\n");
}

export function writeAbis(root = ROOT): void {
  // Another project compiled with this config (a test's temporary one) has none of our interfaces.
  if (resolve(root) !== resolve(ROOT) || !existsSync(join(root, "artifacts", INTERFACES))) return;
  const text = generateAbis(root);
  if (existsSync(ABIS_FILE) && readFileSync(ABIS_FILE, "utf8") === text) return; // unchanged: keep the build current
  mkdirSync(join(root, "lib", "abi"), { recursive: true });
  writeFileSync(ABIS_FILE, text);
}
