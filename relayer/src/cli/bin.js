#!/usr/bin/env node
// The `ccgp` command. It runs the build (dist/ccgp.js, from `npm run build`) when that build is current: every source
// file it was made from (dist/build.json) is older than it. Otherwise, rather than run stale code, it runs the
// TypeScript through ts-node, transpile only (type checking is `tsc --noEmit`'s job), which starts several times
// slower.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..", "..", "..");

function buildIsCurrent() {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, "dist", "build.json"), "utf8"));
    return manifest.inputs.every((input) => fs.statSync(path.join(root, input)).mtimeMs < manifest.builtAtMs);
  } catch {
    return false;
  }
}

let cli;
if (buildIsCurrent()) {
  process.setSourceMapsEnabled(true);
  cli = require(path.join(root, "dist", "ccgp.js"));
} else {
  require("ts-node").register({ transpileOnly: true, project: path.join(root, "tsconfig.json") });
  cli = require("./main.ts");
}
cli.main(process.argv).then((code) => {
  process.exitCode = code;
});
