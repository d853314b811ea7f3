import { subtask, type HardhatUserConfig } from "hardhat/config";
import {
  TASK_COMPILE_SOLIDITY,
  TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD,
  TASK_TEST_GET_TEST_FILES,
} from "hardhat/builtin-tasks/task-names";
import "@nomicfoundation/hardhat-toolbox";
import { writeAbis } from "./scripts/gen-abis";
import { writeEnums } from "./scripts/gen-enums";

// The compiler comes from the npm `solc` package: this machine cannot download compiler builds.
const SOLC_VERSION = "0.8.28";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { version(): string };
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: args.solcVersion,
    longVersion: solc.version(),
  };
});

// `npm start` compiles with CCGP_COMPILE_PROGRESS=1: a line for each phase of the compile as it happens.
if (process.env.CCGP_COMPILE_PROGRESS === "1") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require("./scripts/lib/compile-progress") as typeof import("./scripts/lib/compile-progress")).addCompileProgress(
    subtask,
  );
}

// The TypeScript enums come from the compiler's AST at every compile: no hand copy to drift. The interfaces' ABIs
// too, as plain constants for the relayer.
subtask(TASK_COMPILE_SOLIDITY, async (args, hre, runSuper) => {
  const result = await runSuper(args);
  writeEnums(hre.config.paths.root);
  writeAbis(hre.config.paths.root);
  return result;
});

// Only `*.test.ts` files are tests; the rest of test/ is helpers and child-process scripts the tests start.
subtask(TASK_TEST_GET_TEST_FILES, async (args: { testFiles: string[] }, _hre, runSuper) => {
  const files: string[] = await runSuper(args);
  return args.testFiles.length > 0 ? files : files.filter((f) => f.endsWith(".test.ts"));
});

const config: HardhatUserConfig = {
  solidity: {
    compilers: [
      {
        version: SOLC_VERSION,
        settings: { evmVersion: "cancun", optimizer: { enabled: true, runs: 10_000 }, viaIR: false },
      },
    ],
    overrides: {
      // The ledger's hot path sits at the EIP-170 size limit: fewer optimizer runs, smaller code.
      "contracts/transactions/TransactionLedger.sol": {
        version: SOLC_VERSION,
        settings: { evmVersion: "cancun", optimizer: { enabled: true, runs: 1_000 }, viaIR: false },
      },
    },
  },
  networks: {
    hardhat: { allowUnlimitedContractSize: false },
    localhost: { url: process.env.CCGP_RPC_URL ?? "http://127.0.0.1:8545" },
    // Any EVM JSON-RPC network (e.g. a Besu QBFT governance chain): URL from the environment, keys from keystores.
    governance: { url: process.env.CCGP_GOVERNANCE_RPC ?? "http://127.0.0.1:8545" },
  },
  typechain: { outDir: "typechain-types", target: "ethers-v6" },
  gasReporter: { enabled: process.env.REPORT_GAS === "1", offline: true },
  mocha: { timeout: 120_000 },
};

export default config;
