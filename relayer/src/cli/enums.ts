/**
 * Names of the contracts' enum values, keyed by the ABI's `internalType` (`enum IPipeAuthority.PipeStatus`), so
 * refusals and views print `PipeInvalidStatus(0x…, Applied)` instead of a bare number. They are generated from the
 * compiler's AST (lib/domain/enums.generated.ts), so they can never drift from the interfaces.
 */
import { ENUM_NAMES } from "../../../lib/domain/enums.generated";

export const ENUMS: Readonly<Record<string, readonly string[]>> = ENUM_NAMES;

/** The name of value `value` of enum `key` (`IPipeAuthority.PipeStatus`), or the number when out of range. */
export function enumName(key: string, value: bigint | number): string {
  return ENUMS[key]?.[Number(value)] ?? String(value);
}

/** The value of `name` in enum `key`, case-insensitive; undefined when it is not one. */
export function enumValue(key: string, name: string): number | undefined {
  const i = ENUMS[key]?.findIndex((n) => n.toLowerCase() === name.toLowerCase()) ?? -1;
  return i < 0 ? undefined : i;
}

export const TX_STATE = "ITransactionLedgerTypes.TxState";
export const PROPOSAL_STATE = "IVotingTickets.ProposalState";
export const PIPE_STATUS = "IPipeAuthority.PipeStatus";
export const REFUSAL = "IPipeAuthority.Refusal";
