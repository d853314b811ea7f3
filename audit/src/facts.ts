import { findAll, isBuiltinMember, isStatement, paramsOf, typeString, walk, type AstNode } from "./ast";
import type { CallInfo, Program } from "./program";

/** A write to contract storage: `root` is the state variable when known (not through an opaque pointer). */
export interface StorageWrite {
  node: AstNode;
  root?: AstNode;
  /** The state variable's name followed by the struct members written, e.g. [`_pipes`, `status`]. */
  names: string[];
}

/** A call that hands control to another contract. */
export interface ExternalCallSite {
  node: AstNode;
  /** `unlimited`: call / external function (can re-enter); `stipend`: transfer / send (2,300 gas). */
  gas: "unlimited" | "stipend";
  text: string;
}

const REENTRANCY_GUARD = /nonreentrant/i;
const MAX_DEPTH = 12;

/**
 * Facts about functions that several detectors need, computed lazily and memoised: call graph and
 * its closure, storage writes, external calls, and whether a function checks its caller.
 */
export class Facts {
  private readonly callMemo = new Map<AstNode, { call: AstNode; info: CallInfo }[]>();
  private readonly closureMemo = new Map<string, AstNode[]>();
  private readonly senderMemo = new Map<string, boolean>();
  private readonly returnsSenderMemo = new Map<AstNode, boolean>();
  private callerMap?: Map<AstNode, AstNode[]>;

  constructor(readonly program: Program) {}

  /** Every FunctionCall in `node` with its classification. */
  calls(node: AstNode): { call: AstNode; info: CallInfo }[] {
    let out = this.callMemo.get(node);
    if (!out) {
      out = findAll(node, "FunctionCall").map((call) => ({ call, info: this.program.classifyCall(call) }));
      this.callMemo.set(node, out);
    }
    return out;
  }

  /** Implementations an internal call may run (overrides included unless `super.f()` / `Base.f()`). */
  targetsOf(info: CallInfo): AstNode[] {
    return info.kind === "internal" && info.decl ? this.program.implementations(info.decl, info.exact) : [];
  }

  /** Modifier definitions (with overrides) applied to a function, with the invocation. */
  modifiersOf(fn: AstNode): { invocation: AstNode; name: string; defs: AstNode[] }[] {
    const out: { invocation: AstNode; name: string; defs: AstNode[] }[] = [];
    for (const inv of fn.modifiers ?? []) {
      const decl = this.program.decl(inv.modifierName);
      if (decl?.nodeType !== "ModifierDefinition") continue;
      out.push({ invocation: inv, name: decl.name ?? "", defs: this.program.implementations(decl) });
    }
    return out;
  }

  hasReentrancyGuard(fn: AstNode): boolean {
    return this.modifiersOf(fn).some((m) => REENTRANCY_GUARD.test(m.name));
  }

  /** `fn` and every function it can reach through internal calls (and modifiers when asked). */
  closure(fn: AstNode, withModifiers = false): AstNode[] {
    const key = `${fn.id}:${withModifiers}`;
    const memo = this.closureMemo.get(key);
    if (memo) return memo;
    const seen = new Set<AstNode>([fn]);
    const queue = [fn];
    while (queue.length > 0) {
      const cur = queue.shift()!;
      const next = this.calls(cur.body ?? cur).flatMap(({ info }) => this.targetsOf(info));
      if (withModifiers) next.push(...this.modifiersOf(cur).flatMap((m) => m.defs));
      for (const n of next) if (!seen.has(n)) (seen.add(n), queue.push(n));
    }
    const out = [...seen];
    this.closureMemo.set(key, out);
    return out;
  }

  /** Functions (and modifiers) that call `fn` internally, over every compiled unit. */
  callers(fn: AstNode): AstNode[] {
    if (!this.callerMap) {
      this.callerMap = new Map();
      for (const unit of this.program.units)
        walk(unit.ast, (n) => {
          if ((n.nodeType !== "FunctionDefinition" && n.nodeType !== "ModifierDefinition") || !n.body) return;
          const targets = this.calls(n.body).flatMap(({ info }) => this.targetsOf(info));
          targets.push(...this.modifiersOf(n).flatMap((m) => m.defs));
          for (const t of targets) this.callerMap!.set(t, [...(this.callerMap!.get(t) ?? []), n]);
        });
    }
    return this.callerMap.get(fn) ?? [];
  }

