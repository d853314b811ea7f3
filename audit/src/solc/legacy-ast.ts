import { walk, type AstNode } from "../ast";

/**
 * Fills the fields the detectors read that solc before 0.5/0.6 does not write, so one set of
 * detectors reads every version's AST: FunctionDefinition.kind (0.5), stateMutability (0.4.16),
 * FunctionCall.kind (0.5), VariableDeclaration.mutability (0.6.5).
 */
export function normaliseLegacyAst(root: AstNode): void {
  walk(root, (n) => {
    const node = n as AstNode & Record<string, unknown>;
    if (n.nodeType === "FunctionDefinition") {
      if (node.kind === undefined)
        node.kind = node.isConstructor ? "constructor" : node.name === "" ? "fallback" : "function";
      if (node.stateMutability === undefined)
        node.stateMutability = node.constant ? "view" : node.payable ? "payable" : "nonpayable";
    } else if (n.nodeType === "FunctionCall" && node.kind === undefined) {
      node.kind = node.isStructConstructorCall
        ? "structConstructorCall"
        : node.type_conversion
          ? "typeConversion"
          : "functionCall";
    } else if (n.nodeType === "VariableDeclaration" && node.mutability === undefined) {
      node.mutability = node.constant ? "constant" : "mutable";
    }
  });
}
