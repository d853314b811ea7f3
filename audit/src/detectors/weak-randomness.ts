import { findAll, isBuiltinMember, walk, type AstNode } from "../ast";
import type { RawFinding } from "../types";
import { report, targetFunctions, type Detector, type DetectorContext, type Rule } from "./types";

const rule: Rule = {
  id: "weak-randomness",
  title: "Randomness from block values",
  severity: "medium",
  summary:
    "block.timestamp / block.number / block.prevrandao / block.difficulty / blockhash used in a modulo, in " +
    "keccak256 whose result is turned into a number, or (prevrandao, difficulty, blockhash) hashed at all: a " +
    "validator or a contract in the same block can predict or steer it. Hashing a timestamp into an id is not " +
    "reported.",
  recommendation: "Use a verifiable random function (e.g. an oracle's VRF) or a commit-reveal scheme.",
};

type Strength = "strong" | "weak";

/** Operators that mix a block value into a "random" choice. */
const MIXING = new Set(["%", "^", "&", "|"]);
const ARITHMETIC = new Set(["%", "^", "&", "|", "+", "-", "*", "/", ">>", "<<", "**"]);

/** `uint256(blockhash(n))` or a local holding it: the block value itself, not something derived from it. */
function isDirectSource(ctx: DetectorContext, n: AstNode, tainted: Map<number, Strength>): boolean {
  if (sourceStrength(ctx, n)) return true;
  return n.nodeType === "Identifier" && n.referencedDeclaration != null && tainted.has(n.referencedDeclaration);
}

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
      const lines = new Set<number>();
      const add = (node: AstNode, text: string): void => {
        const { line } = ctx.program.location(node);
        if (!lines.has(line)) (lines.add(line), out.push(report(ctx, rule, node, fn, text)));
      };
      for (const op of findAll(fn.body, "BinaryOperation")) {
        const s = MIXING.has(op.operator ?? "") ? strengthIn(ctx, op, tainted) : undefined;
        // A hash-only value (blockhash, prevrandao) in any arithmetic can only be a random number;
        // a timestamp or block number only when taken modulo or mixed bitwise.
        const strong = ARITHMETIC.has(op.operator ?? "") && strengthIn(ctx, op, tainted) === "strong";
        if (!s && !strong) continue;
        add(
          op,
          `\`${label}\` computes a number from a block value (\`${op.operator}\`), a predictable "random" choice.`,
        );
      }
      for (const conv of findAll(fn.body, "FunctionCall")) {
        if (conv.kind !== "typeConversion" || !/^u?int/.test(conv.typeDescriptions?.typeString ?? "")) continue;
        const arg = conv.arguments?.[0];
        if (!arg || (arg.nodeType === "FunctionCall" && ctx.program.classifyCall(arg).name === "keccak256")) continue;
        if (strengthIn(ctx, arg, tainted) !== "strong" || !isDirectSource(ctx, arg, tainted)) continue;
        add(conv, `\`${label}\` turns a block hash or prevrandao into a number, which the block producer knows.`);
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
          add(
            call,
            `\`${label}\` derives a number from a hash of block values, which the block producer knows in advance.`,
          );
      }
    }
    return out;
  },
};
