import { findAll } from "../ast";
import type { RawFinding } from "../types";
import { report, type Detector, type DetectorContext, type Rule } from "./types";

const rule: Rule = {
  id: "selfdestruct",
  title: "selfdestruct",
  severity: "high",
  summary:
    "A call to selfdestruct (Solidity or assembly). Since Cancun (EIP-6780) it no longer removes code but still " +
    "sends the whole balance; code that relies on it, or lets it be reached, is unsafe and the opcode is " +
    "deprecated.",
  recommendation: "Remove selfdestruct; use a pausable or withdrawable design guarded by access control.",
};

export const selfdestruct: Detector = {
  name: "selfdestruct",
  rules: [rule],
  run(ctx: DetectorContext): RawFinding[] {
    const out: RawFinding[] = [];
    for (const unit of ctx.program.targetUnits) {
      const sites = [
        ...findAll(unit.ast, "FunctionCall").filter((c) => {
          const info = ctx.program.classifyCall(c);
          return info.kind === "builtin" && (info.name === "selfdestruct" || info.name === "suicide");
        }),
        ...findAll(unit.ast, "YulFunctionCall").filter((y) => y.functionName?.name === "selfdestruct"),
      ];
      for (const site of sites) {
        const fn = ctx.program.enclosing(site, "FunctionDefinition", "ModifierDefinition");
        const guard = fn && ctx.facts.isProtected(fn) ? "behind an access check" : "with no access check";
        const where = fn ? `\`${ctx.program.label(fn)}\`` : "This code";
        out.push(report(ctx, rule, site, fn, `${where} calls selfdestruct ${guard}.`));
      }
    }
    return out;
  },
};
