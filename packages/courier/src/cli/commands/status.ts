/** `courier status`: per consumer, queue depth, in flight, DLQ depth and the age of the oldest message. */

import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { LambdaClient } from "@aws-sdk/client-lambda";
import type { Command } from "commander";
import { eventSourceMappingState } from "../../deployment/consumer-pause.ts";
import {
  type ConsumerStatus,
  consumerStatuses,
  localStackPeek,
  noisyTenantsFromCloudWatch,
  oldestAgeFromCloudWatch,
  oldestAgeFromPeek,
} from "../../deployment/consumer-status.ts";
import { sqsClient } from "../../lib/sqs-client.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";
import { commandTarget, deployedTopology, type TargetCliOptions, withTargetOptions } from "../target.ts";

interface StatusOptions extends OutputOptions, TargetCliOptions {}

export function register(program: Command): void {
  const command = program
    .command("status")
    .description(
      "Per consumer: queue depth, in flight, delayed, DLQ depth, the age of the oldest message, and whether it is paused",
    )
    .option("--json", "machine-readable output");
  withTargetOptions(command).action(async (options: StatusOptions) => {
    const where = await commandTarget(options);
    const topology = await deployedTopology(where);
    const sqs = sqsClient(where.config);
    const oldestAge =
      where.target.kind === "local" && where.config.endpoint
        ? oldestAgeFromPeek(localStackPeek(where.config.endpoint))
        : oldestAgeFromCloudWatch(new CloudWatchClient(where.config));
    // On AWS a consumer is also paused when its event source mapping is disabled, whoever did it.
    const lambda = where.target.kind === "local" ? undefined : new LambdaClient(where.config);
    const mappingState = lambda
      ? async (uuid: string) => (await eventSourceMappingState(lambda, uuid)).state
      : undefined;
    const statuses = await consumerStatuses({
      sqs,
      topology,
      oldestAge,
      // The runtime's per-tenant dwell metric names the noisy tenants (SQS publishes none per tenant).
      noisyTenants: noisyTenantsFromCloudWatch(
        new CloudWatchClient(where.config),
        topology.manifest.metricsNamespace,
      ),
      ...(mappingState ? { mappingState } : {}),
    }).catch((error: unknown) => {
      throw new CliError(`reading queue attributes on ${where.target.label} failed: ${String(error)}`);
    });
    emit(options, { stack: where.stack, target: where.target.label, consumers: statuses }, () =>
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
  const header = [
    "consumer",
    "queued",
    "in flight",
    "delayed",
    "oldest",
    "dlq",
    "dlq oldest",
    "sns dlq",
    "state",
  ];
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
      // The subscription DLQ: what SNS could not deliver to the queue.
      s.subscriptionDlq
        ? String(s.subscriptionDlq.visible + s.subscriptionDlq.inFlight + s.subscriptionDlq.delayed)
        : "-",
      s.paused === undefined ? "?" : s.paused ? "PAUSED" : "running",
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  const unknown = statuses.some((s) => s.oldestAgeSeconds === null)
    ? [
        "",
        "oldest n/a: the age could not be read (CloudWatch's ApproximateAgeOfOldestMessage, or LocalStack's listing)",
      ]
    : [];
  return [line(header), ...rows.map(line), ...unknown, ...tenantLines(statuses)].join("\n");
}

/** Per consumer of a topic with tenants: its noisy tenants and the tenants held on it. */
export function tenantLines(statuses: readonly ConsumerStatus[]): string[] {
  const lines: string[] = [];
  for (const s of statuses) {
    if (!s.tenants) continue;
    const { noisy, held } = s.tenants;
    const noisyText =
      noisy === null
        ? "n/a (the TenantDwellTime metric could not be read)"
        : noisy.length === 0
          ? "none"
          : noisy
              .map(
                (t) =>
                  `${t.tenant} (${t.processed} in 15 min${t.p95DwellMs === null ? "" : `, p95 dwell ${seconds(t.p95DwellMs)}`})`,
              )
              .join(", ");
    const heldText =
      held.length === 0 ? "" : `; held: ${held.map((h) => `${h.tenant} ${h.state}`).join(", ")}`;
    lines.push(`${s.consumer}: noisy tenants ${noisyText}${heldText}`);
  }
  return lines.length > 0 ? ["", ...lines] : [];
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
