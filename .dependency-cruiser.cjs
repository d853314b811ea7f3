/* global module */
/**
 * Import boundaries (`npm run lint`). Parts, bottom to top:
 *   lib/  (domain types, AMDP, errors, logs, HTTP helpers, the chain interface and follower, deploy code)
 *   auditor/ and audit/ (the sandbox)  ->  relayer/  ->  console/
 *   scripts/, bench/, test/ may import any of them; production code never imports them.
 * Inside the relayer, layers run one way:
 *   config, log, errors -> chains -> amdp, store, server, keys, metrics, flow -> governance -> work (the durable
 *   work items) -> crosschain -> tx
 *   -> subchain, cli -> the composition root (relayer.ts, main.ts).
 * There is no allowance list: every rule holds for every file.
 */
const PRODUCTION = "^(lib|relayer|auditor|audit|console)/";
const TEST_ONLY = "^(scripts|test|bench|chaos)/";

/** Relayer folders by layer: a folder may import its own layer and the layers below it only. */
const RELAYER_LAYERS = [
  ["config"],
  ["chains", "keys", "metrics", "flow", "store", "server", "attest"],
  ["governance"],
  ["work"],
  ["crosschain"],
  ["tx"],
  ["subchain", "auditor"],
  ["cli", "verifier"],
];
const relayerLayerRules = RELAYER_LAYERS.flatMap((layer, i) => {
  const above = RELAYER_LAYERS.slice(i + 1).flat();
  if (above.length === 0) return [];
  return [
    {
      name: `relayer-layer-${layer.join("-")}`,
      comment: `relayer/src/{${layer.join(",")}} may not import a higher layer (${above.join(", ")}) or the composition root`,
      severity: "error",
      from: { path: `^relayer/src/(${layer.join("|")})/` },
      to: { path: [`^relayer/src/(${above.join("|")})/`, "^relayer/src/(relayer|main|runtime)\\.ts$"] },
    },
  ];
});

module.exports = {
  forbidden: [
    {
      name: "production-imports-scripts-or-tests",
      comment: "production code (lib, relayer, auditor, audit, console) never imports scripts/, test/ or bench/",
      severity: "error",
      from: { path: PRODUCTION },
      to: { path: TEST_ONLY },
    },
    {
      name: "lib-is-the-bottom-layer",
      comment: "lib/ imports no other part of the repository (typechain-types excepted)",
      severity: "error",
      from: { path: "^lib/" },
      to: { path: "^(relayer|auditor|audit|console|scripts|test|bench|chaos)/" },
    },
    {
      name: "auditor-below-relayer",
      comment: "the auditor and the audit sandbox build on lib/ only: the relayer mounts the auditor, not the reverse",
      severity: "error",
      from: { path: "^(auditor|audit)/" },
      to: { path: "^(relayer|console)/" },
    },
    {
      name: "relayer-below-console",
      comment: "the relayer never imports the console",
      severity: "error",
      from: { path: "^relayer/" },
      to: { path: "^console/" },
    },
    ...relayerLayerRules,
    {
      name: "no-folder-cycle",
      comment: "no import cycle between folders",
      severity: "error",
      scope: "folder",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: ["node_modules", "typechain-types"] },
    exclude: { path: ["^node_modules", "^typechain-types", "^artifacts", "^cache", "^dist", "^coverage", "\\.ccgp"] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
