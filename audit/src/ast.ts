/**
 * The solc JSON AST as the detectors read it: one loose node shape with the fields they use, plus
 * helpers to walk it. Builtins (msg, tx, block, ecrecover, ...) have a `referencedDeclaration` that
 * matches no node, so they are recognised by name.
 */
export interface TypeDescriptions {
  typeString?: string | null;
  typeIdentifier?: string | null;
}

export interface AstNode {
  id: number;
  nodeType: string;
  src: string;
  name?: string;
  memberName?: string;
  referencedDeclaration?: number | null;
  typeDescriptions?: TypeDescriptions;
  kind?: string;
  operator?: string;
  prefix?: boolean;
  value?: string | null;
  hexValue?: string;
  expression?: AstNode | null;
  arguments?: AstNode[] | null;
  leftHandSide?: AstNode;
  rightHandSide?: AstNode;
  leftExpression?: AstNode;
  rightExpression?: AstNode;
  subExpression?: AstNode;
  baseExpression?: AstNode;
  indexExpression?: AstNode | null;
  components?: (AstNode | null)[];
  condition?: AstNode | null;
  trueBody?: AstNode;
  falseBody?: AstNode | null;
  trueExpression?: AstNode;
  falseExpression?: AstNode;
  body?: AstNode | null;
  statements?: AstNode[];
  initializationExpression?: AstNode | null;
  loopExpression?: AstNode | null;
  declarations?: (AstNode | null)[];
  initialValue?: AstNode | null;
  stateVariable?: boolean;
  constant?: boolean;
  mutability?: string;
  storageLocation?: string;
  visibility?: string;
  stateMutability?: string;
  modifiers?: AstNode[];
  modifierName?: AstNode;
  parameters?: unknown;
  returnParameters?: AstNode;
  baseFunctions?: number[];
  baseModifiers?: number[];
  linearizedBaseContracts?: number[];
  contractKind?: string;
  abstract?: boolean;
  implemented?: boolean;
  nodes?: AstNode[];
  scope?: number;
  functionName?: { name: string };
  externalReferences?: { declaration: number; src: string }[];
  AST?: AstNode;
  externalCall?: AstNode;
  clauses?: AstNode[];
  block?: AstNode;
  errorCall?: AstNode;
  eventCall?: AstNode;
}

function isNode(v: unknown): v is AstNode {
  return typeof v === "object" && v !== null && typeof (v as { nodeType?: unknown }).nodeType === "string";
}

/** Start offset of a node (first field of `src`). */
export function srcStart(node: AstNode): number {
  return Number(node.src.split(":")[0]);
}

/** solc source index of a node (third field of `src`). */
export function srcIndex(node: AstNode): number {
  return Number(node.src.split(":")[2]);
}

/** Direct child nodes, in source order. */
export function children(node: AstNode): AstNode[] {
  const out: AstNode[] = [];
  for (const [key, v] of Object.entries(node)) {
    if (key === "typeDescriptions" || key === "typeName") continue;
    if (isNode(v)) out.push(v);
    else if (Array.isArray(v)) for (const item of v) if (isNode(item)) out.push(item);
  }
  return out.sort((a, b) => srcStart(a) - srcStart(b));
}

/** Depth-first pre-order walk; return `false` from `visit` to skip a node's children. */
export function walk(node: AstNode, visit: (n: AstNode) => boolean | void): void {
  if (visit(node) === false) return;
  for (const c of children(node)) walk(c, visit);
}

/** All nodes under `node` (itself included) whose nodeType is `type`. */
export function findAll(node: AstNode | null | undefined, type: string): AstNode[] {
  const out: AstNode[] = [];
  if (node) walk(node, (n) => void (n.nodeType === type && out.push(n)));
  return out;
}

/** True when `inner` lies inside `outer` (by identity). */
export function contains(outer: AstNode | null | undefined, inner: AstNode): boolean {
  let found = false;
  if (outer)
    walk(outer, (n) => {
      if (found) return false;
      if (n === inner) found = true;
      return !found;
    });
  return found;
}

/** The VariableDeclaration nodes of a FunctionDefinition / ModifierDefinition's parameter list. */
export function paramsOf(fn: AstNode): AstNode[] {
  const list = fn.parameters as { parameters?: AstNode[] } | undefined;
  return list?.parameters ?? [];
}

export function typeString(node: AstNode | null | undefined): string {
  return node?.typeDescriptions?.typeString ?? "";
}

/**
 * Removes call options around a called expression: `{value: ...}`, and the `.value(...)` / `.gas(...)`
 * calls that set them before 0.7 (`to.call.value(v)()`).
 */
export function calleeExpression(call: AstNode): AstNode | undefined {
  let e = call.expression ?? undefined;
  for (;;) {
    if (e?.nodeType === "FunctionCallOptions") e = e.expression ?? undefined;
    else if (
      e?.nodeType === "FunctionCall" &&
      e.expression?.nodeType === "MemberAccess" &&
      (e.expression.memberName === "value" || e.expression.memberName === "gas") &&
      typeString(e.expression.expression).startsWith("function")
    )
      e = e.expression.expression ?? undefined;
    else return e;
  }
}

/** `msg.sender`, `tx.origin`, `block.timestamp`: a MemberAccess on a builtin identifier. */
export function isBuiltinMember(node: AstNode, object: string, member: string): boolean {
  return (
    node.nodeType === "MemberAccess" &&
    node.memberName === member &&
    node.expression?.nodeType === "Identifier" &&
    node.expression.name === object &&
    typeString(node.expression) === object
  );
}

/** Name of a builtin function identifier (`ecrecover`, `selfdestruct`, `keccak256`, `require`, ...) or undefined. */
export function builtinCallName(call: AstNode, isDeclared: (id: number) => boolean): string | undefined {
  if (call.nodeType !== "FunctionCall") return undefined;
  const e = calleeExpression(call);
  if (e?.nodeType !== "Identifier" || e.referencedDeclaration == null) return undefined;
  return isDeclared(e.referencedDeclaration) ? undefined : e.name;
}

/** True for statements (the boundary where an expression's value is consumed). */
export function isStatement(node: AstNode): boolean {
  return /Statement$|^Block$|^UncheckedBlock$|^Return$|^InlineAssembly$|^PlaceholderStatement$/.test(node.nodeType);
}
