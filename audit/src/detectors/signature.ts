import { findAll, isBuiltinMember, paramsOf, walk, type AstNode } from "../ast";
import type { RawFinding } from "../types";
import { report, targetFunctions, type Detector, type DetectorContext, type Rule } from "./types";

const replayRule: Rule = {
  id: "signature-replay",
  title: "Signature accepted without nonce or deadline",
  severity: "medium",
  summary:
    "A state-changing function recovers a signer (ecrecover, ECDSA.recover/tryRecover, SignatureChecker) but " +
    "neither it nor the functions it calls use a nonce, a deadline/expiry, or a used-hash record: the same " +
    "signature can be replayed.",
  recommendation:
    "Sign an EIP-712 message that includes a nonce (OpenZeppelin Nonces._useNonce) and a deadline checked against " +
    "block.timestamp, or record each digest as used.",
};

const malleabilityRule: Rule = {
  id: "signature-malleability",
  title: "Raw ecrecover without s-value check",
  severity: "medium",
  summary:
    "ecrecover is called directly and the signature's s value is not checked against secp256k1n/2, so (r, n - s, " +
    "v') is a second valid signature for the same message (a replay guard keyed on the signature bytes is " +
    "bypassed).",
  recommendation: "Use OpenZeppelin ECDSA.recover, which rejects high-s signatures, instead of ecrecover.",
};

const domainRule: Rule = {
  id: "signature-replay-domain",
  title: "Signed digest without chain id or contract address",
  severity: "medium",
  summary:
    "A state-changing function recovers a signer over a digest it hashes itself, and the digest holds neither the " +
    "chain id nor the verifying contract's address (no EIP-712 domain): the same signature is valid on another " +
    "chain or on another deployment of the contract.",
  recommendation:
    "Hash an EIP-712 typed message (OpenZeppelin EIP712._hashTypedDataV4), whose domain holds block.chainid and " +
    "address(this), or include both in the signed digest.",
};

const zeroRule: Rule = {
  id: "ecrecover-zero",
  title: "ecrecover result not checked against zero",
  severity: "medium",
  summary:
    "Raw ecrecover returns address(0) for an invalid signature, and neither the function nor its callers compare " +
    "the recovered address with address(0): an invalid signature matches any signer variable that is still zero " +
    "(unset, deleted or defaulted).",
  recommendation:
    "Use OpenZeppelin ECDSA.recover, which reverts on an invalid signature, or revert when the result is address(0).",
};

/** Names that show replay protection: nonces, deadlines, expiries, used-digest maps, sequence numbers. */
const REPLAY_GUARD =
  /nonce|deadline|expir|valid(until|before|after)|used|consumed|executed|processed|replay|sequence|^seq/i;
const RECOVER_FN = /^(recover|tryRecover|recoverCalldata|tryRecoverCalldata)$/;
const CHECKER_FN = /^(isValidSignatureNow|isValidSignatureNowCalldata|isValidERC1271SignatureNow)$/;
const HALF_N_HEX = "0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0";
const HALF_N_DEC = "57896044618658097711785492504343953926418782139537452191302581570759080747168";
const HALF_N_NAME = /half|malleab|secp256k1n|n_div_2/i;

/** Calls that recover or check a signer, with `ecrecover` marked raw. */
function recoverSites(ctx: DetectorContext, body: AstNode): { call: AstNode; raw: boolean }[] {
  const out: { call: AstNode; raw: boolean }[] = [];
  for (const { call, info } of ctx.facts.calls(body)) {
    if (info.kind === "builtin" && info.name === "ecrecover") out.push({ call, raw: true });
    else if (info.kind === "internal" && info.decl) {
      const lib = ctx.program.contractOf(info.decl)?.name ?? "";
      const name = info.decl.name ?? "";
      if ((/ECDSA/.test(lib) && RECOVER_FN.test(name)) || (/SignatureChecker/.test(lib) && CHECKER_FN.test(name)))
        out.push({ call, raw: false });
    }
  }
  return out;
}

