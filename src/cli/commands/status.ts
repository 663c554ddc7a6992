/** `courier status`: per consumer, queue depth, in flight, DLQ depth and the age of the oldest message. */
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Command } from "commander";
import { type ConsumerStatus, consumerStatuses, localStackPeek } from "../../deployment/consumer-status.ts";
import { DEFAULT_STACK_NAME } from "../../deployment/stack-outputs.ts";
import { readDeployedTopology } from "../../dev/cloudformation.ts";
import { localClientConfig } from "../../dev/local-aws-config.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";

interface StatusOptions extends OutputOptions {
  stack: string;
}

export function register(program: Command): void {
  program
    .command("status")
    .description("Per consumer: queue depth, in flight, delayed, DLQ depth and the age of the oldest message")
    .option("--stack <name>", "deployed stack to read queue addresses from", DEFAULT_STACK_NAME)
    .option("--json", "machine-readable output")
    .action(async (options: StatusOptions) => {
      const config = localClientConfig();
      const topology = await readDeployedTopology(options.stack).catch((error: unknown) => {
        throw new CliError(error instanceof Error ? error.message : String(error));
      });
      const sqs = new SQSClient(config);
      const statuses = await consumerStatuses({ sqs, topology, peek: localStackPeek(config.endpoint) }).catch(
        (error: unknown) => {
          throw new CliError(`reading queue attributes on ${config.endpoint} failed: ${String(error)}`);
        },
      );
      emit(options, { stack: options.stack, endpoint: config.endpoint, consumers: statuses }, () =>
        statusTable(statuses),
      );
    });
}

function age(seconds: number | null, empty: boolean): string {
  if (empty) return "-";
  if (seconds === null) return "n/a";
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7_200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3_600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function statusTable(statuses: readonly ConsumerStatus[]): string {
  const header = ["consumer", "queued", "in flight", "delayed", "oldest", "dlq", "dlq oldest"];
  const rows = statuses.map((s) => {
    const queueEmpty = s.queue.visible + s.queue.inFlight === 0;
    const dlqDepth = s.dlq.visible + s.dlq.inFlight + s.dlq.delayed;
    return [
      s.consumer,
      String(s.queue.visible),
      String(s.queue.inFlight),
      String(s.queue.delayed),
      age(s.oldestAgeSeconds, queueEmpty),
      String(dlqDepth),
      age(s.dlqOldestAgeSeconds, s.dlq.visible + s.dlq.inFlight === 0),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  const unknown = statuses.some((s) => s.oldestAgeSeconds === null)
    ? ["", "oldest n/a: SQS reports that age only as a CloudWatch metric; it is computed on LocalStack only"]
    : [];
  return [line(header), ...rows.map(line), ...unknown].join("\n");
}