  /** Public or external function, receive or fallback: callable from outside. */
  isEntryPoint(fn: AstNode): boolean {
    return (
      fn.nodeType === "FunctionDefinition" &&
      fn.kind !== "constructor" &&
      (fn.visibility === "public" || fn.visibility === "external")
    );
  }

  isReadOnly(fn: AstNode): boolean {
    return fn.stateMutability === "view" || fn.stateMutability === "pure";
  }

  // ---------------------------------------------------------------- storage writes

  /** Storage writes made directly in `node` (not through calls). */
  writesIn(node: AstNode): StorageWrite[] {
    const out: StorageWrite[] = [];
    walk(node, (n) => void out.push(...this.directWrites(n)));
    return out;
  }

  /** Storage written by this very node: an assignment, ++/--/delete, push/pop, or assembly sstore. */
  directWrites(n: AstNode): StorageWrite[] {
    const out: StorageWrite[] = [];
    const add = (target: AstNode | null | undefined): void => {
      if (!target) return;
      if (target.nodeType === "TupleExpression") return (target.components ?? []).forEach(add);
      const ref = this.storageTarget(target);
      if (ref) out.push({ node: n, ...ref });
    };
    if (n.nodeType === "Assignment") add(n.leftHandSide);
    else if (n.nodeType === "UnaryOperation" && ["++", "--", "delete"].includes(n.operator ?? "")) add(n.subExpression);
    else if (n.nodeType === "FunctionCall") {
      const info = this.program.classifyCall(n);
      if (info.kind === "builtin" && (info.name === "push" || info.name === "pop")) add(info.base);
    } else if (n.nodeType === "YulFunctionCall" && n.functionName?.name === "sstore") out.push({ node: n, names: [] });
    return out;
  }

  /**
   * The storage a left-hand side refers to, or null for memory, calldata and locals. With
   * `reference`, a bare storage pointer (`keys` in `bytes32[] storage keys = txn.keys`) resolves too.
   */
  storageTarget(expr: AstNode, depth = 0, reference = false): { root?: AstNode; names: string[] } | null {
    const names: string[] = [];
    let derefs = 0;
    let e: AstNode | undefined = expr;
    while (e) {
      if (e.nodeType === "IndexAccess" || e.nodeType === "IndexRangeAccess") (derefs++, (e = e.baseExpression));
      else if (e.nodeType === "MemberAccess")
        (derefs++, names.unshift(e.memberName ?? ""), (e = e.expression ?? undefined));
      else if (e.nodeType === "TupleExpression" && e.components?.length === 1) e = e.components[0] ?? undefined;
      else if (e.nodeType === "FunctionCall") return typeString(e).includes("storage") ? { names } : null;
      else if (e.nodeType === "Identifier") return this.identifierStorage(e, names, reference ? 1 : derefs, depth);
      else return null;
    }
    return null;
  }

  private identifierStorage(
    e: AstNode,
    names: string[],
    derefs: number,
    depth: number,
  ): { root?: AstNode; names: string[] } | null {
    const decl = this.program.decl(e);
    if (decl?.nodeType !== "VariableDeclaration") return null;
    if (decl.stateVariable) {
      if (decl.constant || decl.mutability === "immutable") return null;
      return { root: decl, names: [decl.name ?? "", ...names] };
    }
    // A local storage pointer: writing through it writes storage; re-pointing it does not.
    if (decl.storageLocation !== "storage" || derefs === 0) return null;
    const init = this.pointerInit(decl);
    const base = init && depth < 5 ? this.storageTarget(init, depth + 1) : null;
    return base ? { root: base.root, names: [...base.names, ...names] } : { names };
  }

  /** The initial value of a single local variable declaration. */
  private pointerInit(decl: AstNode): AstNode | undefined {
    const stmt = this.program.parent(decl);
    if (stmt?.nodeType !== "VariableDeclarationStatement" || stmt.declarations?.length !== 1) return undefined;
    return stmt.initialValue ?? undefined;
  }

