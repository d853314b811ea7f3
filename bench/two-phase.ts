/**
 * Gas of the same asset transfer (a debit on institution A's AssetLedger, a credit on B's) on its two paths: two-phase
 * (prepare on both sub-chains, both prepares recorded, commit on both, both commits recorded) against compensation
 * (execute on both, both results recorded), with the ledger's open; and of a failed transfer's undo on each path (the
 * source side's rollback, or its compensation, and its record). Endorsements are the same on both paths and left out.
 * Sequential steps stand for latency: each is a transaction to wait for (its sub-chain's or the governance chain's).
 */
import { ethers } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import { keccak256, toHex, type Hex } from "viem";
import type { AssetLedger, SubchainGateway } from "../typechain-types";
import { NO_DEPENDENCY, Side } from "../lib/domain/ledger-types";
import { attested, deployGateway } from "../test/helpers/attest";
import {
  CHAIN_A,
  CHAIN_B,
  OPERATION_WRITE,
  ledgerFixture,
  makePacket,
  sign,
  type World,
} from "../test/transactions/fixtures";
import type { BenchModule, Reporter } from "./lib/report";

const NAME = ethers.id("AssetLedger");
const FROM = ethers.id("bench:account:a");
const TO = ethers.id("bench:account:b");
const AMOUNT = 25;

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (!receipt || receipt.status !== 1) throw new Error("benchmark transaction failed");
  return receipt.gasUsed;
}

async function sides(w: World) {
  const [admin, relayer, issuer] = await ethers.getSigners();
  const side = async () => {
    const gateway = (await deployGateway(admin!.address, 4096)) as SubchainGateway;
    await gateway.grantRole(await gateway.RELAYER_ROLE(), relayer!.address);
    const assets = (await ethers.deployContract("AssetLedger", [gateway, admin!.address])) as unknown as AssetLedger;
    await gateway.registerContract(NAME, assets);
    await assets.grantRole(await assets.ISSUER_ROLE(), issuer!.address);
    return { gateway, assets };
  };
  const a = await side();
  const b = await side();
  await a.assets.connect(issuer!).issue(FROM, 1_000_000);
  // The payee's balance exists already on both paths (no first-write surcharge on one path only).
  await b.assets.connect(issuer!).issue(TO, 1);
  return { w, a, b, relayer: relayer! };
}

type World2 = Awaited<ReturnType<typeof sides>>;
const step = (side: Side, operation: number) => ({
  side,
  subchain: side === Side.Source ? CHAIN_A : CHAIN_B,
  operation,
  dependsOn: NO_DEPENDENCY,
});
const result = (txId: Hex, k: number, tag: string) => ({
  txId,
  step: k,
  subchain: k === 0 ? CHAIN_A : CHAIN_B,
  subchainTx: keccak256(toHex(`${tag}:${txId}:${k}`)),
  blockNumber: 1000n,
  resultHash: keccak256(toHex(tag)),
  operation: OPERATION_WRITE,
  success: true,
  stateVersion: 1n,
});

let sequence = 1_000_000;

/** Opens a transfer in `mode` (1 compensation, 2 two-phase); returns its id and the open's gas. */
async function open(s: World2, mode: number): Promise<{ txId: Hex; gas: bigint; deadline: number }> {
  const { w } = s;
  const deadline = Math.floor(Date.now() / 1000) + 3000;
  const latest = (await ethers.provider.getBlock("latest"))!.timestamp;
  const d = Math.max(deadline, latest + 1800);
  const signed = await sign(
    w,
    await makePacket(w, { operation: OPERATION_WRITE, deadline: BigInt(d), sequence: BigInt(++sequence) }),
  );
  const gas = await gasOf(
    w.ledger.connect(w.srcProxy.wallet).open([signed], [step(Side.Source, mode), step(Side.Target, mode)], d),
  );
  return { txId: signed.packet.txId, gas, deadline: d };
}

const recorder = (s: World2, k: number) => s.w.ledger.connect((k === 0 ? s.w.srcProxy : s.w.tgtProxy).wallet);
const data = (s: World2, k: number) =>
  k === 0
    ? s.a.assets.interface.encodeFunctionData("debit", [FROM, AMOUNT])
    : s.b.assets.interface.encodeFunctionData("credit", [TO, AMOUNT]);

