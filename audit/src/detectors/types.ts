import type { AstNode } from "../ast";
import type { Facts } from "../facts";
import type { Program } from "../program";
import type { RawFinding, Severity } from "../types";

/** A rule a detector reports under: its id is the finding's `detector` field. */
export interface Rule {
  id: string;
  title: string;
  /** The usual severity; a finding may be lower (e.g. a loop in a view function). */
  severity: Severity;
  /** What the rule looks for (README, SARIF rule help). */
  summary: string;
  recommendation: string;
}

export interface DetectorContext {
  program: Program;
  facts: Facts;
}

/** A built-in detector: walks the solc AST of the audited files and reports under its rules. */
export interface Detector {
  /** The detector's name, as shown in progress lines. */
  name: string;
  rules: Rule[];
  run(ctx: DetectorContext): RawFinding[];
}

/** A built-in finding for `rule` at `node`, in function `fn` when given. */
export function report(
  ctx: DetectorContext,
  rule: Rule,
  node: AstNode,
  fn: AstNode | undefined,
  description: string,
  severity: Severity = rule.severity,
): RawFinding {
  const { file, line } = ctx.program.location(node);
  return {
    detector: rule.id,
    severity,
    file,
    line,
    ...(fn ? { function: ctx.program.label(fn) } : {}),
    title: rule.title,
    description,
    recommendation: rule.recommendation,
    source: "builtin",
  };
}

/** Functions (not modifiers) with a body declared in the audited files. */
export function targetFunctions(ctx: DetectorContext): AstNode[] {
  return ctx.program.targetCallables().filter((f) => f.nodeType === "FunctionDefinition");
}

/** Short source text of a node (first line, at most 80 characters), for descriptions. */
export function snippet(ctx: DetectorContext, node: AstNode): string {
  const unit = ctx.program.unitOf(node);
  if (!unit) return "";
  const [start, length] = node.src.split(":").map(Number);
  const text = Buffer.from(unit.content, "utf8")
    .subarray(start, start + length)
    .toString("utf8");
  const first = text.split("\n")[0].trim();
  return first.length > 80 ? `${first.slice(0, 77)}...` : first;
}
