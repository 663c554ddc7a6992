/**
 * The options every command that reaches AWS takes, and the one rule they follow (stated in
 * src/deployment/aws-target.ts and the README): the SDK's standard configuration chain by default;
 * an explicit endpoint with --endpoint-url; LocalStack only with --local.
 */
import { type Command, Option } from "commander";
import {
  type AwsTarget,
  checkTarget,
  resolveTarget,
  type TargetClientConfig,
  TargetConfigError,
  targetClientConfig,
} from "../deployment/aws-target.ts";
import { readDeployedTopology, StackNotFoundError } from "../deployment/deployed-stack.ts";
import type { DeployedTopology } from "../deployment/deployed-topology.ts";
import { DEFAULT_STACK_NAME } from "../deployment/stack-outputs.ts";
import { CliError } from "./output.ts";

export interface TargetCliOptions {
  stack: string;
  profile?: string;
  region?: string;
  endpointUrl?: string;
  local?: boolean;
}

export function withTargetOptions(command: Command): Command {
  return command
    .option("--stack <name>", "the deployed CloudFormation stack", DEFAULT_STACK_NAME)
    .option("--profile <name>", "AWS profile from the shared config files (default: AWS_PROFILE or default)")
    .option("--region <region>", "AWS region (default: AWS_REGION or the profile's region)")
    .option(
      "--endpoint-url <url>",
      "send every AWS call to this endpoint (default: AWS_ENDPOINT_URL or the profile's endpoint_url)",
    )
    .addOption(
      new Option(
        "--local",
        "LocalStack on this machine (AWS_ENDPOINT_URL or 127.0.0.1:4566) with its dummy credentials",
      ).conflicts("profile"),
    );
}

export interface CommandTarget {
  readonly target: AwsTarget;
  readonly config: TargetClientConfig;
  readonly stack: string;
}

/** Resolves and checks the target: a missing region or credentials is one line, within seconds. */
export async function commandTarget(options: TargetCliOptions): Promise<CommandTarget> {
  // The SDK reads a profile's endpoint_url only for the profile named in AWS_PROFILE, not for a
  // client's `profile` option; setting it here makes --profile behave exactly like AWS_PROFILE,
  // for this process and for the worker processes it starts.
  if (options.profile) process.env.AWS_PROFILE = options.profile;
  try {
    const target = resolveTarget(options);
    await checkTarget(target);
    return { target, config: targetClientConfig(target), stack: options.stack };
  } catch (error) {
    if (error instanceof TargetConfigError) throw new CliError(error.message);
    throw error;
  }
}

/** The deployed stack's topology, or one line saying why it cannot be read. */
export async function deployedTopology(where: CommandTarget): Promise<DeployedTopology> {
  try {
    return await readDeployedTopology(where.stack, where.config, where.target.label);
  } catch (error) {
    if (error instanceof StackNotFoundError) {
      throw new CliError(
        `${error.message}${where.target.kind === "aws" && !where.config.endpoint ? "; for LocalStack add --local" : ""}`,
      );
    }
    throw new CliError(
      `reading stack "${where.stack}" on ${where.target.label}: ${(error as Error).message.split("\n")[0]}`,
    );
  }
}