  /** Storage writes of `fn` and of every function it calls internally (modifiers excluded). */
  transitiveWrites(fn: AstNode): StorageWrite[] {
    return this.closure(fn).flatMap((f) => this.writesIn(f.body!));
  }

  // ---------------------------------------------------------------- external calls

  /** Calls in `node` that hand control to another contract (not static calls, not `this`). */
  externalCallsIn(node: AstNode): ExternalCallSite[] {
    const out: ExternalCallSite[] = [];
    for (const { call, info } of this.calls(node)) {
      const site = this.externalCallSite(call, info);
      if (site) out.push(site);
    }
    for (const y of findAll(node, "YulFunctionCall")) {
      const site = this.externalCallSite(y);
      if (site) out.push(site);
    }
    return out;
  }

  /**
   * True when `fn` (or a function it calls) calls an internal hook no contract in the build implements
   * (UUPS `_authorizeUpgrade`): the check is left to the concrete contract, where it is judged.
   */
  defersToHook(fn: AstNode): boolean {
    return this.closure(fn).some((f) =>
      this.calls(f.body!).some(
        ({ info }) => info.kind === "internal" && info.decl && this.program.implementations(info.decl).length === 0,
      ),
    );
  }

  /**
   * True when a call on `base` cannot hand control to code an outsider picks, so it cannot re-enter:
   * this contract (`this`, `address(this)`), a precompile (`address(0x01)` ... `address(0xff)`), an
   * address fixed at deployment (a constant or immutable, directly or through a getter returning one),
   * or a state variable that only the constructor and functions checking their caller write.
   */
  trustedTarget(base: AstNode | null | undefined, depth = 0): boolean {
    let e = base;
    while (e?.nodeType === "FunctionCall" && e.kind === "typeConversion" && e.arguments?.length === 1)
      e = e.arguments[0];
    if (!e || depth > 3) return false;
    if (e.nodeType === "Identifier" && e.name === "this") return true;
    if (e.nodeType === "Literal" && e.kind === "number") return Number(e.value) > 0 && Number(e.value) < 0x100;
    if (e.nodeType === "FunctionCall" && (e.arguments ?? []).length === 0) {
      const info = this.program.classifyCall(e);
      const impls = info.kind === "internal" || info.kind === "self" ? this.program.implementations(info.decl!) : [];
      return (
        impls.length > 0 &&
        impls.every((f) => {
          const stmts = f.body?.statements ?? [];
          return (
            stmts.length === 1 && stmts[0].nodeType === "Return" && this.trustedTarget(stmts[0].expression, depth + 1)
          );
        })
      );
    }
    const decl = e.nodeType === "Identifier" ? this.program.decl(e) : undefined;
    if (decl?.nodeType !== "VariableDeclaration" || !decl.stateVariable) return false;
    const mut = (decl as AstNode & { mutability?: string }).mutability;
    if (mut === "immutable" || mut === "constant") return true;
    return this.onlyProtectedWriters(decl);
  }

  private readonly writersMemo = new Map<number, boolean>();
  /** Every public or external function that writes `variable` (through internal calls too) checks its caller. */
  onlyProtectedWriters(variable: AstNode): boolean {
    const memo = this.writersMemo.get(variable.id);
    if (memo !== undefined) return memo;
    this.writersMemo.set(variable.id, false); // recursion guard
    let ok = true;
    for (const unit of this.program.units) {
      walk(unit.ast, (n) => {
        if (!ok) return false;
        if (n.nodeType !== "FunctionDefinition" || !n.body || !this.isEntryPoint(n) || this.isReadOnly(n)) return true;
        if (this.transitiveWrites(n).some((w) => w.root?.id === variable.id) && !this.isProtected(n)) ok = false;
        return false;
      });
      if (!ok) break;
    }
    this.writersMemo.set(variable.id, ok);
    return ok;
  }

