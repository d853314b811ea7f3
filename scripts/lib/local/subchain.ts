import { id, type Signer } from "ethers";
import {
  AssetLedger__factory,
  DrugTraceability__factory,
  EvidenceDeposit__factory,
  SubchainGateway__factory,
} from "../../../typechain-types";
import type { SubchainGateway } from "../../../typechain-types";
import { mined } from "./council";

/**
 * The business contracts every local sub-chain runs, by their CNS names (one name per sub-chain: a name binds to one).
 */
export interface SubchainContracts {
  gateway: string;
  drugTraceability: string;
  evidenceDeposit: string;
  /** The two-phase example (an institution's asset balances), when deployed (`assets`). */
  assetLedger?: string;
  /** Registered names (`keccak256(name)` is what pipes, packets and the gateway use). */
  names: { drugTraceability: string; evidenceDeposit: string; assetLedger: string };
  /** The block the gateway was deployed in: where a relayer starts following it. */
  deployBlock: number;
}

export const GATEWAY_MAX_PAYLOAD = 16 * 1024;

/**
 * Deploys a sub-chain's gateway and the two example contracts, registers them in the gateway by name, makes the
 * relayer accounts its relayers (the gateway starts with attester set `a`), and lets `actor` record batches, custody
 * and evidence (the seed scenario's user). `admin` (the sub-chain operator) holds the admin role of all three.
 */
export async function deploySubchain(
  admin: Signer,
  suffix: string,
  relayers: string[],
  actor: string,
  a: { subchainId: string; attesters: string[]; threshold: number; epoch: number },
  /** Also the AssetLedger example, its issuer `actor`. */
  assets = false,
): Promise<SubchainContracts> {
  const adminAddress = await admin.getAddress();
  const gateway = await new SubchainGateway__factory(admin).deploy(
    adminAddress,
    GATEWAY_MAX_PAYLOAD,
    a.subchainId,
    a.attesters,
    a.threshold,
    a.epoch,
  );
  const deployBlock = (await gateway.deploymentTransaction()!.wait())!.blockNumber;
  const gatewayAddress = await gateway.getAddress();
  const drug = await new DrugTraceability__factory(admin).deploy(gatewayAddress, adminAddress);
  const evidence = await new EvidenceDeposit__factory(admin).deploy(gatewayAddress, adminAddress);
  await Promise.all([drug.waitForDeployment(), evidence.waitForDeployment()]);
  const names = {
    drugTraceability: `DrugTraceability/${suffix}`,
    evidenceDeposit: `EvidenceDeposit/${suffix}`,
    assetLedger: `AssetLedger/${suffix}`,
  };
  const assetLedger = assets ? await deployAssets(admin, gatewayAddress, names.assetLedger, actor, gateway) : undefined;
  const [drugAddress, evidenceAddress] = [await drug.getAddress(), await evidence.getAddress()];

  await mined(
    gateway.registerContract(id(names.drugTraceability), drugAddress),
    `gateway registration of ${names.drugTraceability}`,
  );
  await mined(
    gateway.registerContract(id(names.evidenceDeposit), evidenceAddress),
    `gateway registration of ${names.evidenceDeposit}`,
  );
  const relayerRole = await gateway.RELAYER_ROLE();
  for (const r of relayers)
    await mined(gateway.grantRole(relayerRole, r), `relayer role for ${r} on the ${suffix} gateway`);
  await mined(drug.grantRole(await drug.MANUFACTURER_ROLE(), actor), "manufacturer role");
  await mined(drug.grantRole(await drug.CUSTODIAN_ROLE(), actor), "custodian role");
  await mined(evidence.grantRole(await evidence.DEPOSITOR_ROLE(), actor), "depositor role");
  return {
    gateway: gatewayAddress,
    drugTraceability: drugAddress,
    evidenceDeposit: evidenceAddress,
    ...(assetLedger === undefined ? {} : { assetLedger }),
    names,
    deployBlock,
  };
}

/** The AssetLedger example, registered in the gateway under `name`; `issuer` may issue balances. */
async function deployAssets(
  admin: Signer,
  gatewayAddress: string,
  name: string,
  issuer: string,
  gateway: SubchainGateway,
): Promise<string> {
  const assets = await new AssetLedger__factory(admin).deploy(gatewayAddress, await admin.getAddress());
  await assets.waitForDeployment();
  const address = await assets.getAddress();
  await mined(gateway.registerContract(id(name), address), `gateway registration of ${name}`);
  await mined(assets.grantRole(await assets.ISSUER_ROLE(), issuer), "issuer role");
  return address;
}
