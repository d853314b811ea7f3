import { expect } from "chai";
import { CcgpError } from "../../../lib/infra/errors";

/** Runs `action` and returns the `CcgpError` it throws (or rejects with), checking its code. */
export async function expectCcgpError(action: () => unknown, code: string): Promise<CcgpError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a CcgpError ${code}, nothing was thrown`).to.be.instanceOf(CcgpError);
  const error = caught as CcgpError;
  expect(error.code, error.message).to.equal(code);
  return error;
}

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public now = 1_700_000_000_000) {}
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}
