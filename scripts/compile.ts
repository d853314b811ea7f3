/**
 * `npm start`'s first step: `hardhat compile --quiet` with its progress shown (the first run compiles every contract
 * and writes the typechain bindings: about a minute on a small machine). The lines come from Hardhat's own compile
 * phases (scripts/lib/compile-progress.ts), switched on by CCGP_COMPILE_PROGRESS.
 */
import { spawn } from "node:child_process";

const began = Date.now();
const seconds = () => Math.round((Date.now() - began) / 1000);
console.log("compiling the contracts (hardhat compile; the first run takes about a minute)");
const child = spawn(process.execPath, [require.resolve("hardhat/internal/cli/cli"), "compile", "--quiet"], {
  stdio: "inherit",
  env: { ...process.env, CCGP_COMPILE_PROGRESS: "1" },
});
child.once("exit", (code, signal) => {
  if (code === 0) console.log(`compiled (${seconds()} s)`);
  else console.error(`compilation failed (${signal ?? `exit ${code}`})`);
  process.exit(code ?? 1);
});
