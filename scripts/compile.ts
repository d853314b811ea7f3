/**
 * `npm start`'s first step: `hardhat compile --quiet`, with a line every few seconds while it works (the first run
 * compiles every contract and writes the typechain bindings: about a minute on a small machine, silent otherwise).
 */
import { spawn } from "node:child_process";

const TICK_MS = 10_000;
const began = Date.now();
const seconds = () => Math.round((Date.now() - began) / 1000);
console.log("compiling the contracts (hardhat compile; the first run takes about a minute)");
const child = spawn(process.execPath, [require.resolve("hardhat/internal/cli/cli"), "compile", "--quiet"], { stdio: "inherit" });
const ticker = setInterval(() => console.log(`  still compiling (${seconds()} s)`), TICK_MS);
child.once("exit", (code, signal) => {
  clearInterval(ticker);
  if (code === 0) console.log(`compiled (${seconds()} s)`);
  else console.error(`compilation failed (${signal ?? `exit ${code}`})`);
  process.exit(code ?? 1);
});
