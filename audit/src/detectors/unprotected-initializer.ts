import { walk, type AstNode } from "../ast";
import type { RawFinding } from "../types";
import { INITIALIZER_MODIFIER, INITIALIZER_NAME, UPGRADE_NAME } from "./names";
import { report, targetFunctions, type Detector, type DetectorContext, type Rule } from "./types";

const initRule: Rule = {
  id: "unprotected-initializer",
  title: "Unprotected initializer",
  severity: "high",
  summary:
    "A public/external function named initialize*/init* with neither the `initializer`/`reinitializer` modifier (or " +
    "an `initialized` flag it checks) nor an access check: anyone can (re-)initialise the contract and take it " +
    "over.",
  recommendation:
    "Inherit OpenZeppelin Initializable, mark the function `initializer`, and call `_disableInitializers()` in the " +
    "implementation's constructor.",
};

const upgradeRule: Rule = {
  id: "unprotected-upgrade",
  title: "Unprotected upgrade function",
  severity: "high",
  summary:
    "A public/external upgradeTo*/setImplementation* function without access control: anyone can point the proxy at " +
    "their own code.",
  recommendation:
    "Restrict the upgrade path (UUPS `_authorizeUpgrade` with onlyOwner/onlyRole, or a ProxyAdmin), and test that a " +
    "stranger's upgrade reverts.",
};

const implementationRule: Rule = {
  id: "uninitialized-implementation",
  title: "Implementation contract left uninitialised",
  severity: "medium",
  summary:
    "A deployable contract with an `initializer` function (made to sit behind a proxy) whose constructor does not " +
    "call `_disableInitializers()`: anyone can initialise the implementation itself, become its owner and use its " +
    "privileged functions (an upgrade, a delegatecall, a selfdestruct) on it.",
  recommendation: "Add `constructor() { _disableInitializers(); }` to the implementation contract.",
};

/**
 * An `initialized`-style flag checked by a guard (require / if-revert) in the function or its callees: a
 * hand-written initializer guard. A flag that is only written guards nothing.
 */
function checksInitializedFlag(ctx: DetectorContext, fn: AstNode): boolean {
  let found = false;
  for (const f of ctx.facts.closure(fn, true))
    for (const c of ctx.facts.guardConditions(f.body!))
      walk(c, (n) => {
        const name = n.nodeType === "Identifier" ? n.name : n.nodeType === "MemberAccess" ? n.memberName : undefined;
        if (name && /initiali[sz](ed|ing)/i.test(name)) found = true;
        return !found;
      });
  return found;
}

/** A concrete contract with an `initializer` function whose constructor never disables initialisers. */
function uninitializedImplementations(ctx: DetectorContext): RawFinding[] {
  const { facts, program } = ctx;
  const out: RawFinding[] = [];
  const contracts = new Set(targetFunctions(ctx).flatMap((f) => program.contractOf(f) ?? []));
  for (const c of contracts) {
    if (c.contractKind !== "contract" || c.abstract) continue;
    const own = (c.nodes ?? []).filter((n) => n.nodeType === "FunctionDefinition");
    const init = own.find(
      (f) => facts.isEntryPoint(f) && facts.modifiersOf(f).some((m) => /^(initializer|reinitializer)$/.test(m.name)),
    );
    if (!init) continue;
    const ctor = (c.linearizedBaseContracts ?? [])
      .map((id) => program.nodes.get(id))
      .flatMap((b) => (b?.nodes ?? []).filter((n) => n.kind === "constructor" && n.body));
    const disables = ctor.some(
      (k) =>
        facts.modifiersOf(k).some((m) => m.name === "initializer") ||
        facts
          .closure(k)
          .some((f) => f.name === "_disableInitializers" || (f !== k && /disableInitiali/.test(f.name ?? ""))),
    );
    if (disables) continue;
    const text =
      `\`${c.name}\` is initialised through \`${program.label(init)}\` behind a proxy, and its ` +
      `constructor does not call \`_disableInitializers()\`: anyone can initialise the implementation itself.`;
    out.push(report(ctx, implementationRule, init, init, text));
  }
  return out;
}

export const unprotectedInitializer: Detector = {
  name: "unprotected initializer / upgrade",
  rules: [initRule, upgradeRule, implementationRule],
  run(ctx: DetectorContext): RawFinding[] {
    const { facts, program } = ctx;
    const out: RawFinding[] = [];
    for (const fn of targetFunctions(ctx)) {
      if (!facts.isEntryPoint(fn) || facts.isReadOnly(fn)) continue;
      const name = fn.name ?? "";
      if (INITIALIZER_NAME.test(name)) {
        const guarded =
          facts.modifiersOf(fn).some((m) => INITIALIZER_MODIFIER.test(m.name)) || checksInitializedFlag(ctx, fn);
        if (guarded || facts.isProtected(fn)) continue;
        const text =
          `\`${program.label(fn)}\` is ${fn.visibility}, has no initializer modifier and no access ` +
          `check: anyone can call it, first or again.`;
        out.push(report(ctx, initRule, fn, fn, text));
      } else if (UPGRADE_NAME.test(name) && !facts.isProtected(fn) && !facts.defersToHook(fn)) {
        const text = `\`${program.label(fn)}\` changes the implementation and does not check the caller.`;
        out.push(report(ctx, upgradeRule, fn, fn, text));
      }
    }
    out.push(...uninitializedImplementations(ctx));
    return out;
  },
};
