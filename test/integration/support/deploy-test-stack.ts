/**
 * A private copy of the courier stack (the CDK app's template, minus what LocalStack cannot run)
 * under a unique stack name, so test files never share or collide on queues and topics. Copies the
 * global setup deployed ahead (support/stack-copies.ts) are handed out at once; others are
 * synthesized and deployed here.
 */
import { inject } from "vitest";
import type { DeployedTopology } from "../../../packages/courier/src/deployment/deployed-topology.ts";
import {
  deleteStackOnLocalStack,
  deployToLocalStack,
  type LocalDeployment,
} from "../../../src/dev/deploy.ts";
import { testStackName } from "./deploy-test-stack-name.ts";

export { testStackName };

export interface TestStack {
  readonly topology: DeployedTopology;
  readonly deployment: LocalDeployment;
  /** Deletes the stack copy; call it in afterAll. */
  readonly cleanup: () => Promise<void>;
}

export async function deployTestStack(prefix: string): Promise<TestStack> {
  const endpoint = inject("localstackEndpoint");
  const deployment =
    inject("stackCopies")[prefix]?.deployment ??
    (await deployToLocalStack({ stackName: testStackName(prefix), endpoint }));
  return {
    topology: deployment.topology,
    deployment,
    cleanup: async () => {
      // A LocalStack this run started is stopped with everything in it; a shared one is tidied.
      if (inject("localstackEphemeral")) return;
      await deleteStackOnLocalStack(deployment.topology.stackName, { endpoint });
    },
  };
}
