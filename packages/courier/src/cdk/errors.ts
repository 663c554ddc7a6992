import type { IConstruct } from "constructs";

/**
 * Thrown at synth time when a construct's props break a rule the deployed system depends on.
 * The message names the construct path, so the failing consumer or topic is obvious.
 */
export class InvalidConstructPropsError extends Error {
  override readonly name = "InvalidConstructPropsError";
  constructor(scope: IConstruct, id: string, problem: string) {
    super(`${[scope.node.path, id].filter(Boolean).join("/")}: ${problem}`);
  }
}
