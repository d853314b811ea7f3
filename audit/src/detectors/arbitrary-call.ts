import type { RawFinding } from "../types";
import { fromParameter, verifiesSignature } from "./inputs";
import { report, snippet, targetFunctions, type Detector, type DetectorContext, type Rule } from "./types";

const rule: Rule = {
  id: "arbitrary-call",
  title: "Arbitrary call with caller-chosen target and data",
  severity: "high",
  summary:
    "A public or external function without access control makes a low-level `call` (or Address.functionCall) whose " +
    "target and calldata both come from its parameters: anyone can make the contract call any contract with any " +
    "data, e.g. `token.transferFrom(victim, attacker, amount)` on tokens users approved to it.",
  recommendation:
    "Restrict the function to authorised callers, or fix the target (an allowlist) and build the calldata in the " +
    "contract; never forward caller-chosen calldata from a contract that holds approvals or funds.",
};

/** Address library helpers that make a call: target first, data second. */
const ADDRESS_CALL = /^(functionCall|functionCallWithValue)$/;

export const arbitraryCall: Detector = {
  name: "arbitrary call",
  rules: [rule],
  run(ctx: DetectorContext): RawFinding[] {
    const { facts, program } = ctx;
    const out: RawFinding[] = [];
    for (const fn of targetFunctions(ctx)) {
      if (!facts.isEntryPoint(fn) || facts.isReadOnly(fn)) continue;
      let checked: boolean | undefined;
      for (const { call, info } of facts.calls(fn.body!)) {
        let target;
        let data;
        if (info.kind === "lowlevel" && info.name === "call") [target, data] = [info.base, call.arguments?.[0]];
        else if (
          info.kind === "internal" &&
          ADDRESS_CALL.test(info.name ?? "") &&
          program.contractOf(info.decl!)?.name === "Address"
        ) {
          const bound = !/^type\(library /.test(info.base?.typeDescriptions?.typeString ?? "") && info.base;
          const args = call.arguments ?? [];
          [target, data] = bound ? [info.base, args[0]] : [args[0], args[1]];
        } else continue;
        if (!fromParameter(ctx, fn, target) || !fromParameter(ctx, fn, data)) continue;
        // Callers with a role, and meta-transactions whose signer is verified, are not "anyone".
        checked ??= facts.isProtected(fn) || verifiesSignature(ctx, fn);
        if (checked) break;
        const text =
          `\`${program.label(fn)}\` lets any caller choose both the target and the calldata of ` +
          `\`${snippet(ctx, call)}\`.`;
        out.push(report(ctx, rule, call, fn, text));
      }
    }
    return out;
  },
};
