/** The stack-copy helpers under the names some test files use; see deploy-test-stack.ts. */
import { inject } from "vitest";
import type { DeployedTopology } from "../../../packages/courier/src/deployment/deployed-topology.ts";
import { deleteStackOnLocalStack } from "../../../src/dev/deploy.ts";
import { deployTestStack } from "./deploy-test-stack.ts";

export async function deployCourierStackCopy(prefix: string): Promise<DeployedTopology> {
  return (await deployTestStack(prefix)).topology;
}

export async function destroyStackCopy(stackName: string): Promise<void> {
  await deleteStackOnLocalStack(stackName, { endpoint: inject("localstackEndpoint") });
}
