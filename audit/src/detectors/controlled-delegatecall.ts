import { findAll, paramsOf, type AstNode } from "../ast";
import type { RawFinding } from "../types";
import { report, snippet, type Detector, type DetectorContext, type Rule } from "./types";

const rule: Rule = {
  id: "controlled-delegatecall",
  title: "delegatecall to an address from input or storage",
  severity: "high",
  summary:
    "delegatecall (Solidity or assembly) whose target is a parameter of a public/external function or is read from " +
    "storage, in a function without access control. The target's code runs with this contract's storage and " +
    "balance.",
  recommendation:
    "Delegatecall only to a constant or immutable address, or to an implementation whose setter is access " +
    "controlled; restrict the function with an access-control modifier.",
};

type Origin = "parameter" | "storage" | undefined;

/** Where an address expression comes from: a parameter of `fn`, storage, or something else. */
function originOf(ctx: DetectorContext, fn: AstNode, expr: AstNode | null | undefined, depth = 0): Origin {
  if (!expr || depth > 4) return undefined;
  if (expr.nodeType === "FunctionCall" && expr.kind === "typeConversion")
    return originOf(ctx, fn, expr.arguments?.[0], depth + 1);
  if (expr.nodeType === "TupleExpression" && expr.components?.length === 1)
    return originOf(ctx, fn, expr.components[0], depth + 1);
  if (expr.nodeType === "IndexAccess" || expr.nodeType === "MemberAccess") {
    const target = ctx.facts.storageTarget(expr);
    if (target?.root) return "storage";
    return originOf(ctx, fn, expr.nodeType === "IndexAccess" ? expr.baseExpression : expr.expression, depth + 1);
  }
  if (expr.nodeType !== "Identifier") return undefined;
  const decl = ctx.program.decl(expr);
  if (decl?.nodeType !== "VariableDeclaration") return undefined;
  if (decl.stateVariable) return decl.constant || decl.mutability === "immutable" ? undefined : "storage";
  if (paramsOf(fn).includes(decl)) return ctx.facts.isEntryPoint(fn) ? "parameter" : undefined;
  const stmt = ctx.program.parent(decl);
  if (stmt?.nodeType === "VariableDeclarationStatement" && stmt.declarations?.length === 1)
    return originOf(ctx, fn, stmt.initialValue, depth + 1);
  return undefined;
}

/** The address expression of a delegatecall site (Solidity member call or assembly). */
function targetOf(ctx: DetectorContext, site: AstNode): AstNode | undefined {
  if (site.nodeType === "FunctionCall") return ctx.program.classifyCall(site).base;
  const arg = site.arguments?.[1];
  if (arg?.nodeType !== "YulIdentifier") return undefined;
  const asm = ctx.program.enclosing(site, "InlineAssembly");
  const ref = asm?.externalReferences?.find((r) => r.src === arg.src);
  const decl = ref ? ctx.program.nodes.get(ref.declaration) : undefined;
  // Present the referenced Solidity variable as an identifier so originOf can follow it.
  return decl
    ? ({ id: -1, nodeType: "Identifier", src: arg.src, name: decl.name, referencedDeclaration: decl.id } as AstNode)
    : undefined;
}

export const controlledDelegatecall: Detector = {
  name: "controlled delegatecall",
  rules: [rule],
  run(ctx: DetectorContext): RawFinding[] {
    const out: RawFinding[] = [];
    for (const fn of ctx.program.targetCallables()) {
      if (fn.nodeType !== "FunctionDefinition") continue;
      const sites = [
        ...ctx.facts
          .calls(fn.body!)
          .filter(({ info }) => info.kind === "lowlevel" && info.name === "delegatecall")
          .map((c) => c.call),
        ...findAll(fn.body, "YulFunctionCall").filter((y) => y.functionName?.name === "delegatecall"),
      ];
      if (sites.length === 0 || ctx.facts.isProtected(fn)) continue;
      for (const site of sites) {
        const origin = originOf(ctx, fn, targetOf(ctx, site));
        if (!origin) continue;
        const from = origin === "parameter" ? "a caller-supplied parameter" : "storage";
        const text =
          `\`${ctx.program.label(fn)}\` delegatecalls an address taken from ${from} ` +
          `(\`${snippet(ctx, site)}\`) and does not check the caller.`;
        out.push(report(ctx, rule, site, fn, text));
      }
    }
    return out;
  },
};
