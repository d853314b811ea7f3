import { expect } from "chai";
import { keccak256, toHex, type Hex } from "viem";
import type { Packet } from "../../../lib/amdp";
import { assertBound, boundTxId, ledgerSteps, planDigest, planOf, sourceSequence } from "../../../lib/domain/plan";
import { NO_DEPENDENCY, Side } from "../../../lib/domain/ledger-types";
import { expectCcgpError } from "../helpers/errors";

const h = (s: string): Hex => keccak256(toHex(s));
const payload: Hex = "0x12345678aabbcc";
const packet = (over: Partial<Packet> = {}): Packet => ({
  pipeId: h("pipe"),
  sourceInstitution: 4,
  targetInstitution: 5,
  targetService: h("service"),
  contractName: h("DrugTraceability/B"),
  operation: 1,
  selector: "0x12345678",
  payloadHash: keccak256(payload),
  txId: h("tx"),
  sequence: 7n,
  deadline: 2_000_000_000n,
  signer: "0x00000000000000000000000000000000000000A1",
  ...over,
});
const source = { side: "source", operation: "write", contract: "DrugTraceability/A", data: "0xabcdef0100" };

describe("relayer/tx/plan", function () {
  it("without steps, the plan is the packet's target step alone", function () {
    const plan = planOf(packet(), payload, undefined);
    expect(plan).to.deep.equal({
      steps: [{ side: Side.Target, operation: 1, contractName: h("DrugTraceability/B"), data: payload }],
      target: 0,
    });
  });

  it("takes source steps before the target step, naming contracts by their registered names", function () {
    const plan = planOf(packet(), payload, [source, { side: "target" }]);
    expect(plan.target).to.equal(1);
    expect(plan.steps[0]).to.deep.equal({
      side: Side.Source,
      operation: 1,
      contractName: h("DrugTraceability/A"),
      data: "0xabcdef0100",
    });
    expect(planOf(packet(), payload, [{ ...source, operation: 0 }, { side: "target" }]).steps[0]!.operation).to.equal(
      0,
    );
  });

  it("refuses plans it cannot run, naming the field", async function () {
    const cases: Array<[unknown, string]> = [
      [[], "steps"],
      [[source], "one target step for each packet (1), got 0"],
      [[{ side: "target" }, { side: "target" }], "one target step for each packet (1), got 2"],
      [[{ side: "target" }, source], "must be the last step"],
      [[{ ...source, data: "0x12" }, { side: "target" }], "steps.0.data"],
      [[{ ...source, extra: 1 }, { side: "target" }], "steps.0"],
      [[{ side: "elsewhere" }], "steps.0.side"],
      [Array.from({ length: 9 }, () => source), "steps"],
    ];
    for (const [steps, text] of cases) {
      const error = await expectCcgpError(() => planOf(packet(), payload, steps), "STEPS_INVALID");
      expect(error.message, JSON.stringify(steps)).to.contain(text);
    }
    await expectCcgpError(
      () => planOf(packet({ sequence: 1n << 56n }), payload, [source, { side: "target" }]),
      "STEPS_INVALID",
    );
  });

  it("several target steps, one packet each; a write depends only on an earlier read of its own side, with a version key", async function () {
    const read = packet({ operation: 0, sequence: 7n });
    const write = { packet: packet({ sequence: 8n }), payload };
    const key = h("batch");
    const plan = planOf(
      read,
      payload,
      [{ side: "target" }, { side: "target", dependsOn: 0, versionKey: key }],
      [write],
    );
    expect(plan.steps.map((s) => [s.operation, s.packet, s.dependsOn, s.versionKey])).to.deep.equal([
      [0, 0, undefined, undefined],
      [1, 1, 0, key],
    ]);
    expect(ledgerSteps(plan, { sourceSubchain: h("A"), targetSubchain: h("B") }).map((s) => s.dependsOn)).to.deep.equal(
      [NO_DEPENDENCY, 0],
    );
    const cases: Array<[unknown, string, Array<{ packet: Packet; payload: Hex }>]> = [
      [[{ side: "target" }, { side: "target", dependsOn: 0 }], "needs the versionKey", [write]],
      [[{ side: "target" }, { side: "target", versionKey: key }], "has a versionKey but no dependsOn", [write]],
      [[{ side: "target", dependsOn: 0, versionKey: key }, { side: "target" }], "only a write depends", [write]],
      [
        [
          { ...source, operation: "read" },
          { side: "target", dependsOn: 0, versionKey: key },
        ],
        "of its own side",
        [],
      ],
      [[source, { side: "target" }, { side: "target" }], "no source steps", [write]],
      [[{ side: "target" }], "one target step for each packet (2), got 1", [write]],
    ];
    for (const [steps, text, more] of cases) {
      const error = await expectCcgpError(() => planOf(read, payload, steps, more), "STEPS_INVALID");
      expect(error.message, JSON.stringify(steps)).to.contain(text);
    }
  });

  it("binds source steps to the signed txId: the right salt passes, anything else is refused", async function () {
    const salt = h("salt");
    const plan = planOf(packet(), payload, [source, { side: "target" }]);
    const txId = boundTxId(salt, plan.steps);
    expect(txId).to.equal(keccak256(`0x${salt.slice(2)}${planDigest(plan.steps).slice(2)}`));
    assertBound(plan, txId, salt);
    await expectCcgpError(() => assertBound(plan, txId, undefined), "STEPS_NOT_BOUND");
    await expectCcgpError(() => assertBound(plan, txId, h("other salt")), "STEPS_NOT_BOUND");
    const tampered = { ...plan, steps: [{ ...plan.steps[0]!, data: "0xabcdef0101" as Hex }, plan.steps[1]!] };
    await expectCcgpError(() => assertBound(tampered, txId, salt), "STEPS_NOT_BOUND");
    // A plan of the target step alone needs no binding: the packet itself is signed.
    assertBound(planOf(packet(), payload, undefined), h("anything"), undefined);
  });

  it("gives each source step its own gateway sequence, never a packet's", function () {
    expect(sourceSequence(7n, 0)).to.equal((7n << 8n) | 1n);
    expect(sourceSequence(7n, 6)).to.equal((7n << 8n) | 7n);
    const seen = new Set<bigint>();
    for (let seq = 1n; seq < 50n; seq++) for (let k = 0; k < 8; k++) seen.add(sourceSequence(seq, k));
    expect(seen.size).to.equal(49 * 8);
  });

  it("maps the plan to the ledger's steps, each on its side's sub-chain", function () {
    const plan = planOf(packet(), payload, [source, { side: "target" }]);
    expect(ledgerSteps(plan, { sourceSubchain: h("A"), targetSubchain: h("B") })).to.deep.equal([
      { side: Side.Source, subchain: h("A"), operation: 1, dependsOn: NO_DEPENDENCY },
      { side: Side.Target, subchain: h("B"), operation: 1, dependsOn: NO_DEPENDENCY },
    ]);
  });
});
