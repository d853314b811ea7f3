/**
 * The governance console in a real browser (Debian chromium through playwright-core) against a real local
 * consortium: three anvil chains, the contracts bootstrapped by votes, both relayers, A's auditor index. Governors
 * act through an injected EIP-1193 wallet that signs with their test keys; the CLI sends cross-chain transactions;
 * the page must follow everything live, show refusals by their custom error's name, and pass axe-core.
 * Screenshots of the main pages go to docs/console/.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import type { PrivateKeyAccount } from "viem";
import { configFromManifest } from "../../console/server/config";
import { DIST_DIR, startConsoleServer, type ConsoleServer } from "../../console/server/server";
import { loadKeystore } from "../../relayer/src/keys";
import { setupLocalConsortium, type LocalConsortium } from "../../scripts/lib/local-consortium";
import { startRelayers, type RelayerProcess } from "../../scripts/lib/local/relayers";
import { newBatch, recordBatch } from "../../scripts/lib/local/scenario";
import { IDrugTraceability__factory } from "../../typechain-types";
import { ccgp } from "../cli/helpers";
import { InjectedWallet, launchBrowser, seriousViolations } from "./browser";

const ROOT = join(__dirname, "..", "..");
const SHOTS = join(ROOT, "docs", "console");
const drug = IDrugTraceability__factory.createInterface();

describe("governance console in a real browser", function () {
  this.timeout(240_000);
  let c: LocalConsortium;
  let relayers: RelayerProcess[] = [];
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let wallet: InjectedWallet;
  let governors: PrivateKeyAccount[];
  let auditor: PrivateKeyAccount;
  const open = async (p: Page, route: string) => {
    await p.goto(`${server.url}/#/${route}`);
    await p.locator("main h2").first().waitFor();
  };
  const shot = (p: Page, name: string) => p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const cli = (args: string[]) =>
    ccgp([...args, "--rpc", c.chains.governance.url, "--deployments", c.runDir], {
      CCGP_KEYSTORE_PASSWORD: c.password,
    });
  const send = async (custodian: string, withSourceRead: boolean): Promise<string> => {
    const { batchId, dataHash } = newBatch();
    await recordBatch(c, batchId, dataHash);
    const steps = withSourceRead
      ? [
          "--steps",
          JSON.stringify([
            {
              side: "source",
              operation: "read",
              contract: c.business.a.contracts.names.drugTraceability,
              data: drug.encodeFunctionData("batch", [batchId]),
            },
            { side: "target" },
          ]),
        ]
      : [];
    const run = await cli([
      "send",
      "write",
      "--relayer",
      `http://127.0.0.1:${c.business.a.ports.app}`,
      "--pipe",
      c.pipes.aToB.id,
      "--app-keystore",
      c.business.a.app.key.keystore,
      "--function",
      "continueCustody(bytes32,address,bytes32)",
      "--args",
      JSON.stringify([batchId, custodian, dataHash]),
      ...steps,
    ]);
    expect(run.code, run.stderr).to.equal(0);
    return run.stdout.trim().split(" ")[0];
  };

  before(async function () {
    if (!existsSync(join(DIST_DIR, "index.html")))
      execFileSync("npm", ["run", "console:build"], { cwd: ROOT, stdio: "inherit" });
    mkdirSync(SHOTS, { recursive: true });
    c = await setupLocalConsortium({ runDir: mkdtempSync(join(tmpdir(), "ccgp-console-")), relayerLogLevel: "warn" });
    relayers = await startRelayers(c, [c.business.a, c.business.b]);
    server = await startConsoleServer({ config: configFromManifest(c.manifestPath) });
    governors = await Promise.all(c.accounts.governors.map((g) => loadKeystore(g.keystore, c.password)));
    auditor = await loadKeystore(c.accounts.auditor.keystore, c.password);
    wallet = new InjectedWallet(c.chains.governance.url, c.chains.governance.chainId, governors[0]);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await wallet.attach(page);
  });

  after(async function () {
    await browser?.close();
    await server?.close();
    await Promise.all(relayers.map((r) => r.stop()));
    await c?.stop();
  });

  it("shows the chain live: the head moves without a reload, nodes and relayer health are listed", async function () {
    await open(page, "chain");
    const first = Number(
      await page
        .getByTestId("live-head")
        .innerText()
        .catch(() => "0"),
    );
    // Blocks come every second; 30 s, not 10, because a loaded CI machine once took longer for the first push.
    await page.waitForFunction(
      (n) => Number(document.querySelector("[data-testid=live-head]")?.textContent) > n,
      first,
      { timeout: 30_000 },
    );
    await page.getByText(c.business.a.name).first().waitFor();
    expect(await page.locator("main table").count()).to.equal(2);
    await page.locator("main").getByText("healthy", { exact: true }).first().waitFor();
    await shot(page, "chain");
  });

  it("a governor proposes, the others vote in the page, it passes, is executed, and the institution list updates live", async function () {
    const watcher = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await open(watcher, "institutions");
    const weightCell = watcher.getByTestId("institutions").locator("tbody tr").first().locator("td").nth(4);
    expect(await weightCell.innerText()).to.equal("1");

    await open(page, "proposals");
    await page.getByRole("button", { name: "Connect wallet" }).click();
    await page.getByTestId("account").waitFor();
    await page.getByTestId("propose-contract").selectOption("membership");
    await page.getByTestId("propose-function").selectOption("setWeight");
    await page.getByTestId("propose-args").fill("[1, 2]");
    await page.getByTestId("propose-description").fill("Health Regulator weight 2");
    await page.getByTestId("propose-submit").click();
    const row = page.getByTestId("open-proposals").locator("tr", { hasText: "Health Regulator weight 2" });
    await row.waitFor({ timeout: 20_000 });
    const id = await row.locator("[data-proposal]").getAttribute("data-proposal");

    for (const [i, g] of governors.entries()) {
      await wallet.use(g, [page]);
      await page.getByTestId(`vote-for-${id}`).click();
      await row.locator("[data-vote=for]").nth(i).waitFor({ timeout: 20_000 });
    }
    await shot(page, "proposals");

    // Refused: the third governor's institution already voted; the page names the contract's error.
    await page.getByTestId(`vote-for-${id}`).click();
    const refusal = row.locator("[data-error-name]").first();
    await refusal.waitFor({ timeout: 20_000 });
    expect(await refusal.getAttribute("data-error-name")).to.equal("ProposalAlreadyVoted");
    expect(await refusal.innerText()).to.include(`ProposalAlreadyVoted(${id}, 3)`);

    await page.getByTestId(`execute-${id}`).click();
    await page
      .locator("section", { hasText: "History" })
      .getByText("Health Regulator weight 2")
      .waitFor({ timeout: 20_000 });
    await watcher.waitForFunction(
      () => document.querySelector("[data-testid=institutions] tbody tr td:nth-child(5)")?.textContent === "2",
      undefined,
      { timeout: 15_000 },
    );
    await shot(watcher, "institutions");
    await watcher.close();
  });

  it("a cross-chain transaction sent by the CLI appears, moves to Confirmed without a reload; its timeline shows both sub-chain receipts", async function () {
    await open(page, "ledger");
    const txId = await send(c.business.b.accounts.operator.address, true);
    await page.locator(`[data-tx="${txId}"]`).waitFor({ timeout: 30_000 });
    await page.locator(`[data-state-of="${txId}"]`, { hasText: "Confirmed" }).waitFor({ timeout: 60_000 });
    await shot(page, "ledger");
    await page.locator(`[data-tx="${txId}"]`).click();
    await page.getByTestId("timeline").waitFor();
    await page.getByTestId("tx-state").getByText("Confirmed").waitFor();
    const receipts = page.locator("[data-receipt-ok]");
    await receipts.nth(1).waitFor({ timeout: 20_000 });
    expect(await receipts.evaluateAll((els) => els.map((e) => e.getAttribute("data-receipt-ok")))).to.deep.equal([
      "true",
      "true",
    ]);
    expect(await page.getByTestId("receipts").innerText())
      .to.include(String(c.chains.a.chainId))
      .and.include(String(c.chains.b.chainId));
    await shot(page, "transaction");
  });

  it("a Manual transaction is resolved from the page", async function () {
    // A write B refuses (no custodian) fails; a governor escalates it with the CLI; the page resolves it.
    const txId = await send("0x0000000000000000000000000000000000000000", false);
    await open(page, "attention");
    await page.locator(`[data-state-of="${txId}"]`, { hasText: "Failed" }).waitFor({ timeout: 60_000 });
    const escalated = await cli([
      "escalate",
      txId,
      "--reason",
      "custodian missing",
      "--keystore",
      c.accounts.governors[1].keystore,
    ]);
    expect(escalated.code, escalated.stderr).to.equal(0);
    await page.getByTestId("manual").locator(`[data-tx="${txId}"]`).waitFor({ timeout: 30_000 });
    await shot(page, "attention");
    await page.getByTestId("manual").locator(`[data-tx="${txId}"]`).click();
    await page.getByTestId("resolve-reason").fill("custody re-sent by hand");
    await page.getByTestId("resolve").click();
    await page.getByTestId("tx-state").getByText("Resolved").waitFor({ timeout: 30_000 });
  });

  it("an auditor signs in with the wallet (EIP-712, as the auditor API requires) and exports JSON", async function () {
    await wallet.use(auditor, [page]);
    await open(page, "auditor");
    await page.getByRole("button", { name: "Sign in as auditor" }).click();
    await page.getByTestId("auditor-signed-in").waitFor({ timeout: 20_000 });
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-json").click()]);
    const rows = JSON.parse(readFileSync((await download.path())!, "utf8")) as { state: string }[];
    expect(rows.map((r) => r.state)).to.include.members(["Confirmed", "Resolved"]);
    await shot(page, "auditor");

    // A governor is not an auditor: the API refuses, naming the contract's error.
    await wallet.use(governors[0], [page]);
    await page.getByTestId("export-json").click();
    expect(await page.getByTestId("auditor-error").innerText()).to.match(/403 .*AccountRoleMismatch/);
  });

  it("the topology graph, credit, and the Chinese strings render; axe-core finds no serious violation on any page", async function () {
    await open(page, "topology");
    await page.locator(".react-flow__edge").nth(1).waitFor({ timeout: 10_000 });
    await shot(page, "topology");
    for (const route of [
      "chain",
      "institutions",
      "proposals",
      "topology",
      "ledger",
      "attention",
      "credit",
      "auditor",
    ]) {
      await open(page, route);
      await page.waitForLoadState("networkidle").catch(() => undefined);
      const violations = await seriousViolations(page);
      expect(violations, `${route}: ${JSON.stringify(violations, null, 1)}`).to.deep.equal([]);
    }
    await page.getByTestId("language").selectOption("zh");
    await open(page, "ledger");
    await page.getByRole("heading", { name: "交易账本" }).waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, "ledger-zh-phone");
    await page.getByTestId("language").selectOption("en");
  });
});
