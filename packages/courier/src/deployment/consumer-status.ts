/**
 * What `courier status` shows per consumer: queue depth, in flight, delayed, DLQ depth and the age
 * of the oldest message.
 *
 * SQS's GetQueueAttributes has no age; ApproximateAgeOfOldestMessage exists only as a CloudWatch
 * metric, which LocalStack does not compute. Receiving messages to look at their SentTimestamp
 * would raise their receive count and push them towards the DLQ, so that is not an option either.
 * On AWS the age is CloudWatch's ApproximateAgeOfOldestMessage (its newest datapoint, published
 * every minute); on LocalStack it comes from its developer endpoint `/_aws/sqs/messages`, which
 * lists a queue's messages without side effects. Where neither answers it is reported as "n/a".
 */
import { type CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { GetQueueAttributesCommand, type QueueAttributeName, type SQSClient } from "@aws-sdk/client-sqs";
import { readQueuePause } from "./consumer-pause.ts";
import { type DeployedTopology, deployedConsumer } from "./deployed-topology.ts";

export interface QueueCounts {
  /** Messages available to receive. */
  readonly visible: number;
  /** Received and not yet deleted nor returned (within their visibility timeout). */
  readonly inFlight: number;
  /** Sent with a delay, or held back by a consumer's backoff, not yet visible. */
  readonly delayed: number;
}

export interface ConsumerStatus {
  readonly consumer: string;
  readonly queue: QueueCounts;
  readonly dlq: QueueCounts;
  /** Age in seconds of the oldest message in the source queue; null when unknown (see module comment). */
  readonly oldestAgeSeconds: number | null;
  /** Age in seconds of the oldest message in the DLQ; null when unknown. */
  readonly dlqOldestAgeSeconds: number | null;
  /** What SNS could not deliver to the queue; absent on a stack without a subscription DLQ. */
  readonly subscriptionDlq?: QueueCounts;
  /**
   * `courier pause` tagged the queue, or its Lambda event source mapping is disabled (by courier or
   * by hand); undefined when neither could be read.
   */
  readonly paused?: boolean;
  /** The Lambda event source mapping's state (Enabled, Disabled, ...), where one is deployed and read. */
  readonly eventSourceMapping?: string;
  /** When it was paused (the tag's value). */
  readonly pausedSince?: string;
}

/** Lists a queue's messages without receiving them, or undefined where no such API exists. */
export type PeekSentTimestamps = (queueUrl: string) => Promise<number[] | undefined>;

/** The age in seconds of a queue's oldest message, null where it cannot be known. */
export type OldestAge = (queueUrl: string, now: number) => Promise<number | null>;

/** On LocalStack: from the side-effect-free listing of the queue's messages. */
export function oldestAgeFromPeek(peek: PeekSentTimestamps): OldestAge {
  return async (queueUrl, now) => oldestAgeSeconds(await peek(queueUrl), now);
}

/**
 * On AWS: CloudWatch's ApproximateAgeOfOldestMessage, newest datapoint of the last 15 minutes (SQS
 * publishes it each minute while the queue is active; none for an idle, empty queue means 0).
 */
export function oldestAgeFromCloudWatch(cloudwatch: CloudWatchClient): OldestAge {
  return async (queueUrl, now) => {
    const queueName = queueUrl.split("/").pop() ?? queueUrl;
    try {
      const result = await cloudwatch.send(
        new GetMetricDataCommand({
          StartTime: new Date(now - 15 * 60_000),
          EndTime: new Date(now),
          ScanBy: "TimestampDescending",
          MetricDataQueries: [
            {
              Id: "age",
              MetricStat: {
                Metric: {
                  Namespace: "AWS/SQS",
                  MetricName: "ApproximateAgeOfOldestMessage",
                  Dimensions: [{ Name: "QueueName", Value: queueName }],
                },
                Period: 60,
                Stat: "Maximum",
              },
            },
          ],
        }),
      );
      const newest = result.MetricDataResults?.[0]?.Values?.[0];
      return newest === undefined ? 0 : Math.floor(newest);
    } catch {
      return null;
    }
  };
}

const COUNT_ATTRIBUTES: QueueAttributeName[] = [
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
];

export async function queueCounts(sqs: SQSClient, queueUrl: string): Promise<QueueCounts> {
  const result = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: COUNT_ATTRIBUTES }),
  );
  const count = (name: QueueAttributeName) => Number(result.Attributes?.[name] ?? 0);
  return {
    visible: count("ApproximateNumberOfMessages"),
    inFlight: count("ApproximateNumberOfMessagesNotVisible"),
    delayed: count("ApproximateNumberOfMessagesDelayed"),
  };
}

