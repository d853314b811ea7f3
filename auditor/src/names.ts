/** Readable names of the ledger's and the credit contract's enums, and parsing them back from options. */
import { Outcome, Reason, RefusalKind, TxState } from "../../lib/domain/ledger-types";
import { badInput } from "./errors";

export { Outcome };

const nameOf =
  (e: Record<number, string>) =>
  (v: unknown): string =>
    e[Number(v)] ?? `#${String(v)}`;

export const stateName = nameOf(TxState);
export const reasonName = nameOf(Reason);
export const outcomeName = nameOf(Outcome);
export const refusalName = nameOf(RefusalKind);

/** States a transaction never leaves. */
export const FINAL_STATES: ReadonlySet<TxState> = new Set([TxState.Confirmed, TxState.Compensated, TxState.Resolved]);

/** A state given by name (case-insensitive) or number. */
export function parseState(value: string): TxState {
  const byNumber = Number(value);
  if (/^\d+$/.test(value) && TxState[byNumber] !== undefined) return byNumber as TxState;
  const match = Object.keys(TxState).find((k) => Number.isNaN(Number(k)) && k.toLowerCase() === value.toLowerCase());
  if (match === undefined)
    throw badInput(
      `unknown state "${value}": expected one of ${Object.keys(TxState)
        .filter((k) => Number.isNaN(Number(k)))
        .join(", ")}`,
      { value },
    );
  return TxState[match as keyof typeof TxState];
}

/** The set bits of a mask, ascending. */
export const bitsOf = (mask: number): number[] => [...Array(8).keys()].filter((i) => (mask >> i) & 1);
