import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, network } from "hardhat";
import { Wallet, encryptKeystoreJson } from "ethers";
import { loadConsortium } from "../../lib/domain/consortium-config";
import { deployGovernance } from "../../lib/deploy/governance";
import { scriptSigner } from "../../scripts/lib/signer";

describe("scripts: the deployer's key from an encrypted keystore", function () {
  const dir = mkdtempSync(join(tmpdir(), "ccgp-ks-"));
  const wallet = Wallet.createRandom();
  const path = join(dir, "deployer.json");
  const local = () => ethers.getSigners();

  before(async () => {
    writeFileSync(
      path,
      await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, "correct horse", {
        scrypt: { N: 1 << 12 },
      }),
    );
    await network.provider.send("hardhat_setBalance", [wallet.address, "0x56BC75E2D63100000"]);
  });

  it("deploys with the keystore's key", async function () {
    const signer = await scriptSigner(ethers.provider, local, 0, {
      CCGP_KEYSTORE: path,
      CCGP_KEYSTORE_PASSWORD: "correct horse",
    });
    expect(await signer.getAddress()).to.equal(wallet.address);
    const { membership } = await deployGovernance(signer, loadConsortium("config/consortium.local.json"), {
      network: "ks",
    });
    const tx = await ethers.provider.getTransaction(membership.deploymentTransaction()!.hash);
    expect(tx!.from).to.equal(wallet.address);
  });

  it("uses the local accounts without a keystore", async function () {
    const signer = await scriptSigner(ethers.provider, local, 3, {});
    expect(await signer.getAddress()).to.equal((await ethers.getSigners())[3].address);
    await expect(scriptSigner(ethers.provider, local, 99, {})).to.be.rejectedWith(
      "--signer 99: the network has no account at that index",
    );
  });

  it("names a missing password, a missing file and a wrong password", async function () {
    await expect(scriptSigner(ethers.provider, local, 0, { CCGP_KEYSTORE: path })).to.be.rejectedWith(
      "CCGP_KEYSTORE is set but CCGP_KEYSTORE_PASSWORD is not",
    );
    await expect(
      scriptSigner(ethers.provider, local, 0, { CCGP_KEYSTORE: join(dir, "none.json"), CCGP_KEYSTORE_PASSWORD: "x" }),
    ).to.be.rejectedWith(/CCGP_KEYSTORE: cannot read .*none\.json/);
    await expect(
      scriptSigner(ethers.provider, local, 0, { CCGP_KEYSTORE: path, CCGP_KEYSTORE_PASSWORD: "wrong" }),
    ).to.be.rejectedWith(/CCGP_KEYSTORE: cannot decrypt .*deployer\.json \(wrong password or not a keystore\)/);
  });
});