/** Visible plus in flight plus delayed: zero only when every message in the queue was deleted. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const counts = await queueCounts(sqs, queueUrl);
  return counts.visible + counts.inFlight + counts.delayed;
}

/** The age of the oldest of the given send times, in whole seconds; null for none known, 0 for an empty queue. */
export function oldestAgeSeconds(sentTimestamps: readonly number[] | undefined, now: number): number | null {
  if (sentTimestamps === undefined) return null;
  if (sentTimestamps.length === 0) return 0;
  return Math.max(0, Math.floor((now - Math.min(...sentTimestamps)) / 1000));
}

/**
 * LocalStack's side-effect-free message listing (visible and in flight, not delayed: AWS's age
 * metric also ignores messages that were never deliverable). Undefined when the endpoint is not
 * LocalStack or does not offer it.
 */
export function localStackPeek(endpoint: string): PeekSentTimestamps {
  return async (queueUrl) => {
    try {
      const response = await fetch(new URL("/_aws/sqs/messages?ShowInvisible=true", endpoint), {
        method: "POST",
        headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ReceiveMessage" },
        body: JSON.stringify({ QueueUrl: queueUrl }),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) return undefined;
      const body = (await response.json()) as { Messages?: { Attributes?: Record<string, string> }[] };
      if (!body || typeof body !== "object") return undefined;
      return (body.Messages ?? []).map((m) => Number(m.Attributes?.SentTimestamp)).filter(Number.isFinite);
    } catch {
      return undefined;
    }
  };
}

export async function consumerStatuses(options: {
  sqs: SQSClient;
  topology: DeployedTopology;
  /** Where the oldest message's age comes from; without one it is reported as unknown (null). */
  oldestAge?: OldestAge;
  now?: () => number;
  /** Consumers of the stack to read, in this order. @default every consumer, in the manifest's order */
  consumers?: readonly string[];
  /** Reads an event source mapping's state (on AWS); a Disabled or Disabling one reads as paused. */
  mappingState?: (uuid: string) => Promise<string>;
}): Promise<ConsumerStatus[]> {
  const now = options.now ?? Date.now;
  return Promise.all(
    (options.consumers ?? Object.keys(options.topology.consumers)).map(async (consumer) => {
      const deployed = deployedConsumer(options.topology, consumer);
      const age = options.oldestAge ?? (async () => null);
      const mappingId = deployed.eventSourceMappingId;
      const [queue, dlq, queueAge, dlqAge, subscriptionDlq, pause, mapping] = await Promise.all([
        queueCounts(options.sqs, deployed.queueUrl),
        queueCounts(options.sqs, deployed.dlqUrl),
        age(deployed.queueUrl, now()),
        age(deployed.dlqUrl, now()),
        deployed.subscriptionDlqUrl ? queueCounts(options.sqs, deployed.subscriptionDlqUrl) : undefined,
        readQueuePause(options.sqs, deployed.queueUrl).catch(() => undefined),
        mappingId && options.mappingState
          ? options.mappingState(mappingId).catch(() => undefined)
          : undefined,
      ]);
      const mappingOff = mapping === "Disabled" || mapping === "Disabling";
      const paused = pause || mapping ? Boolean(pause?.paused) || mappingOff : undefined;
      return {
        consumer,
        queue,
        dlq,
        oldestAgeSeconds: queueAge,
        dlqOldestAgeSeconds: dlqAge,
        ...(subscriptionDlq ? { subscriptionDlq } : {}),
        ...(paused !== undefined ? { paused } : {}),
        ...(mapping ? { eventSourceMapping: mapping } : {}),
        ...(pause?.since ? { pausedSince: pause.since } : {}),
      };
    }),
  );
}
