import { builtinCallName, calleeExpression, srcIndex, srcStart, typeString, walk, type AstNode } from "./ast";
import { lineColumnOf, type CompiledUnit } from "./compile";

/** How a FunctionCall transfers control. */
export type CallKind =
  | "lowlevel" // address.call / delegatecall / staticcall
  | "transfer" // address.transfer / send (2300 gas stipend)
  | "external" // a state-changing function of another contract
  | "external-static" // a view/pure function or getter of another contract (STATICCALL)
  | "self" // this.f()
  | "internal" // a function of this contract, a base, or a library (runs in this context)
  | "builtin" // require, keccak256, abi.encodePacked, push, ...
  | "other"; // type conversion, struct constructor, new, function-type variable

export interface CallInfo {
  kind: CallKind;
  /** The member or builtin name: call, delegatecall, send, transfer, keccak256, encodePacked, push ... */
  name?: string;
  /** The called function or modifier, for internal and external calls. */
  decl?: AstNode;
  /** The address or contract expression the member is called on. */
  base?: AstNode;
  /** `super.f()` / `Base.f()`: the declaration itself, not its overrides, runs. */
  exact?: boolean;
}

const LOW_LEVEL = new Set(["call", "delegatecall", "staticcall"]);
const STIPEND = new Set(["send", "transfer"]);

/** Every compiled unit indexed for the detectors: nodes by id, parents, overrides, locations. */
export class Program {
  readonly nodes = new Map<number, AstNode>();
  readonly parents = new WeakMap<AstNode, AstNode>();
  readonly byIndex = new Map<number, CompiledUnit>();
  /** Base function/modifier id -> ids of the functions/modifiers that override it directly. */
  private readonly overriders = new Map<number, number[]>();

  constructor(readonly units: CompiledUnit[]) {
    for (const unit of units) {
      this.byIndex.set(unit.index, unit);
      this.index(unit.ast);
    }
  }

  private index(root: AstNode): void {
    walk(root, (n) => {
      if (typeof n.id === "number") this.nodes.set(n.id, n);
      for (const base of [...(n.baseFunctions ?? []), ...(n.baseModifiers ?? [])]) {
        const list = this.overriders.get(base) ?? [];
        list.push(n.id);
        this.overriders.set(base, list);
      }
    });
    const link = (node: AstNode): void => {
      for (const v of Object.values(node)) {
        const items = Array.isArray(v) ? v : [v];
        for (const c of items) {
          if (typeof c === "object" && c !== null && typeof (c as AstNode).nodeType === "string") {
            this.parents.set(c as AstNode, node);
            link(c as AstNode);
          }
        }
      }
    };
    link(root);
  }

  /** Units the author asked to audit. */
  get targetUnits(): CompiledUnit[] {
    return this.units.filter((u) => u.isTarget);
  }

  isDeclared = (id: number): boolean => this.nodes.has(id);

  decl(node: AstNode | null | undefined): AstNode | undefined {
    const ref = node?.referencedDeclaration;
    return ref == null ? undefined : this.nodes.get(ref);
  }

  parent(node: AstNode): AstNode | undefined {
    return this.parents.get(node);
  }

  /** Nearest enclosing node of one of `types`. */
  enclosing(node: AstNode, ...types: string[]): AstNode | undefined {
    let p = this.parent(node);
    while (p && !types.includes(p.nodeType)) p = this.parent(p);
    return p;
  }

  contractOf(node: AstNode): AstNode | undefined {
    return this.enclosing(node, "ContractDefinition");
  }

  unitOf(node: AstNode): CompiledUnit | undefined {
    return this.byIndex.get(srcIndex(node));
  }

  isInTarget(node: AstNode): boolean {
    return this.unitOf(node)?.isTarget ?? false;
  }

  /** File (relative to the audit root) and 1-based line of a node. */
  location(node: AstNode): { file: string; line: number } {
    const unit = this.unitOf(node);
    if (!unit) return { file: "<unknown>", line: 0 };
    return { file: unit.relPath, line: lineColumnOf(unit.lineStarts, srcStart(node)).line };
  }

  /** `Contract.function` (or `Contract.constructor`, `Contract.receive`, `Contract.modifier`). */
  label(fn: AstNode): string {
    const contract = this.contractOf(fn)?.name ?? "<file>";
    const name = fn.name || fn.kind || "<anonymous>";
    return `${contract}.${name}`;
  }

  /** Functions and modifiers with a body, declared in the audited files. */
  targetCallables(): AstNode[] {
    const out: AstNode[] = [];
    for (const unit of this.targetUnits)
      walk(unit.ast, (n) => {
        if ((n.nodeType === "FunctionDefinition" || n.nodeType === "ModifierDefinition") && n.body) out.push(n);
      });
    return out;
  }

  /** The declaration and every (transitive) override of it that has a body. */
  implementations(decl: AstNode, exact = false): AstNode[] {
    const out: AstNode[] = [];
    const seen = new Set<number>();
    const visit = (id: number): void => {
      if (seen.has(id)) return;
      seen.add(id);
      const n = this.nodes.get(id);
      if (n?.body) out.push(n);
      if (!exact) for (const o of this.overriders.get(id) ?? []) visit(o);
    };
    visit(decl.id);
    return out;
  }

  /** Classifies a FunctionCall by how it transfers control (see CallKind). */
  classifyCall(call: AstNode): CallInfo {
    if (call.kind === "typeConversion" || call.kind === "structConstructorCall") return { kind: "other" };
    const e = calleeExpression(call);
    if (!e) return { kind: "other" };
    if (e.nodeType === "Identifier") {
      const builtin = builtinCallName(call, this.isDeclared);
      if (builtin) return { kind: "builtin", name: builtin };
      const decl = this.decl(e);
      return decl?.nodeType === "FunctionDefinition" ? { kind: "internal", decl, name: decl.name } : { kind: "other" };
    }
    if (e.nodeType !== "MemberAccess" || !e.expression) return { kind: "other" };
    return this.classifyMemberCall(e, e.expression);
  }

  private classifyMemberCall(e: AstNode, base: AstNode): CallInfo {
    const member = e.memberName ?? "";
    const baseType = typeString(base);
    if (baseType.startsWith("address")) {
      if (LOW_LEVEL.has(member)) return { kind: "lowlevel", name: member, base };
      if (STIPEND.has(member)) return { kind: "transfer", name: member, base };
    }
    const decl = this.decl(e);
    const instance = /^(contract|interface) /.test(baseType);
    if (decl?.nodeType === "FunctionDefinition") {
      if (this.contractOf(decl)?.contractKind === "library") return { kind: "internal", decl, name: decl.name, base };
      if (instance) {
        if (base.nodeType === "Identifier" && base.name === "this")
          return { kind: "self", decl, name: decl.name, base };
        const isStatic = decl.stateMutability === "view" || decl.stateMutability === "pure";
        return { kind: isStatic ? "external-static" : "external", decl, name: decl.name, base };
      }
      return { kind: "internal", decl, name: decl.name, base, exact: true };
    }
    if (decl?.nodeType === "VariableDeclaration" && instance)
      return { kind: "external-static", decl, name: member, base };
    if (!decl) return { kind: "builtin", name: member, base };
    return { kind: "other" };
  }
}
