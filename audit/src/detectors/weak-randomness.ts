import { findAll, isBuiltinMember, walk, type AstNode } from "../ast";
import type { RawFinding } from "../types";
import { report, targetFunctions, type Detector, type DetectorContext, type Rule } from "./types";

const rule: Rule = {
  id: "weak-randomness",
  title: "Randomness from block values",
  severity: "medium",
  summary:
    "block.timestamp / block.number / block.prevrandao / block.difficulty / blockhash used in a modulo, in keccak256 whose result is turned into a number, or (prevrandao, difficulty, blockhash) hashed at all: a validator or a contract in the same block can predict or steer it. Hashing a timestamp into an id is not reported.",
  recommendation: "Use a verifiable random function (e.g. an oracle's VRF) or a commit-reveal scheme.",
};

type Strength = "strong" | "weak";

/** `strong` for values that only serve randomness (prevrandao, difficulty, blockhash); `weak` for timestamp/number. */
function sourceStrength(ctx: DetectorContext, n: AstNode): Strength | undefined {
  if (isBuiltinMember(n, "block", "prevrandao") || isBuiltinMember(n, "block", "difficulty")) return "strong";
  if (isBuiltinMember(n, "block", "timestamp") || isBuiltinMember(n, "block", "number")) return "weak";
  if (n.nodeType === "FunctionCall") {
    const info = ctx.program.classifyCall(n);
    if (info.kind === "builtin" && info.name === "blockhash") return "strong";
  }
  return undefined;
}

/** The strongest block-value source in `expr`, following locals assigned from one. */
function strengthIn(
  ctx: DetectorContext,
  expr: AstNode | null | undefined,
  tainted: Map<number, Strength>,
): Strength | undefined {
  let best: Strength | undefined;
  if (expr)
    walk(expr, (n) => {
      const s =
        sourceStrength(ctx, n) ??
        (n.nodeType === "Identifier" && n.referencedDeclaration != null
          ? tainted.get(n.referencedDeclaration)
          : undefined);
      if (s === "strong" || (s && !best)) best = s;
    });
  return best;
}

function taintedLocals(ctx: DetectorContext, fn: AstNode): Map<number, Strength> {
  const tainted = new Map<number, Strength>();
  walk(fn.body!, (n) => {
    if (n.nodeType === "VariableDeclarationStatement") {
      const s = strengthIn(ctx, n.initialValue, tainted);
      if (s) for (const d of n.declarations ?? []) if (d) tainted.set(d.id, s);
    } else if (n.nodeType === "Assignment" && n.leftHandSide?.nodeType === "Identifier") {
      const d = ctx.program.decl(n.leftHandSide);
      const s = strengthIn(ctx, n.rightHandSide, tainted);
      if (d && !d.stateVariable && s) tainted.set(d.id, s);
    }
  });
  return tainted;
}

export const weakRandomness: Detector = {
  name: "weak randomness",
  rules: [rule],
  run(ctx: DetectorContext): RawFinding[] {
    const out: RawFinding[] = [];
    for (const fn of targetFunctions(ctx)) {
      const tainted = taintedLocals(ctx, fn);
      const label = ctx.program.label(fn);
      for (const op of findAll(fn.body, "BinaryOperation")) {
        if (op.operator !== "%" || !strengthIn(ctx, op, tainted)) continue;
        out.push(
          report(ctx, rule, op, fn, `\`${label}\` takes a block value modulo a number, a predictable "random" choice.`),
        );
      }
      for (const { call, info } of ctx.facts.calls(fn.body!)) {
        if (info.kind !== "builtin" || info.name !== "keccak256") continue;
        const s = strengthIn(ctx, call, tainted);
        const parent = ctx.program.parent(call);
        const toNumber =
          parent?.nodeType === "FunctionCall" &&
          parent.kind === "typeConversion" &&
          /^uint|^int/.test(parent.typeDescriptions?.typeString ?? "");
        if (s === "strong" || (s === "weak" && toNumber))
          out.push(
            report(
              ctx,
              rule,
              call,
              fn,
              `\`${label}\` derives a number from a hash of block values, which the block producer knows in advance.`,
            ),
          );
      }
    }
    return out;
  },
};
