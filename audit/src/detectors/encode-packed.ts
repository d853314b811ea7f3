import { findAll, typeString, type AstNode } from "../ast";
import type { RawFinding } from "../types";
import { report, targetFunctions, type Detector, type DetectorContext, type Rule } from "./types";

const rule: Rule = {
  id: "encode-packed-collision",
  title: "abi.encodePacked with several dynamic arguments",
  severity: "medium",
  summary:
    "abi.encodePacked with two or more non-literal dynamic arguments (string, bytes, dynamic arrays): different " +
    'inputs pack to the same bytes ("ab"+"c" == "a"+"bc"). Medium when the result is hashed (signatures, ids, ' +
    "commitments), low otherwise.",
  recommendation: "Use abi.encode (length-prefixed), or keep at most one dynamic argument in abi.encodePacked.",
};

const HASHES = new Set(["keccak256", "sha256", "ripemd160"]);

function isDynamic(arg: AstNode): boolean {
  const t = typeString(arg);
  if (t.startsWith("literal_")) return false;
  return /^(string|bytes)( |$)/.test(t) || /\[\]( |$)/.test(t);
}

/** Whether the packed bytes are hashed: directly, or through a local later passed to a hash. */
function isHashed(ctx: DetectorContext, fn: AstNode, call: AstNode): boolean {
  const isHashCall = (n: AstNode | undefined): boolean => {
    if (n?.nodeType !== "FunctionCall") return false;
    const info = ctx.program.classifyCall(n);
    return (
      (info.kind === "builtin" && HASHES.has(info.name ?? "")) ||
      (info.kind === "internal" && /hash/i.test(info.name ?? ""))
    );
  };
  if (isHashCall(ctx.program.parent(call))) return true;
  const stmt = ctx.program.parent(call);
  const decl = stmt?.nodeType === "VariableDeclarationStatement" ? stmt.declarations?.[0] : undefined;
  if (!decl) return false;
  return findAll(fn.body, "Identifier").some(
    (id) => id.referencedDeclaration === decl.id && isHashCall(ctx.program.parent(id)),
  );
}

export const encodePacked: Detector = {
  name: "abi.encodePacked collision",
  rules: [rule],
  run(ctx: DetectorContext): RawFinding[] {
    const out: RawFinding[] = [];
    for (const fn of targetFunctions(ctx))
      for (const { call, info } of ctx.facts.calls(fn.body!)) {
        if (info.kind !== "builtin" || info.name !== "encodePacked" || info.base?.name !== "abi") continue;
        const args = call.arguments ?? [];
        const dynamic = args.filter(isDynamic);
        // Bytes can only shift from one value to the next when nothing fixed separates them: a literal
        // between two dynamic values (a type string's punctuation) pins where each one ends.
        const adjacent = args.some((a, i) => i > 0 && isDynamic(a) && isDynamic(args[i - 1]));
        if (dynamic.length < 2 || !adjacent) continue;
        const hashed = isHashed(ctx, fn, call);
        const text =
          `\`${ctx.program.label(fn)}\` packs ${dynamic.length} dynamic values with ` +
          `abi.encodePacked${hashed ? " and hashes the result" : ""}: different inputs can give the same bytes.`;
        out.push(report(ctx, rule, call, fn, text, hashed ? "medium" : "low"));
      }
    return out;
  },
};
