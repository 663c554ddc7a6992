/**
 * The options every command that reaches AWS takes, and the one rule they follow (stated in
 * src/deployment/aws-target.ts and the README): the SDK's standard configuration chain by default;
 * an explicit endpoint with --endpoint-url; LocalStack only with --local. The stack is named, never
 * guessed: --stack, else COURIER_STACK; an operator command on the wrong stack is worse than none.
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
import {
  type DeployedConsumer,
  type DeployedTopic,
  type DeployedTopology,
  InvalidManifestError,
  MissingStackOutputError,
} from "../deployment/deployed-topology.ts";
import { CliError } from "./output.ts";

/** Names the stack when --stack is not given. */
export const STACK_ENV = "COURIER_STACK";

export interface TargetCliOptions {
  stack?: string;
  profile?: string;
  region?: string;
  endpointUrl?: string;
  local?: boolean;
}

export function withTargetOptions(command: Command): Command {
  return command
    .option(
      "--stack <name>",
      `the deployed CloudFormation stack holding the courier construct (default: ${STACK_ENV})`,
    )
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
export async function commandTarget(
  options: TargetCliOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CommandTarget> {
  const stack = stackName(options, env);
  // The SDK reads a profile's endpoint_url only for the profile named in AWS_PROFILE, not for a
  // client's `profile` option; setting it here makes --profile behave exactly like AWS_PROFILE,
  // for this process and for the worker processes it starts.
  if (options.profile) process.env.AWS_PROFILE = options.profile;
  try {
    const target = resolveTarget(options);
    await checkTarget(target);
    return { target, config: targetClientConfig(target), stack };
  } catch (error) {
    if (error instanceof TargetConfigError) throw new CliError(error.message);
    throw error;
  }
}

/** The stack a command operates on: --stack, else COURIER_STACK; a usage error without either. */
export function stackName(
  options: Pick<TargetCliOptions, "stack">,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const name = options.stack || env[STACK_ENV];
  if (!name) throw new CliError(`--stack is required (or set ${STACK_ENV})`, 2);
  return name;
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
    // Already names the stack and what is wrong with it.
    if (error instanceof MissingStackOutputError || error instanceof InvalidManifestError) {
      throw new CliError(`${error.message} (on ${where.target.label})`);
    }
    throw new CliError(
      `reading stack "${where.stack}" on ${where.target.label}: ${(error as Error).message.split("\n")[0]}`,
    );
  }
}

/** A consumer of the deployed stack, or one line listing the stack's own consumers. */
export function stackConsumer(topology: DeployedTopology, name: string): DeployedConsumer {
  const consumer = Object.hasOwn(topology.consumers, name) ? topology.consumers[name] : undefined;
  if (consumer) return consumer;
  const known = Object.keys(topology.consumers);
  throw new CliError(
    `unknown consumer "${name}"; stack "${topology.stackName}" has ${known.length > 0 ? `consumers: ${known.join(", ")}` : "no consumers"}`,
  );
}

/** A topic of the deployed stack, or one line listing the stack's own topics (a usage error). */
export function stackTopic(topology: DeployedTopology, name: string): DeployedTopic {
  const topic = Object.hasOwn(topology.topics, name) ? topology.topics[name] : undefined;
  if (topic) return topic;
  const known = Object.keys(topology.topics);
  throw new CliError(
    `unknown topic "${name}"; stack "${topology.stackName}" has ${known.length > 0 ? `topics: ${known.join(", ")}` : "no topics"}`,
    2,
  );
}
