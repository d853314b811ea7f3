import type { AstNode } from "../ast";
import type { StorageWrite } from "../facts";
import { fromParameter, mentionsCaller, verifiesSignature } from "./inputs";
import type { RawFinding } from "../types";
import { INITIALIZER_NAME, PRIVILEGED_NAME, UPGRADE_NAME } from "./names";
import { report, snippet, targetFunctions, type Detector, type DetectorContext, type Rule } from "./types";

const rule: Rule = {
  id: "unprotected-state-change",
  title: "Privileged state changed without access control",
  severity: "high",
  summary:
    "A public or external state-changing function with no access control (no modifier that checks the caller, no " +
    "require / if-revert comparing msg.sender with stored state) that writes (directly or through internal calls) " +
    "a state variable named like owner/admin/governance/role/paused/implementation, or sets a variable that every " +
    "other function writing it guards.",
  recommendation:
    "Restrict the function with OpenZeppelin AccessControl (onlyRole) or Ownable (onlyOwner), or a custom modifier " +
    "that reverts unless msg.sender is authorised.",
};

/**
 * The state variable's name decides (`_owner`, `_roles`, `_paused`); struct members count only when
 * the variable is unknown (a pointer returned by a function, as in ERC-7201 namespaced storage).
 */
function isPrivileged(w: StorageWrite): boolean {
  if (!w.root) return w.names.some((n) => PRIVILEGED_NAME.test(n));
  const name = w.root.name ?? "";
  if (!PRIVILEGED_NAME.test(name)) return false;
  // `mapping(uint256 tokenId => address) _owners` records who holds a token, not who controls the contract.
  const tokenOwners = /owner/i.test(name) && !PRIVILEGED_NAME.test(name.replace(/owner/gi, ""));
  return !(tokenOwners && /^mapping\(uint256 /.test(w.root.typeDescriptions?.typeString ?? ""));
}

const sendRule: Rule = {
  id: "arbitrary-send",
  title: "Ether or tokens sent to a caller-chosen address without access control",
  severity: "high",
  summary:
    "A public or external function without access control sends ether (transfer, send, call with value, " +
    "Address.sendValue) or tokens (transfer, transferFrom, safeTransfer...) to an address taken from its " +
    "parameters, and keeps no account of who may take what (no mapping written, no signature checked): anyone can " +
    "drain the contract.",
  recommendation:
    "Restrict the function (onlyOwner / onlyRole), or pay only msg.sender what a per-account balance records, " +
    "debiting it first.",
};

type Writers = Map<number, { fn: AstNode; guarded: boolean }[]>;

/** Every state-changing entry point writing each state variable, and whether it checks its caller. */
function writersByVariable(ctx: DetectorContext): Writers {
  const { facts } = ctx;
  const out: Writers = new Map();
  for (const fn of ctx.program.units.flatMap((u) => entryPoints(ctx, u.ast))) {
    let guarded: boolean | undefined;
    for (const id of new Set(facts.transitiveWrites(fn).flatMap((w) => (w.root ? [w.root.id] : [])))) {
      guarded ??= facts.isProtected(fn);
      out.set(id, [...(out.get(id) ?? []), { fn, guarded }]);
    }
  }
  return out;
}

function entryPoints(ctx: DetectorContext, root: AstNode): AstNode[] {
  const out: AstNode[] = [];
  const visit = (n: AstNode): void => {
    if (n.nodeType === "FunctionDefinition") {
      if (n.body && ctx.facts.isEntryPoint(n) && !ctx.facts.isReadOnly(n)) out.push(n);
      return;
    }
    for (const c of n.nodes ?? []) visit(c);
  };
  visit(root);
  return out;
}

/** A value (not a mapping, array or struct) set with `=` or `delete`: a setting, not an account entry. */
function isSetting(w: StorageWrite): boolean {
  if (!w.root || w.names.length !== 1) return false;
  if (/^(mapping|struct)|\[\]$/.test(w.root.typeDescriptions?.typeString ?? "")) return false;
  return (w.node.nodeType === "Assignment" && w.node.operator === "=") || w.node.operator === "delete";
}

/** Settings of `fn` that every other writer guards (at least one does). */
function guardedSettings(ctx: DetectorContext, fn: AstNode, writers: Writers): StorageWrite[] {
  return ctx.facts.transitiveWrites(fn).filter((w) => {
    if (!isSetting(w)) return false;
    const others = (writers.get(w.root!.id) ?? []).filter((o) => o.fn !== fn);
    return others.length > 0 && others.every((o) => o.guarded);
  });
}

const TOKEN_SEND = /^(transfer|transferFrom|safeTransfer|safeTransferFrom|sendValue)$/;

/** Value sent by `fn`'s own body to a recipient from its parameters: [call, recipient]. */
function paymentsToInput(ctx: DetectorContext, fn: AstNode): AstNode[] {
  const out: AstNode[] = [];
  for (const { call, info } of ctx.facts.calls(fn.body!)) {
    let recipient: AstNode | undefined;
    const args = call.arguments ?? [];
    const e = call.expression;
    const withValue =
      e?.nodeType === "FunctionCallOptions" || (e?.nodeType === "FunctionCall" && e.expression?.memberName === "value");
    if (info.kind === "transfer") recipient = info.base;
    else if (info.kind === "lowlevel" && info.name === "call" && withValue) recipient = info.base;
    else if ((info.kind === "external" || info.kind === "internal") && TOKEN_SEND.test(info.name ?? "")) {
      const onLibrary =
        info.kind === "internal" && /^type\(library /.test(info.base?.typeDescriptions?.typeString ?? "");
      const lead = info.kind === "internal" && onLibrary ? 1 : 0; // SafeERC20.safeTransfer(token, to, v)
      const from = /From$/.test(info.name ?? "");
      if (info.kind === "internal" && !info.decl) continue;
      if (info.kind === "internal" && ctx.program.contractOf(info.decl!)?.contractKind !== "library") continue;
      if (info.name === "sendValue") recipient = onLibrary ? args[0] : info.base;
      else if (from) {
        // transferFrom(from, to, v): taking from a caller-chosen `from` is the drain.
        const source = args[lead];
        recipient = source && !mentionsCaller(ctx, source) ? source : args[lead + 1];
      } else recipient = args[lead];
    }
    if (!recipient || mentionsCaller(ctx, recipient) || !fromParameter(ctx, fn, recipient)) continue;
    out.push(call);
  }
  return out;
}

/** Whether `fn` keeps per-account records (writes a mapping): payments are then accounted for. */
function keepsAccounts(ctx: DetectorContext, fn: AstNode): boolean {
  return ctx.facts
    .transitiveWrites(fn)
    .some((w) => !w.root || /^mapping/.test(w.root.typeDescriptions?.typeString ?? "") || w.names.length > 1);
}

export const unprotectedStateChange: Detector = {
  name: "unprotected state change",
  rules: [rule, sendRule],
  run(ctx: DetectorContext): RawFinding[] {
    const { facts } = ctx;
    const out: RawFinding[] = [];
    let writers: Writers | undefined;
    for (const fn of targetFunctions(ctx)) {
      if (!facts.isEntryPoint(fn) || facts.isReadOnly(fn)) continue;
      // Initialisers and upgrade functions have their own rules.
      if (INITIALIZER_NAME.test(fn.name ?? "") || UPGRADE_NAME.test(fn.name ?? "")) continue;
      const payments = paymentsToInput(ctx, fn);
      let privileged = facts.transitiveWrites(fn).filter(isPrivileged);
      const named = privileged.length > 0;
      if (!named) privileged = guardedSettings(ctx, fn, (writers ??= writersByVariable(ctx)));
      if ((privileged.length === 0 && payments.length === 0) || facts.isProtected(fn)) continue;
      if (payments.length > 0 && !keepsAccounts(ctx, fn) && !verifiesSignature(ctx, fn))
        for (const call of payments) {
          const text =
            `\`${ctx.program.label(fn)}\` sends value to a caller-chosen address ` +
            `(\`${snippet(ctx, call)}\`) without checking the caller or keeping an account.`;
          out.push(report(ctx, sendRule, call, fn, text));
        }
      if (privileged.length === 0) continue;
      const written = [...new Set(privileged.map((w) => w.names.join(".")))].map((n) => `\`${n}\``).join(", ");
      const what = named ? "privileged state" : "state that every other function writing it guards";
      const text =
        `\`${ctx.program.label(fn)}\` is ${fn.visibility} and writes ${what} (${written}) without ` +
        `checking the caller: anyone can call it.`;
      out.push(report(ctx, rule, fn, fn, text));
    }
    return out;
  },
};
