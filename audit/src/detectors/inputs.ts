import { isBuiltinMember, paramsOf, walk, type AstNode } from "../ast";
import type { DetectorContext } from "./types";

/**
 * Whether `expr` carries a value the caller chose: a parameter of `fn`, or a local built from one
 * (followed through its initial value, a few levels deep).
 */
export function fromParameter(ctx: DetectorContext, fn: AstNode, expr: AstNode | null | undefined, depth = 0): boolean {
  if (!expr || depth > 4) return false;
  const params = new Set(paramsOf(fn).map((p) => p.id));
  let found = false;
  walk(expr, (n) => {
    if (found) return false;
    // `_proposals[id].target`: an entry the caller picks, holding what storage holds, not what the caller says.
    if (n.nodeType === "IndexAccess" && n.baseExpression) {
      found = fromParameter(ctx, fn, n.baseExpression, depth + 1);
      return false;
    }
    if (n.nodeType !== "Identifier" || n.referencedDeclaration == null) return true;
    if (params.has(n.referencedDeclaration)) return !(found = true);
    const decl = ctx.program.decl(n);
    const stmt = decl && !decl.stateVariable ? ctx.program.parent(decl) : undefined;
    if (stmt?.nodeType === "VariableDeclarationStatement" && stmt.declarations?.length === 1)
      found = fromParameter(ctx, fn, stmt.initialValue, depth + 1);
    return !found;
  });
  return found;
}

/** Whether `expr` names the caller (`msg.sender`, `_msgSender()`). */
export function mentionsCaller(ctx: DetectorContext, expr: AstNode | null | undefined): boolean {
  return !!expr && ctx.facts.mentionsSender(expr, new Set());
}

/** Whether `fn` or anything it calls recovers a signer: the caller then acts for whoever signed. */
export function verifiesSignature(ctx: DetectorContext, fn: AstNode): boolean {
  return ctx.facts.closure(fn, true).some((f) =>
    ctx.facts.calls(f.body!).some(({ info }) => {
      if (info.kind === "builtin") return info.name === "ecrecover";
      const lib = info.decl ? (ctx.program.contractOf(info.decl)?.name ?? "") : "";
      return info.kind === "internal" && /ECDSA|SignatureChecker/.test(lib);
    }),
  );
}

/** `msg.sender` itself (not something derived from it). */
export function isCaller(n: AstNode | null | undefined): boolean {
  return !!n && isBuiltinMember(n, "msg", "sender");
}
