/**
 * The `ccgp` command line, run for real as child processes against a real anvil governance chain: it deploys the
 * consortium itself, then joins, registers, opens pipes, votes, lists proposals, follows a transaction opened
 * through the ledger until a governor resolves it, and sends app requests to an app intake. Bad input exits 2
 * naming the argument; a contract's refusal exits 1 naming the decoded custom error.
 *
 * Here `send` posts to a small HTTP intake (./intake.ts) that checks each packet with the relayer's verifier
 * (decodePacket + verifyStage1) while the test plays the relayers on the ledger; send.relayer.test.ts runs it
 * against the real relayer runtime.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { Interface, keccak256, Wallet } from "ethers";
import type { Address, Hex } from "viem";
import { packetDomain } from "../../lib/amdp";
import { certificateFingerprint } from "../../relayer/src/server/tls";
import { actor, ccgp, ok, PASSWORD, type Actor, type CliRun } from "./helpers";
import { startIntake, type Intake } from "./intake";
import {
  addAccount,
  contracts,
  CONTRACT,
  addIndependentVerifier,
  executeAndConfirm,
  GOVERNANCE_CHAIN_ID,
  idOf,
  join_,
  openTransaction,
  READ_SIG,
  registerSide,
  relayOpen,
  ROLE,
  startWorld,
  WRITE_SIG,
  type World,
} from "./world";

const selector = (sig: string) => Interface.from([`function ${sig}`]).getFunction(sig.split("(")[0]!)!.selector;

/** Exit 1 with the decoded custom error named in the one-line message (after any progress lines). */
function expectRefusal(run: CliRun, text: string): void {
  expect(run.code, run.stderr + run.stdout).to.equal(1);
  expect(run.stderr.trim().split("\n").at(-1)).to.include(text);
}

/** Exit 2 with the argument named in the one-line message. */
function expectBadInput(run: CliRun, ...texts: string[]): void {
  expect(run.code, run.stderr + run.stdout).to.equal(2);
  for (const t of texts) expect(run.stderr).to.include(t);
  expect(run.stderr.trim().split("\n")).to.have.length(1);
}

