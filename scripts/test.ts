/**
 * `npm test` after the build: every test file, in two `hardhat test` processes side by side, so that both cores
 * work. One runs the tests of running consortia (relayer and verifier processes, the CLI, the console in chromium,
 * `npm start`), which mostly wait on the chains and processes they start; the other the contract tests on Hardhat's
 * in-process chain, the sandbox, the auditor and the scripts, which keep a core busy. The two take about as long.
 * The first group's output is shown as it runs; the second's is kept in a file and printed after it, whole. Fails if
 * either fails.
 *
 * `npm test -- <files>` runs just those files, in one process.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const REPO_ROOT = join(__dirname, "..");
const HARDHAT = require.resolve("hardhat/internal/cli/cli");

/** The folders of the first group (consortia of processes); every other test file is in the second. */
const PROCESS_GROUP = ["test/e2e/", "test/cli/", "test/console/", "test/relayer/"];

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? testFiles(join(dir, e.name))
      : e.name.endsWith(".test.ts")
        ? [relative(REPO_ROOT, join(dir, e.name))]
        : [],
  );
}

/** `hardhat test --no-compile <files>` (`npm test` compiled already); resolves with its exit code. */
function hardhatTest(files: string[], output: "inherit" | number): { done: Promise<number>; kill: () => void } {
  const child = spawn(process.execPath, [HARDHAT, "test", "--no-compile", ...files], {
    cwd: REPO_ROOT,
    stdio: ["ignore", output, output],
  });
  const done = new Promise<number>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))),
  );
  return { done, kill: () => child.kill("SIGTERM") };
}

async function main(args: string[]): Promise<number> {
  if (args.length > 0) return hardhatTest(args, "inherit").done;
  const all = testFiles(join(REPO_ROOT, "test")).sort();
  const processes = all.filter((f) => PROCESS_GROUP.some((dir) => f.startsWith(dir)));
  const contracts = all.filter((f) => !processes.includes(f));
  const logFile = join(tmpdir(), `ccgp-test-contracts-${process.pid}.log`);
  const fd = openSync(logFile, "w");
  console.log(
    `npm test: ${processes.length} files of running consortia (shown as they run) beside ${contracts.length} files ` +
      `of contracts, sandbox, auditor and scripts (${logFile}, printed after)`,
  );
  const began = Date.now();
  const runs = [hardhatTest(processes, "inherit"), hardhatTest(contracts, fd)];
  closeSync(fd);
  const stop = () => runs.forEach((r) => r.kill());
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const [processCode, contractCode] = await Promise.all(runs.map((r) => r.done));
  console.log(`\n==== contracts, sandbox, auditor and scripts (ran beside the above) ====`);
  process.stdout.write(readFileSync(logFile));
  rmSync(logFile, { force: true });
  const minutes = ((Date.now() - began) / 60_000).toFixed(1);
  console.log(
    `\nnpm test: ${processCode === 0 ? "passed" : "FAILED"} (consortia), ` +
      `${contractCode === 0 ? "passed" : "FAILED"} (contracts, sandbox, auditor, scripts); ${minutes} min`,
  );
  return processCode === 0 && contractCode === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
