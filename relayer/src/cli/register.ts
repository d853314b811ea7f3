/**
 * `ccgp register chain|app|service|contract`: an operator registers its institution's sub-chain
 * (ChainRegistry.registerSubchain), business app and its reserved key (registerApp), collaboration service
 * (ServiceRegistry.registerService, which opens the enabling vote) and business contract versions
 * (ChainRegistry.registerContract, the contract name service).
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { keystoreAddress } from "../keys/keystore";
import { certificateFingerprint } from "../server/tls";
import { session, withCommon, type CommonOptions, type Env } from "./context";
import { usage } from "./errors";
import { addressArg, choiceArg, fingerprintArg, idArg, portArg, positiveArg } from "./parse";
import { eventOf, submit } from "./submit";

const CHAIN_KINDS = ["none", "evm", "fisco-bcos", "fabric"] as const; // IChainRegistry.ChainKind

interface ChainOptions extends CommonOptions {
  id: string;
  kind: number;
  chainId: bigint;
  service: string;
  gateway: string;
  name: string;
}

async function chain(opts: ChainOptions, ctx: Env): Promise<void> {
  if (opts.kind === 0) throw usage("--kind", `expected one of ${CHAIN_KINDS.slice(1).join(", ")}`);
  const s = await session(opts, ctx, true);
  const sent = await submit(s.out, "registerSubchain", () =>
    s.gov.chains.registerSubchain(opts.id, opts.kind, opts.chainId, opts.service, opts.gateway, opts.name),
  );
  const ev = eventOf(sent, "SubchainRegistered");
  s.out.result([`sub-chain ${opts.id} ("${opts.name}", chain ${opts.chainId}) registered for institution ${ev.args.institution}`], {
    subchainId: opts.id,
    ...ev.args,
    tx: sent.receipt.hash,
  });
}

/** An address given directly, or read from a keystore file (its declared address: no password needed). */
function addressFrom(given: string | undefined, keystore: string | undefined, flag: string): string {
  if (given && keystore) throw usage(`--${flag}`, `give --${flag} or --${flag}-keystore, not both`);
  if (given) return given;
  if (!keystore) throw usage(`--${flag}`, `required: give --${flag} <address> or --${flag}-keystore <file>`);
  try {
    return keystoreAddress(keystore);
  } catch (err) {
    throw usage(`--${flag}-keystore`, (err as Error).message);
  }
}

interface AppOptions extends CommonOptions {
  id: string;
  subchain: string;
  key?: string;
  keyKeystore?: string;
  name: string;
}

async function app(opts: AppOptions, ctx: Env): Promise<void> {
  const key = addressFrom(opts.key, opts.keyKeystore, "key");
  const s = await session(opts, ctx, true);
  const sent = await submit(s.out, "registerApp", () => s.gov.chains.registerApp(opts.id, opts.subchain, key, opts.name));
  const ev = eventOf(sent, "AppRegistered");
  s.out.result([`app ${opts.id} ("${opts.name}") registered on sub-chain ${opts.subchain} with key ${key} (app #${ev.args.index})`], {
    appId: opts.id,
    ...ev.args,
    tx: sent.receipt.hash,
  });
}

interface ServiceOptions extends CommonOptions {
  id: string;
  subchain: string;
  signer?: string;
  signerKeystore?: string;
  host: string;
  port: number;
  tlsFingerprint?: string;
  tlsCert?: string;
}

function fingerprintFrom(opts: ServiceOptions): string {
  if (opts.tlsFingerprint && opts.tlsCert) throw usage("--tls-fingerprint", "give --tls-fingerprint or --tls-cert, not both");
  if (opts.tlsFingerprint) return opts.tlsFingerprint;
  if (!opts.tlsCert) throw usage("--tls-fingerprint", "required: give --tls-fingerprint <sha256> or --tls-cert <pem file>");
  try {
    return `0x${certificateFingerprint(readFileSync(opts.tlsCert, "utf8"))}`;
  } catch (err) {
    throw usage("--tls-cert", `${opts.tlsCert} is not a readable PEM certificate: ${(err as Error).message}`);
  }
}