  /** The external call this very node makes, if any. */
  externalCallSite(node: AstNode, info?: CallInfo): ExternalCallSite | undefined {
    if (node.nodeType === "YulFunctionCall") {
      const name = node.functionName?.name ?? "";
      return ["call", "callcode", "delegatecall"].includes(name)
        ? { node, gas: "unlimited", text: `assembly ${name}` }
        : undefined;
    }
    if (node.nodeType !== "FunctionCall") return undefined;
    const i = info ?? this.program.classifyCall(node);
    if ((i.kind === "external" || i.kind === "lowlevel" || i.kind === "transfer") && this.trustedTarget(i.base))
      return undefined;
    if (i.kind === "external" || (i.kind === "lowlevel" && i.name !== "staticcall"))
      return { node, gas: "unlimited", text: i.name ?? "call" };
    if (i.kind === "transfer") return { node, gas: "stipend", text: i.name ?? "transfer" };
    return undefined;
  }

  /**
   * External calls made by `fn` or any function it calls internally, except those of a library
   * function called on a trusted address (see libraryOnTrusted).
   */
  transitiveExternalCalls(fn: AstNode): ExternalCallSite[] {
    const seen = new Set<AstNode>([fn]);
    const queue = [fn];
    const out: ExternalCallSite[] = [];
    while (queue.length > 0) {
      const cur = queue.shift()!;
      if (!cur.body) continue;
      out.push(...this.externalCallsIn(cur.body));
      for (const { call, info } of this.calls(cur.body)) {
        if (this.libraryOnTrusted(call, info)) continue;
        for (const t of this.targetsOf(info)) if (!seen.has(t)) (seen.add(t), queue.push(t));
      }
    }
    return out;
  }

