import { children, findAll, type AstNode } from "../ast";
import type { ExternalCallSite } from "../facts";
import type { RawFinding } from "../types";
import { report, snippet, targetFunctions, type Detector, type DetectorContext, type Rule } from "./types";

const rule: Rule = {
  id: "reentrancy",
  title: "State written after an external call",
  severity: "high",
  summary:
    "A storage write that can run after an external call (call, an external function, transfer/send) in the same " +
    "function, directly or through an internal call. A re-entrant caller sees or overwrites stale state.",
  recommendation:
    "Follow checks-effects-interactions: write all state before calling out, or guard the function with " +
    "ReentrancyGuard's nonReentrant.",
};

/**
 * Abstract state of the walk: the first external call seen on some path to here, and the state
 * variables a guard (require, if-revert) has re-read since the call on every path.
 */
interface Flow {
  call?: ExternalCallSite;
  exited: boolean;
  checked?: ReadonlySet<number>;
}

const NONE: ReadonlySet<number> = new Set();

interface Hit {
  write: AstNode;
  what: string;
  call: ExternalCallSite;
}

/** The more dangerous of two calls: one that forwards all gas wins over transfer/send. */
const pick = (a?: ExternalCallSite, b?: ExternalCallSite): ExternalCallSite | undefined =>
  !a ? b : !b ? a : a.gas === "unlimited" ? a : b;

const merge = (a: Flow, b: Flow): Flow => {
  if (a.exited) return b;
  if (b.exited) return a;
  const checked = new Set([...(a.checked ?? NONE)].filter((id) => (b.checked ?? NONE).has(id)));
  return { call: pick(a.call, b.call), exited: false, checked };
};

/** After a new external call nothing is re-checked yet. */
const called = (f: Flow, site: ExternalCallSite): Flow => ({ call: pick(f.call, site), exited: false, checked: NONE });

/**
 * Walks a function body in evaluation order (right-hand side before the write, arguments before the
 * call, both branches of an `if`, loop bodies twice) and records writes that follow an external call.
 */
class FlowWalker {
  readonly hits: Hit[] = [];

  constructor(private readonly ctx: DetectorContext) {}

  visit(node: AstNode | null | undefined, flow: Flow): Flow {
    if (!node || flow.exited) return flow;
    switch (node.nodeType) {
      case "IfStatement": {
        let f = this.visit(node.condition, flow);
        if (node.condition && this.ctx.facts.branchReverts(node)) f = this.recheck(f, node.condition);
        return merge(this.visit(node.trueBody, f), node.falseBody ? this.visit(node.falseBody, f) : f);
      }
      case "ForStatement":
      case "WhileStatement":
      case "DoWhileStatement":
        return this.loop(node, flow);
      case "TryStatement": {
        const f = this.visit(node.externalCall, flow);
        return (node.clauses ?? []).map((c) => this.visit(c.block, f)).reduce(merge, { ...f, exited: true });
      }
      case "Return": {
        const f = this.visit(node.expression, flow);
        return { ...f, exited: true };
      }
      case "RevertStatement":
        return { ...flow, exited: true };
      case "Assignment": {
        const f = this.visit(node.leftHandSide, this.visit(node.rightHandSide, flow));
        this.onWrites(node, f);
        return f;
      }
      case "UnaryOperation": {
        const f = this.visit(node.subExpression, flow);
        if (["++", "--", "delete"].includes(node.operator ?? "")) this.onWrites(node, f);
        return f;
      }
      case "FunctionCall":
        return this.call(node, flow);
      case "InlineAssembly":
        return this.assembly(node, flow);
      default:
        return children(node).reduce((f, c) => this.visit(c, f), flow);
    }
  }

  private loop(node: AstNode, flow: Flow): Flow {
    let f = this.visit(node.initializationExpression, flow);
    const once = (start: Flow): Flow =>
      this.visit(node.condition, this.visit(node.loopExpression, this.visit(node.body, start)));
    f = this.visit(node.condition, f);
    const first = once(f);
    const second = once(merge(f, { ...first, exited: false }));
    return { ...merge(f, merge(first, second)), exited: false };
  }

  /** A guard after the call re-reads these state variables: a write to them settles on fresh state. */
  private recheck(f: Flow, condition: AstNode): Flow {
    if (!f.call) return f;
    // Locals are not followed: one read before the call holds a stale value.
    return { ...f, checked: new Set([...(f.checked ?? NONE), ...this.ctx.facts.readRoots(condition)]) };
  }

