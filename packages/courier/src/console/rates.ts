/**
 * Per-consumer processed, retried and dead-lettered rates from CloudWatch, in one GetMetricData
 * call for every consumer.
 *
 * On AWS the consumer runtime publishes `Processed`, `Retried` and `DeadLettered` (the stack's
 * metrics namespace, "courier" by default; dimension service = consumer) through Powertools' embedded metric format, and those
 * are used. Where a consumer has none (a local run: workers log EMF to stdout, which reaches no
 * CloudWatch) the rates are derived from the SQS metrics that AWS and LocalStack both record:
 * dead-lettered = messages sent to the DLQ (the runtime dead-letters on the last receive itself),
 * processed = messages deleted from the queue less those dead-lettered (the runtime deletes a
 * message it dead-lettered), retried = messages received from the queue less those deleted.
 */
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from "@aws-sdk/client-cloudwatch";
import type { ConsumerRates } from "./api.ts";

export const RATE_WINDOW_MINUTES = 5;

export interface RateTarget {
  readonly consumer: string;
  readonly queueName: string;
  readonly dlqName: string;
}

export const RATES_NOTE =
  `per minute over the last ${RATE_WINDOW_MINUTES} minutes, from CloudWatch: the consumer runtime's ` +
  "Processed/Retried/DeadLettered metrics where published (AWS), else derived from SQS metrics: " +
  "dead-lettered = sent to the DLQ, processed = deleted from the queue less dead-lettered, " +
  "retried = received less deleted";

const COURIER_METRICS = { processed: "Processed", retried: "Retried", deadLettered: "DeadLettered" } as const;

function query(id: string, namespace: string, metric: string, name: string, value: string): MetricDataQuery {
  return {
    Id: id,
    MetricStat: {
      Metric: { Namespace: namespace, MetricName: metric, Dimensions: [{ Name: name, Value: value }] },
      Period: 60,
      Stat: "Sum",
    },
    ReturnData: true,
  };
}

export async function readRates(
  cloudwatch: CloudWatchClient,
  targets: readonly RateTarget[],
  options: { readonly namespace?: string; readonly now?: Date } = {},
): Promise<Record<string, ConsumerRates>> {
  const namespace = options.namespace ?? "courier";
  const now = options.now ?? new Date();
  const queries = targets.flatMap((t, i) => [
    query(`c${i}p`, namespace, COURIER_METRICS.processed, "service", t.consumer),
    query(`c${i}r`, namespace, COURIER_METRICS.retried, "service", t.consumer),
    query(`c${i}d`, namespace, COURIER_METRICS.deadLettered, "service", t.consumer),
    query(`s${i}del`, "AWS/SQS", "NumberOfMessagesDeleted", "QueueName", t.queueName),
    query(`s${i}rcv`, "AWS/SQS", "NumberOfMessagesReceived", "QueueName", t.queueName),
    query(`s${i}dlq`, "AWS/SQS", "NumberOfMessagesSent", "QueueName", t.dlqName),
  ]);
  const sums = new Map<string, { sum: number; points: number }>();
  let nextToken: string | undefined;
  do {
    const result = await cloudwatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: new Date(now.getTime() - RATE_WINDOW_MINUTES * 60_000),
        EndTime: now,
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
    for (const r of result.MetricDataResults ?? []) {
      if (!r.Id) continue;
      const values = r.Values ?? [];
      const before = sums.get(r.Id) ?? { sum: 0, points: 0 };
      sums.set(r.Id, {
        sum: before.sum + values.reduce((a, b) => a + b, 0),
        points: before.points + values.length,
      });
    }
    nextToken = result.NextToken;
  } while (nextToken);

  const perMinute = (n: number) => Math.round((Math.max(0, n) / RATE_WINDOW_MINUTES) * 10) / 10;
  const sum = (id: string) => sums.get(id)?.sum ?? 0;
  const has = (id: string) => (sums.get(id)?.points ?? 0) > 0;
  return Object.fromEntries(
    targets.map((t, i): [string, ConsumerRates] => {
      if (has(`c${i}p`) || has(`c${i}r`) || has(`c${i}d`)) {
        return [
          t.consumer,
          {
            processedPerMinute: perMinute(sum(`c${i}p`)),
            retriedPerMinute: perMinute(sum(`c${i}r`)),
            deadLetteredPerMinute: perMinute(sum(`c${i}d`)),
            source: "courier-metrics",
          },
        ];
      }
      const deleted = sum(`s${i}del`);
      const received = sum(`s${i}rcv`);
      const deadLettered = sum(`s${i}dlq`);
      return [
        t.consumer,
        {
          processedPerMinute: perMinute(deleted - deadLettered),
          retriedPerMinute: perMinute(received - deleted),
          deadLetteredPerMinute: perMinute(deadLettered),
          source: "sqs-metrics",
        },
      ];
    }),
  );
}

export function unavailableRates(): ConsumerRates {
  return {
    processedPerMinute: null,
    retriedPerMinute: null,
    deadLetteredPerMinute: null,
    source: "unavailable",
  };
}

/** The queue name at the end of a queue URL (AWS and LocalStack's path style alike). */
export function queueNameOf(queueUrl: string): string {
  return queueUrl.split("/").pop() ?? queueUrl;
}
