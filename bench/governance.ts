import { ethers, network } from "hardhat";
import type { ContractTransactionResponse, Signer } from "ethers";
import type { BenchModule, Reporter } from "./lib/report";
import { InstitutionVotesMock__factory, OZGovernorMock__factory } from "../typechain-types";
import { Kind, Role, accountConsent, deployConsortium, fundedWallets, proposalIdOf } from "../test/helpers/governance";

const gasOf = async (tx: Promise<ContractTransactionResponse>): Promise<bigint> => (await (await tx).wait())!.gasUsed;

interface Figures {
  apply: bigint;
  firstVote: bigint;
  vote: bigint;
  execute: bigint;
}

/** Our join and account flows with `n` genesis institutions. */
async function ours(n: number): Promise<{ join: Figures; account: Figures }> {
  const c = await deployConsortium(n);
  const [applicant, account] = await fundedWallets(2);
  const measure = async (open: Promise<ContractTransactionResponse>, apply: bigint): Promise<Figures> => {
    const id = await proposalIdOf(c.voting, open);
    const firstVote = await gasOf(c.voting.connect(c.governors[0]).vote(id, true));
    const vote = await gasOf(c.voting.connect(c.governors[1]).vote(id, true)); // not the deciding vote for n >= 3
    for (const g of c.governors.slice(2)) await c.voting.connect(g).vote(id, true);
    return { apply, firstVote, vote, execute: await gasOf(c.voting.execute(id)) };
  };
  const attrs = ethers.toUtf8Bytes(JSON.stringify({ sector: "pharma", region: "Hangzhou" }));
  const joinTx = c.membership
    .connect(applicant)
    .applyToJoin("Drug Maker Co", ethers.id("USCC:1"), Kind.Business, attrs);
  const join = await measure(joinTx, (await (await joinTx).wait())!.gasUsed);
  const inst = await c.membership.institutionCount();
  const consent = await accountConsent(c, account, inst, Role.Operator);
  const accTx = c.membership
    .connect(applicant)
    .requestAccount(await account.getAddress(), inst, Role.Operator, ...consent);
  const acc = await measure(accTx, (await (await accTx).wait())!.gasUsed);
  return { join, account: acc };
}

/** OpenZeppelin Governor (GovernorCountingSimple, votes token, one token per institution). */
async function openZeppelin(n: number): Promise<{ propose: bigint; firstVote: bigint; vote: bigint; execute: bigint }> {
  const [deployer] = await ethers.getSigners();
  const voters: Signer[] = await fundedWallets(n);
  const token = await new InstitutionVotesMock__factory(deployer).deploy();
  const governor = await new OZGovernorMock__factory(deployer).deploy(await token.getAddress());
  for (const v of voters) {
    await token.mint(await v.getAddress());
    await token.connect(v).delegate(await v.getAddress());
  }
  const target = await governor.getAddress();
  // A representative action: the governor calls itself to change a setting.
  const calldata = governor.interface.encodeFunctionData("setVotingDelay", [2]);
  const description = "join: Drug Maker Co";
  const tx = governor.connect(voters[0]).propose([target], [0], [calldata], description);
  const propose = await gasOf(tx);
  const id = await governor.hashProposal([target], [0], [calldata], ethers.id(description));
  await network.provider.send("hardhat_mine", ["0x2"]);
  const firstVote = await gasOf(governor.connect(voters[0]).castVote(id, 1));
  const vote = await gasOf(governor.connect(voters[1]).castVote(id, 1));
  for (const v of voters.slice(2)) await governor.connect(v).castVote(id, 1);
  await network.provider.send("hardhat_mine", ["0xC500"]); // past the 50,400-block voting period
  const execute = await gasOf(governor.execute([target], [0], [calldata], ethers.id(description)));
  return { propose, firstVote, vote, execute };
}

async function run(report: Reporter): Promise<void> {
  const sizes = [3, 10, 50];
  const voteGas: bigint[] = [];
  for (const n of sizes) {
    const o = await ours(n);
    const oz = await openZeppelin(n);
    report.section(`governance with ${n} genesis institutions`);
    for (const [flow, f] of Object.entries(o)) {
      report.gas(`governance.${flow}.apply.n${n}`, f.apply);
      report.gas(`governance.${flow}.vote.first.n${n}`, f.firstVote);
      report.gas(`governance.${flow}.vote.n${n}`, f.vote);
      report.gas(`governance.${flow}.execute.n${n}`, f.execute);
    }
    report.gas(`oz-governor.propose.n${n}`, oz.propose);
    report.gas(`oz-governor.castVote.first.n${n}`, oz.firstVote);
    report.gas(`oz-governor.castVote.n${n}`, oz.vote);
    report.gas(`oz-governor.execute.n${n}`, oz.execute);
    report.figure(
      `ratio: our non-final vote / OZ castVote (n=${n}), target <= 0.75`,
      Number(o.join.vote) / Number(oz.vote),
      "x",
    );
    voteGas.push(o.join.vote, o.account.vote);
  }
  const spread = Number(voteGas.reduce((a, b) => (a > b ? a : b)) - voteGas.reduce((a, b) => (a < b ? a : b)));
  report.figure("our non-final vote: max - min across 3, 10, 50 institutions (flat = 0)", spread, "gas");
}

export const governanceBench: BenchModule = { name: "governance", kind: "gas", run };
