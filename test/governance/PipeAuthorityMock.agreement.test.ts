/**
 * The ledger's tests run against `PipeAuthorityMock`, whose routes and refusals are set directly. This keeps it
 * honest: after each change made on the real `PipeRegistry`, the mock is given the registry's own route (and, for a
 * refusal the mock leaves to its caller, the registry's answer for the pipe's own key, as a test would give it), and
 * both must then answer every probe alike. What the mock decides itself (an unknown or inactive pipe, a signer that
 * is not the app key, an operation the pipe does not take) and the order of its checks cannot drift from the
 * registry's without failing here.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { Result } from "ethers";
import type { IPipeAuthority, PipeAuthorityMock } from "../../typechain-types";
import { govern } from "../helpers/governance";
import {
  OPERATION_FLAG_READ,
  OPERATION_READ,
  OPERATION_WRITE,
  Refusal,
  SEL_READ,
  SEL_WRITE,
  applyPipe,
  id,
  pipeWorld,
  specOf,
  type PipeWorld,
} from "../helpers/registries";

/** A struct as a plain object by field name (typechain types it as a tuple with names). */
const plain = (struct: object): Record<string, unknown> => (struct as Result).toObject();

type World = PipeWorld & { readOnly: string; mock: PipeAuthorityMock };

async function withMock(): Promise<World> {
  const w = await pipeWorld();
  const readOnly = await applyPipe(
    w,
    w.a.operator,
    specOf(w.a, w.b, { operations: OPERATION_FLAG_READ, selectors: [SEL_READ] }),
  );
  await w.pipes.connect(w.b.operator).authorizePipe(readOnly);
  return { ...w, readOnly, mock: await ethers.deployContract("PipeAuthorityMock") };
}

/** What is asked of both: a pipe, a signer, an operation and a selector. */
type Probe = [pipeId: string, signer: string, operation: number, selector: string];

/** The probes of a pipe: its own key on its write, the other side's key, no key, a signer of a proxy, no operation. */
const probesOf = (w: World, pipeId: string): Probe[] => [
  [pipeId, w.a.appKey.address, OPERATION_WRITE, SEL_WRITE],
  [pipeId, w.b.appKey.address, OPERATION_WRITE, SEL_WRITE],
  [pipeId, ethers.ZeroAddress, OPERATION_WRITE, SEL_WRITE],
  [pipeId, w.a.signer.address, OPERATION_WRITE, SEL_WRITE],
  [pipeId, w.a.appKey.address, 2, SEL_WRITE],
];

/**
 * The mock given what the registry holds for `pipeId`: its route, and the registry's answer for the pipe's own key
 * on its write when that answer is one the mock does not decide itself (a selector, an institution, a service).
 */
async function mirror(w: World, pipeId: string): Promise<void> {
  const route = await w.pipes.route(pipeId);
  if (route.status === 0n) return;
  await w.mock.setRoute(pipeId, plain(route) as IPipeAuthority.PipeRouteStruct);
  const told = await w.pipes.checkOperation(pipeId, route.sourceAppKey, OPERATION_WRITE, SEL_WRITE);
  const decidedByMock = [Refusal.PipeNotActive, Refusal.SignerNotReserved, Refusal.OperationNotAllowed];
  if (!decidedByMock.includes(told)) await w.mock.setRefusal(pipeId, route.sourceAppKey, told);
}

describe("PipeAuthorityMock agrees with PipeRegistry", function () {
  type Case = [name: string, change: (w: World) => Promise<string>];
  const cases: Case[] = [
    ["a granted pipe", async (w) => w.pipeId],
    ["an unknown pipe", async () => id("none")],
    ["an applied pipe", async (w) => applyPipe(w, w.a.operator, specOf(w.a, w.b))],
    ["a read-only pipe, asked a write", async (w) => w.readOnly],
    [
      "a paused pipe",
      async (w) => {
        await w.pipes.connect(w.a.operator).pausePipe(w.pipeId);
        return w.pipeId;
      },
    ],
    [
      "a resumed pipe",
      async (w) => {
        await w.pipes.connect(w.a.operator).pausePipe(w.pipeId);
        await w.pipes.connect(w.a.operator).resumePipe(w.pipeId);
        return w.pipeId;
      },
    ],
    [
      "a closed pipe",
      async (w) => {
        await w.pipes.connect(w.a.operator).closePipe(w.pipeId);
        return w.pipeId;
      },
    ],
    [
      "a blocked selector",
      async (w) => {
        await govern(w, w.pipes, "setSelectorBlocked", [SEL_WRITE, true]);
        return w.pipeId;
      },
    ],
    [
      "a suspended source",
      async (w) => {
        await govern(w, w.membership, "suspendInstitution", [w.a.institution]);
        return w.pipeId;
      },
    ],
    [
      "a credit-restricted target",
      async (w) => {
        await govern(w, w.credit, "adjustScore", [w.b.institution, -401, ""]);
        return w.pipeId;
      },
    ],
    [
      "a disabled target service",
      async (w) => {
        await govern(w, w.services, "disableService", [w.b.service]);
        return w.pipeId;
      },
    ],
    [
      "a revoked app key (KeyRevoked, which the mock is told)",
      async (w) => {
        await w.chains.connect(w.a.operator).revokeAppKey(w.a.app);
        return w.pipeId;
      },
    ],
    [
      "a revoked source proxy signer",
      async (w) => {
        await w.membership.connect(w.a.signer).revokeOwnAccount(w.a.signer.address);
        return w.pipeId;
      },
    ],
  ];

  for (const [name, change] of cases) {
    it(name, async function () {
      const w = await loadFixture(withMock);
      const pipeId = await change(w);
      await mirror(w, pipeId);
      for (const probe of probesOf(w, pipeId)) {
        const real = await w.pipes.checkOperation(...probe);
        expect(await w.mock.checkOperation(...probe), `${probe.join(" ")}: registry says ${real}`).to.equal(real);
        const [realRoute, realRefusal] = await w.pipes.openingRoute(...probe);
        const [mockRoute, mockRefusal] = await w.mock.openingRoute(...probe);
        expect(mockRefusal).to.equal(realRefusal);
        // The service indexes are the mock's own (it has no service registry); every other field is the registry's.
        const fields = (r: object) => {
          const o = plain(r);
          delete o.sourceServiceIndex;
          delete o.targetServiceIndex;
          return o;
        };
        expect(fields(mockRoute)).to.deep.equal(fields(realRoute));
      }
      expect(await w.mock.fixedRoute(pipeId)).to.deep.equal(await w.pipes.fixedRoute(pipeId));
    });
  }

  it("reads agree as well (the pipe's own key on its read)", async function () {
    const w = await loadFixture(withMock);
    await mirror(w, w.pipeId);
    const probe: Probe = [w.pipeId, w.a.appKey.address, OPERATION_READ, SEL_READ];
    expect(await w.mock.checkOperation(...probe)).to.equal(await w.pipes.checkOperation(...probe));
  });
});
