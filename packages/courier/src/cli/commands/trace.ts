/**
 * `courier trace <eventId|correlationId>`: where a message is and what happened to it. With
 * --local, the spans `npm start`'s OTLP receiver wrote (.courier/spans.jsonl) and the workers' log
 * lines (.courier/worker-logs.jsonl); on AWS, X-Ray and CloudWatch Logs Insights.
 */
import { join } from "node:path";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { XRayClient } from "@aws-sdk/client-xray";
import type { Command } from "commander";
import type { DeployedTopology } from "../../deployment/deployed-topology.ts";
import {
  formatJourney,
  InvalidTraceQueryError,
  type TraceSource,
  traceMessage,
} from "../../deployment/message-trace/index.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";
import { commandTarget, deployedTopology, type TargetCliOptions, withTargetOptions } from "../target.ts";

/** Where `npm start` keeps what it records, relative to the project. */
export const LOCAL_SPANS_FILE = join(".courier", "spans.jsonl");
export const LOCAL_WORKER_LOG_FILE = join(".courier", "worker-logs.jsonl");

interface TraceOptions extends OutputOptions, TargetCliOptions {
  spans?: string;
  logs?: string[];
  since: string;
}

export function register(program: Command): void {
  const command = program
    .command("trace")
    .description(
      "Find a message by its eventId or correlation id: when it was published, each consumer's attempts with outcome and duration, DLQ or redrive, its log lines",
    )
    .argument("<id>", "the message's eventId, or the correlation id of the request that caused it")
    .option("--json", "machine-readable output")
    .option("--since <hours>", "how far back to look on AWS", "24")
    .option("--spans <file>", `with --local: the spans file (default: ${LOCAL_SPANS_FILE})`)
    .option("--logs <file...>", `with --local: worker log files (default: ${LOCAL_WORKER_LOG_FILE})`);
  withTargetOptions(command).action(async (id: string, options: TraceOptions) => {
    const hours = Number(options.since);
    if (!(hours > 0 && hours <= 24 * 30)) throw new CliError("--since must be 1 to 720 hours", 2);
    const where = await commandTarget(options);
    let topology: DeployedTopology | undefined;
    let topologyNote: string | undefined;
    try {
      topology = await deployedTopology(where);
    } catch (error) {
      topologyNote = `Stack "${where.stack}" not read (${error instanceof Error ? error.message : String(error)}): consumers without a recorded attempt cannot be named.`;
    }
    const source: TraceSource =
      where.target.kind === "local"
        ? {
            kind: "local",
            spansFile: options.spans ?? join(process.cwd(), LOCAL_SPANS_FILE),
            logFiles: options.logs ?? [join(process.cwd(), LOCAL_WORKER_LOG_FILE)],
          }
        : {
            kind: "aws",
            xray: new XRayClient(where.config),
            logs: new CloudWatchLogsClient(where.config),
            lambda: new LambdaClient(where.config),
            lookbackHours: hours,
            where: `X-Ray on ${where.target.label}`,
          };
    let journey: Awaited<ReturnType<typeof traceMessage>>;
    try {
      journey = await traceMessage({ id, source, ...(topology ? { topology } : {}) });
    } catch (error) {
      if (error instanceof InvalidTraceQueryError) throw new CliError(error.message, 2);
      throw new CliError(`reading the trace on ${where.target.label} failed: ${String(error)}`);
    }
    const answer = topologyNote ? { ...journey, notes: [...journey.notes, topologyNote] } : journey;
    emit(options, { stack: where.stack, target: where.target.label, ...answer }, () =>
      formatJourney(answer).join("\n"),
    );
  });
}
