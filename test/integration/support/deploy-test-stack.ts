/**
 * Deploys a private copy of the courier stack (the CDK app's template, minus what LocalStack cannot
 * run) under a unique stack name, so test files never share or collide on queues and topics.
 */
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import type { DeployedTopology } from "../../../src/deployment/deployed-topology.ts";
import {
  deleteStackOnLocalStack,
  deployToLocalStack,
  type LocalDeployment,
} from "../../../src/dev/deploy.ts";

export interface TestStack {
  readonly topology: DeployedTopology;
  readonly deployment: LocalDeployment;
  /** Deletes the stack copy; call it in afterAll. */
  readonly cleanup: () => Promise<void>;
}

/** A CloudFormation stack name: letters, digits and hyphens, starting with a letter. */
export function testStackName(prefix: string): string {
  const safe = prefix.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^[^A-Za-z]+/, "");
  return `t-${safe || "stack"}-${randomBytes(4).toString("hex")}`.slice(0, 60);
}

export async function deployTestStack(prefix: string): Promise<TestStack> {
  const endpoint = inject("localstackEndpoint");
  const stackName = testStackName(prefix);
  const deployment = await deployToLocalStack({ stackName, endpoint });
  return {
    topology: deployment.topology,
    deployment,
    cleanup: async () => {
      await deleteStackOnLocalStack(stackName, { endpoint });
    },
  };
}
