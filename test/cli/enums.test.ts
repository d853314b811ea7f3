import { expect } from "chai";
import { artifacts } from "hardhat";
import { ENUMS } from "../../relayer/src/cli/enums";

interface AstNode {
  nodeType: string;
  name?: string;
  nodes?: AstNode[];
  members?: AstNode[];
}

/** The members of `Contract.Enum`, read from the compiler's AST of the contract's source. */
async function solidityEnum(names: readonly string[], key: string): Promise<string[]> {
  const [contract, name] = key.split(".");
  const fqn = names.find((n) => n.endsWith(`:${contract}`));
  if (fqn === undefined) throw new Error(`no contract ${contract}`);
  const build = await artifacts.getBuildInfo(fqn);
  const ast = build!.output.sources[fqn.split(":")[0]].ast as AstNode;
  const definition = ast.nodes?.find((n) => n.nodeType === "ContractDefinition" && n.name === contract);
  const declared = definition?.nodes?.find((n) => n.nodeType === "EnumDefinition" && n.name === name);
  if (declared === undefined) throw new Error(`no enum ${key} in ${fqn}`);
  return declared.members!.map((m) => m.name!);
}

describe("ccgp: enum names", function () {
  it("names every enum value as the Solidity declaration does, in its order", async function () {
    expect(Object.keys(ENUMS)).to.have.length.greaterThan(20);
    const contracts = await artifacts.getAllFullyQualifiedNames();
    for (const [key, names] of Object.entries(ENUMS))
      expect(names, key).to.deep.equal(await solidityEnum(contracts, key));
  });
});
