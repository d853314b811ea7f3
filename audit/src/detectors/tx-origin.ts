import { findAll, isBuiltinMember, isStatement, type AstNode } from "../ast";
import type { RawFinding } from "../types";
import { report, type Detector, type DetectorContext, type Rule } from "./types";

const rule: Rule = {
  id: "tx-origin",
  title: "tx.origin used for authorisation",
  severity: "high",
  summary:
    "tx.origin compared to an address or used inside require / an if condition. A contract the victim calls can act " +
    "with the victim's authority (phishing). `tx.origin == msg.sender` (an EOA check) is not reported.",
  recommendation: "Authorise with msg.sender (or an EIP-712 signature), never tx.origin.",
};

const COMPARE = new Set(["==", "!="]);

/** Whether the tx.origin node is used to decide something: a comparison, require/assert, or if/while condition. */
function authUse(ctx: DetectorContext, origin: AstNode): boolean {
  let child = origin;
  let p = ctx.program.parent(origin);
  while (p && !isStatement(p)) {
    if (p.nodeType === "BinaryOperation" && COMPARE.has(p.operator ?? "")) {
      const other = p.leftExpression === child ? p.rightExpression : p.leftExpression;
      return !(other && findAll(other, "MemberAccess").some((m) => isBuiltinMember(m, "msg", "sender")));
    }
    if (p.nodeType === "FunctionCall") {
      const info = ctx.program.classifyCall(p);
      if (info.kind === "builtin" && (info.name === "require" || info.name === "assert")) return true;
    }
    child = p;
    p = ctx.program.parent(p);
  }
  return !!p && ["IfStatement", "WhileStatement", "ForStatement"].includes(p.nodeType) && p.condition === child;
}

export const txOrigin: Detector = {
  name: "tx.origin",
  rules: [rule],
  run(ctx: DetectorContext): RawFinding[] {
    const out: RawFinding[] = [];
    for (const unit of ctx.program.targetUnits)
      for (const m of findAll(unit.ast, "MemberAccess")) {
        if (!isBuiltinMember(m, "tx", "origin") || !authUse(ctx, m)) continue;
        const fn = ctx.program.enclosing(m, "FunctionDefinition", "ModifierDefinition");
        const where = fn ? `\`${ctx.program.label(fn)}\`` : "This code";
        out.push(report(ctx, rule, m, fn, `${where} authorises with tx.origin.`));
      }
    return out;
  },
};
