import { expect } from "chai";
import { ethers } from "hardhat";
import { BatchLogError, Outcome, batchRecords, decodeOutcomeReports } from "../../../lib/domain/ledger-types";

describe("lib/domain batch records", () => {
  it("expands a credit contract's OutcomesReported into one OutcomeReported a report, in order", async () => {
    const [reporter] = await ethers.getSigners();
    const credit = await ethers.deployContract("CreditScoreMock");
    await credit.setReporter(reporter!.address);
    const tx = ethers.id("tx");
    const sent = await credit.reportOutcomes([
      { institution: 7, outcome: Outcome.Completed, txId: tx },
      { institution: 0xfffffffe, outcome: Outcome.Replay, txId: tx },
    ]);
    const [log] = (await sent.wait())!.logs;
    const parsed = credit.interface.parseLog(log!)!;
    expect(parsed.name).to.equal("OutcomesReported");
    const records = batchRecords(parsed.name, parsed.args.toObject());
    expect(records).to.deep.equal([
      {
        name: "OutcomeReported",
        args: {
          institution: 7,
          outcome: Outcome.Completed,
          txId: tx,
          delta: 1n,
          score: 101n,
          reporter: reporter!.address,
        },
      },
      {
        name: "OutcomeReported",
        args: {
          institution: 0xfffffffe,
          outcome: Outcome.Replay,
          txId: tx,
          delta: -10n,
          score: 90n,
          reporter: reporter!.address,
        },
      },
    ]);
    expect(await credit.scoreOf(0xfffffffe)).to.equal(90n);
    expect(batchRecords("TxOpened", {})).to.equal(undefined);
  });

  it("refuses packed reports that are not a whole number of records", () => {
    expect(decodeOutcomeReports("0x")).to.deep.equal([]);
    expect(() => decodeOutcomeReports(`0x${"00".repeat(46)}`))
      .to.throw(BatchLogError)
      .with.property("code", "BATCH_LOG_MALFORMED");
  });
});
