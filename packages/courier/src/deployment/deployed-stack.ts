/**
 * Reads a deployed courier stack back from CloudFormation: its outputs name every queue, topic,
 * bucket and secret, so no address is configured by hand. SDK only (no aws-cdk-lib), so commands
 * that merely read a stack start fast.
 */
import {
  CloudFormationClient,
  type Stack as DescribedStack,
  DescribeStacksCommand,
} from "@aws-sdk/client-cloudformation";
import type { TargetClientConfig } from "./aws-target.ts";
import { type DeployedTopology, topologyFromOutputs } from "./deployed-topology.ts";

export class StackNotFoundError extends Error {
  override readonly name = "StackNotFoundError";
  constructor(
    stackName: string,
    where: string,
    hint = "check --stack, the account and the region, or deploy it first (cdk deploy)",
  ) {
    super(`stack "${stackName}" is not deployed on ${where}; ${hint}`);
  }
}

/** The stack, or undefined when CloudFormation says it does not exist. */
export async function describeStack(
  client: CloudFormationClient,
  stackName: string,
): Promise<DescribedStack | undefined> {
  try {
    const result = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    return result.Stacks?.[0];
  } catch (error) {
    if (error instanceof Error && /does not exist/.test(error.message)) return undefined;
    throw error;
  }
}

export function outputsOf(stack: DescribedStack): Record<string, string> {
  return Object.fromEntries(
    (stack.Outputs ?? []).flatMap((o) =>
      o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
    ),
  );
}

/**
 * The topology of a deployed stack, from its outputs, wherever `config` points (by default the SDK's
 * standard configuration chain): `topicArnsOf(await readDeployedTopology("acme-orders"))` gives a
 * producer its topic ARNs.
 */
export async function readDeployedTopology(
  stackName: string,
  config: TargetClientConfig = {},
  where = config.endpoint ?? "AWS",
): Promise<DeployedTopology> {
  const stack = await describeStack(new CloudFormationClient(config), stackName);
  if (!stack || stack.StackStatus === "DELETE_COMPLETE") throw new StackNotFoundError(stackName, where);
  return topologyFromOutputs(stackName, outputsOf(stack));
}
