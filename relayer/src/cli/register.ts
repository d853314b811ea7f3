/**
 * `ccgp register chain|app|service|contract`: an operator registers its institution's sub-chain
 * (ChainRegistry.registerSubchain), business app and its reserved key (registerApp), collaboration service
 * (ServiceRegistry.registerService, which opens the enabling vote) and business contract versions
 * (ChainRegistry.registerContract, the contract name service) and governance-chain nodes (ServiceRegistry.registerNode,
 * signed by the node's own key: its proof of possession).
 */
import { readFileSync } from "node:fs";
import { Wallet, keccak256 } from "ethers";
import type { Command } from "commander";
import {
  chainRegistryDomain,
  consentDeadline,
  serviceRegistryDomain,
  signAppKeyConsent,
  signNodeConsent,
} from "../governance/consent";
import { keystoreAddress } from "../keys/keystore";
import { certificateFingerprint } from "../server/tls";
import { openKeystore, session, withCommon, type CommonOptions, type Env } from "./context";
import { usage } from "./errors";
import { addressArg, choiceArg, fingerprintArg, portArg, positiveArg, scopedIdArg } from "./parse";
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
  s.out.result(
    [`sub-chain ${opts.id} ("${opts.name}", chain ${opts.chainId}) registered for institution ${ev.args.institution}`],
    {
      subchainId: opts.id,
      ...ev.args,
      tx: sent.receipt.hash,
    },
  );
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
  keyKeystore: string;
  name: string;
}

/** Registers the app; its key signs its consent (AppKeyConsent: this chain and registry, the app, the institution). */
async function app(opts: AppOptions, ctx: Env): Promise<void> {
  const appKey = await openKeystore(opts.keyKeystore, ctx.env, "--key-keystore", ["CCGP_APP_KEYSTORE_PASSWORD"]);
  const key = appKey.address;
  const s = await session(opts, ctx, true);
  const [account, latest] = await Promise.all([
    s.gov.membership.account(s.signer.address),
    s.chain.provider.getBlock("latest"),
  ]);
  const deadline = consentDeadline(latest!.timestamp);
  const domain = chainRegistryDomain(BigInt(s.chain.chainId), await s.gov.chains.getAddress());
  const signature = await signAppKeyConsent(appKey, domain, {
    key,
    appId: opts.id,
    institution: account.institution,
    deadline,
  });
  const sent = await submit(s.out, "registerApp", () =>
    s.gov.chains.registerApp(opts.id, opts.subchain, key, opts.name, deadline, signature),
  );
  const ev = eventOf(sent, "AppRegistered");
  s.out.result(
    [
      `app ${opts.id} ("${opts.name}") registered on sub-chain ${opts.subchain} with key ${key} (app ` +
        `#${ev.args.index})`,
    ],
    {
      appId: opts.id,
      ...ev.args,
      tx: sent.receipt.hash,
    },
  );
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
  if (opts.tlsFingerprint && opts.tlsCert)
    throw usage("--tls-fingerprint", "give --tls-fingerprint or --tls-cert, not both");
  if (opts.tlsFingerprint) return opts.tlsFingerprint;
  if (!opts.tlsCert)
    throw usage("--tls-fingerprint", "required: give --tls-fingerprint <sha256> or --tls-cert <pem file>");
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
  const sent = await submit(s.out, "registerService", () =>
    s.gov.services.registerService(opts.id, opts.subchain, signer, endpoint),
  );
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
  const sent = await submit(s.out, "registerContract", () =>
    s.gov.chains.registerContract(opts.name, opts.subchain, opts.address),
  );
  const ev = eventOf(sent, "ContractRegistered");
  s.out.result(
    [
      `contract "${opts.name}" version ${ev.args.version} registered at ${opts.address} (name hash ` +
        `${ev.args.nameHash})`,
    ],
    {
      ...ev.args,
      tx: sent.receipt.hash,
    },
  );
}

const NODE_KINDS = ["none", "genesis", "governance", "audit"] as const; // IServiceRegistry.NodeKind

interface NodeOptions extends CommonOptions {
  kind: number;
  nodeKey?: string;
  nodeKeystore?: string;
  host: string;
  port: number;
}

