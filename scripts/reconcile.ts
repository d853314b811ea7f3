/**
 * Prints the ledger's reconciliation report: every transaction whose final state is not consistent across chains or
 * that is unresolved past its deadline. Exit code 2 when there is any, so a cron job can alert.
 *   CCGP_LEDGER=0x... npx hardhat run scripts/reconcile.ts --network localhost
 * Without CCGP_LEDGER, the ledger address is read from the deployment record (`ledger` in
 * $CCGP_DEPLOYMENTS/<network>-<chainId>.json, default .deployments). CCGP_LEDGER_FROM_BLOCK (the ledger's deployment
 * block, default 0) and CCGP_LOG_RANGE (blocks per eth_getLogs, default 10000) tune the event scan.
 */
import { existsSync, readFileSync } from "node:fs";
import hre from "hardhat";
import { TransactionLedger__factory } from "../typechain-types";
import { recordPath } from "../lib/domain/record";
import { formatReport, reconcile } from "../lib/domain/reconcile";

async function ledgerAddress(): Promise<string> {
  if (process.env.CCGP_LEDGER) return process.env.CCGP_LEDGER;
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);
  const path = recordPath(process.env.CCGP_DEPLOYMENTS ?? ".deployments", hre.network.name, chainId);
  const record = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as { ledger?: string }) : {};
  if (!record.ledger) throw new Error(`no ledger address: set CCGP_LEDGER or record "ledger" in ${path}`);
  return record.ledger;
}

async function main(): Promise<void> {
  const address = await ledgerAddress();
  if ((await hre.ethers.provider.getCode(address)) === "0x")
    throw new Error(`CCGP_LEDGER ${address}: no contract there`);
  const ledger = TransactionLedger__factory.connect(address, hre.ethers.provider);
  const report = await reconcile(ledger, {
    pageSize: Number(process.env.CCGP_PAGE_SIZE ?? 200),
    fromBlock: Number(process.env.CCGP_LEDGER_FROM_BLOCK ?? 0),
    blockRange: Number(process.env.CCGP_LOG_RANGE ?? 10_000),
  });
  console.log(formatReport(report));
  if (report.entries.length > 0 || report.missing > 0n) process.exitCode = 2;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
