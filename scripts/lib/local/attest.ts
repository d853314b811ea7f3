/**
 * The Audit Office attests the example business contracts of both sub-chains through the real command path
 * (`ccgp attest <name> <version> <sources>`, in this process, with the auditor's keystore): the sandbox runs once on
 * the examples' sources (the command reuses its run for the same sources), and each attestation binds that report
 * to the code hash read on the contract's sub-chain. Governance can then require attestation.
 */
import { join } from "node:path";
import { main } from "../../../relayer/src/cli/main";
import { DeployError } from "../../../lib/deploy/governance";

export interface AttestTarget {
  subchainId: string;
  rpc: string;
  names: string[];
}

export interface AttestRun {
  governanceRpc: string;
  /** The folder holding the deployment record. */
  deployments: string;
  keystore: string;
  passwordEnv: string;
  password: string;
  /** Where the sandbox writes its reports. */
  out: string;
  repoRoot: string;
}

export interface Attested {
  name: string;
  contract: string;
  reportHash: string;
  codeHash: string;
  report: string;
}

/** The example contracts' sources, audited as one folder. */
export const EXAMPLE_SOURCES = join("contracts", "subchain", "examples");

export async function attestExamples(run: AttestRun, targets: AttestTarget[]): Promise<Attested[]> {
  const env = { ...process.env, [run.passwordEnv]: run.password };
  const attested: Attested[] = [];
  // One after the other: each sends from the auditor's account (one nonce sequence).
  for (const t of targets)
    for (const name of t.names) {
      let stdout = "";
      let stderr = "";
      const argv = [
        "attest",
        name,
        "latest",
        join(run.repoRoot, EXAMPLE_SOURCES),
        "--subchain",
        t.subchainId,
        "--subchain-rpc",
        t.rpc,
      ];
      argv.push(
        "--rpc",
        run.governanceRpc,
        "--deployments",
        run.deployments,
        "--keystore",
        run.keystore,
        "--out",
        run.out,
        "--json",
      );
      const code = await main(["node", "ccgp", ...argv], {
        env,
        io: { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) },
      });
      if (code !== 0) throw new DeployError(`ccgp attest ${name} failed (exit ${code}): ${stderr.trim()}`, { name });
      const r = JSON.parse(stdout) as Attested & { contract: string };
      attested.push({ name, contract: r.contract, reportHash: r.reportHash, codeHash: r.codeHash, report: r.report });
    }
  return attested;
}