  /**
   * A library function acting on a trusted address (`SafeERC20.safeTransferFrom(_token, ...)`,
   * `_token.safeTransfer(...)`).
   */
  libraryOnTrusted(call: AstNode, info: CallInfo): boolean {
    if (info.kind !== "internal" || !info.decl || this.program.contractOf(info.decl)?.contractKind !== "library")
      return false;
    const onLibrary = /^type\(library /.test(info.base?.typeDescriptions?.typeString ?? "");
    const subject = onLibrary ? (call.arguments ?? [])[0] : info.base;
    return !!subject && this.trustedTarget(subject);
  }

  // ---------------------------------------------------------------- guards

  /**
   * State variables `expr` reads, directly, through the locals it names (their initial value, when
   * `fn` is given) or through the internal (view) functions it calls.
   */
  readRoots(expr: AstNode | null | undefined, fn?: AstNode): Set<number> {
    const out = new Set<number>();
    const seen = new Set<AstNode>();
    const scan = (n: AstNode): void => {
      if (seen.has(n)) return;
      seen.add(n);
      walk(n, (m) => {
        if (m.nodeType !== "Identifier") return;
        const d = this.program.decl(m);
        if (d?.nodeType !== "VariableDeclaration") return;
        if (d.stateVariable && !d.constant) out.add(d.id);
        else if (fn && !d.stateVariable) {
          const init = this.pointerInit(d);
          if (init) scan(init);
        }
      });
      for (const { info } of this.calls(n))
        for (const t of this.targetsOf(info)) for (const f of this.closure(t)) if (f.body) scan(f.body);
    };
    if (expr) scan(expr);
    return out;
  }

  /** The condition of each guard in `node`: require / assert, and an `if` one of whose branches reverts. */
  guardConditions(node: AstNode): AstNode[] {
    const out: AstNode[] = [];
    walk(node, (n) => {
      if (n.nodeType === "IfStatement" && n.condition && this.branchReverts(n)) out.push(n.condition);
      else if (n.nodeType === "FunctionCall") {
        const info = this.program.classifyCall(n);
        if (info.kind === "builtin" && (info.name === "require" || info.name === "assert") && n.arguments?.[0])
          out.push(n.arguments[0]);
      }
    });
    return out;
  }

  /**
   * True when `fn` (with what it calls) re-validates the state it writes: a guard that reads a state
   * variable the same code writes (`_spendAllowance` re-reads the allowance, `_update` the balance,
   * a timelock's `_afterCall` the operation's state). Run after an external call, such a write settles
   * on fresh state or reverts: checks-effects-interactions across functions.
   */
  revalidates(fn: AstNode): boolean {
    const memo = this.revalidatesMemo.get(fn);
    if (memo !== undefined) return memo;
    const written = new Set(this.transitiveWrites(fn).flatMap((w) => (w.root ? [w.root.id] : [])));
    const result = this.closure(fn, true).some((f) =>
      this.guardConditions(f.body!).some((c) => [...this.readRoots(c, f)].some((id) => written.has(id))),
    );
    this.revalidatesMemo.set(fn, result);
    return result;
  }
  private readonly revalidatesMemo = new Map<AstNode, boolean>();

  // ---------------------------------------------------------------- access control

  /**
   * True when `fn` checks its caller: a modifier that checks msg.sender (onlyOwner, onlyRole, custom
   * onlyX), or a require / if-revert on msg.sender in its body or in a function it calls.
   */
  isProtected(fn: AstNode): boolean {
    return this.checksSender(fn, []);
  }

  /**
   * Whether `fn` enforces a condition on msg.sender (or on the parameters at `taintedParams`): in its
   * modifiers, its body, or a function it calls (with that function's modifiers).
   */
  checksSender(fn: AstNode, taintedParams: number[], depth = 0): boolean {
    const key = `${fn.id}:${taintedParams.join(",")}`;
    const memo = this.senderMemo.get(key);
    if (memo !== undefined) return memo;
    if (depth > MAX_DEPTH || !fn.body) return false;
    this.senderMemo.set(key, false); // recursion guard
    const params = paramsOf(fn);
    const seeds = new Set(taintedParams.map((i) => params[i]?.id).filter((id): id is number => id !== undefined));
    const { senderNodes, tainted } = this.senderFlow(fn, seeds);
    // Inside a callee, a parameter that merely flows into an `if` is not a guard (e.g. `_grantRole`'s
    // idempotence check): there the branch must revert.
    const strict = taintedParams.length > 0;
    const result =
      this.modifiersCheck(fn, tainted, depth) ||
      senderNodes.some((s) => this.isEnforced(s, depth, strict)) ||
      this.calls(fn.body).some(({ info }) => this.targetsOf(info).some((t) => this.checksSender(t, [], depth + 1)));
    this.senderMemo.set(key, result);
    return result;
  }

  /** A modifier of `fn` that checks the caller (or a sender-derived argument passed to it). */
  private modifiersCheck(fn: AstNode, tainted: Set<number>, depth: number): boolean {
    return this.modifiersOf(fn).some((m) => {
      if (m.defs.length === 0) return /^only|auth/i.test(m.name); // declared without a body here
      const args = (m.invocation.arguments ?? []).flatMap((a, i) => (this.mentionsSender(a, tainted) ? [i] : []));
      return m.defs.some((d) => this.checksSender(d, args, depth + 1));
    });
  }

  /** Locals derived from msg.sender or the seeds, and every node in the body that is sender-derived. */
  private senderFlow(fn: AstNode, seeds: Set<number>): { senderNodes: AstNode[]; tainted: Set<number> } {
    const tainted = new Set(seeds);
    walk(fn.body!, (n) => {
      if (
        n.nodeType === "VariableDeclarationStatement" &&
        n.initialValue &&
        this.mentionsSender(n.initialValue, tainted)
      )
        for (const d of n.declarations ?? []) if (d) tainted.add(d.id);
      if (
        n.nodeType === "Assignment" &&
        n.leftHandSide?.nodeType === "Identifier" &&
        this.mentionsSender(n.rightHandSide!, tainted)
      ) {
        const d = this.program.decl(n.leftHandSide);
        if (d && !d.stateVariable) tainted.add(d.id);
      }
    });
    const senderNodes: AstNode[] = [];
    walk(fn.body!, (n) => void (this.isSenderExpr(n, tainted) && senderNodes.push(n)));
    return { senderNodes, tainted };
  }

  mentionsSender(expr: AstNode, tainted: Set<number>): boolean {
    let found = false;
    walk(expr, (n) => {
      if (found) return false;
      found = this.isSenderExpr(n, tainted);
      return !found;
    });
    return found;
  }

  /** msg.sender, a sender-derived local, or a call to a function that returns msg.sender (`_msgSender()`). */
  private isSenderExpr(n: AstNode, tainted: Set<number>): boolean {
    if (isBuiltinMember(n, "msg", "sender")) return true;
    if (n.nodeType === "Identifier" && n.referencedDeclaration != null && tainted.has(n.referencedDeclaration))
      return true;
    if (n.nodeType !== "FunctionCall" || (n.arguments?.length ?? 0) > 0) return false;
    return this.targetsOf(this.program.classifyCall(n)).some((t) => this.returnsSender(t));
  }

  private returnsSender(fn: AstNode): boolean {
    const memo = this.returnsSenderMemo.get(fn);
    if (memo !== undefined) return memo;
    this.returnsSenderMemo.set(fn, false);
    const { senderNodes } = this.senderFlow(fn, new Set());
    const result = senderNodes.some((s) => this.program.enclosing(s, "Return") !== undefined);
    this.returnsSenderMemo.set(fn, result);
    return result;
  }

  /**
   * Whether a sender-derived node is enforced: inside require/assert, in the condition of an `if`
   * (in a callee: one whose branch reverts), passed to a function that enforces it, or passed to a view
   * call whose result is dropped (a view call used as a statement can only be a check).
   */
  private isEnforced(s: AstNode, depth: number, strict: boolean): boolean {
    if (this.trivialComparison(s)) return false;
    let child = s;
    let p = this.program.parent(s);
    while (p && !isStatement(p)) {
      if (p.nodeType === "FunctionCall" && this.enforcedByCall(p, child, depth)) return true;
      child = p;
      p = this.program.parent(p);
    }
    if (!p) return false;
    if (p.nodeType === "IfStatement" && p.condition === child) return !strict || this.branchReverts(p);
    if (p.nodeType === "ExpressionStatement" && child.nodeType === "FunctionCall") {
      const info = this.program.classifyCall(child);
      return info.kind === "external-static" || (info.kind === "internal" && this.isReadOnly(info.decl!));
    }
    return false;
  }

  /**
   * A comparison of the caller that authorises nobody: with a literal, `address(0)` or `tx.origin`
   * (`require(msg.sender == tx.origin)` only rules out contracts).
   */
  private trivialComparison(s: AstNode): boolean {
    const p = this.program.parent(s);
    if (p?.nodeType !== "BinaryOperation" || (p.operator !== "==" && p.operator !== "!=")) return false;
    let other = p.leftExpression === s ? p.rightExpression : p.leftExpression;
    while (other?.nodeType === "FunctionCall" && other.kind === "typeConversion" && other.arguments?.length === 1)
      other = other.arguments[0];
    return !!other && (other.nodeType === "Literal" || isBuiltinMember(other, "tx", "origin"));
  }

  private enforcedByCall(call: AstNode, child: AstNode, depth: number): boolean {
    const info = this.program.classifyCall(call);
    let index = (call.arguments ?? []).indexOf(child);
    const bound = info.kind === "internal" && info.base && !typeString(info.base).startsWith("type(");
    if (bound) index = info.base === child ? 0 : index >= 0 ? index + 1 : -1; // `x.f(a)` with `using L for T`
    if (index < 0) return false;
    if (info.kind === "builtin") return info.name === "require" || info.name === "assert";
    return this.targetsOf(info).some((t) => this.checksSender(t, [index], depth + 1));
  }

  /** An `if` one of whose branches reverts (a guard; a `return` in a callee only leaves the callee). */
  branchReverts(stmt: AstNode): boolean {
    const exits = (b: AstNode | null | undefined): boolean => {
      let found = false;
      if (b)
        walk(b, (n) => {
          if (n.nodeType === "RevertStatement") found = true;
          else if (n.nodeType === "FunctionCall") {
            const info = this.program.classifyCall(n);
            if (info.kind === "builtin" && info.name === "revert") found = true;
          }
          return !found;
        });
      return found;
    };
    return exits(stmt.trueBody) || exits(stmt.falseBody);
  }
}