async function twoPhase(s: World2): Promise<{ total: bigint; subchain: bigint; ledger: bigint; undo: bigint }> {
  const t = await open(s, 2);
  let subchain = 0n;
  let ledger = t.gas;
  const gateways = [s.a.gateway, s.b.gateway];
  for (const k of [0, 1]) {
    subchain += await gasOf(
      attested(gateways[k]!, s.relayer).prepare(t.txId, s.w.pipeId, NAME, data(s, k), t.deadline),
    );
    ledger += await gasOf(recorder(s, k).recordResult(result(t.txId, k, "prepared")));
  }
  for (const k of [0, 1]) {
    subchain += await gasOf(gateways[k]!.connect(s.relayer).commit(t.txId));
    ledger += await gasOf(recorder(s, k).recordResult(result(t.txId, k, "committed")));
  }
  // A failed transfer: the source prepared, the target's prepare refused; the source rolls back.
  const f = await open(s, 2);
  let undo = await gasOf(attested(s.a.gateway, s.relayer).prepare(f.txId, s.w.pipeId, NAME, data(s, 0), f.deadline));
  await recorder(s, 0).recordResult(result(f.txId, 0, "prepared"));
  await recorder(s, 1).recordResult({ ...result(f.txId, 1, "refused"), success: false });
  undo += await gasOf(s.a.gateway.connect(s.relayer).rollback(f.txId));
  undo += await gasOf(recorder(s, 0).recordCompensation({ ...result(f.txId, 0, "rolled back"), success: true }));
  return { total: subchain + ledger, subchain, ledger, undo };
}

async function compensation(s: World2): Promise<{ total: bigint; subchain: bigint; ledger: bigint; undo: bigint }> {
  const t = await open(s, 1);
  let subchain = 0n;
  let ledger = t.gas;
  const gateways = [s.a.gateway, s.b.gateway];
  for (const k of [0, 1]) {
    subchain += await gasOf(
      attested(gateways[k]!, s.relayer).execute(s.w.pipeId, ++sequence, t.deadline, NAME, OPERATION_WRITE, data(s, k)),
    );
    ledger += await gasOf(recorder(s, k).recordResult(result(t.txId, k, "executed")));
  }
  const f = await open(s, 1);
  const seq = ++sequence;
  let undo = await gasOf(
    attested(s.a.gateway, s.relayer).execute(s.w.pipeId, seq, f.deadline, NAME, OPERATION_WRITE, data(s, 0)),
  );
  await recorder(s, 0).recordResult(result(f.txId, 0, "executed"));
  await recorder(s, 1).recordResult({ ...result(f.txId, 1, "failed"), success: false });
  undo += await gasOf(s.a.gateway.connect(s.relayer).compensate(s.w.pipeId, seq));
  undo += await gasOf(recorder(s, 0).recordCompensation({ ...result(f.txId, 0, "compensated"), success: true }));
  return { total: subchain + ledger, subchain, ledger, undo };
}

export const twoPhaseBench: BenchModule = {
  name: "two-phase",
  kind: "gas",
  async run(report: Reporter): Promise<void> {
    const s = await sides(await ledgerFixture());
    // One warm-up transfer per path, so neither pays the first write of a storage slot the other does not.
    await compensation(s);
    await twoPhase(s);
    const c = await compensation(s);
    const p = await twoPhase(s);
    report.gas("two-phase transfer: compensation path, total (open + 2 writes + 2 results)", c.total);
    report.gas("two-phase transfer: two-phase path, total (open + 2 prepares + 2 commits + 4 results)", p.total);
    report.gas("two-phase transfer: compensation path, sub-chain gas", c.subchain);
    report.gas("two-phase transfer: two-phase path, sub-chain gas", p.subchain);
    report.gas("two-phase transfer: compensation path, ledger gas", c.ledger);
    report.gas("two-phase transfer: two-phase path, ledger gas", p.ledger);
    report.gas("two-phase transfer: failed, source side: execute + compensate + record", c.undo);
    report.gas("two-phase transfer: failed, source side: prepare + rollback + record", p.undo);
    report.figure("two-phase / compensation, total gas", Number(p.total) / Number(c.total), "x (target <= 2)");
    report.figure("transactions waited for in sequence: compensation / two-phase", "4 / 8", "(2 per side vs 4)");
  },
};
