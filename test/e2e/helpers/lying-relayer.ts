/**
 * A relayer patched for a test to lie, as a colluding party's would: the real relayer process (`relayer/src/main.ts`)
 * whose ledger writer records every result with a false hash, and endorses what the ledger recorded without waiting
 * for its own look at its sub-chain. Two of these are two parties recording and endorsing a false result on both
 * sides. Test-only: bundled by the test (`builtTestProcess`), never one of the build's entries.
 */
import { concat, keccak256, toHex, type Hex } from "viem";
import { LedgerWriter, type LedgerOp, type PerformOptions } from "../../../relayer/src/governance/writer";
import { exitWith } from "../../../lib/infra/process";
import { main } from "../../../relayer/src/main";

/** The hash the liars record instead of the gateway's (the same for every attempt, so a retry is "already done"). */
const falseHash = (resultHash: Hex): Hex => keccak256(concat([resultHash, toHex("what the parties claim")]));

const perform = LedgerWriter.prototype.perform;
LedgerWriter.prototype.perform = function (op: LedgerOp, options: PerformOptions = {}) {
  if (op.op === "recordResult") op = { ...op, result: { ...op.result, resultHash: falseHash(op.result.resultHash) } };
  // An endorsement goes out whatever the relayer's own observation of its sub-chain says.
  return perform.call(this, op, op.op === "endorse" ? {} : options);
};

exitWith(main);