async function service(opts: ServiceOptions, ctx: Env): Promise<void> {
  const signer = addressFrom(opts.signer, opts.signerKeystore, "signer");
  const tlsFingerprint = fingerprintFrom(opts);
  const s = await session(opts, ctx, true);
  const endpoint = { host: opts.host, port: opts.port, tlsFingerprint };
  const sent = await submit(s.out, "registerService", () => s.gov.services.registerService(opts.id, opts.subchain, signer, endpoint));
  const ev = eventOf(sent, "ServiceRegistered");
  s.out.result(
    [
      `service ${opts.id} registered at ${opts.host}:${opts.port} (signer ${signer}, TLS ${tlsFingerprint})`,
      `enabling vote: proposal ${ev.args.proposalId} (ccgp vote ${ev.args.proposalId})`,
    ],
    { serviceId: opts.id, ...ev.args, tx: sent.receipt.hash },
  );
}

interface ContractOptions extends CommonOptions {
  name: string;
  subchain: string;
  address: string;
}

async function contract(opts: ContractOptions, ctx: Env): Promise<void> {
  if (opts.name.length === 0) throw usage("--name", "expected the contract's name");
  const s = await session(opts, ctx, true);
  const sent = await submit(s.out, "registerContract", () => s.gov.chains.registerContract(opts.name, opts.subchain, opts.address));
  const ev = eventOf(sent, "ContractRegistered");
  s.out.result([`contract "${opts.name}" version ${ev.args.version} registered at ${opts.address} (name hash ${ev.args.nameHash})`], {
    ...ev.args,
    tx: sent.receipt.hash,
  });
}

export function addRegisterCommands(root: Command, ctx: Env): void {
  const register = root.command("register").description("register a sub-chain, app, service or business contract of the signer's institution");
  const idHelp = "(0x + 64 hex digits, or a label hashed with keccak256)";
  withCommon(
    register
      .command("chain")
      .description("register a sub-chain fronted by one of the institution's services (ChainRegistry.registerSubchain)")
      .requiredOption("--id <id>", `sub-chain id ${idHelp}`, idArg)
      .requiredOption("--kind <kind>", "evm, fisco-bcos or fabric", choiceArg(CHAIN_KINDS))
      .requiredOption("--chain-id <n>", "the sub-chain's chain id", positiveArg)
      .requiredOption("--service <id>", `the service fronting it ${idHelp}`, idArg)
      .requiredOption("--gateway <address>", "the gateway contract on the sub-chain", addressArg)
      .requiredOption("--name <text>", "a human name"),
  ).action((opts: ChainOptions) => chain(opts, ctx));
  withCommon(
    register
      .command("app")
      .description("register a business app and reserve its signing key (ChainRegistry.registerApp)")
      .requiredOption("--id <id>", `app id ${idHelp}`, idArg)
      .requiredOption("--subchain <id>", `its sub-chain ${idHelp}`, idArg)
      .option("--key <address>", "the key the app signs stage 1 with", addressArg)
      .option("--key-keystore <file>", "or: the app's keystore (its address is read, not decrypted)")
      .requiredOption("--name <text>", "a human name"),
  ).action((opts: AppOptions) => app(opts, ctx));
  withCommon(
    register
      .command("service")
      .description("register the institution's cross-chain proxy; opens the vote that enables it (ServiceRegistry.registerService)")
      .requiredOption("--id <id>", `service id ${idHelp}`, idArg)
      .requiredOption("--subchain <id>", `the sub-chain it fronts ${idHelp}`, idArg)
      .option("--signer <address>", "its signing account (an active business account of the institution)", addressArg)
      .option("--signer-keystore <file>", "or: the signer's keystore (its address is read, not decrypted)")
      .requiredOption("--host <host>", "where the proxy listens")
      .requiredOption("--port <n>", "its port", portArg)
      .option("--tls-fingerprint <sha256>", "SHA-256 fingerprint of its TLS certificate", fingerprintArg)
      .option("--tls-cert <file>", "or: its PEM certificate (the fingerprint is computed)"),
  ).action((opts: ServiceOptions) => service(opts, ctx));
  withCommon(
    register
      .command("contract")
      .description("register a version of a business contract under its name (ChainRegistry.registerContract)")
      .requiredOption("--name <name>", "the contract's name, e.g. DrugTraceability")
      .requiredOption("--subchain <id>", `its sub-chain ${idHelp}`, idArg)
      .requiredOption("--address <address>", "its address on the sub-chain", addressArg),
  ).action((opts: ContractOptions) => contract(opts, ctx));
}
