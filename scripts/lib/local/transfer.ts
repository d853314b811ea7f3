/**
 * The two-phase example of the local consortium: an asset transfer from an account on Drug Maker A's AssetLedger to
 * one on Hospital B's, through the pipe A -> B to B's AssetLedger (`pipes.assets`, option `assets`). The debit on A is
 * the source step, the credit on B the packet's; the app binds both steps and the mode into the transaction id it
 * signs, so neither relayer can run the writes in another mode than the app chose.
 */
import { randomBytes } from "node:crypto";
import { hexlify, id } from "ethers";
import type { Address, Hex, LocalAccount } from "viem";
import { packetDomain, signPacket, type SignedPacket } from "../../../lib/amdp";
import { boundTxId, planOf, type StepInput, type TxMode } from "../../../lib/domain/plan";
import { AssetLedger__factory, SubchainGateway__factory } from "../../../typechain-types";
import type { LocalConsortium, PipeInfo, SideKey } from "../local-consortium";
import { mined } from "./council";
import { keystoreSigner, pipeWrite, providerFor } from "./scenario";

export interface TransferRequest {
  /** The payer's account on A's AssetLedger and the payee's on B's. */
  from: Hex;
  to: Hex;
  amount: bigint;
  mode: TxMode;
  sequence: bigint;
  /** Seconds from now; default 600. */
  ttlSeconds?: number;
}

/** A transfer request as the app posts it: the packet (the credit on B) and the fields binding the plan to its id. */
export interface SignedTransfer {
  signed: SignedPacket;
  fields: { steps: StepInput[]; salt: Hex; mode: TxMode };
}

/** The assets pipe, or an error naming the option that adds it. */
export function assetsPipe(c: LocalConsortium): PipeInfo {
  if (c.pipes.assets === undefined)
    throw new Error("no assets pipe: set up the local consortium with { assets: true }");
  return c.pipes.assets;
}

/** A fresh account id on an AssetLedger (accounts are bytes32 ids, not addresses). */
export const newAccount = (tag: string): Hex => id(`account:${tag}:${hexlify(randomBytes(4))}`) as Hex;

const assetLedgerOf = (c: LocalConsortium, side: SideKey, runner: Parameters<typeof AssetLedger__factory.connect>[1]) =>
  AssetLedger__factory.connect(c.business[side].contracts.assetLedger!, runner);

/** Drug Maker A's operator (the issuer) issues `amount` to `account` on A's AssetLedger. */
export async function issueOnA(c: LocalConsortium, account: Hex, amount: bigint): Promise<void> {
  const operator = await keystoreSigner(c, c.business.a.accounts.operator.keystore, "a");
  await mined(assetLedgerOf(c, "a", operator).issue(account, amount), `issue ${amount} to ${account} on AssetLedger/A`);
}

/** An account's balance on a side's AssetLedger. */
export async function balanceOn(c: LocalConsortium, side: SideKey, account: Hex): Promise<bigint> {
  return assetLedgerOf(c, side, providerFor(c, side)).balanceOf(account);
}

/** The app's signed transfer: the credit on B as the packet, the debit on A as the source step, bound to the id. */
export async function signTransfer(
  c: LocalConsortium,
  app: LocalAccount,
  req: TransferRequest,
): Promise<SignedTransfer> {
  const pipe = assetsPipe(c);
  const a = c.business.a;
  const assets = AssetLedger__factory.createInterface();
  const payload = assets.encodeFunctionData("credit", [req.to, req.amount]) as Hex;
  const steps: StepInput[] = [
    {
      side: "source",
      operation: "write",
      contract: a.contracts.names.assetLedger,
      data: assets.encodeFunctionData("debit", [req.from, req.amount]),
    },
    { side: "target" },
  ];
  const packet = pipeWrite(c, pipe, payload, {
    signer: app.address,
    sequence: req.sequence,
    deadline: BigInt(Math.floor(Date.now() / 1000) + (req.ttlSeconds ?? 600)),
  });
  // The plan's digest covers the steps and their operations (a two-phase write is operation 2), not the id.
  const salt = hexlify(randomBytes(32)) as Hex;
  packet.txId = boundTxId(salt, planOf(packet, payload, steps, [], req.mode).steps);
  const domain = packetDomain(c.chains.governance.chainId, c.governance.ledger as Address);
  return {
    signed: { packet, payload, signatures: { app: await signPacket(app, domain, packet) } },
    fields: { steps, salt, mode: req.mode },
  };
}

/** `ISubchainGateway.TwoPhaseStatus` by name. */
const TWO_PHASE_STATUS = ["none", "prepared", "committed", "rolled back"] as const;

/** A side's two-phase record of a transaction: its status and the blocks it was prepared and committed in. */
export interface TwoPhaseRecord {
  status: (typeof TWO_PHASE_STATUS)[number];
  preparedIn?: number;
  committedIn?: number;
  /** Keys it locked while prepared, and which of them are still locked. */
  keys: string[];
  stillLocked: string[];
}

/** What a side's gateway recorded of a two-phase transaction (status, events, locks now). */
export async function twoPhaseRecord(c: LocalConsortium, side: SideKey, txId: Hex): Promise<TwoPhaseRecord> {
  const gateway = SubchainGateway__factory.connect(c.business[side].contracts.gateway, providerFor(c, side));
  const [target, status, , keys] = await gateway.twoPhaseTx(txId);
  const [prepared] = await gateway.queryFilter(gateway.filters.TwoPhasePrepared(txId));
  const [committed] = await gateway.queryFilter(gateway.filters.TwoPhaseCommitted(txId));
  const holders = await Promise.all(keys.map((k) => gateway.lockHolder(target, k)));
  return {
    status: TWO_PHASE_STATUS[Number(status)] ?? "none",
    ...(prepared ? { preparedIn: prepared.blockNumber } : {}),
    ...(committed ? { committedIn: committed.blockNumber } : {}),
    keys,
    stillLocked: keys.filter((_, i) => holders[i] !== `0x${"00".repeat(32)}`),
  };
}
