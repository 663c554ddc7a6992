/**
 * `courier console`: serves the operator page for a deployed stack on a loopback address behind
 * a random token, and prints the URL to open. Reaches AWS like every other command (the standard
 * configuration chain, --profile, --region, --endpoint-url, --local). Runs until Ctrl-C.
 */
import { join } from "node:path";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { XRayClient } from "@aws-sdk/client-xray";
import type { Command } from "commander";
import { startConsole } from "../../console/server.ts";
import {
  localStackPeek,
  oldestAgeFromCloudWatch,
  oldestAgeFromPeek,
} from "../../deployment/consumer-status.ts";
import { sqsClient } from "../../lib/sqs-client.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";
import { commandTarget, deployedTopology, type TargetCliOptions, withTargetOptions } from "../target.ts";
import { positiveInteger } from "./dlq.ts";
import { LOCAL_SPANS_FILE, LOCAL_WORKER_LOG_FILE } from "./trace.ts";

interface ConsoleOptions extends OutputOptions, TargetCliOptions {
  port?: number;
  readOnly?: boolean;
}

export function register(program: Command): void {
  const command = program
    .command("console")
    .description(
      "Serve the operator console (topology, live figures, dead-letter triage, find a message) on 127.0.0.1",
    )
    .option("--port <n>", "port on 127.0.0.1 (default: a free one)", positiveInteger)
    .option("--read-only", "hide every action: no redrive, no delete")
    .option("--json", "print the address as JSON");
  withTargetOptions(command).action(async (options: ConsoleOptions) => {
    const started = performance.now();
    const where = await commandTarget(options);
    const topology = await deployedTopology(where);
    const cloudwatch = new CloudWatchClient(where.config);
    const onLocalStack = where.target.kind === "local" && where.config.endpoint;
    const running = await startConsole({
      sqs: sqsClient(where.config),
      // The topics' archives: their figures on the topology view, and replay.
      s3: new S3Client(where.config),
      cloudwatch,
      topology,
      endpoint: where.target.label,
      readOnly: Boolean(options.readOnly),
      oldestAge: onLocalStack
        ? oldestAgeFromPeek(localStackPeek(where.config.endpoint ?? ""))
        : oldestAgeFromCloudWatch(cloudwatch),
      // CloudWatch has the age per minute: asking at every 2-second poll would only cost money.
      oldestAgeMaxAgeMs: onLocalStack ? 0 : 30_000,
      maxRedrives: topology.manifest.redrive.maxRedrives,
      // "Find a message" reads what `courier trace` reads: npm start's spans file here, X-Ray on AWS.
      traceSource: onLocalStack
        ? {
            kind: "local",
            spansFile: join(process.cwd(), LOCAL_SPANS_FILE),
            logFiles: [join(process.cwd(), LOCAL_WORKER_LOG_FILE)],
          }
        : {
            kind: "aws",
            xray: new XRayClient(where.config),
            logs: new CloudWatchLogsClient(where.config),
            lambda: new LambdaClient(where.config),
            where: `X-Ray on ${where.target.label}`,
          },
      ...(options.port ? { port: options.port } : {}),
    }).catch((error: Error) => {
      throw new CliError(`starting the console failed: ${error.message}`);
    });
    const readyMs = Math.round(performance.now() - started);
    const readOnly = Boolean(options.readOnly);
    emit(
      options,
      { url: running.url, stack: topology.stackName, target: where.target.label, readOnly, readyMs },
      () =>
        [
          `courier console for stack "${topology.stackName}" on ${where.target.label}${readOnly ? " (read-only)" : ""}`,
          `open: ${running.url}`,
          "(the token in the address is the only key; Ctrl-C stops the console)",
        ].join("\n"),
    );
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        void running.close().then(resolve);
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
  });
}