  private call(node: AstNode, flow: Flow): Flow {
    let f = children(node).reduce((acc, c) => this.visit(c, acc), flow);
    const { facts, program } = this.ctx;
    const info = program.classifyCall(node);
    if (info.kind === "builtin" && info.name === "revert") return { ...f, exited: true };
    if (info.kind === "builtin" && (info.name === "require" || info.name === "assert") && node.arguments?.[0])
      f = this.recheck(f, node.arguments[0]);
    this.onWrites(node, f);
    if (info.kind === "internal") {
      // The callee's own order is judged where the callee is analysed; here it writes, then calls.
      const targets = facts.targetsOf(info);
      // A library acting on a trusted address (SafeERC20 on an immutable token) calls only that address.
      if (facts.libraryOnTrusted(node, info)) return f;
      const checked = f.checked ?? NONE;
      const writes = targets
        .flatMap((t) => facts.transitiveWrites(t))
        .filter((w) => !w.root || !checked.has(w.root.id));
      // A callee that re-validates what it writes (an allowance or balance check, a state re-check) settles
      // on fresh state or reverts. The same call in the loop's previous turn: each turn writes before it
      // calls (checked in the callee).
      const settles = targets.length > 0 && targets.every((t) => facts.revalidates(t));
      if (writes.length > 0 && !settles && f.call && f.call.node !== node)
        this.hits.push({
          write: node,
          what: `storage through \`${info.name}\` (${nameOf(writes[0].names)})`,
          call: f.call,
        });
      const calls = targets.flatMap((t) => facts.transitiveExternalCalls(t));
      if (calls.length > 0) f = called(f, { ...calls[0], node });
    }
    const site = facts.externalCallSite(node, info);
    return site ? called(f, site) : f;
  }

  private assembly(node: AstNode, flow: Flow): Flow {
    let f = flow;
    for (const y of findAll(node.AST, "YulFunctionCall")) {
      this.onWrites(y, f);
      const site = this.ctx.facts.externalCallSite(y);
      if (site) f = called(f, site);
    }
    return f;
  }

  private onWrites(node: AstNode, flow: Flow): void {
    if (!flow.call) return;
    const checked = flow.checked ?? NONE;
    const writes = this.ctx.facts.directWrites(node).filter((w) => !w.root || !checked.has(w.root.id));
    if (writes.length > 0) this.hits.push({ write: node, what: nameOf(writes[0].names), call: flow.call });
  }
}

function nameOf(names: string[]): string {
  return names.length > 0 ? `\`${names.join(".")}\`` : "storage";
}

/** Only functions an outsider can reach without a reentrancy guard are walked. */
function reachableUnguarded(ctx: DetectorContext, fn: AstNode, seen = new Set<AstNode>()): boolean {
  const { facts } = ctx;
  if (fn.kind === "constructor" || facts.hasReentrancyGuard(fn)) return false;
  if (facts.isEntryPoint(fn)) return true;
  const callers = facts.callers(fn);
  if (callers.length === 0) return true;
  return callers.some((c) => !seen.has(c) && (seen.add(c), reachableUnguarded(ctx, c, seen)));
}

/**
 * A value variable set before the call and set again after it (`_executing = true; call; _executing =
 * false`, `_id = x; call; _id = before`): a marker the contract itself checks during the call, the
 * pattern of a reentrancy lock, not a stale balance.
 */
function restoresGuard(ctx: DetectorContext, fn: AstNode, hit: Hit): boolean {
  const written = ctx.facts.directWrites(hit.write);
  if (written.length !== 1 || !written[0].root || written[0].names.length !== 1) return false;
  const root = written[0].root;
  if (/^(mapping|struct)|\[\]$/.test(root.typeDescriptions?.typeString ?? "")) return false;
  const callStart = Number(hit.call.node.src.split(":")[0]);
  // Set before and reset after, in this order in the code (a loop's next turn is not a restore).
  if (Number(hit.write.src.split(":")[0]) < callStart) return false;
  return findAll(fn.body, "Assignment").some(
    (a) =>
      Number(a.src.split(":")[0]) < callStart &&
      ctx.facts.directWrites(a).some((w) => w.root?.id === root.id && w.names.length === 1),
  );
}

export const reentrancy: Detector = {
  name: "reentrancy",
  rules: [rule],
  run(ctx: DetectorContext): RawFinding[] {
    const out: RawFinding[] = [];
    for (const fn of targetFunctions(ctx)) {
      if (ctx.facts.isReadOnly(fn) || !reachableUnguarded(ctx, fn)) continue;
      const walker = new FlowWalker(ctx);
      walker.visit(fn.body, { exited: false });
      const seen = new Set<AstNode>();
      for (const hit of walker.hits) {
        if (seen.has(hit.write) || restoresGuard(ctx, fn, hit)) continue;
        seen.add(hit.write);
        const callAt = ctx.program.location(hit.call.node).line;
        const stipend = hit.call.gas === "stipend";
        const text =
          `\`${ctx.program.label(fn)}\` writes ${hit.what} after the external call ` +
          `\`${snippet(ctx, hit.call.node)}\` (line ${callAt})` +
          (stipend
            ? "; the call forwards only the 2,300 gas stipend, which limits but does not rule out re-entry"
            : "") +
          ".";
        out.push(report(ctx, rule, hit.write, fn, text, stipend ? "medium" : "high"));
      }
    }
    return out;
  },
};
