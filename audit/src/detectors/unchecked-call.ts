import { findAll, type AstNode } from "../ast";
import type { RawFinding } from "../types";
import { report, snippet, targetFunctions, type Detector, type DetectorContext, type Rule } from "./types";

const rule: Rule = {
  id: "unchecked-call",
  title: "Unchecked low-level call",
  severity: "medium",
  summary:
    "The success flag of call / delegatecall / staticcall / send is dropped or never read, so a failed call goes " +
    "unnoticed and execution continues as if it succeeded.",
  recommendation:
    "Check the returned success flag (`if (!ok) revert ...`), or use OpenZeppelin Address.sendValue / functionCall, " +
    "which revert on failure.",
};

const tokenRule: Rule = {
  id: "unchecked-transfer",
  title: "Unchecked ERC-20 return value",
  severity: "medium",
  summary:
    "The boolean returned by an ERC-20 `transfer`, `transferFrom` or `approve` is dropped or never read: a token " +
    "that returns false instead of reverting (many do) leaves the transfer undone while the contract carries on " +
    "as if it happened.",
  recommendation:
    "Use OpenZeppelin SafeERC20 (safeTransfer, safeTransferFrom, forceApprove), or revert when the call returns false.",
};

const TOKEN_CALL = /^(transfer|transferFrom|approve)$/;

/** An external ERC-20 style call whose only return value is a bool. */
function isTokenCall(info: { kind: string; name?: string; decl?: AstNode }): boolean {
  if (info.kind !== "external" || !info.decl || !TOKEN_CALL.test(info.name ?? "")) return false;
  const returns = info.decl.returnParameters?.parameters as unknown as AstNode[] | undefined;
  return returns?.length === 1 && returns[0].typeDescriptions?.typeString === "bool";
}

/** The declaration that receives the success flag of `call`, null when the flag is dropped. */
function successReceiver(ctx: DetectorContext, call: AstNode): AstNode | null | "used" {
  let p = ctx.program.parent(call);
  let child = call;
  while (p?.nodeType === "TupleExpression" && p.components?.length === 1) ((child = p), (p = ctx.program.parent(p)));
  if (!p || p.nodeType === "ExpressionStatement") return null;
  if (p.nodeType === "VariableDeclarationStatement") return p.declarations?.[0] ?? null;
  if (p.nodeType === "Assignment" && p.rightHandSide === child) {
    const lhs = p.leftHandSide!;
    const first = lhs.nodeType === "TupleExpression" ? lhs.components?.[0] : lhs;
    if (!first) return null;
    return first.nodeType === "Identifier" ? (ctx.program.decl(first) ?? "used") : "used";
  }
  return "used"; // in a condition, a return, an argument ...
}

/** True when `decl` is read somewhere in `fn` (not only assigned). */
function isRead(ctx: DetectorContext, fn: AstNode, decl: AstNode): boolean {
  if (decl.stateVariable) return true;
  // A named return value is read by the caller.
  const list = ctx.program.parent(decl);
  if (list && fn.returnParameters === list) return true;
  return findAll(fn.body, "Identifier").some((id) => {
    if (id.referencedDeclaration !== decl.id) return false;
    const p = ctx.program.parent(id);
    const q = p?.nodeType === "TupleExpression" ? ctx.program.parent(p) : p;
    const assigned =
      q?.nodeType === "Assignment" && (q.leftHandSide === id || q.leftHandSide === p) && q.operator === "=";
    return !assigned;
  });
}

export const uncheckedCall: Detector = {
  name: "unchecked low-level call",
  rules: [rule, tokenRule],
  run(ctx: DetectorContext): RawFinding[] {
    const out: RawFinding[] = [];
    for (const fn of targetFunctions(ctx))
      for (const { call, info } of ctx.facts.calls(fn.body!)) {
        if (isTokenCall(info)) {
          const receiver = successReceiver(ctx, call);
          if (receiver === "used" || (receiver && isRead(ctx, fn, receiver))) continue;
          const text =
            `\`${ctx.program.label(fn)}\` ignores the bool returned by \`${snippet(ctx, call)}\`: a ` +
            `token that returns false is taken as paid.`;
          out.push(report(ctx, tokenRule, call, fn, text));
          continue;
        }
        const lowLevel = info.kind === "lowlevel" || (info.kind === "transfer" && info.name === "send");
        if (!lowLevel) continue;
        const receiver = successReceiver(ctx, call);
        if (receiver === "used" || (receiver && isRead(ctx, fn, receiver))) continue;
        const how = receiver
          ? `stores its success flag in \`${receiver.name}\` but never reads it`
          : "drops its success flag";
        out.push(report(ctx, rule, call, fn, `\`${ctx.program.label(fn)}\` ${how}: \`${snippet(ctx, call)}\`.`));
      }
    return out;
  },
};
