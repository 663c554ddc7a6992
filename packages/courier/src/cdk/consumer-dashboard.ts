import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { Construct } from "constructs";
import type { ConsumerFunction } from "./consumer-function.ts";
import type { ConsumerQueue } from "./consumer-queue.ts";
import { InvalidConstructPropsError } from "./errors.ts";

export interface DashboardConsumer {
  /** The consumer's name: the row title, and the runtime metrics' `service` dimension. */
  readonly name: string;
  readonly queue: ConsumerQueue;
  readonly consumerFunction: ConsumerFunction;
  /** Drawn as a line on the oldest-message graph. @default - no line */
  readonly oldestMessageAlarmThreshold?: Duration;
}

export interface ConsumerDashboardProps {
  /** One row of widgets per consumer, in this order. */
  readonly consumers: readonly DashboardConsumer[];
  /** Namespace of the consumer runtime's metrics (Processed, Retried, DeadLettered). */
  readonly metricsNamespace: string;
  /** @default 5 minutes */
  readonly period?: Duration;
}

/** The graphs every consumer gets, by the suffix of their title (`<consumer>: <suffix>`). */
export const CONSUMER_WIDGETS = [
  "queue depth",
  "oldest message age",
  "dead letters",
  "outcomes",
  "duration",
  "errors and throttles",
  "concurrency",
] as const;
export type ConsumerWidget = (typeof CONSUMER_WIDGETS)[number];

/** The runtime's per-batch outcome metrics (src/lib/consumer), dimension `service` = consumer. */
export const RUNTIME_OUTCOME_METRICS = ["Processed", "Retried", "DeadLettered"] as const;

/**
 * A CloudWatch dashboard with a row per consumer: what is waiting (queue depth, oldest age), what
 * was given up on (DLQ and subscription DLQ), what the runtime did (Processed, Retried,
 * DeadLettered) and how the function ran (duration, errors, throttles, concurrency). Rendered from
 * the constructs, so a consumer added to the topology gets its row without an edit here.
 */
export class ConsumerDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ConsumerDashboardProps) {
    if (props.consumers.length === 0) {
      throw new InvalidConstructPropsError(scope, id, "a dashboard needs at least one consumer");
    }
    super(scope, id);
    const period = props.period ?? Duration.minutes(5);
    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      defaultInterval: Duration.hours(3),
    });
    for (const consumer of props.consumers) {
      this.dashboard.addWidgets(
        new cloudwatch.TextWidget({ markdown: `## ${consumer.name}`, width: 24, height: 1 }),
      );
      const widgets = consumerWidgets(consumer, props.metricsNamespace, period);
      this.dashboard.addWidgets(...CONSUMER_WIDGETS.slice(0, 4).map((w) => widgets[w]));
      this.dashboard.addWidgets(...CONSUMER_WIDGETS.slice(4).map((w) => widgets[w]));
    }
  }
}

function consumerWidgets(
  consumer: DashboardConsumer,
  namespace: string,
  period: Duration,
): Record<ConsumerWidget, cloudwatch.IWidget> {
  const { queue, deadLetterQueue, subscriptionDeadLetterQueue } = consumer.queue;
  const fn = consumer.consumerFunction.function;
  const max = { period, statistic: cloudwatch.Stats.MAXIMUM };
  const sum = { period, statistic: cloudwatch.Stats.SUM };
  const graph = (
    suffix: ConsumerWidget,
    left: cloudwatch.IMetric[],
    extra: Partial<cloudwatch.GraphWidgetProps> = {},
  ) =>
    new cloudwatch.GraphWidget({ title: `${consumer.name}: ${suffix}`, left, width: 6, height: 6, ...extra });
  const outcome = (metricName: string) =>
    new cloudwatch.Metric({
      namespace,
      metricName,
      dimensionsMap: { service: consumer.name },
      label: metricName,
      ...sum,
    });
  const threshold = consumer.oldestMessageAlarmThreshold;
  return {
    "queue depth": graph("queue depth", [
      queue.metricApproximateNumberOfMessagesVisible({ ...max, label: "visible" }),
      queue.metricApproximateNumberOfMessagesNotVisible({ ...max, label: "in flight" }),
      queue.metricApproximateNumberOfMessagesDelayed({ ...max, label: "delayed" }),
    ]),
    "oldest message age": graph(
      "oldest message age",
      [queue.metricApproximateAgeOfOldestMessage({ ...max, label: "oldest (s)" })],
      threshold ? { leftAnnotations: [{ value: threshold.toSeconds(), label: "alarm" }] } : {},
    ),
    "dead letters": graph("dead letters", [
      deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...max, label: "DLQ" }),
      subscriptionDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        ...max,
        label: "subscription DLQ",
      }),
    ]),
    outcomes: graph("outcomes", RUNTIME_OUTCOME_METRICS.map(outcome)),
    duration: graph("duration", [
      fn.metricDuration({ period, statistic: cloudwatch.Stats.p(50), label: "p50" }),
      fn.metricDuration({ period, statistic: cloudwatch.Stats.p(99), label: "p99" }),
      fn.metricDuration({ ...max, label: "max" }),
    ]),
    "errors and throttles": graph("errors and throttles", [
      fn.metricErrors({ ...sum, label: "errors" }),
      fn.metricThrottles({ ...sum, label: "throttles" }),
    ]),
    concurrency: graph("concurrency", [fn.metric("ConcurrentExecutions", { ...max, label: "concurrent" })]),
  };
}
