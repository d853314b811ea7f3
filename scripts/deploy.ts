/**
 * Deploys the governance contracts to the network Hardhat was given (`--network`, the embedded Hardhat
 * network by default) and bootstraps the consortium from a JSON file (`CCGP_CONSORTIUM`, default
 * config/consortium.local.json). A bad file is refused, naming the field, before anything is deployed.
 * On a real network the deployer's key comes from an encrypted keystore: CCGP_KEYSTORE and CCGP_KEYSTORE_PASSWORD.
 *   npx hardhat run scripts/deploy.ts --network localhost
 */
import hre from "hardhat";
import { ConfigError, loadConsortium } from "../lib/domain/consortium-config";
import { deployGovernance } from "../lib/deploy/governance";
import { scriptSigner } from "./lib/signer";

async function main(): Promise<void> {
  const file = process.env.CCGP_CONSORTIUM ?? "config/consortium.local.json";
  const cfg = loadConsortium(file);
  const deployer = await scriptSigner(hre.ethers.provider, () => hre.ethers.getSigners());
  console.log(
    `consortium "${cfg.name}" from ${file} on network ${hre.network.name}, deployer ${await deployer.getAddress()}`,
  );
  const { membership, voting, pipes, services, chains, credit, attesters, record } = await deployGovernance(
    deployer,
    cfg,
    {
      network: hre.network.name,
      recordDir: process.env.CCGP_DEPLOYMENTS ?? ".deployments",
      log: (line) => console.log(`  ${line}`),
    },
  );
  const count = Number(await membership.institutionCount());
  for (let id = 1; id <= count; id++) {
    const inst = await membership.institution(id);
    console.log(`  institution ${await membership.didOf(id)}: ${inst.name}`);
  }
  const addresses: [string, { getAddress(): Promise<string> }][] = [
    ["membership", membership],
    ["voting", voting],
    ["pipes", pipes],
    ["services", services],
    ["chains", chains],
    ["credit", credit],
    ["attesters", attesters],
  ];
  for (const [name, c] of addresses) console.log(`${name.padEnd(10)} ${await c.getAddress()}`);
  console.log(`record     ${JSON.stringify(record)}`);
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exitCode = 1;
});
