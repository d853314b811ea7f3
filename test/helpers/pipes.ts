/**
 * A pipe between two business institutions on the real registries, as the transaction ledger sees it: each side has
 * an operator, a business account that is its service's signing key (the proxy that opens, countersigns and records),
 * an enabled service, a sub-chain and an app with a reserved key; the target has registered the business contract
 * on its sub-chain; the pipe is applied by the source and authorised by the target. Verifiers are auditors of audit
 * institutions (one each), set on the deployed ledger by vote. Keys are wallets whose private keys sign AMDP packets.
 */
import { ethers, network } from "hardhat";
import { Wallet, type Signer } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Address, Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { scopedId } from "../../lib/domain/ids";
import { VerifierKind } from "../../lib/domain/ledger-types";
import { Kind, Role, addAccount, govern, joinInstitution, type Consortium } from "./governance";
import { ChainKind, CONTRACT, appKeyConsent, applyPipe, enabledService, specOf, type PipeSpec } from "./registries";

/** A key that both signs typed data (viem) and sends transactions (ethers). */
export interface Key {
  address: Address;
  account: PrivateKeyAccount;
  wallet: Wallet;
}

/** A funded random key. */
export async function newKey(): Promise<Key> {
  const wallet = Wallet.createRandom().connect(ethers.provider);
  await network.provider.send("hardhat_setBalance", [wallet.address, "0x56BC75E2D63100000"]);
  const account = privateKeyToAccount(wallet.privateKey as Hex);
  return { address: account.address, account, wallet: wallet as unknown as Wallet };
}

/** One side of a ledger pipe. */
export interface LedgerSide {
  institution: bigint;
  admin: Signer;
  operator: Signer;
  /** The service's signing key, a business account: opens and countersigns (source) or records (both sides). */
  proxy: Key;
  /** The app's reserved key: signs stage 1. */
  app: Key;
  appId: Hex;
  service: Hex;
  subchain: Hex;
}

/** A business institution with an operator, a business-account service signer, an enabled service, a sub-chain, an app. */
export async function ledgerSide(
  c: Consortium,
  name: string,
  admin: Signer,
  operator: HardhatEthersSigner,
  chainId: bigint,
  subchainLabel = `${name}/chain`,
): Promise<LedgerSide> {
  const institution = await joinInstitution(c, admin, Kind.Business, name);
  const subchain = scopedId(institution, subchainLabel);
  const [proxy, app] = [await newKey(), await newKey()];
  await addAccount(c, admin, operator, institution, Role.Operator);
  await addAccount(c, admin, proxy, institution, Role.Business);
  const s = {
    service: scopedId(institution, `${name}/service`),
    subchain,
    appId: scopedId(institution, `${name}/app`),
  };
  await enabledService(c, operator, s.service, s.subchain, proxy.address);
  await c.chains
    .connect(operator)
    .registerSubchain(s.subchain, ChainKind.Evm, chainId, s.service, Wallet.createRandom().address, `${name} chain`);
  await c.chains
    .connect(operator)
    .registerApp(
      s.appId,
      s.subchain,
      app.address,
      `${name} app`,
      ...(await appKeyConsent(c, operator, s.appId, app.wallet)),
    );
  return { institution, admin, operator, proxy, app, ...s };
}

/** An active pipe from `source` to `target` on the example contract (registered now by the target). */
export async function activePipe(
  c: Consortium,
  source: LedgerSide,
  target: LedgerSide,
  over: Partial<PipeSpec> = {},
): Promise<Hex> {
  await c.chains.connect(target.operator).registerContract(CONTRACT, target.subchain, Wallet.createRandom().address);
  const sides = (x: LedgerSide) => ({ app: x.appId, service: x.service });
  const pipeId = await applyPipe(c, source.operator, specOf(sides(source), sides(target), over));
  await c.pipes.connect(target.operator).authorizePipe(pipeId);
  return pipeId as Hex;
}

/**
 * Audit institutions, one per weight, each with one auditor that is a ledger verifier set by vote (the ledger takes
 * at most one verifier per institution). `admins` holds one admin per weight.
 */
export async function auditVerifiers(
  c: Consortium,
  admins: Signer[],
  weights: number[],
): Promise<{ audit: bigint; audits: bigint[]; auditors: Key[] }> {
  const audits: bigint[] = [];
  const auditors: Key[] = [];
  for (const [i, weight] of weights.entries()) {
    const admin = admins[i]!;
    const audit = await joinInstitution(c, admin, Kind.Audit, i === 0 ? "Audit Office" : `Audit Office ${i + 1}`);
    const a = await newKey();
    await addAccount(c, admin, a, audit, Role.Auditor);
    await govern(c, c.ledger, "setVerifier", [a.address, VerifierKind.Auditor, weight]);
    audits.push(audit);
    auditors.push(a);
  }
  return { audit: audits[0]!, audits, auditors };
}
