/**
 * Sending a transaction from a command: a refusal found while estimating gas is decoded into the contract's custom
 * error (exit 1); progress lines say what was sent and when it was mined; the receipt's governance events are
 * returned by name.
 */
import type { ContractTransactionReceipt, ContractTransactionResponse, Provider } from "ethers";
import { decodeError, decodeLog, revertData, type DecodedError, type DecodedLog } from "./abi";
import { CliError, CliErrorCode, failed } from "./errors";
import type { Output } from "./output";

/** A contract refused the call: `Name(args)` in the message, the decoded error in the details. */
export function refused(what: string, error: DecodedError, cause?: unknown): CliError {
  return new CliError(
    CliErrorCode.Refused,
    `${what} refused: ${error.text}`,
    { error: error.name, signature: error.signature, args: error.args },
    cause === undefined ? undefined : { cause },
  );
}

/** Turns an ethers failure into a CliError: a decoded refusal when it carries revert data. */
export function callFailure(what: string, err: unknown): CliError {
  if (err instanceof CliError) return err;
  const data = revertData(err);
  if (data) return refused(what, decodeError(data), err);
  const e = err as { shortMessage?: string; message?: string; code?: string };
  if (e.code === "CALL_EXCEPTION")
    return new CliError(CliErrorCode.Refused, `${what} refused: reverted without a reason`, {}, { cause: err });
  return failed(`${what} failed: ${e.shortMessage ?? e.message ?? String(err)}`, { code: e.code }, err);
}

/** Runs a read, decoding a refusal. */
export async function read<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw callFailure(what, err);
  }
}

export interface Sent {
  receipt: ContractTransactionReceipt;
  events: DecodedLog[];
}

/** Sends a transaction (gas estimation catches refusals), waits for it, and returns its decoded events. */
export async function submit(
  out: Output,
  what: string,
  send: () => Promise<ContractTransactionResponse>,
): Promise<Sent> {
  let tx: ContractTransactionResponse;
  try {
    tx = await send();
  } catch (err) {
    throw callFailure(what, err);
  }
  out.progress(`${what}: sent ${tx.hash}, waiting for it to be mined`);
  let receipt: ContractTransactionReceipt | null;
  try {
    receipt = await tx.wait();
  } catch (err) {
    // Mined but reverted (the state changed after the estimate): replay it at its block for the reason.
    const replayed = await replay(tx, err);
    throw replayed ?? callFailure(what, err);
  }
  if (!receipt) throw failed(`${what}: transaction ${tx.hash} was dropped`, { hash: tx.hash });
  out.progress(`${what}: mined in block ${receipt.blockNumber} (gas ${receipt.gasUsed})`);
  const events = receipt.logs.map((l) => decodeLog(l)).filter((l): l is DecodedLog => l !== undefined);
  return { receipt, events };

  async function replay(t: ContractTransactionResponse, err: unknown): Promise<CliError | undefined> {
    const block = (err as { receipt?: { blockNumber?: number } }).receipt?.blockNumber;
    if (block === undefined) return undefined;
    try {
      await (t.provider as Provider).call({
        to: t.to,
        from: t.from,
        data: t.data,
        value: t.value,
        blockTag: block - 1,
      });
    } catch (e) {
      const data = revertData(e);
      if (data) return refused(`${what} (mined in block ${block}, reverted)`, decodeError(data), e);
    }
    return undefined;
  }
}

/** The first event named `name` in a receipt's decoded events. */
export function eventOf(sent: Sent, name: string): DecodedLog {
  const found = sent.events.find((e) => e.name === name);
  if (!found) throw failed(`no ${name} event in transaction ${sent.receipt.hash}`, { hash: sent.receipt.hash });
  return found;
}