/** Whether any name read in these functions (or their parameters) shows replay protection. */
function hasReplayGuard(fns: AstNode[]): boolean {
  let found = false;
  for (const f of fns) {
    if (paramsOf(f).some((p) => REPLAY_GUARD.test(p.name ?? ""))) return true;
    walk(f.body!, (n) => {
      const name = n.nodeType === "Identifier" ? n.name : n.nodeType === "MemberAccess" ? n.memberName : undefined;
      if (name && REPLAY_GUARD.test(name)) found = true;
      return !found;
    });
    if (found) return true;
  }
  return false;
}

/** Whether a comparison against secp256k1n/2 appears in these functions. */
function hasLowSCheck(ctx: DetectorContext, fns: AstNode[]): boolean {
  const isHalfN = (n: AstNode): boolean => {
    if (n.nodeType === "Literal") {
      const v = (n.value ?? "").toLowerCase().replace(/_/g, "");
      return v === HALF_N_HEX || v === HALF_N_DEC;
    }
    if (n.nodeType !== "Identifier") return false;
    const decl = ctx.program.decl(n);
    return (
      HALF_N_NAME.test(n.name ?? "") || (!!decl?.constant && !!decl.value && isHalfN(decl.value as unknown as AstNode))
    );
  };
  return fns.some((f) =>
    findAll(f.body, "BinaryOperation").some((op) =>
      [op.leftExpression, op.rightExpression].some((side) => side && isHalfN(side)),
    ),
  );
}

/** Names and calls that put a domain (chain id, verifying contract) into a digest. */
const DOMAIN_NAME = /domain|separator|typeddata|eip712/i;

/**
 * Whether the digest `expr` is bound to a chain and a contract: it mentions `block.chainid` and
 * `address(this)`, or a domain separator / EIP-712 helper, directly, through locals it was built from,
 * or through the internal functions it calls. Undefined when the digest is not built here (a parameter).
 */
function digestHasDomain(ctx: DetectorContext, fn: AstNode, expr: AstNode | undefined, depth = 0): boolean | undefined {
  if (!expr || depth > 4) return undefined;
  const locals = localSources(ctx, fn);
  let chain = false;
  let self = false;
  let named = false;
  let built = false;
  const visit = (root: AstNode, d: number): void =>
    walk(root, (n) => {
      if (isBuiltinMember(n, "block", "chainid")) chain = true;
      if (n.nodeType === "YulFunctionCall" && n.functionName?.name === "chainid") chain = true;
      // Before 0.6 the AST holds inline assembly as text only.
      if (
        n.nodeType === "InlineAssembly" &&
        /\bchainid\(\)/.test(String((n as { operations?: string }).operations ?? ""))
      )
        chain = true;
      if (n.nodeType === "Identifier" && n.name === "this") self = true;
      const name = n.nodeType === "Identifier" ? n.name : n.nodeType === "MemberAccess" ? n.memberName : undefined;
      if (name && DOMAIN_NAME.test(name)) named = true;
      if (n.nodeType === "FunctionCall") {
        const info = ctx.program.classifyCall(n);
        if (info.kind === "builtin" && info.name === "keccak256") built = true;
        if (d < 4)
          for (const t of ctx.facts.targetsOf(info)) {
            built = true;
            if (t.body) visit(t.body, d + 1);
          }
      }
      if (n.nodeType === "Identifier" && n.referencedDeclaration != null) {
        const init = locals.get(n.referencedDeclaration);
        if (init && d < 4) visit(init, d + 1);
      }
    });
  visit(expr, depth);
  if (named || (chain && self)) return true;
  return built ? false : undefined;
}

/** Initial values (and assigned values) of the locals of `fn`, by declaration id. */
function localSources(ctx: DetectorContext, fn: AstNode): Map<number, AstNode> {
  const out = new Map<number, AstNode>();
  walk(fn.body!, (n) => {
    if (
      n.nodeType === "VariableDeclarationStatement" &&
      n.initialValue &&
      n.declarations?.length === 1 &&
      n.declarations[0]
    )
      out.set(n.declarations[0].id, n.initialValue);
    if (n.nodeType === "Assignment" && n.leftHandSide?.nodeType === "Identifier" && n.rightHandSide) {
      const d = ctx.program.decl(n.leftHandSide);
      if (d && !d.stateVariable && !out.has(d.id)) out.set(d.id, n.rightHandSide);
    }
  });
  return out;
}