/** A node key file as Besu and geth write it (`key`, `nodekey`): the private key in hex, with or without 0x. */
function readNodeKey(file: string): Wallet {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (err) {
    throw usage("--node-key", `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const hex = text.replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw usage(
      "--node-key",
      `${file} is not a node key file (expected a 32-byte private key in hex, as Besu's key file)`,
    );
  return new Wallet(`0x${hex}`);
}

/** The node's key: from its key file, or its encrypted keystore (password in CCGP_NODE_KEYSTORE_PASSWORD). */
async function nodeWallet(opts: NodeOptions, env: NodeJS.ProcessEnv): Promise<Wallet> {
  if (opts.nodeKey && opts.nodeKeystore) throw usage("--node-key", "give --node-key or --node-keystore, not both");
  if (opts.nodeKey) return readNodeKey(opts.nodeKey);
  if (!opts.nodeKeystore)
    throw usage("--node-key", "required: give --node-key <file> (the node's key file) or --node-keystore <file>");
  return openKeystore(opts.nodeKeystore, env, "--node-keystore", ["CCGP_NODE_KEYSTORE_PASSWORD"]);
}

/** Registers the node: its key signs NodeConsent (bound to this chain, registry, institution, endpoint and nonce). */
async function node(opts: NodeOptions, ctx: Env): Promise<void> {
  if (opts.kind === 0) throw usage("--kind", `expected one of ${NODE_KINDS.slice(1).join(", ")}`);
  const key = await nodeWallet(opts, ctx.env);
  const s = await session(opts, ctx, true);
  const publicKey = `0x${key.signingKey.publicKey.slice(4)}`; // 64 bytes: the enode id, without 0x04
  const nodeId = keccak256(publicKey);
  const [account, registration, latest] = await Promise.all([
    s.gov.membership.account(s.signer.address),
    s.gov.services.nodeRegistration(nodeId),
    s.chain.provider.getBlock("latest"),
  ]);
  const deadline = consentDeadline(latest!.timestamp);
  const domain = serviceRegistryDomain(BigInt(s.chain.chainId), await s.gov.services.getAddress());
  const consent = {
    nodeId,
    institution: account.institution,
    kind: opts.kind,
    host: opts.host,
    port: opts.port,
    nonce: registration.nextNonce,
    deadline,
  };
  const signature = await signNodeConsent(key, domain, consent);
  const sent = await submit(s.out, "registerNode", () =>
    s.gov.services.registerNode(opts.kind, publicKey, opts.host, opts.port, deadline, signature),
  );
  const ev = eventOf(sent, "NodeRegistered");
  s.out.result(
    [
      `node ${nodeId} (${NODE_KINDS[opts.kind]}, key ${key.address}) registered at ${opts.host}:${opts.port} for ` +
        `institution ${ev.args.institution}`,
      `enabling vote: proposal ${ev.args.proposalId} (ccgp vote ${ev.args.proposalId})`,
    ],
    { ...ev.args, nodeId, publicKey, tx: sent.receipt.hash },
  );
}

export function addRegisterCommands(root: Command, ctx: Env): void {
  const register = root
    .command("register")
    .description("register a sub-chain, app, service, business contract or node of the signer's institution");
  const idHelp = "(0x + 64 hex digits, or <institution>:<label>)";
  withCommon(
    register
      .command("chain")
      .description("register a sub-chain fronted by one of the institution's services (ChainRegistry.registerSubchain)")
      .requiredOption("--id <id>", `sub-chain id ${idHelp}`, scopedIdArg)
      .requiredOption("--kind <kind>", "evm, fisco-bcos or fabric", choiceArg(CHAIN_KINDS))
      .requiredOption("--chain-id <n>", "the sub-chain's chain id", positiveArg)
      .requiredOption("--service <id>", `the service fronting it ${idHelp}`, scopedIdArg)
      .requiredOption("--gateway <address>", "the gateway contract on the sub-chain", addressArg)
      .requiredOption("--name <text>", "a human name"),
  ).action((opts: ChainOptions) => chain(opts, ctx));
  withCommon(
    register
      .command("app")
      .description("register a business app and reserve its signing key (ChainRegistry.registerApp)")
      .requiredOption("--id <id>", `app id ${idHelp}`, scopedIdArg)
      .requiredOption("--subchain <id>", `its sub-chain ${idHelp}`, scopedIdArg)
      .requiredOption(
        "--key-keystore <file>",
        "the keystore of the key the app signs stage 1 with; it signs its consent (password in " +
          "$CCGP_APP_KEYSTORE_PASSWORD)",
      )
      .requiredOption("--name <text>", "a human name"),
  ).action((opts: AppOptions) => app(opts, ctx));
  withCommon(
    register
      .command("service")
      .description(
        "register the institution's cross-chain proxy; opens the vote that enables it " +
          "(ServiceRegistry.registerService)",
      )
      .requiredOption("--id <id>", `service id ${idHelp}`, scopedIdArg)
      .requiredOption("--subchain <id>", `the sub-chain it fronts ${idHelp}`, scopedIdArg)
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
      .requiredOption("--subchain <id>", `its sub-chain ${idHelp}`, scopedIdArg)
      .requiredOption("--address <address>", "its address on the sub-chain", addressArg),
  ).action((opts: ContractOptions) => contract(opts, ctx));
  withCommon(
    register
      .command("node")
      .description(
        "register a governance-chain node of the signer's institution, signed by the node's key; opens the vote " +
          "that enables it (ServiceRegistry.registerNode)",
      )
      .requiredOption(
        "--kind <kind>",
        "genesis (a validator of a genesis institution), governance (business) or audit",
        choiceArg(NODE_KINDS),
      )
      .option(
        "--node-key <file>",
        "the node's key file (Besu's data/key: its private key in hex); it signs the node's consent",
      )
      .option(
        "--node-keystore <file>",
        "or: the node key's encrypted keystore (password in $CCGP_NODE_KEYSTORE_PASSWORD)",
      )
      .requiredOption("--host <host>", "where the node listens (p2p)")
      .requiredOption("--port <n>", "its p2p port", portArg),
  ).action((opts: NodeOptions) => node(opts, ctx));
}
