import { findAll, typeString, walk, type AstNode } from "../ast";
import type { RawFinding } from "../types";
import { report, targetFunctions, type Detector, type DetectorContext, type Rule } from "./types";

const rule: Rule = {
  id: "unbounded-loop",
  title: "Loop over an unbounded storage array",
  severity: "medium",
  summary:
    "A for/while loop whose condition reads the length of a storage array (or EnumerableSet.length()) with no " +
    "constant bound, over an array that some write can grow without a length cap: once the array is large enough " +
    "the function runs out of gas. Medium in state-changing code (and view functions it calls), low in view " +
    "functions only called from outside.",
  recommendation:
    "Bound the loop (a constant maximum or caller-supplied page), or restructure so no state-changing function " +
    "iterates over a growing set.",
};

const COMPARE = new Set(["<", "<=", ">", ">="]);

/** The `.length` / `.length()` read of a storage array or set in a loop condition. */
function storageLength(ctx: DetectorContext, cond: AstNode): AstNode | undefined {
  return findAll(cond, "MemberAccess").find((m) => {
    if (m.memberName !== "length" || !m.expression) return false;
    const t = typeString(m.expression);
    if (!t.includes("storage")) return false;
    if (/\[\]/.test(t) || /^(bytes|string) storage/.test(t)) return true;
    const call = ctx.program.parent(m);
    return call?.nodeType === "FunctionCall" && call.expression === m; // EnumerableSet.length()
  });
}

function isConstant(ctx: DetectorContext, side: AstNode | undefined): boolean {
  if (!side) return false;
  if (side.nodeType === "Literal") return true;
  const d = ctx.program.decl(side);
  return side.nodeType === "Identifier" && (!!d?.constant || d?.mutability === "immutable");
}

/** A comparison with a constant (`i < MAX`) also in the condition bounds the loop. */
function hasConstantBound(ctx: DetectorContext, cond: AstNode): boolean {
  return findAll(cond, "BinaryOperation").some(
    (op) =>
      COMPARE.has(op.operator ?? "") && (isConstant(ctx, op.leftExpression) || isConstant(ctx, op.rightExpression)),
  );
}

type StorageRef = { root?: AstNode; names: string[] };

/** Same storage array: same variable and members, or (through an opaque pointer) the same last member name. */
function sameArray(a: StorageRef | null, b: StorageRef): boolean {
  if (!a || a.names.length === 0 || b.names.length === 0) return false;
  if (a.root && b.root) return a.root === b.root && a.names.join(".") === b.names.join(".");
  return a.names[a.names.length - 1] === b.names[b.names.length - 1];
}

/** Whether `fn` compares the length of something `isBase` accepts with a constant (`if (x.length > MAX) revert`). */
function capsLength(ctx: DetectorContext, fn: AstNode, isBase: (base: AstNode) => boolean): boolean {
  return findAll(fn.body, "BinaryOperation").some((op) => {
    if (!COMPARE.has(op.operator ?? "")) return false;
    const [l, r] = [op.leftExpression, op.rightExpression];
    const lengthOf = (side: AstNode | undefined): AstNode | undefined =>
      side?.nodeType === "MemberAccess" && side.memberName === "length" ? (side.expression ?? undefined) : undefined;
    const base = isConstant(ctx, r) ? lengthOf(l) : isConstant(ctx, l) ? lengthOf(r) : undefined;
    return !!base && isBase(base);
  });
}

/**
 * A storage array is bounded when every write that can grow it is capped where it happens: a push
 * after checking the array's length against a constant, or an assignment of a value whose length was
 * checked (`if (keys.length > MAX_KEYS) revert ...; txn.keys = keys;`).
 */
function cappedAtWrite(ctx: DetectorContext, array: StorageRef): boolean {
  let writes = 0;
  let capped = true;
  for (const fn of ctx.program.targetCallables())
    walk(fn.body!, (n) => {
      if (n.nodeType === "Assignment" && n.leftHandSide && sameArray(ctx.facts.storageTarget(n.leftHandSide), array)) {
        writes++;
        const value = n.rightHandSide;
        const decl = value?.nodeType === "Identifier" ? value.referencedDeclaration : undefined;
        capped &&=
          decl != null && capsLength(ctx, fn, (b) => b.nodeType === "Identifier" && b.referencedDeclaration === decl);
      } else if (n.nodeType === "FunctionCall") {
        const info = ctx.program.classifyCall(n);
        if (info.kind !== "builtin" || info.name !== "push" || !info.base) return;
        if (!sameArray(ctx.facts.storageTarget(info.base, 0, true), array)) return;
        writes++;
        capped &&= capsLength(ctx, fn, (b) => sameArray(ctx.facts.storageTarget(b, 0, true), array));
      }
    });
  return writes > 0 && capped;
}

/** Whether a read-only function runs inside a state-changing one (so its gas is paid on-chain). */
function calledFromStateChanging(ctx: DetectorContext, fn: AstNode, seen = new Set<AstNode>()): boolean {
  return ctx.facts.callers(fn).some((c) => {
    if (seen.has(c)) return false;
    seen.add(c);
    return (c.nodeType === "FunctionDefinition" && !ctx.facts.isReadOnly(c)) || calledFromStateChanging(ctx, c, seen);
  });
}

export const unboundedLoop: Detector = {
  name: "unbounded loop",
  rules: [rule],
  run(ctx: DetectorContext): RawFinding[] {
    const out: RawFinding[] = [];
    for (const fn of targetFunctions(ctx)) {
      const loops: AstNode[] = [];
      walk(
        fn.body!,
        (n) => void (["ForStatement", "WhileStatement", "DoWhileStatement"].includes(n.nodeType) && loops.push(n)),
      );
      for (const loop of loops) {
        if (!loop.condition) continue;
        const length = storageLength(ctx, loop.condition);
        if (!length || hasConstantBound(ctx, loop.condition)) continue;
        const array = ctx.facts.storageTarget(length.expression!, 0, true);
        if (array && cappedAtWrite(ctx, array)) continue;
        const readOnly = ctx.facts.isReadOnly(fn) && !calledFromStateChanging(ctx, fn);
        const what = typeString(length.expression).replace(/ ref$/, "");
        const text =
          `\`${ctx.program.label(fn)}\` loops over the whole ${what} (its length grows without ` +
          `bound)${readOnly ? " in a view function" : ""}.`;
        out.push(report(ctx, rule, loop, fn, text, readOnly ? "low" : "medium"));
      }
    }
    return out;
  },
};
