/**
 * Assertions on the records of batch logs (`OutcomesReported`, one log a call), expanded by the decoder every
 * reader uses (`lib/domain/ledger-types.ts` `batchRecords`), in the shape `.to.emit(...).withArgs(...)` had: the
 * record's arguments in their order, numbers compared as bigints, addressables by address, a function as a
 * predicate.
 */
import { expect } from "chai";
import { isAddressable, type BaseContract, type ContractTransactionResponse } from "ethers";
import { batchRecords } from "../../lib/domain/ledger-types";

type Sent = ContractTransactionResponse | Promise<ContractTransactionResponse>;

/** The records named `name` that `tx`'s logs from `contract` hold, in order (each its arguments in their order). */
export async function recordsOf(tx: Sent, contract: BaseContract, name: string): Promise<unknown[][]> {
  const receipt = await (await tx).wait();
  const address = (await contract.getAddress()).toLowerCase();
  const out: unknown[][] = [];
  for (const log of receipt!.logs) {
    if (log.address.toLowerCase() !== address) continue;
    const parsed = contract.interface.parseLog(log);
    if (parsed === null) continue;
    const args = parsed.args.toObject() as Record<string, unknown>;
    const records = batchRecords(parsed.name, args) ?? [{ name: parsed.name, args }];
    for (const r of records) if (r.name === name) out.push(Object.values(r.args));
  }
  return out;
}

/** Asserts that `tx` left a record `name` from `contract` whose arguments match `expected`. */
export async function expectRecord(tx: Sent, contract: BaseContract, name: string, ...expected: unknown[]) {
  const records = await recordsOf(tx, contract, name);
  const want = await Promise.all(expected.map(normalise));
  const found = records.some((r) => r.length === want.length && r.every((v, i) => matches(normaliseSync(v), want[i])));
  expect(found, `no ${name}(${want.map(String).join(", ")}) among ${JSON.stringify(records, replacer)}`).to.equal(true);
}

/** Asserts that `tx` left no record `name` from `contract`. */
export async function expectNoRecord(tx: Sent, contract: BaseContract, name: string) {
  expect(await recordsOf(tx, contract, name)).to.deep.equal([]);
}

async function normalise(v: unknown): Promise<unknown> {
  if (isAddressable(v)) return (await v.getAddress()).toLowerCase();
  return normaliseSync(v);
}

function normaliseSync(v: unknown): unknown {
  if (typeof v === "number") return BigInt(v);
  if (typeof v === "string") return v.toLowerCase();
  return v;
}

function matches(actual: unknown, want: unknown): boolean {
  if (typeof want === "function") return (want as (v: unknown) => boolean)(actual);
  return actual === want;
}

const replacer = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);
