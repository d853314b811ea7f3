import { Wallet, type ContractTransactionResponse } from "ethers";
import type { BenchModule, Reporter } from "./lib/report";
import { PipeCheckProbe__factory } from "../typechain-types";
import { Role, addAccount, govern } from "../test/helpers/governance";
import {
  OPERATION_READ,
  OPERATION_WRITE,
  Outcome,
  OPERATION_FLAG_READ,
  SEL_READ,
  SEL_WRITE,
  allowReporter,
  applyPipe,
  endpoint,
  id,
  pipeWorld,
  specOf,
  appKeyConsent,
} from "../test/helpers/registries";
import { scopedId } from "../lib/domain/ids";

const TARGET = 10_000;

const gasOf = async (tx: Promise<ContractTransactionResponse>): Promise<bigint> => (await (await tx).wait())!.gasUsed;

/**
 * Registration and lifecycle transactions (whole-transaction gas), and the permission check as a calling contract
 * pays it: `PipeCheckProbe` reads gasleft() before and after an interface call of checkOperation, in a transaction
 * that touches the registry first (cold account, cold slots), then again (warm).
 */
async function run(report: Reporter): Promise<void> {
  const w = await pipeWorld();
  const aId = (label: string): string => scopedId(w.a.institution, label); // A's namespace
  const reporter = w.others[11]; // the first signer pipeWorld leaves unused
  report.section("registrations (whole transaction, including the enabling vote a service registration opens)");
  const svcKey = Wallet.createRandom();
  const svcSigner = svcKey.address;
  await addAccount(w, w.a.admin, svcKey, w.a.institution, Role.Business);
  report.gas(
    "registries.registerService",
    await gasOf(
      w.services.connect(w.a.operator).registerService(aId("bench/svc"), aId("bench/chain"), svcSigner, endpoint()),
    ),
  );
  report.gas(
    "registries.registerSubchain",
    await gasOf(
      w.chains
        .connect(w.a.operator)
        .registerSubchain(aId("bench/chain"), 1, 2001, aId("bench/svc"), Wallet.createRandom().address, "bench chain"),
    ),
  );
  const benchKey = Wallet.createRandom();
  const benchConsent = await appKeyConsent(w, w.a.operator, aId("bench/app"), benchKey);
  report.gas(
    "registries.registerApp",
    await gasOf(
      w.chains
        .connect(w.a.operator)
        .registerApp(aId("bench/app"), aId("bench/chain"), benchKey.address, "bench app", ...benchConsent),
    ),
  );
  report.gas(
    "registries.registerContract (first version)",
    await gasOf(w.chains.connect(w.b.operator).registerContract("Bench", w.b.subchain, Wallet.createRandom().address)),
  );
  report.gas(
    "registries.registerContract (next version)",
    await gasOf(w.chains.connect(w.b.operator).registerContract("Bench", w.b.subchain, Wallet.createRandom().address)),
  );
  report.gas("registries.heartbeat", await gasOf(w.services.connect(w.a.signer).heartbeat(w.a.service)));

  report.section("pipe lifecycle");
  const spec = specOf(w.a, w.b, { contractName: id("Bench") });
  const applyTx = w.pipes.connect(w.a.operator).applyPipe(spec);
  report.gas("registries.applyPipe (2 selectors)", await gasOf(applyTx));
  const pipeId = (await w.pipes.queryFilter(w.pipes.filters.PipeApplied())).at(-1)!.args.pipeId;
  report.gas(
    "registries.authorizePipe (active at once)",
    await gasOf(w.pipes.connect(w.b.operator).authorizePipe(pipeId)),
  );
  report.gas("registries.pausePipe", await gasOf(w.pipes.connect(w.a.operator).pausePipe(pipeId)));
  report.gas("registries.resumePipe", await gasOf(w.pipes.connect(w.a.operator).resumePipe(pipeId)));
  await govern(w, w.pipes, "setActivationVoteRequired", [true]);
  const voted = await applyPipe(w, w.a.operator, spec);
  report.gas(
    "registries.authorizePipe (opens the activation vote)",
    await gasOf(w.pipes.connect(w.b.operator).authorizePipe(voted)),
  );
  await allowReporter(w, reporter.address);
  report.gas(
    "registries.reportOutcome (Completed)",
    await gasOf(w.credit.connect(reporter).reportOutcome(w.a.institution, Outcome.Completed, id("bench-tx"))),
  );

  report.section("checkOperation called from a contract (PipeCheckProbe: gasleft() around an interface call)");
  const probe = await new PipeCheckProbe__factory(w.deployer).deploy();
  const pipes = await w.pipes.getAddress();
  const measure = async (
    pipe: string,
    signer: string,
    op: number,
    sel: string,
  ): Promise<{ cold: bigint; warm: bigint; reason: bigint }> => {
    const receipt = await (await probe.measure(pipes, pipe, signer, op, sel)).wait();
    const log = probe.interface.parseLog(receipt!.logs[0])!;
    return { reason: log.args.reason as bigint, cold: log.args.cold as bigint, warm: log.args.warm as bigint };
  };
  const allowed = await measure(w.pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE);
  if (allowed.reason !== 0n) throw new Error(`bench pipe refused the operation (reason ${allowed.reason})`);
  report.gas("registries.checkOperation allowed, cold (from a contract)", allowed.cold);
  report.gas("registries.checkOperation allowed, warm (from a contract)", allowed.warm);
  report.figure(
    `checkOperation allowed, cold: target <= ${TARGET.toLocaleString("en-US")}`,
    allowed.cold <= BigInt(TARGET) ? "met" : "MISSED",
  );
  const read = await measure(w.pipeId, w.a.appKey.address, OPERATION_READ, SEL_READ);
  report.gas("registries.checkOperation allowed read, cold (from a contract)", read.cold);
  const refused = await measure(w.pipeId, w.a.appKey.address, OPERATION_WRITE, "0x12345678");
  report.gas("registries.checkOperation refused selector, cold (from a contract)", refused.cold);
  const stranger = await measure(w.pipeId, w.b.appKey.address, OPERATION_WRITE, SEL_WRITE);
  report.gas("registries.checkOperation refused signer, cold (from a contract)", stranger.cold);
  const wildcard = await applyPipe(
    w,
    w.a.operator,
    specOf(w.a, w.b, { operations: OPERATION_FLAG_READ, selectors: [] }),
  );
  await govern(w, w.pipes, "setActivationVoteRequired", [false]);
  await w.pipes.connect(w.b.operator).authorizePipe(wildcard);
  const any = await measure(wildcard, w.a.appKey.address, OPERATION_READ, "0x12345678");
  report.gas("registries.checkOperation read-only pipe open to any selector, cold (from a contract)", any.cold);
  report.figure("probe overhead (two gasleft() reads, no call)", Number(await probe.baseline()), "gas");
}

export const registriesBench: BenchModule = { name: "registries", kind: "gas", run };
