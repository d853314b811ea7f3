#!/usr/bin/env node
// The `ccgp` command: runs the TypeScript entry through ts-node without a build step. Transpile only: type
// checking is `tsc --noEmit`'s job, and skipping it keeps every command's start-up short.
"use strict";
const path = require("node:path");

require("ts-node").register({
  transpileOnly: true,
  project: path.join(__dirname, "..", "..", "..", "tsconfig.json"),
});
require("./main.ts")
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
