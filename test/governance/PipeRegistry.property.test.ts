import { expect } from "chai";
import { govern } from "../helpers/governance";
import {
  OPERATION_READ,
  OPERATION_WRITE,
  Pipe,
  OPERATION_FLAG_READ,
  Refusal,
  SEL_READ,
  SEL_WRITE,
  applyPipe,
  newAppKey,
  pipeWorld,
  specOf,
  type PipeWorld,
  type Side,
} from "../helpers/registries";

/** Small seeded PRNG (mulberry32) so a failing run can be replayed from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (n: number) => Math.floor(next() * n), pick: <T>(xs: T[]) => xs[Math.floor(next() * xs.length)] };
}

const OTHER_SEL = "0x12345678";
const GRANT_ROLE = "0x2f2ff15d";

/** What the chain should answer, computed from the white paper's rules, not from the contract's cache. */
interface Model {
  institution: Record<"a" | "b", { status: "Active" | "Suspended" | "Expelled"; score: number }>;
  service: Record<"a" | "b", { enabled: boolean; signerActive: boolean }>;
  appKey: string;
  revoked: Set<string>;
  pipes: { id: string; status: bigint; key: string; ops: number; selectors: string[] }[];
}

function expected(m: Model, p: Model["pipes"][number], signer: string, op: number, sel: string): bigint {
  if (p.status !== Pipe.Active) return Refusal.PipeNotActive;
  if (signer !== p.key) return m.revoked.has(signer) ? Refusal.KeyRevoked : Refusal.SignerNotReserved;
  if (op > 1 || (p.ops & (1 << op)) === 0) return Refusal.OperationNotAllowed;
  const allowed = p.selectors.length === 0 ? sel !== GRANT_ROLE && sel !== "0x00000000" : p.selectors.includes(sel);
  if (!allowed) return Refusal.SelectorNotAllowed;
  const sides = [m.institution.a, m.institution.b];
  if (sides.some((i) => i.status !== "Active")) return Refusal.InstitutionNotActive;
  if (sides.some((i) => i.score < 600)) return Refusal.InstitutionRestricted;
  const services = [m.service.a, m.service.b];
  if (services.some((s) => !s.enabled)) return Refusal.ServiceDisabled;
  if (services.some((s) => !s.signerActive)) return Refusal.KeyRevoked;
  if (m.revoked.has(p.key)) return Refusal.KeyRevoked;
  return Refusal.Allowed;
}

type Step = (w: PipeWorld, m: Model, r: ReturnType<typeof prng>) => Promise<string | undefined>;

const side = (w: PipeWorld, k: "a" | "b"): Side => w[k];

/** Each step changes one thing, through the path a user would take, and updates the model; undefined: not applicable. */
const steps: Step[] = [
  async (w, m, r) => {
    const k = r.pick(["a", "b"] as const);
    const inst = m.institution[k];
    const [fn, next] =
      inst.status === "Active"
        ? r.pick([
            ["suspendInstitution", "Suspended"],
            ["expelInstitution", "Expelled"],
          ] as const)
        : (["reinstateInstitution", "Active"] as const);
    await govern(w, w.membership, fn, [side(w, k).institution]);
    inst.status = next;
    return `${fn}(${k})`;
  },
  async (w, m, r) => {
    const k = r.pick(["a", "b"] as const);
    const delta = r.pick([-300, -200, 200, 300]);
    await govern(w, w.credit, "adjustScore", [side(w, k).institution, delta, ""]);
    m.institution[k].score = Math.min(2000, Math.max(0, m.institution[k].score + delta));
    return `adjustScore(${k}, ${delta})`;
  },
  async (w, m, r) => {
    const k = r.pick(["a", "b"] as const);
    const s = m.service[k];
    await govern(w, w.services, s.enabled ? "disableService" : "enableService", [side(w, k).service]);
    s.enabled = !s.enabled;
    return `toggle service ${k}`;
  },
  async (w, m, r) => {
    const k = r.pick(["a", "b"] as const);
    const s = m.service[k];
    await govern(w, w.membership, s.signerActive ? "suspendAccount" : "reinstateAccount", [side(w, k).signer.address]);
    s.signerActive = !s.signerActive;
    return `toggle signer ${k}`;
  },
  async (w, m) => {
    if (m.institution.a.status !== "Active") return undefined; // its operator is refused by Membership
    const rotation = await newAppKey(w, w.a.operator, w.a.app);
    const next = rotation[0];
    await w.chains.connect(w.a.operator).rotateAppKey(w.a.app, ...rotation);
    m.revoked.add(m.appKey);
    m.appKey = next;
    return "rotateAppKey";
  },
  async (w, m, r) => {
    const p = r.pick(m.pipes);
    if (p.status === Pipe.Closed || p.key === m.appKey) return undefined;
    await w.pipes.syncPipeKey(p.id);
    p.key = m.appKey;
    return `syncPipeKey(${p.id.slice(0, 6)})`;
  },
  async (w, m, r) => {
    const p = r.pick(m.pipes);
    const fn =
      p.status === Pipe.Active
        ? r.pick(["pausePipe", "pausePipe", "closePipe"] as const)
        : p.status === Pipe.Paused
          ? "resumePipe"
          : undefined;
    if (!fn) return undefined;
    await govern(w, w.pipes, fn, [p.id]);
    p.status = fn === "pausePipe" ? Pipe.Paused : fn === "closePipe" ? Pipe.Closed : Pipe.Active;
    return `${fn}(${p.id.slice(0, 6)})`;
  },
];

async function trial(seed: number, length: number): Promise<number> {
  const r = prng(seed);
  const w = await pipeWorld();
  const wildcard = await applyPipe(
    w,
    w.a.operator,
    specOf(w.a, w.b, { operations: OPERATION_FLAG_READ, selectors: [] }),
  );
  await w.pipes.connect(w.b.operator).authorizePipe(wildcard);
  const key = w.a.appKey.address;
  const m: Model = {
    institution: { a: { status: "Active", score: 1000 }, b: { status: "Active", score: 1000 } },
    service: { a: { enabled: true, signerActive: true }, b: { enabled: true, signerActive: true } },
    appKey: key,
    revoked: new Set(),
    pipes: [
      { id: w.pipeId, status: Pipe.Active, key, ops: 3, selectors: [SEL_WRITE, SEL_READ] },
      { id: wildcard, status: Pipe.Active, key, ops: 1, selectors: [] },
    ],
  };
  let checks = 0;
  const history: string[] = [];
  for (let i = 0; i < length; i++) {
    const done = await r.pick(steps)(w, m, r);
    if (done) history.push(done);
    const signers = [m.appKey, ...m.revoked, w.b.appKey.address];
    for (const p of m.pipes)
      for (const signer of signers)
        for (const op of [OPERATION_READ, OPERATION_WRITE])
          for (const sel of [SEL_WRITE, SEL_READ, OTHER_SEL, GRANT_ROLE]) {
            const got = await w.pipes.checkOperation(p.id, signer, op, sel);
            expect(
              got,
              `seed ${seed} after [${history.join(", ")}]: ${p.id.slice(0, 6)} ${signer.slice(0, 6)} op ${op} ${sel}`,
            ).to.equal(expected(m, p, signer, op, sel));
            checks++;
          }
  }
  return checks;
}

describe("PipeRegistry (property: the cached check equals the rules, whatever happened)", function () {
  for (const seed of [1, 7, 2024]) {
    it(`random histories, seed ${seed}`, async function () {
      this.timeout(300_000);
      expect(await trial(seed, 25)).to.be.greaterThan(0);
    });
  }
});