/** A comparison of anything with `address(0)` in these functions. */
function comparesWithZero(fns: AstNode[]): boolean {
  const isZero = (n: AstNode | undefined): boolean =>
    !!n &&
    n.nodeType === "FunctionCall" &&
    n.kind === "typeConversion" &&
    n.arguments?.length === 1 &&
    n.arguments[0].nodeType === "Literal" &&
    Number(n.arguments[0].value) === 0;
  return fns.some((f) =>
    findAll(f.body, "BinaryOperation").some(
      (op) =>
        (op.operator === "==" || op.operator === "!=") && (isZero(op.leftExpression) || isZero(op.rightExpression)),
    ),
  );
}

export const signature: Detector = {
  name: "signature replay / malleability",
  rules: [replayRule, domainRule, malleabilityRule, zeroRule],
  run(ctx: DetectorContext): RawFinding[] {
    const out: RawFinding[] = [];
    const replayReported = new Set<AstNode>();
    for (const fn of targetFunctions(ctx)) {
      if (!ctx.facts.isEntryPoint(fn) || ctx.facts.isReadOnly(fn)) continue;
      const reach = ctx.facts.closure(fn, true);
      const inTarget = reach.filter((f) => ctx.program.isInTarget(f));
      const sites = inTarget.flatMap((f) => recoverSites(ctx, f.body!).map((s) => ({ ...s, owner: f })));
      if (sites.length === 0) continue;
      if (hasReplayGuard(reach)) {
        // A nonce stops replay here, not on another chain or another deployment of the same code.
        for (const { call, owner } of sites) {
          if (replayReported.has(call) || digestHasDomain(ctx, owner, call.arguments?.[0]) !== false) continue;
          replayReported.add(call);
          const text =
            `\`${ctx.program.label(fn)}\` recovers a signer over a digest that holds neither the chain ` +
            `id nor this contract's address: the signature can be replayed on another chain or deployment.`;
          out.push(report(ctx, domainRule, call, fn, text));
        }
        continue;
      }
      for (const { call } of sites) {
        if (replayReported.has(call)) continue;
        replayReported.add(call);
        const text =
          `\`${ctx.program.label(fn)}\` accepts a recovered signature with no nonce, deadline or ` +
          `used-digest check on its path: the signature can be replayed.`;
        out.push(report(ctx, replayRule, call, fn, text));
      }
    }
    for (const fn of ctx.program.targetCallables())
      for (const { call, raw } of recoverSites(ctx, fn.body!)) {
        // The check may sit in the caller of a `_recover` helper.
        if (!raw || hasLowSCheck(ctx, [...ctx.facts.closure(fn, true), ...ctx.facts.callers(fn)])) continue;
        const text =
          `\`${ctx.program.label(fn)}\` calls ecrecover without rejecting s > secp256k1n/2: signatures ` +
          `are malleable.`;
        out.push(report(ctx, malleabilityRule, call, fn, text));
      }
    for (const fn of ctx.program.targetCallables()) {
      if (!recoverSites(ctx, fn.body!).some((s) => s.raw)) continue;
      // The recovered address may be returned and checked by a caller (a `_recover` helper).
      const scope = [...ctx.facts.closure(fn, true), ...ctx.facts.callers(fn)];
      if (comparesWithZero(scope)) continue;
      for (const { call, raw } of recoverSites(ctx, fn.body!)) {
        if (!raw) continue;
        const text =
          `\`${ctx.program.label(fn)}\` uses the result of ecrecover without comparing it with ` +
          `address(0): an invalid signature recovers the zero address.`;
        out.push(report(ctx, zeroRule, call, fn, text));
      }
    }
    return out;
  },
};
