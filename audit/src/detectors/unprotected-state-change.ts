import type { StorageWrite } from "../facts";
import type { RawFinding } from "../types";
import { INITIALIZER_NAME, PRIVILEGED_NAME, UPGRADE_NAME } from "./names";
import { report, targetFunctions, type Detector, type DetectorContext, type Rule } from "./types";

const rule: Rule = {
  id: "unprotected-state-change",
  title: "Privileged state changed without access control",
  severity: "high",
  summary:
    "A public or external state-changing function that writes a state variable named like owner/admin/governance/role/paused/implementation (directly or through internal calls) with no access control: no modifier that checks the caller and no require / if-revert on msg.sender.",
  recommendation:
    "Restrict the function with OpenZeppelin AccessControl (onlyRole) or Ownable (onlyOwner), or a custom modifier that reverts unless msg.sender is authorised.",
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

export const unprotectedStateChange: Detector = {
  name: "unprotected state change",
  rules: [rule],
  run(ctx: DetectorContext): RawFinding[] {
    const { facts } = ctx;
    const out: RawFinding[] = [];
    for (const fn of targetFunctions(ctx)) {
      if (!facts.isEntryPoint(fn) || facts.isReadOnly(fn)) continue;
      // Initialisers and upgrade functions have their own rules.
      if (INITIALIZER_NAME.test(fn.name ?? "") || UPGRADE_NAME.test(fn.name ?? "")) continue;
      const privileged = facts.transitiveWrites(fn).filter(isPrivileged);
      if (privileged.length === 0 || facts.isProtected(fn)) continue;
      const written = [...new Set(privileged.map((w) => w.names.join(".")))].map((n) => `\`${n}\``).join(", ");
      const text = `\`${ctx.program.label(fn)}\` is ${fn.visibility} and writes privileged state (${written}) without checking the caller: anyone can call it.`;
      out.push(report(ctx, rule, fn, fn, text));
    }
    return out;
  },
};
