/**
 * `courier local up`: make sure LocalStack runs (AWS_ENDPOINT_URL, one already answering, or one
 * started from the project's venv) and deploy the CDK app's stack to it. `courier local down`: stop
 * the LocalStack that `up` started, and nothing else.
 */

import { CliError, emit, type OutputOptions } from "@courier-queue/courier/cli";
import type { DeployedTopology } from "@courier-queue/courier/worker";
import type { Command } from "commander";
import { DEFAULT_STACK_NAME, UPLOADS_BUCKET_OUTPUT } from "../../app/deployment/example-outputs.ts";
import { DEFAULT_LOCAL_ENDPOINT } from "../local-aws-config.ts";
import { ensureLocalStack, type LocalStackHandle, stopLocalStack } from "../localstack.ts";

interface UpOptions extends OutputOptions {
  stack: string;
}

interface DownOptions extends OutputOptions {
  stack: string;
  deleteStack?: boolean;
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

export function register(program: Command): void {
  const local = program.command("local").description("Run courier's topology on LocalStack on this machine");

  local
    .command("up")
    .description(
      "Ensure LocalStack runs (installing it into .venv-localstack on first use) and deploy the stack to it",
    )
    .option("--stack <name>", "CloudFormation stack name", DEFAULT_STACK_NAME)
    .option("--json", "machine-readable output")
    .action(async (options: UpOptions) => {
      const localstack = await asCliError(() => ensureLocalStack({ log: progress }));
      progress(describeLocalStack(localstack));
      // Loaded here, not at the top: aws-cdk-lib takes seconds to import and only `up` needs it.
      const { deployToLocalStack } = await import("../deploy.ts");
      const deployment = await asCliError(() =>
        deployToLocalStack({ stackName: options.stack, endpoint: localstack.endpoint, log: progress }),
      );
      const data = {
        endpoint: localstack.endpoint,
        localstack: {
          source: localstack.source,
          version: localstack.version,
          ...(localstack.pid ? { pid: localstack.pid } : {}),
          ...(localstack.logFile ? { logFile: localstack.logFile } : {}),
          ...(localstack.startSeconds !== undefined ? { startSeconds: localstack.startSeconds } : {}),
          ...(localstack.install?.installed ? { installSeconds: localstack.install.seconds } : {}),
        },
        stack: {
          name: options.stack,
          action: deployment.action,
          seconds: deployment.seconds,
          leftOut: deployment.removed.map((r) => ({ logicalId: r.logicalId, type: r.type })),
        },
        topology: deployment.topology,
      };
      emit(options, data, () =>
        [
          `stack "${options.stack}" ${deployment.action} in ${deployment.seconds} s ` +
            `(${deployment.removed.length} template entries left out: Lambda functions, event source ` +
            "mappings, the DynamoDB table and what refers to them; the local runtime supplies those)",
          ...topologyLines(deployment.topology),
          ...(localstack.endpoint !== DEFAULT_LOCAL_ENDPOINT
            ? ["", `other commands find it with: export AWS_ENDPOINT_URL=${localstack.endpoint}`]
            : []),
        ].join("\n"),
      );
    });

  local
    .command("down")
    .description("Stop the LocalStack that `courier local up` started; one it did not start is left running")
    .option("--stack <name>", "stack to delete with --delete-stack", DEFAULT_STACK_NAME)
    .option("--delete-stack", "delete the stack first (useful when LocalStack keeps running)")
    .option("--json", "machine-readable output")
    .action(async (options: DownOptions) => {
      let stackDeleted: boolean | undefined;
      if (options.deleteStack) {
        const { deleteStackOnLocalStack } = await import("../cloudformation.ts");
        stackDeleted = await asCliError(() => deleteStackOnLocalStack(options.stack));
      }
      const result = await asCliError(() => stopLocalStack({ log: progress }));
      emit(
        options,
        { ...result, ...(stackDeleted !== undefined ? { stack: options.stack, stackDeleted } : {}) },
        () =>
          [
            ...(stackDeleted === undefined
              ? []
              : [
                  stackDeleted ? `deleted stack "${options.stack}"` : `no stack "${options.stack}" to delete`,
                ]),
            result.reason,
          ].join("\n"),
      );
    });
}

function describeLocalStack(handle: LocalStackHandle): string {
  const version = handle.version ? ` ${handle.version}` : "";
  switch (handle.source) {
    case "environment":
      return `using LocalStack${version} at ${handle.endpoint} (AWS_ENDPOINT_URL)`;
    case "running":
      return `using LocalStack${version} already running at ${handle.endpoint}${handle.pid ? ` (pid ${handle.pid}, started by courier)` : ""}`;
    case "started":
      return `started LocalStack${version} at ${handle.endpoint} in ${handle.startSeconds} s (pid ${handle.pid}, log ${handle.logFile})`;
  }
}

function topologyLines(topology: DeployedTopology): string[] {
  const topics = Object.values(topology.topics);
  const consumers = Object.values(topology.consumers);
  const width = Math.max(...consumers.map((c) => c.name.length), ...topics.map((t) => t.name.length));
  return [
    "",
    "topics:",
    ...topics.map((t) => `  ${t.name.padEnd(width)}  ${t.arn}`),
    "consumer queues:",
    ...consumers.map((c) => `  ${c.name.padEnd(width)}  ${c.queueUrl}`),
    "dead-letter queues:",
    ...consumers.map((c) => `  ${c.name.padEnd(width)}  ${c.dlqUrl}`),
    `uploads bucket:       ${topology.outputs[UPLOADS_BUCKET_OUTPUT] ?? "(none)"}`,
    ...Object.entries(topology.secretArns).map(([name, arn]) => `${`${name} secret:`.padEnd(22)}${arn}`),
  ];
}

/** Harness and deploy errors carry their detail after the first line; the CLI prints one line. */
async function asCliError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const [first = "unknown error", ...rest] = message.split("\n");
    if (rest.length > 0) process.stderr.write(`${rest.join("\n")}\n`);
    throw new CliError(first);
  }
}
