/**
 * Invariant of two-phase transfers over random schedules, at contract level: the governance ledger and two
 * sub-chain gateways, each with an institution's AssetLedger, on one Hardhat network. Several transfers (a debit of
 * A's account on gateway A, a credit of B's account on gateway B) run interleaved in random order, as the relayers
 * would drive them: prepares that succeed or are refused (insufficient balance, an account locked by another
 * transfer), commits once the ledger is Committing, rollbacks once it compensates, expiry, strangers releasing locks
 * past deadline + grace, relayers that stall (time jumps, small or past the grace). After a drain that lets every
 * transfer finish, under many seeds:
 * - no transfer is committed on one side and not on the other, unless a side stalled past deadline + grace while the
 *   ledger was Committing, and then the ledger says so (Manual, CommitFailed); a commit within the grace never fails;
 * - the sum of both ledgers' balances is unchanged when no transfer ended that way; no lock is held;
 * - the ledger's state agrees with the gateways (Executed: both committed; Compensated or Failed: none).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toHex, type Hex } from "viem";
import type { AssetLedger, SubchainGateway } from "../../typechain-types";
import { NO_DEPENDENCY, Reason, Side, TxState } from "../../lib/domain/ledger-types";
import { attested, deployGateway } from "../helpers/attest";
import { CHAIN_A, CHAIN_B, OPERATION_WRITE, ledgerFixture, makePacket, sign } from "../transactions/fixtures";
import { MAX_PAYLOAD, TxStatus } from "./fixtures";

const SEEDS = Number(process.env.PROPERTY_SEEDS ?? 6);
const OPS_PER_SEED = Number(process.env.PROPERTY_OPS ?? 40);
const TRANSFERS = 4;
const GRACE = 15 * 60;
const NAME = ethers.id("AssetLedger");
const ACCOUNTS = [ethers.id("account:a1"), ethers.id("account:a2"), ethers.id("account:a3")];
const PAYEES = [ethers.id("account:b1"), ethers.id("account:b2"), ethers.id("account:b3")];

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function world() {
  const w = await ledgerFixture();
  const [admin, relayer, issuer, stranger] = await ethers.getSigners();
  const side = async () => {
    const gateway = (await deployGateway(admin!.address, MAX_PAYLOAD)) as SubchainGateway;
    await gateway.grantRole(await gateway.RELAYER_ROLE(), relayer!.address);
    const assets = (await ethers.deployContract("AssetLedger", [gateway, admin!.address])) as unknown as AssetLedger;
    await gateway.registerContract(NAME, assets);
    await assets.grantRole(await assets.ISSUER_ROLE(), issuer!.address);
    return { gateway, assets };
  };
  const a = await side();
  const b = await side();
  for (const account of ACCOUNTS) await a.assets.connect(issuer!).issue(account, 100);
  return { w, a, b, relayer: relayer!, stranger: stranger! };
}

type Sides = Awaited<ReturnType<typeof world>>;
interface Transfer {
  txId: Hex;
  deadline: number;
  data: [string, string];
  prepared: [boolean, boolean];
  attempted: [boolean, boolean];
  stalledPastGrace: boolean;
}

const twoPhase = (side: Side) => ({
  side,
  subchain: side === Side.Source ? CHAIN_A : CHAIN_B,
  operation: 2,
  dependsOn: NO_DEPENDENCY,
});

describe("Two-phase transfers: never committed on one side only (random schedules)", function () {
  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`seed ${seed}: ${TRANSFERS} interleaved transfers, ${OPS_PER_SEED} random moves, then a drain`, async function () {
      const s: Sides = await loadFixture(world);
      const { w, a, b, relayer, stranger } = s;
      const rand = prng(seed * 7919);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
      const gateways = [a.gateway, b.gateway] as const;
      const proxies = [w.srcProxy, w.tgtProxy] as const;
      const total = async () => {
        let sum = 0n;
        for (const x of ACCOUNTS) sum += await a.assets.balanceOf(x);
        for (const x of PAYEES) sum += await b.assets.balanceOf(x);
        return sum;
      };
      const before = await total();

      const transfers: Transfer[] = [];
      for (let i = 0; i < TRANSFERS; i++) {
        const deadline = (await time.latest()) + 600 + Math.floor(rand() * 900);
        const signed = await sign(w, await makePacket(w, { operation: OPERATION_WRITE, deadline: BigInt(deadline) }));
        await w.ledger
          .connect(w.srcProxy.wallet)
          .open([signed], [twoPhase(Side.Source), twoPhase(Side.Target)], deadline);
        const amount = 10 + Math.floor(rand() * 50);
        transfers.push({
          txId: signed.packet.txId,
          deadline,
          data: [
            a.assets.interface.encodeFunctionData("debit", [pick(ACCOUNTS), amount]),
            b.assets.interface.encodeFunctionData("credit", [pick(PAYEES), amount]),
          ],
          prepared: [false, false],
          attempted: [false, false],
          stalledPastGrace: false,
        });
      }

      const stateOf = async (t: Transfer) => Number((await w.ledger.statusOf(t.txId)).state) as TxState;
      const gatewayStatus = async (t: Transfer, k: number) => Number((await gateways[k]!.twoPhaseTx(t.txId)).status);
      const result = (t: Transfer, k: number, success: boolean, tag: string) => ({
        txId: t.txId,
        step: k,
        subchain: k === 0 ? CHAIN_A : CHAIN_B,
        subchainTx: keccak256(toHex(`${tag}:${t.txId}:${k}`)),
        blockNumber: 1n,
        resultHash: keccak256(toHex(tag)),
        operation: OPERATION_WRITE,
        success,
        stateVersion: 0n,
      });
      const tryLedger = async (call: Promise<unknown>) => {
        try {
          await call;
          return true;
        } catch {
          return false;
        }
      };

      /** Side k's relayer does its next protocol step for `t`, if any. */
      async function relayerStep(t: Transfer, k: number): Promise<void> {
        const state = await stateOf(t);
        const status = await gatewayStatus(t, k);
        const recorder = w.ledger.connect(proxies[k]!.wallet);
        if ((state === TxState.Open || state === TxState.Executing) && !t.attempted[k]) {
          t.attempted[k] = true;
          let ok = true;
          try {
            await attested(gateways[k]!, relayer).prepare(t.txId, w.pipeId, NAME, t.data[k]!, t.deadline);
          } catch {
            ok = false;
          }
          t.prepared[k] = ok;
          // Past the ledger's deadline the result is refused; the expiry rolls the prepare back.
          await tryLedger(recorder.recordResult(result(t, k, ok, "prepare")));
        } else if (state === TxState.Committing && status === TxStatus.Prepared) {
          let ok = true;
          try {
            await gateways[k]!.connect(relayer).commit(t.txId);
          } catch {
            ok = false; // past deadline + grace: the lock was the gateway's to release
            await tryLedger(gateways[k]!.connect(relayer).rollback(t.txId));
          }
          await recorder.recordResult(result(t, k, ok, "commit"));
        } else if (state === TxState.Committing && status === TxStatus.RolledBack) {
          // A stranger released it past the grace before this side committed.
          await tryLedger(recorder.recordResult(result(t, k, false, "commit")));
        } else if (state === TxState.Compensating && t.prepared[k]) {
          if (status === TxStatus.Prepared) await gateways[k]!.connect(relayer).rollback(t.txId);
          t.prepared[k] = false;
          await recorder.recordCompensation({ ...result(t, k, true, "rollback"), step: k, success: true });
        }
      }

      const jump = async (seconds: number) => {
        const committing = [];
        for (const t of transfers) if ((await stateOf(t)) === TxState.Committing) committing.push(t);
        await time.increase(seconds);
        const now = await time.latest();
        for (const t of committing) if (now > t.deadline + GRACE) t.stalledPastGrace = true;
      };

      const stallPastDeadline = async (fallback: Transfer) => {
        let target = fallback;
        for (const t of transfers) if ((await stateOf(t)) === TxState.Committing) target = t;
        const now = await time.latest();
        if (target.deadline >= now) await jump(target.deadline - now + 1 + Math.floor(rand() * 300));
      };

      for (let op = 0; op < OPS_PER_SEED; op++) {
        const t = pick(transfers);
        const r = rand();
        if (r < 0.75) await relayerStep(t, rand() < 0.5 ? 0 : 1);
        else if (r < 0.82) await jump(10 + Math.floor(rand() * 150));
        // A stall just past a deadline, within the grace, preferably of a transfer between its commits: a commit
        // must still go through.
        else if (r < 0.87) await stallPastDeadline(t);
        else if (r < 0.9) await jump(GRACE + 1500);
        else if (r < 0.95) await tryLedger(w.ledger.expire(t.txId));
        else await tryLedger(gateways[rand() < 0.5 ? 0 : 1]!.connect(stranger).rollbackExpired(t.txId));
      }

      // Drain: the relayers finish what they can, then every deadline and grace passes and anyone may release.
      for (let round = 0; round < 4; round++) {
        for (const t of transfers) {
          await tryLedger(w.ledger.expire(t.txId));
          await relayerStep(t, 0);
          await relayerStep(t, 1);
        }
      }
      await jump(3600 + GRACE + 1);
      for (const t of transfers)
        for (const g of gateways)
          if (Number((await g.twoPhaseTx(t.txId)).status) === TxStatus.Prepared)
            await g.connect(stranger).rollbackExpired(t.txId);

      let heuristic = false;
      for (const t of transfers) {
        const [sa, sb] = [await gatewayStatus(t, 0), await gatewayStatus(t, 1)];
        const state = await stateOf(t);
        const view = await w.ledger.transaction(t.txId);
        const label = `seed ${seed} ${t.txId.slice(0, 10)}: ledger ${TxState[state]}, gateways ${sa}/${sb}`;
        if (process.env.DEBUG_2PC) console.log(label);
        expect(sa, label).to.not.equal(TxStatus.Prepared);
        expect(sb, label).to.not.equal(TxStatus.Prepared);
        // A commit fails only for a side that stalled past deadline + grace: within the grace it always goes through.
        if (state === TxState.Manual && Number(view.reason) === Reason.CommitFailed)
          expect(t.stalledPastGrace, `${label}: commit failed within the grace`).to.equal(true);
        const oneSided = (sa === TxStatus.Committed) !== (sb === TxStatus.Committed);
        if (oneSided) {
          // Only a side stalled past deadline + grace while Committing, and the ledger records it.
          expect(t.stalledPastGrace, label).to.equal(true);
          expect(state, label).to.equal(TxState.Manual);
          expect(Number(view.reason), label).to.equal(Reason.CommitFailed);
          heuristic = true;
          continue;
        }
        if (state === TxState.Executed) expect([sa, sb], label).to.deep.equal([TxStatus.Committed, TxStatus.Committed]);
        if (state === TxState.Compensated || state === TxState.Failed || state === TxState.Expired)
          expect([sa, sb].includes(TxStatus.Committed), label).to.equal(false);
        expect(state, label).to.not.equal(TxState.Committing);
      }
      if (!heuristic) expect(await total(), `seed ${seed}: balances`).to.equal(before);
      for (const account of ACCOUNTS) expect(await a.gateway.lockHolder(a.assets, account)).to.equal(ethers.ZeroHash);
      for (const account of PAYEES) expect(await b.gateway.lockHolder(b.assets, account)).to.equal(ethers.ZeroHash);
    });
  }
});
