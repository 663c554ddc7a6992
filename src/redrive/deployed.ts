/**
 * Where the CLI finds a consumer's queues: the deployed stack's CloudFormation outputs.
 * TODO: switch to readDeployedTopology from src/local/deploy.ts once it is committed (same outputs).
 */
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { localClientConfig } from "../local/aws-config.ts";
import { type DeployedTopology, topologyFromOutputs } from "../local/deployed-topology.ts";

export class DeployedStackUnreadableError extends Error {
  override readonly name = "DeployedStackUnreadableError";
  constructor(stackName: string, endpoint: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `cannot read stack "${stackName}" on ${endpoint} (is it deployed? try \`courier local up\`): ${reason}`,
    );
  }
}

export async function readStackTopology(stackName: string): Promise<DeployedTopology> {
  const config = localClientConfig();
  let outputs: Record<string, string>;
  try {
    const described = await new CloudFormationClient(config).send(
      new DescribeStacksCommand({ StackName: stackName }),
    );
    outputs = Object.fromEntries(
      (described.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? "", o.OutputValue ?? ""]),
    );
  } catch (error) {
    throw new DeployedStackUnreadableError(stackName, config.endpoint, error);
  }
  return topologyFromOutputs(stackName, outputs);
}
