import { expect } from "chai";
import { id, Wallet } from "ethers";
import { loadConfig } from "../../relayer/src/config";
import { loadKeystore } from "../../relayer/src/keys";
import { certificateFingerprint } from "../../relayer/src/server/tls";
import { readFileSync } from "node:fs";
import {
  ALLOWED,
  CUSTODY_SELECTORS,
  GOVERNANCE_CHAIN_ID,
  OPERATION_READ,
  OPERATION_WRITE,
  SUBCHAIN_A_CHAIN_ID,
  SUBCHAIN_B_CHAIN_ID,
  VerifierKind,
  setupLocalConsortium,
  type LocalConsortium,
} from "../../scripts/lib/local-consortium";
import { answers, contractsOf } from "./helpers/consortium";

const Active = { institution: 2n, account: 2n, service: 2n, pipe: 3n } as const;
const Role = { Operator: 2n, Business: 3n, Auditor: 4n } as const;
const Refusal = { SignerNotReserved: 3n, SelectorNotAllowed: 5n } as const;

/** Every process of a consortium: each anvil node must be gone after `stop()`. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("local consortium (setupLocalConsortium on three anvil chains)", function () {
  this.timeout(60_000);
  let c: LocalConsortium;
  let k: ReturnType<typeof contractsOf>;
  const lines: string[] = [];

  before(async () => {
    c = await setupLocalConsortium({ log: (l) => lines.push(l) });
    k = contractsOf(c);
  });

  after(async () => {
    k?.destroy();
    await c?.stop();
  });

  it("runs the three chains with their chain ids and reports one line per step", async () => {
    expect(c.chains.governance.chainId).to.equal(GOVERNANCE_CHAIN_ID);
    expect(Number((await k.provider.getNetwork()).chainId)).to.equal(GOVERNANCE_CHAIN_ID);
    expect(Number((await k.a.provider.getNetwork()).chainId)).to.equal(SUBCHAIN_A_CHAIN_ID);
    expect(Number((await k.b.provider.getNetwork()).chainId)).to.equal(SUBCHAIN_B_CHAIN_ID);
    expect(lines.length).to.be.greaterThan(10);
    expect(lines.every((l) => !l.includes("\n"))).to.equal(true);
  });

  it("admits the audit institution and both business institutions by vote, with their accounts", async () => {
    const { institutions: ids } = c;
    expect([ids.audit, ids.drugMakerA, ids.hospitalB]).to.deep.equal([4, 5, 6]);
    for (const [i, name] of [
      [ids.audit, "Audit Office"],
      [ids.drugMakerA, "Drug Maker A"],
      [ids.hospitalB, "Hospital B"],
    ] as const) {
      const inst = await k.membership.institution(i);
      expect(inst.name).to.equal(name);
      expect(await k.membership.institutionStatus(i)).to.equal(Active.institution);
    }
    const expectAccount = async (address: string, institution: number, role: bigint) => {
      const acc = await k.membership.account(address);
      expect([acc.institution, acc.role, acc.status]).to.deep.equal([BigInt(institution), role, Active.account]);
    };
    await expectAccount(c.accounts.auditor.address, ids.audit, Role.Auditor);
    for (const s of [c.business.a, c.business.b]) {
      await expectAccount(s.accounts.operator.address, s.institutionId, Role.Operator);
      await expectAccount(s.accounts.business.address, s.institutionId, Role.Business);
    }
  });

  it("registers and enables each service with its endpoint, signer and the fingerprint of the certificate it generated", async () => {
    for (const s of [c.business.a, c.business.b]) {
      const svc = await k.services.service(s.service.id);
      expect(svc.status).to.equal(Active.service);
      expect(svc.signer).to.equal(s.accounts.business.address);
      expect([svc.host, Number(svc.port)]).to.deep.equal(["127.0.0.1", s.ports.peer]);
      const fingerprint = certificateFingerprint(readFileSync(s.tls.cert, "utf8"));
      expect(svc.tlsFingerprint).to.equal(`0x${fingerprint}`);
      expect(svc.subchain).to.equal(s.subchain.id);
    }
  });

  it("registers the sub-chains with their gateways, the apps with their reserved keys, and the contracts in CNS and the gateways", async () => {
    for (const s of [c.business.a, c.business.b]) {
      const chain = await k.chains.subchain(s.subchain.id);
      expect([chain.gateway, Number(chain.chainId), chain.service]).to.deep.equal([
        s.contracts.gateway,
        s.subchain.chainId,
        s.service.id,
      ]);
      const app = await k.chains.app(s.app.id);
      expect([app.key, Number(app.institution)]).to.deep.equal([s.app.key.address, s.institutionId]);
      const side = k[s.key];
      for (const [name, address] of [
        [s.contracts.names.drugTraceability, s.contracts.drugTraceability],
        [s.contracts.names.evidenceDeposit, s.contracts.evidenceDeposit],
      ]) {
        const resolved = await k.chains.resolve(s.subchain.id, id(name));
        expect(resolved[0]).to.equal(address);
        expect((await side.gateway.businessContract(id(name)))[0]).to.equal(address);
      }
      expect(await side.gateway.hasRole(await side.gateway.RELAYER_ROLE(), s.accounts.relayer.address)).to.equal(true);
      expect(await side.drug.hasRole(await side.drug.MANUFACTURER_ROLE(), s.accounts.operator.address)).to.equal(true);
    }
  });

  it("opens both pipes: the custody write and reads are Allowed for the source app's key, others refused", async () => {
    for (const [pipe, src] of [
      [c.pipes.aToB, c.business.a],
      [c.pipes.bToA, c.business.b],
    ] as const) {
      const route = await k.pipes.route(pipe.id);
      expect(route.status).to.equal(Active.pipe);
      expect(route.sourceAppKey).to.equal(src.app.key.address);
      expect(route.contractName).to.equal(id(pipe.contractName));
      expect(
        await k.pipes.checkOperation(pipe.id, src.app.key.address, OPERATION_WRITE, CUSTODY_SELECTORS.continueCustody),
      ).to.equal(ALLOWED);
      expect(
        await k.pipes.checkOperation(pipe.id, src.app.key.address, OPERATION_READ, CUSTODY_SELECTORS.custodyLength),
      ).to.equal(ALLOWED);
      expect(
        await k.pipes.checkOperation(
          pipe.id,
          Wallet.createRandom().address,
          OPERATION_WRITE,
          CUSTODY_SELECTORS.continueCustody,
        ),
      ).to.equal(Refusal.SignerNotReserved);
      expect(await k.pipes.checkOperation(pipe.id, src.app.key.address, OPERATION_WRITE, "0xdeadbeef")).to.equal(
        Refusal.SelectorNotAllowed,
      );
    }
  });

  it("sets the verifiers by vote: both service signers and the auditor", async () => {
    for (const v of c.verifiers) {
      const got = await k.ledger.verifier(v.address);
      expect([Number(got.kind), Number(got.weight)]).to.deep.equal([v.kind, v.weight]);
    }
    expect(c.verifiers.map((v) => v.kind).sort()).to.deep.equal([
      VerifierKind.Auditor,
      VerifierKind.Service,
      VerifierKind.Service,
    ]);
    expect(Number(await k.ledger.totalWeight())).to.equal(3);
  });

  it("sets the attester set by vote: the audit institution's auditor, 1 of 1, epoch 1, its endpoint published", async () => {
    expect(await k.attesters.attesterSet()).to.deep.equal([1n, 1n, [c.accounts.auditor.address]]);
    expect(await k.services.attesterEndpoint(c.accounts.auditor.address)).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await k.attesters.isAttester(c.accounts.auditor.address)).to.equal(true);
    expect(Number(await k.attesters.institutionOf(c.accounts.auditor.address))).to.equal(c.institutions.audit);
  });

  it("writes one relayer config per business institution that the relayer's loader accepts, with keystores that open", async () => {
    const env = { [c.passwordEnv]: c.password };
    for (const s of [c.business.a, c.business.b]) {
      const cfg = loadConfig({ path: s.configPath, env });
      expect(cfg.institutionId).to.equal(s.institutionId);
      expect(cfg.server.port).to.equal(s.ports.peer);
      expect(cfg.metrics.port).to.equal(s.ports.ops);
      expect(cfg.intake.port).to.equal(s.ports.app);
      const app = cfg.apps.traceability;
      expect(app.contracts).to.deep.equal([s.contracts.names.drugTraceability]);
      if (app.key.kind !== "keystore") throw new Error("app key is not a keystore");
      expect((await loadKeystore(app.key.path, c.password)).address).to.equal(s.app.key.address);
      expect(cfg.chains[s.subchain.configName].gateway).to.equal(s.contracts.gateway);
      expect(cfg.governance.contracts.ledger).to.equal(c.governance.ledger);
      for (const role of ["service", "business"] as const) {
        const source = cfg.keys[role];
        if (source.kind !== "keystore") throw new Error(`${role} key is not a keystore`);
        const account = await loadKeystore(source.path, c.password);
        expect(account.address).to.equal(role === "service" ? s.accounts.relayer.address : s.accounts.business.address);
      }
      const text = readFileSync(s.configPath, "utf8");
      expect(text).to.not.include(c.password);
    }
    expect(readFileSync(c.manifestPath, "utf8")).to.not.include(c.password);
  });

  it("stop() ends every chain process, and a second consortium can be set up in the same process", async () => {
    const second = await setupLocalConsortium();
    try {
      expect(second.runDir).to.not.equal(c.runDir);
      const k2 = contractsOf(second);
      try {
        const { aToB } = second.pipes;
        expect(
          await k2.pipes.checkOperation(
            aToB.id,
            second.business.a.app.key.address,
            OPERATION_WRITE,
            CUSTODY_SELECTORS.continueCustody,
          ),
        ).to.equal(ALLOWED);
      } finally {
        k2.destroy();
      }
    } finally {
      await second.stop();
    }
    for (const chain of Object.values(second.chains)) {
      expect(alive(chain.pid), `${chain.name} still running`).to.equal(false);
      expect(await answers(chain.url)).to.equal(false);
    }
    // the first one is untouched by the second's stop
    expect(await answers(c.chains.governance.url)).to.equal(true);
  });
});
