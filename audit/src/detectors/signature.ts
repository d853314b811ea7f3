import { findAll, paramsOf, walk, type AstNode } from "../ast";
import type { RawFinding } from "../types";
import { report, targetFunctions, type Detector, type DetectorContext, type Rule } from "./types";

const replayRule: Rule = {
  id: "signature-replay",
  title: "Signature accepted without nonce or deadline",
  severity: "medium",
  summary:
    "A state-changing function recovers a signer (ecrecover, ECDSA.recover/tryRecover, SignatureChecker) but neither it nor the functions it calls use a nonce, a deadline/expiry, or a used-hash record: the same signature can be replayed.",
  recommendation:
    "Sign an EIP-712 message that includes a nonce (OpenZeppelin Nonces._useNonce) and a deadline checked against block.timestamp, or record each digest as used.",
};

const malleabilityRule: Rule = {
  id: "signature-malleability",
  title: "Raw ecrecover without s-value check",
  severity: "medium",
  summary:
    "ecrecover is called directly and the signature's s value is not checked against secp256k1n/2, so (r, n - s, v') is a second valid signature for the same message (a replay guard keyed on the signature bytes is bypassed).",
  recommendation: "Use OpenZeppelin ECDSA.recover, which rejects high-s signatures, instead of ecrecover.",
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

export const signature: Detector = {
  name: "signature replay / malleability",
  rules: [replayRule, malleabilityRule],
  run(ctx: DetectorContext): RawFinding[] {
    const out: RawFinding[] = [];
    const replayReported = new Set<AstNode>();
    for (const fn of targetFunctions(ctx)) {
      if (!ctx.facts.isEntryPoint(fn) || ctx.facts.isReadOnly(fn)) continue;
      const reach = ctx.facts.closure(fn, true);
      const sites = reach.filter((f) => ctx.program.isInTarget(f)).flatMap((f) => recoverSites(ctx, f.body!));
      if (sites.length === 0 || hasReplayGuard(reach)) continue;
      for (const { call } of sites) {
        if (replayReported.has(call)) continue;
        replayReported.add(call);
        const text = `\`${ctx.program.label(fn)}\` accepts a recovered signature with no nonce, deadline or used-digest check on its path: the signature can be replayed.`;
        out.push(report(ctx, replayRule, call, fn, text));
      }
    }
    for (const fn of ctx.program.targetCallables())
      for (const { call, raw } of recoverSites(ctx, fn.body!)) {
        if (!raw || hasLowSCheck(ctx, ctx.facts.closure(fn, true))) continue;
        const text = `\`${ctx.program.label(fn)}\` calls ecrecover without rejecting s > secp256k1n/2: signatures are malleable.`;
        out.push(report(ctx, malleabilityRule, call, fn, text));
      }
    return out;
  },
};
