import { walk, type AstNode } from "../ast";
import type { RawFinding } from "../types";
import { INITIALIZER_MODIFIER, INITIALIZER_NAME, UPGRADE_NAME } from "./names";
import { report, targetFunctions, type Detector, type DetectorContext, type Rule } from "./types";

const initRule: Rule = {
  id: "unprotected-initializer",
  title: "Unprotected initializer",
  severity: "high",
  summary:
    "A public/external function named initialize*/init* with neither the `initializer`/`reinitializer` modifier (or an `initialized` flag it checks) nor an access check: anyone can (re-)initialise the contract and take it over.",
  recommendation:
    "Inherit OpenZeppelin Initializable, mark the function `initializer`, and call `_disableInitializers()` in the implementation's constructor.",
};

const upgradeRule: Rule = {
  id: "unprotected-upgrade",
  title: "Unprotected upgrade function",
  severity: "high",
  summary:
    "A public/external upgradeTo*/setImplementation* function without access control: anyone can point the proxy at their own code.",
  recommendation:
    "Restrict the upgrade path (UUPS `_authorizeUpgrade` with onlyOwner/onlyRole, or a ProxyAdmin), and test that a stranger's upgrade reverts.",
};

/** An `initialized`-style flag read in the function or its callees (a hand-written initializer guard). */
function readsInitializedFlag(ctx: DetectorContext, fn: AstNode): boolean {
  let found = false;
  for (const f of ctx.facts.closure(fn, true))
    walk(f.body!, (n) => {
      const name = n.nodeType === "Identifier" ? n.name : n.nodeType === "MemberAccess" ? n.memberName : undefined;
      if (name && /initiali[sz](ed|ing)/i.test(name)) found = true;
      return !found;
    });
  return found;
}

export const unprotectedInitializer: Detector = {
  name: "unprotected initializer / upgrade",
  rules: [initRule, upgradeRule],
  run(ctx: DetectorContext): RawFinding[] {
    const { facts, program } = ctx;
    const out: RawFinding[] = [];
    for (const fn of targetFunctions(ctx)) {
      if (!facts.isEntryPoint(fn) || facts.isReadOnly(fn)) continue;
      const name = fn.name ?? "";
      if (INITIALIZER_NAME.test(name)) {
        const guarded =
          facts.modifiersOf(fn).some((m) => INITIALIZER_MODIFIER.test(m.name)) || readsInitializedFlag(ctx, fn);
        if (guarded || facts.isProtected(fn)) continue;
        const text = `\`${program.label(fn)}\` is ${fn.visibility}, has no initializer modifier and no access check: anyone can call it, first or again.`;
        out.push(report(ctx, initRule, fn, fn, text));
      } else if (UPGRADE_NAME.test(name) && !facts.isProtected(fn) && !facts.defersToHook(fn)) {
        const text = `\`${program.label(fn)}\` changes the implementation and does not check the caller.`;
        out.push(report(ctx, upgradeRule, fn, fn, text));
      }
    }
    return out;
  },
};
