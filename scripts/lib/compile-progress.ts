/**
 * Compile progress for `npm start`'s first step: what Hardhat is doing, as it does it (the source files found, each
 * solc job with its file count, the artifacts written, the typechain bindings), instead of a silent minute. Hooked
 * into Hardhat's own compile subtasks by hardhat.config.ts when CCGP_COMPILE_PROGRESS=1, so every line reports a
 * phase that really started or ended.
 */
import {
  TASK_COMPILE_SOLIDITY_EMIT_ARTIFACTS,
  TASK_COMPILE_SOLIDITY_GET_SOURCE_PATHS,
  TASK_COMPILE_SOLIDITY_LOG_NOTHING_TO_COMPILE,
  TASK_COMPILE_SOLIDITY_LOG_RUN_COMPILER_END,
  TASK_COMPILE_SOLIDITY_LOG_RUN_COMPILER_START,
} from "hardhat/builtin-tasks/task-names";
import type { subtask as Subtask } from "hardhat/config";

/** The typechain plugin's generation subtask (@typechain/hardhat's TASK_TYPECHAIN_GENERATE_TYPES). */
const TASK_TYPECHAIN_GENERATE_TYPES = "typechain:generate-types";
/** While solc runs (one job can take half a minute), a line every so often says which job is still running. */
const STILL_RUNNING_MS = 10_000;

interface Job {
  getResolvedFiles(): unknown[];
  getSolcConfig(): { version: string };
}
interface JobArgs {
  compilationJob: Job;
  compilationJobs: Job[];
  compilationJobIndex: number;
}

export function addCompileProgress(subtask: typeof Subtask, print: (line: string) => void = console.log): void {
  const began = Date.now();
  const seconds = (from = began) => `${Math.round((Date.now() - from) / 1000)} s`;
  let still: NodeJS.Timeout | undefined;
  let jobStarted = began;

  subtask(TASK_COMPILE_SOLIDITY_GET_SOURCE_PATHS, async (args, _hre, runSuper) => {
    const paths = (await runSuper(args)) as string[];
    print(`  ${paths.length} project source files found`);
    return paths;
  });
  subtask(TASK_COMPILE_SOLIDITY_LOG_NOTHING_TO_COMPILE, async () => {
    print("  nothing to compile: the artifacts are up to date");
  });
  subtask(
    TASK_COMPILE_SOLIDITY_LOG_RUN_COMPILER_START,
    async ({ compilationJob, compilationJobs, compilationJobIndex }: JobArgs) => {
      const which = `job ${compilationJobIndex + 1} of ${compilationJobs.length}`;
      jobStarted = Date.now();
      print(
        `  solc ${compilationJob.getSolcConfig().version}: ${which}, ${compilationJob.getResolvedFiles().length} files`,
      );
      clearInterval(still);
      still = setInterval(() => print(`  solc ${which} still running (${seconds(jobStarted)})`), STILL_RUNNING_MS);
      still.unref();
    },
  );
  subtask(TASK_COMPILE_SOLIDITY_LOG_RUN_COMPILER_END, async ({ compilationJobs, compilationJobIndex }: JobArgs) => {
    clearInterval(still);
    print(`  solc job ${compilationJobIndex + 1} of ${compilationJobs.length} done (${seconds(jobStarted)})`);
  });
  subtask(TASK_COMPILE_SOLIDITY_EMIT_ARTIFACTS, async (args, _hre, runSuper) => {
    const result = (await runSuper(args)) as { artifactsEmittedPerFile: { artifactsEmitted: string[] }[] };
    const count = result.artifactsEmittedPerFile.reduce((n, f) => n + f.artifactsEmitted.length, 0);
    print(`  ${count} contract artifact${count === 1 ? "" : "s"} written`);
    return result;
  });
  subtask(TASK_TYPECHAIN_GENERATE_TYPES, async (args, _hre, runSuper) => {
    const started = Date.now();
    print("  typechain: writing the TypeScript bindings");
    const result = await runSuper(args);
    print(`  typechain: done (${seconds(started)})`);
    return result;
  });
}