describe("ccgp command line", function () {
  this.timeout(600_000);
  let w: World;
  const as = (a: Actor, ...rest: string[]) => ["--keystore", a.keystore, ...w.common, ...rest];
  let pipeId: string;
  let txId: string;

  before(async () => {
    w = await startWorld();
  });
  after(async () => {
    await w?.stop();
  });

  describe("deploy", () => {
    const deploy = (...rest: string[]) =>
      ccgp(
        [
          "deploy",
          "--network-url",
          w.chain.url,
          "--consortium",
          w.consortiumFile,
          "--keystore",
          w.deployer.keystore,
          "--deployments",
          w.deployments,
          ...rest,
        ],
        w.env,
      );

    it("deploys and bootstraps the governance chain from the consortium file, showing each step", async () => {
      const run = await deploy();
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr)
        .to.include("deployed Membership at")
        .and.include("created 3 genesis institution(s)")
        .and.include("installed 20 registry and ledger action rules");
      expect(run.stdout).to.include("14 step(s) done");
      const c = contracts(w);
      expect(await w.provider.getCode(c.record.ledger!)).to.not.equal("0x");
      expect(c.record.bootstrapped).to.equal(true);
      expect(await c.membership.institutionCount()).to.equal(3n);
      expect(run.stdout).to.include(c.record.ledger!);
    });

    it("finds everything on a second run and sends nothing", async () => {
      const nonce = await w.provider.getTransactionCount(w.deployer.address);
      const run = await deploy("--json");
      expect(run.code, run.stderr).to.equal(0);
      expect(run.json<{ stepsDone: number; record: { ledger: string } }>()).to.deep.include({ stepsDone: 0 });
      expect(run.stderr)
        .to.include("found TransactionLedger at")
        .and.include("found the registry and ledger rules installed");
      expect(await w.provider.getTransactionCount(w.deployer.address)).to.equal(nonce);
    });
  });

  describe("member, vote, execute", () => {
    it("joins Drug Maker A: its admin applies, governors vote, anyone executes", async () => {
      const applied = (
        await ok(
          [
            "member",
            "apply",
            "--name",
            w.a.name,
            "--identity",
            "USCC:A",
            "--kind",
            "business",
            ...as(w.a.admin, "--json"),
          ],
          w.env,
        )
      ).json<{ institution: number; proposalId: string }>();
      expect(applied.institution).to.equal(4);
      const id = applied.proposalId;
      expect((await ok(["vote", id, ...as(w.governors[0]!)], w.env)).stdout).to.include(
        `institution 1 voted for proposal ${id}: now Active`,
      );
      expect((await ok(["vote", id, ...as(w.governors[1]!)], w.env)).stdout).to.include(
        "now Passed; execute it with: ccgp execute",
      );
      const executed = await ok(["execute", id, ...as(w.governors[2]!)], w.env);
      expect(executed.stdout).to.include(`InstitutionApproved(id: 4, did: "did:ccgp:${GOVERNANCE_CHAIN_ID}:4")`);
      expect(await contracts(w).membership.institutionStatus(4)).to.equal(2n); // Active
    });

    it("lists the institutions", async () => {
      const run = await ok(["member", "list", ...w.common, "--json"], w.env);
      const rows = run.json<{ institutions: { id: number; kind: string; status: string; name: string }[] }>()
        .institutions;
      expect(rows.map((r) => [r.id, r.kind, r.status])).to.deep.equal([
        [1, "Genesis", "Active"],
        [2, "Genesis", "Active"],
        [3, "Genesis", "Active"],
        [4, "Business", "Active"],
      ]);
    });

    it("requests an account by the institution's admin (a unanimous vote follows)", async () => {
      // The operator's own key consents first (proof of possession); the admin submits the request with it.
      const consent = (
        await ok(
          ["member", "consent", "--institution", "4", "--role", "operator", ...as(w.a.operator, "--json")],
          w.env,
        )
      ).json<{ deadline: string; signature: string }>();
      const request = [
        "member",
        "account",
        "--account",
        w.a.operator.address,
        "--institution",
        "4",
        "--role",
        "operator",
      ];
      const run = await ok(
        [...request, "--deadline", consent.deadline, "--consent", consent.signature, ...as(w.a.admin, "--json")],
        w.env,
      );
      const id = BigInt(run.json<{ proposalId: string }>().proposalId);
      for (const g of w.governors) await (await contracts(w, g.wallet).voting.vote(id, true)).wait();
      await ok(["execute", String(id), ...as(w.governors[0]!)], w.env);
      expect((await contracts(w).membership.account(w.a.operator.address)).status).to.equal(2n); // Active
      // The rest of the membership set-up, with ethers: A's service signer, Hospital B and its accounts.
      await addAccount(w, w.a, w.a.signer, 4, ROLE.Business);
      const b = await join_(w, w.b);
      await addAccount(w, w.b, w.b.operator, b, ROLE.Operator);
      await addAccount(w, w.b, w.b.signer, b, ROLE.Business);
      await registerSide(w, w.b, 9444);
    });
  });

  describe("register", () => {
    it("registers A's service with its certificate's fingerprint; the enabling vote passes and is executed", async () => {
      const key = join(w.dir, "a.key");
      const cert = join(w.dir, "a.crt");
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-keyout",
          key,
          "-out",
          cert,
          "-days",
          "1",
          "-subj",
          "/CN=127.0.0.1",
        ],
        { stdio: "ignore" },
      );
      const run = await ok(
        [
          "register",
          "service",
          "--id",
          w.a.label("service"),
          "--subchain",
          w.a.label("chain"),
          "--signer-keystore",
          w.a.signer.keystore,
          "--host",
          "127.0.0.1",
          "--port",
          "9443",
          "--tls-cert",
          cert,
          ...as(w.a.operator, "--json"),
        ],
        w.env,
      );
      const id = run.json<{ proposalId: string }>().proposalId;
      await ok(["vote", id, ...as(w.governors[0]!)], w.env);
      await ok(["vote", id, ...as(w.governors[1]!)], w.env);
      expect((await ok(["execute", id, ...as(w.governors[1]!)], w.env)).stdout).to.include(
        `ServiceEnabled(serviceId: ${w.a.id("service")}`,
      );
      const service = await contracts(w).services.service(w.a.id("service"));
      expect(service.status).to.equal(2n); // Enabled
      expect(service.signer).to.equal(w.a.signer.address);
      expect(service.tlsFingerprint).to.equal(`0x${certificateFingerprint(readFileSync(cert, "utf8"))}`);
    });

    it("registers A's sub-chain and its app, the app's keystore signing the key's consent", async () => {
      const chainArgs = (id: string) => [
        "register",
        "chain",
        "--id",
        id,
        "--kind",
        "evm",
        "--chain-id",
        "7001",
        "--service",
        w.a.label("service"),
        "--gateway",
        `0x${"cd".repeat(20)}`,
        "--name",
        "A chain",
        ...as(w.a.operator),
      ];
      // Sub-chain, app and service ids are namespaced by institution: a bare label names none, and an id in B's
      // namespace is refused to A's operator.
      expectBadInput(await ccgp(chainArgs("Drug Maker A/chain"), w.env), "--id", "<institution>:<label>");
      expectRefusal(await ccgp(chainArgs(`${w.b.institution}:Drug Maker A/chain`), w.env), "SubchainIdNotOwned(");
      await ok(
        [
          "register",
          "chain",
          "--id",
          w.a.label("chain"),
          "--kind",
          "evm",
          "--chain-id",
          "7001",
          "--service",
          w.a.label("service"),
          "--gateway",
          `0x${"cd".repeat(20)}`,
          "--name",
          "A chain",
          ...as(w.a.operator),
        ],
        w.env,
      );
      const args = [
        "register",
        "app",
        "--id",
        w.a.label("app"),
        "--subchain",
        w.a.label("chain"),
        "--key-keystore",
        w.a.app.keystore,
        "--name",
        "A app",
        ...as(w.a.operator),
      ];
      expectBadInput(await ccgp(args, w.env), "CCGP_APP_KEYSTORE_PASSWORD");
      const app = await ok(args, { ...w.env, CCGP_APP_KEYSTORE_PASSWORD: PASSWORD });
      expect(app.stdout).to.include(`with key ${w.a.app.address}`);
      const c = contracts(w);
      expect((await c.chains.subchain(w.a.id("chain"))).chainId).to.equal(7001n);
      expect((await c.chains.app(w.a.id("app"))).key).to.equal(w.a.app.address);
    });

    it("registers B's business contract under its name", async () => {
      const address = `0x${"be".repeat(20)}`;
      const run = await ok(
        [
          "register",
          "contract",
          "--name",
          CONTRACT,
          "--subchain",
          w.b.label("chain"),
          "--address",
          address,
          ...as(w.b.operator, "--json"),
        ],
        w.env,
      );
      expect(run.json()).to.deep.include({ nameHash: idOf(CONTRACT), version: "1" }); // uint64: a decimal string
      const [resolved, version] = await contracts(w).chains.resolve(w.b.id("chain"), idOf(CONTRACT));
      expect([resolved.toLowerCase(), version]).to.deep.equal([address, 1n]);
    });
  });

  describe("pipe", () => {
    it("applies for a pipe A -> B, and B authorises it", async () => {
      const applied = await ok(
        [
          "pipe",
          "apply",
          "--source-app",
          w.a.label("app"),
          "--target-app",
          w.b.label("app"),
          "--source-service",
          w.a.label("service"),
          "--target-service",
          w.b.label("service"),
          "--contract",
          CONTRACT,
          "--operations",
          "read,write",
          "--selectors",
          `${WRITE_SIG},${READ_SIG}`,
          "--rate",
          "600",
          "--max-payload",
          "4096",
          "--timeout",
          "600",
          ...as(w.a.operator, "--json"),
        ],
        w.env,
      );
      pipeId = applied.json<{ pipeId: string }>().pipeId;
      expect((await ok(["pipe", "authorize", pipeId, ...as(w.b.operator)], w.env)).stdout).to.include(
        `pipe ${pipeId} authorised: now Active`,
      );
    });

    it("shows the route, selectors and limits", async () => {
      const shown = (await ok(["pipe", "show", pipeId, ...w.common, "--json"], w.env)).json<Record<string, unknown>>();
      expect(shown).to.deep.include({
        status: "Active",
        operations: "read,write",
        selectors: [selector(WRITE_SIG), selector(READ_SIG)],
        contractName: idOf(CONTRACT),
      });
      expect(shown.source).to.deep.include({ institution: 4, appKey: w.a.app.address, signer: w.a.signer.address });
      expect(shown.limits).to.deep.equal({ ratePerMinute: 600, maxPayloadBytes: 4096, timeoutSeconds: 600 });
    });

    it("lists alternate target routes as the target's operator (none removes them); refuses the source's service", async () => {
      // A's service is the other side's: named by the registry, nothing listed.
      expectRefusal(
        await ccgp(["pipe", "alternates", pipeId, w.a.label("service"), ...as(w.b.operator)], w.env),
        `PipeServiceMismatch(serviceId: ${w.a.id("service")}`,
      );
      expectBadInput(await ccgp(["pipe", "alternates", pipeId, "nowhere", ...as(w.b.operator)], w.env), "nowhere");
      const removed = await ok(["pipe", "alternates", pipeId, ...as(w.b.operator, "--json")], w.env);
      expect(removed.json()).to.deep.include({ pipeId, alternates: [], proposalId: "0" });
      const shown = (await ok(["pipe", "show", pipeId, ...w.common, "--json"], w.env)).json<Record<string, unknown>>();
      expect(shown.alternates).to.deep.equal([]);
    });

    it("is paused by one side and resumed by the other", async () => {
      expect((await ok(["pipe", "pause", pipeId, ...as(w.a.operator)], w.env)).stdout).to.include("now Paused");
      expect((await ok(["pipe", "resume", pipeId, ...as(w.b.operator)], w.env)).stdout).to.include("now Active");
    });
  });

  describe("propose, proposals", () => {
    it("proposes a governed call (A's service signer as a verifier), votes and executes it", async () => {
      const proposed = await ok(
        [
          "propose",
          "--target",
          "ledger",
          "--function",
          "setVerifier",
          "--args",
          JSON.stringify([w.a.signer.address, 2, 1]),
          "--description",
          "A's proxy verifies",
          ...as(w.governors[0]!, "--json"),
        ],
        w.env,
      );
      const id = proposed.json<{ proposalId: string }>().proposalId;
      await ok(["vote", id, ...as(w.governors[0]!)], w.env);
      await ok(["vote", id, ...as(w.governors[1]!)], w.env);
      const executed = await ok(["execute", id, ...as(w.governors[0]!)], w.env);
      expect(executed.stdout).to.include(`VerifierSet(verifier: ${w.a.signer.address}, kind: Service, weight: 1`);
    });

    it("lists proposals with their state, votes and decoded action", async () => {
      const list = (await ok(["proposals", ...w.common, "--json"], w.env)).json<{
        proposals: {
          id: number;
          state: string;
          action: string;
          votesFor: number;
          votesAgainst: number;
          description: string;
        }[];
      }>().proposals;
      // Arguments carry their registered names: the institution, the account (institution and role), the service.
      expect(list[0]).to.deep.include({
        id: 1,
        state: "Executed",
        action: "membership.approveJoin(Drug Maker A (4))",
        votesFor: 2,
        votesAgainst: 0,
        seats: 3,
        rule: "GenesisMajority",
        ruleText: "majority >50%",
      });
      const verifier = list.find((p) => p.action.startsWith("ledger.setVerifier"))!;
      expect(verifier).to.deep.include({ state: "Executed", description: "A's proxy verifies", votesFor: 2 });
      expect(verifier.action).to.equal(
        `ledger.setVerifier(Drug Maker A Business (${w.a.signer.address.slice(0, 6)}…${w.a.signer.address.slice(-4)}), 2, 1)`,
      );
      const enabling = list.filter((p) => p.action.startsWith("services.enableService"));
      expect(enabling).to.have.length(2);
      expect(enabling.find((p) => p.action.includes("(Drug Maker A (4)"))?.action).to.match(
        /^services\.enableService\(Drug Maker A \(4\) service 127\.0\.0\.1:\d+ \(0x[0-9a-f]{4}…[0-9a-f]{4}\)\)$/,
      );
      expect((list[0] as unknown as { args: unknown[] }).args).to.deep.equal([
        { name: "id", type: "uint32", value: "4", label: "Drug Maker A (4)" },
      ]);
      const text = await ok(["proposals", "--state", "Executed", ...w.common], w.env);
      expect(text.stdout.split("\n")[0]).to.match(/^id\s+state\s+for\/against\s+rule\s+action\s+deadline/);
      expect(text.stdout).to.include("ledger.setVerifier(").and.not.include("Active ");
    });
  });

  describe("cancel, register node, lists", () => {
    it("the proposer cancels the newest proposal (latest); another governor may not", async () => {
      await ok(
        ["propose", "--target", "ledger", "--function", "setMaxRetries", "--args", "[4]", ...as(w.governors[0]!)],
        w.env,
      );
      expectRefusal(await ccgp(["cancel", "latest", ...as(w.governors[1]!)], w.env), "ProposalUnauthorizedCancel(id: ");
      const canceled = await ok(["cancel", "latest", ...as(w.governors[0]!, "--json")], w.env);
      expect(canceled.json()).to.deep.include({ state: "Canceled" });
      const listed = await ok(["list", "proposals", "--state", "canceled", ...w.common, "--json"], w.env);
      expect(listed.json<{ proposals: { function: string }[] }>().proposals.map((p) => p.function)).to.deep.equal([
        "setMaxRetries",
      ]);
    });

    it("registers a governance node of Drug Maker A signed by the node's key file; lists it, and its vote names it", async () => {
      const node = Wallet.createRandom();
      const keyFile = join(w.dir, "node.key");
      writeFileSync(keyFile, node.privateKey.slice(2)); // as Besu writes data/key
      const run = await ok(
        [
          "register",
          "node",
          "--kind",
          "governance",
          "--node-key",
          keyFile,
          "--host",
          "node1.example",
          "--port",
          "30303",
          ...as(w.a.operator, "--json"),
        ],
        w.env,
      );
      const publicKey = `0x${node.signingKey.publicKey.slice(4)}`;
      expect(run.json()).to.deep.include({
        institution: 4,
        kind: "Governance",
        publicKey,
        nodeId: keccak256(publicKey),
      });
      const nodes = await ok(["list", "nodes", "--institution", "Drug Maker A", ...w.common], w.env);
      expect(nodes.stdout).to.match(/Drug Maker A \(4\) +Governance +node1\.example:30303 +Registered/);
      const vote = await ok(["proposals", "--function", "enableNode", ...w.common], w.env);
      expect(vote.stdout).to.match(
        /services\.enableNode\(Drug Maker A \(4\) Governance node node1\.example:30303 \(0x[0-9a-f]{4}…[0-9a-f]{4}\), 0\)/,
      );
      // The same key again (its registration pending) is refused by name; a stranger's key file is bad input.
      const registerAgain = () =>
        ccgp(
          [
            "register",
            "node",
            "--kind",
            "governance",
            "--node-key",
            keyFile,
            "--host",
            "h",
            "--port",
            "1",
            ...as(w.a.operator),
          ],
          w.env,
        );
      expectRefusal(await registerAgain(), "NodeAlreadyRegistered(nodeId: ");
      writeFileSync(keyFile, "not a key");
      expectBadInput(await registerAgain(), "--node-key", "not a node key file");
      expectBadInput(
        await ccgp(
          ["register", "node", "--kind", "governance", "--host", "h", "--port", "1", ...as(w.a.operator)],
          w.env,
        ),
        "--node-key",
        "required",
      );
    });

    it("registers a node from its encrypted keystore (password in CCGP_NODE_KEYSTORE_PASSWORD); without it, exit 2", async () => {
      const node = await actor(w.provider, join(w.dir, "nodes"), "b-node", false);
      const args = [
        "register",
        "node",
        "--kind",
        "governance",
        "--node-keystore",
        node.keystore,
        "--host",
        "node.b.example",
        "--port",
        "30304",
        ...as(w.b.operator),
      ];
      expectBadInput(await ccgp(args, w.env), "CCGP_NODE_KEYSTORE_PASSWORD");
      const run = await ok([...args, "--json"], { ...w.env, CCGP_NODE_KEYSTORE_PASSWORD: PASSWORD });
      expect(run.json()).to.deep.include({
        institution: 5,
        kind: "Governance",
        publicKey: `0x${node.wallet.signingKey.publicKey.slice(4)}`,
      });
    });

    it("lists with filters by name, pages and CSV; a filter that matches nothing says so", async () => {
      const services = await ok(["list", "services", "--status", "enabled", ...w.common, "--csv"], w.env);
      const lines = services.stdout.trim().split("\n");
      expect(lines[0]).to.match(/^serviceId,institution,institutionName,subchain,subchainName,host,port,/);
      expect(lines.slice(1).map((l) => l.split(",")[2])).to.include("Drug Maker A");
      expect((await ok(["list", "pipes", "--status", "Closed", ...w.common], w.env)).stdout).to.equal("no pipes\n");
      const page = await ok(["list", "accounts", "--page-size", "1", ...w.common], w.env);
      expect(page.stdout).to.match(/page 1 of \d+ \(\d+ accounts\); next: --page 2/);
    });
  });

  describe("tx, escalate, resolve", () => {
    it("shows a transaction opened through the ledger", async () => {
      const { packet, appSig } = await openTransaction(w, pipeId);
      await relayOpen(w, packet, appSig);
      txId = packet.txId;
      const run = await ok(["tx", "show", txId, ...w.common], w.env);
      expect(run.stdout)
        .to.include(`transaction ${txId}: Open`)
        .and.include("0: target write: not done")
        .and.include(`opened as #1 by ${w.a.signer.address}`);
    });

    it("lists it as pending; a governor escalates it and another resolves it", async () => {
      const subchain = (await contracts(w).pipes.route(pipeId)).targetSubchain;
      await executeAndConfirm(w, txId, subchain, false);
      type Pending = { pending: { txId: string; state: string; issue: string }[] };
      let pending = (await ok(["tx", "pending", ...w.common, "--json"], w.env)).json<Pending>().pending;
      expect(pending).to.deep.equal([{ ...pending[0], txId, state: "Executed", issue: "None" }]);

      expect(
        (await ok(["escalate", txId, "--reason", "verifiers silent", ...as(w.governors[0]!)], w.env)).stdout,
      ).to.include("now Manual");
      pending = (await ok(["tx", "pending", ...w.common, "--json"], w.env)).json<Pending>().pending;
      expect(pending.map((p) => [p.txId, p.state, p.issue])).to.deep.equal([[txId, "Manual", "Abnormal"]]);
      expectRefusal(await ccgp(["tx", "pending", "--check", ...w.common], w.env), "1 transaction(s) with an issue");

      const reason = "checked by hand on both sub-chains";
      expect((await ok(["resolve", txId, "--reason", reason, ...as(w.governors[1]!)], w.env)).stdout).to.include(
        "now Resolved",
      );
      const shown = (await ok(["tx", "show", txId, ...w.common, "--json"], w.env)).json<
        Record<string, unknown[]> & { state: string }
      >();
      expect(shown.state).to.equal("Resolved");
      expect(shown.results).to.have.length(1);
      expect(shown.results[0]).to.deep.include({ step: 0, success: true, recorder: w.b.signer.address });
      expect(shown.manual).to.deep.equal([
        { ...(shown.manual[0] as object), kind: "escalated", by: w.governors[0]!.address, reason: "verifiers silent" },
        { ...(shown.manual[1] as object), kind: "resolved", governor: w.governors[1]!.address, reason },
      ]);
      expect(shown.history.map((h) => (h as { to: string }).to)).to.deep.equal([
        "Open",
        "Executing",
        "Executed",
        "Manual",
        "Resolved",
      ]);
      expect((await ok(["tx", "pending", ...w.common, "--json"], w.env)).json<Pending>().pending).to.deep.equal([]);
    });
  });

  describe("send", () => {
    let intake: Intake;
    const args = () => JSON.stringify([idOf("batch-7"), w.b.admin.address, idOf("custody record")]);
    const send = (kind: string, ...rest: string[]) => [
      "send",
      kind,
      "--relayer",
      intake.url,
      "--pipe",
      pipeId,
      "--app-keystore",
      w.a.app.keystore,
      ...w.common,
      ...rest,
    ];

    before(async () => {
      const c = contracts(w);
      const domain = packetDomain(GOVERNANCE_CHAIN_ID, c.record.ledger! as Address);
      intake = await startIntake(domain, async (id) => (await c.pipes.route(id)).sourceAppKey as Address);
    });
    after(async () => {
      await intake?.close();
    });

    it("signs a write with the app's keystore from the pipe's route and posts it to the relayer's intake", async () => {
      const run = await ok(send("write", "--function", WRITE_SIG, "--args", args(), "--json"), w.env);
      const out = run.json<{ txId: string; status: string; sequence: string }>();
      expect(intake.accepted).to.have.length(1);
      const { packet, payload } = intake.accepted[0]!.signed;
      expect(intake.accepted[0]!.mode).to.equal("compensation"); // the default, sent with the request
      const route = await contracts(w).pipes.route(pipeId);
      const [lastSequence] = await contracts(w).ledger.pipeOf(pipeId);
      expect(out).to.deep.include({ txId: packet.txId, status: "accepted", sequence: String(lastSequence + 1n) });
      expect(packet).to.deep.include({
        pipeId,
        operation: 1,
        selector: selector(WRITE_SIG),
        signer: w.a.app.address,
        targetService: route.targetService,
        contractName: route.contractName,
        sourceInstitution: 4,
        targetInstitution: 5,
        sequence: lastSequence + 1n,
      });
      expect(payload).to.equal(
        Interface.from([`function ${WRITE_SIG}`]).encodeFunctionData(WRITE_SIG.split("(")[0]!, JSON.parse(args())),
      );
    });

    it("waits for the transaction to be confirmed, showing its progress", async () => {
      await addIndependentVerifier(w); // a party's endorsement alone never confirms
      const running = ccgp(
        send(
          "write",
          "--function",
          WRITE_SIG,
          "--args",
          args(),
          "--wait",
          "--poll-ms",
          "200",
          "--steps",
          '[{"side":"target"}]',
        ),
        w.env,
      );
      const signed = await intake.next();
      expect(intake.accepted.at(-1)!.steps).to.deep.equal([{ side: "target" }]);
      // The source relayer opens it, the target relayer records its result, the verifier endorses it.
      await relayOpen(w, signed.packet, signed.signatures.app as Hex);
      await executeAndConfirm(w, signed.packet.txId, (await contracts(w).pipes.route(pipeId)).targetSubchain, true);
      const run = await running;
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout.trim()).to.equal(`${signed.packet.txId} Confirmed`);
      expect(run.stderr)
        .to.include("accepted by the relayer")
        .and.include(`${signed.packet.txId}: ledger Confirmed (1/1 steps), relayer accepted`);
    });

    it("reports the relayer's refusal by its code (exit 1)", async () => {
      intake.refuseNext = { status: 429, code: "RATE_LIMITED", message: "pipe rate limit reached" };
      expectRefusal(
        await ccgp(send("read", "--function", READ_SIG, "--args", JSON.stringify([idOf("batch-7")])), w.env),
        "the relayer refused the request: RATE_LIMITED: pipe rate limit reached",
      );
    });

    it("refuses what the pipe refuses before posting: a selector it does not allow (exit 1)", async () => {
      const before = intake.accepted.length;
      const run = await ccgp(
        send("write", "--function", "recordBatch(bytes32,address,bytes32)", "--args", args()),
        w.env,
      );
      expectRefusal(run, "refuses this write of");
      expect(run.stderr).to.include("SelectorNotAllowed");
      expect(intake.accepted).to.have.length(before);
    });

    it("refuses a keystore whose key the pipe does not reserve (exit 2, --app-keystore)", async () => {
      const run = await ccgp(
        [
          "send",
          "write",
          "--relayer",
          intake.url,
          "--pipe",
          pipeId,
          "--app-keystore",
          w.b.app.keystore,
          "--function",
          WRITE_SIG,
          "--args",
          args(),
          ...w.common,
        ],
        w.env,
      );
      expectBadInput(run, "--app-keystore", `holds ${w.b.app.address}`, `reserves ${w.a.app.address}`);
    });
  });

  describe("refusals by the contracts exit 1 with the decoded custom error", () => {
    it("a vote on an executed proposal: ProposalNotActive with the state by name", async () => {
      expectRefusal(
        await ccgp(["vote", "1", ...as(w.governors[2]!)], w.env),
        "vote for proposal 1 refused: ProposalNotActive(id: 1, state: Executed)",
      );
    });

    it("a second vote of the same institution: ProposalAlreadyVoted", async () => {
      const proposed = await ok(
        [
          "propose",
          "--target",
          "ledger",
          "--function",
          "setMaxRetries",
          "--args",
          "[5]",
          ...as(w.governors[2]!, "--json"),
        ],
        w.env,
      );
      const id = proposed.json<{ proposalId: string }>().proposalId;
      await ok(["vote", id, "--against", ...as(w.governors[2]!)], w.env);
      expectRefusal(
        await ccgp(["vote", id, ...as(w.governors[2]!)], w.env),
        `ProposalAlreadyVoted(id: ${id}, institution: 3)`,
      );
    });

    it("resolving a resolved transaction: LedgerInvalidTransition with the states by name", async () => {
      expectRefusal(
        await ccgp(["resolve", txId, "--reason", "again", ...as(w.governors[0]!)], w.env),
        `LedgerInvalidTransition(txId: ${txId}, from: Resolved, to: Resolved)`,
      );
    });

    it("authorising an active pipe: PipeInvalidStatus", async () => {
      expectRefusal(
        await ccgp(["pipe", "authorize", pipeId, ...as(w.b.operator)], w.env),
        `PipeInvalidStatus(pipeId: ${pipeId}, status: Active)`,
      );
    });

    it("a Membership error raised inside another registry's call: a governor is not an operator", async () => {
      const key = await actor(w.provider, join(w.dir, "apps"), "g-app", false);
      const args = [
        "register",
        "app",
        "--id",
        "1:G app",
        "--subchain",
        w.a.label("chain"),
        "--key-keystore",
        key.keystore,
        "--name",
        "x",
        ...as(w.governors[0]!),
      ];
      const run = await ccgp(args, { ...w.env, CCGP_APP_KEYSTORE_PASSWORD: PASSWORD });
      expectRefusal(
        run,
        `registerApp refused: AccountRoleMismatch(account: ${w.governors[0]!.address}, expected: Operator, actual: Governor)`,
      );
    });

    it("the governance chain registered as a sub-chain: SubchainIsGovernanceChain", async () => {
      const run = await ccgp(
        [
          "register",
          "chain",
          "--id",
          `${w.a.institution}:loop`,
          "--kind",
          "evm",
          "--chain-id",
          String(GOVERNANCE_CHAIN_ID),
          "--service",
          w.a.label("service"),
          "--gateway",
          `0x${"cd".repeat(20)}`,
          "--name",
          "loop",
          ...as(w.a.operator),
        ],
        w.env,
      );
      expectRefusal(run, `SubchainIsGovernanceChain(chainId: ${GOVERNANCE_CHAIN_ID})`);
    });

    it("with --json, the refusal is a JSON document naming the error and its arguments", async () => {
      const run = await ccgp(["vote", "1", ...as(w.governors[2]!, "--json")], w.env);
      expect(run.code).to.equal(1);
      expect(JSON.parse(run.stderr).error).to.deep.include({
        command: "ccgp vote",
        code: "REFUSED",
        details: { error: "ProposalNotActive", signature: "ProposalNotActive(uint256,uint8)", args: ["1", "Executed"] },
      });
    });
  });

  describe("bad input exits 2 naming the argument", () => {
    it("names the argument of every kind of bad input", async () => {
      const badConsortium = join(w.dir, "bad-consortium.json");
      const cfg = JSON.parse(readFileSync(w.consortiumFile, "utf8")) as { genesis: { governors: string[] }[] };
      cfg.genesis[0]!.governors[0] = "0x1234";
      writeFileSync(badConsortium, JSON.stringify(cfg));
      const gov = w.governors[0]!;
      const cases: [string[], Record<string, string>, string[]][] = [
        [["vote", "abc", ...as(gov)], w.env, ["argument 'id'", "expected an integer of at least 1"]],
        [["vote", "1", ...as(gov)], { CCGP_KEYSTORE_PASSWORD: "not the password" }, ["--keystore", "wrong password"]],
        [["vote", "1", ...as(gov)], {}, ["CCGP_KEYSTORE_PASSWORD", "not set"]],
        [["vote", "1", "--keystore", join(w.dir, "nope.json"), ...w.common], w.env, ["--keystore", "cannot read"]],
        [["proposals"], {}, ["--rpc", "CCGP_GOVERNANCE_RPC"]],
        [["proposals", "--rpc", "not a url"], {}, ["--rpc", "is not a URL"]],
        [
          ["proposals", "--rpc", w.chain.url, "--deployments", join(w.dir, "nowhere")],
          {},
          ["--deployments", "does not exist"],
        ],
        [
          [
            "register",
            "chain",
            "--id",
            "1:x",
            "--kind",
            "evm",
            "--chain-id",
            "7",
            "--service",
            "1:s",
            "--gateway",
            "0x12",
            "--name",
            "n",
            ...as(gov),
          ],
          w.env,
          ["--gateway", "20-byte address"],
        ],
        [
          [
            "register",
            "chain",
            "--id",
            "1:x",
            "--kind",
            "cosmos",
            "--chain-id",
            "7",
            "--service",
            "1:s",
            "--gateway",
            gov.address,
            "--name",
            "n",
            ...as(gov),
          ],
          w.env,
          ["--kind", "expected one of"],
        ],
        [
          [
            "register",
            "service",
            "--id",
            "1:s",
            "--subchain",
            "1:c",
            "--signer",
            gov.address,
            "--host",
            "h",
            "--port",
            "443",
            ...as(gov),
          ],
          w.env,
          ["--tls-fingerprint", "required"],
        ],
        [["pipe", "apply", "--target-app", "1:b", ...as(gov)], w.env, ["--source-app"]],
        [["pipe", "show", "0x1234", ...w.common], w.env, ["argument 'pipeId'", "64 hex digits"]],
        [["tx", "show", idOf("no such transaction"), ...w.common], w.env, ["<txId>", "no transaction"]],
        [["propose", "--target", "treasury", "--function", "x", ...as(gov)], w.env, ["--target", "expected one of"]],
        [
          ["propose", "--target", "ledger", "--function", "setMaxRetries", "--args", "[1", ...as(gov)],
          w.env,
          ["--args", "not valid JSON"],
        ],
        [
          ["member", "apply", "--name", "n", "--identity", "i", "--kind", "genesis", ...as(gov)],
          w.env,
          ["--kind", "business, audit"],
        ],
        [
          [
            "send",
            "write",
            "--relayer",
            "http://127.0.0.1:1",
            "--pipe",
            pipeId,
            "--app-keystore",
            w.a.app.keystore,
            "--function",
            WRITE_SIG,
            "--args",
            '["0x01"]',
            ...w.common,
          ],
          w.env,
          ["--args", "do not fit continueCustody"],
        ],
        [
          [
            "send",
            "write",
            "--relayer",
            "ftp://x",
            "--pipe",
            pipeId,
            "--app-keystore",
            w.a.app.keystore,
            "--function",
            WRITE_SIG,
            ...w.common,
          ],
          w.env,
          ["--relayer", "http(s) URL"],
        ],
        [
          [
            "deploy",
            "--network-url",
            w.chain.url,
            "--consortium",
            badConsortium,
            "--keystore",
            w.deployer.keystore,
            "--deployments",
            w.deployments,
          ],
          w.env,
          ["--consortium", "genesis.0.governors.0: expected a 0x-prefixed 20-byte address"],
        ],
      ];
      const runs = await Promise.all(cases.map(([argv, env]) => ccgp(argv, env)));
      runs.forEach((run, i) => expectBadInput(run, ...cases[i]![2]));
    });
  });
});
