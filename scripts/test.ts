/**
 * `npm test` after the build: every test file, in three `hardhat test` processes side by side. Two run the tests of
 * running consortia (relayer and verifier processes, the CLI, the console in chromium, `npm start`), which mostly
 * wait on the chains and processes they start, so two of them share a core well; the third runs the contract tests
 * on Hardhat's in-process chain, the sandbox, the auditor and the scripts, which keep a core busy. The first group's
 * output is shown as it runs; the others' are kept in files and printed after it, whole. Fails if any fails.
 *
 * `npm test -- <files>` runs just those files, in one process.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const REPO_ROOT = join(__dirname, "..");
const HARDHAT = require.resolve("hardhat/internal/cli/cli");

/**
 * The folders of the two groups of consortia, split so that they take about as long (the CLI's worlds beside the
 * end-to-end ones); every other test file is in the contracts group.
 */
const PROCESS_GROUPS = [
  { name: "consortia: end to end and console", folders: ["test/e2e/", "test/console/"] },
  { name: "consortia: relayer and command line", folders: ["test/relayer/", "test/cli/"] },
];

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
  const inGroup = (f: string, folders: string[]): boolean => folders.some((dir) => f.startsWith(dir));
  const groups = [
    ...PROCESS_GROUPS.map((g) => ({ name: g.name, files: all.filter((f) => inGroup(f, g.folders)) })),
    {
      name: "contracts, sandbox, auditor and scripts",
      files: all.filter((f) => !PROCESS_GROUPS.some((g) => inGroup(f, g.folders))),
    },
  ];
  const logs = groups.map((_, i) => (i === 0 ? undefined : join(tmpdir(), `ccgp-test-${i}-${process.pid}.log`)));
  console.log(
    `npm test: ${groups
      .map((g, i) => `${g.files.length} files of ${g.name}${logs[i] ? ` (${logs[i]})` : ""}`)
      .join(", ")}; the first shown as it runs, the others printed after it`,
  );
  const began = Date.now();
  const runs = groups.map((g, i) => {
    if (!logs[i]) return hardhatTest(g.files, "inherit");
    const fd = openSync(logs[i]!, "w");
    const run = hardhatTest(g.files, fd);
    closeSync(fd);
    return run;
  });
  const stop = () => runs.forEach((r) => r.kill());
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const codes = await Promise.all(runs.map((r) => r.done));
  groups.forEach((g, i) => {
    if (!logs[i]) return;
    console.log(`\n==== ${g.name} (ran beside the above) ====`);
    process.stdout.write(readFileSync(logs[i]!));
    rmSync(logs[i]!, { force: true });
  });
  const minutes = ((Date.now() - began) / 60_000).toFixed(1);
  console.log(
    `\nnpm test: ${groups.map((g, i) => `${codes[i] === 0 ? "passed" : "FAILED"} (${g.name})`).join(", ")}; ` +
      `${minutes} min`,
  );
  return codes.every((c) => c === 0) ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
