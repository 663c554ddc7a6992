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
import { type CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from "@aws-sdk/client-cloudwatch";
import { GetQueueAttributesCommand, type QueueAttributeName, type SQSClient } from "@aws-sdk/client-sqs";
import { readTenantControls, type TenantControl } from "../lib/consumer/tenant-controls.ts";
import { OTHER_TENANTS, TENANT_DIMENSION, TENANT_DWELL_METRIC } from "../lib/consumer/tenant-dwell.ts";
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
  /** A consumer of a topic with tenants: its noisy tenants and the tenants held on it. */
  readonly tenants?: TenantStatus;
}

/** A tenant the consumer's runtime named as noisy (its dwell time has the tenant as a dimension). */
export interface NoisyTenant {
  readonly tenant: string;
  /** Its messages processed in the last 15 minutes. */
  readonly processed: number;
  /** Its dwell time (publish to processed) at p95 over those 15 minutes, where it could be read. */
  readonly p95DwellMs: number | null;
}

export interface TenantStatus {
  /** Noisiest first; null when the metrics could not be read. */
  readonly noisy: NoisyTenant[] | null;
  /** Tenants paused or quarantined on this consumer (`courier tenant`). */
  readonly held: TenantControl[];
}

/** A consumer's noisy tenants of the last 15 minutes, or null where they cannot be read. */
export type NoisyTenants = (consumer: string, now: number) => Promise<NoisyTenant[] | null>;

/**
 * From the runtime's `TenantDwellTime` metric (lib/consumer/tenant-dwell.ts): the tenant dimension
 * values other than "other" are the tenants it found noisy. EMF lines become metrics in CloudWatch
 * (Lambda's logs, or a container's through CloudWatch Logs); SQS itself publishes nothing per tenant.
 */
export function noisyTenantsFromCloudWatch(cloudwatch: CloudWatchClient, namespace: string): NoisyTenants {
  return async (consumer, now) => {
    try {
      const listed = await cloudwatch.send(
        new ListMetricsCommand({
          Namespace: namespace,
          MetricName: TENANT_DWELL_METRIC,
          Dimensions: [{ Name: "service", Value: consumer }],
          RecentlyActive: "PT3H",
        }),
      );
      const tenants = [
        ...new Set(
          (listed.Metrics ?? []).flatMap((m) => {
            const names = (m.Dimensions ?? []).map((d) => d.Name).sort();
            if (names.join(",") !== `service,${TENANT_DIMENSION}`) return [];
            const value = m.Dimensions?.find((d) => d.Name === TENANT_DIMENSION)?.Value;
            return value && value !== OTHER_TENANTS ? [value] : [];
          }),
        ),
      ].slice(0, 100);
      if (tenants.length === 0) return [];
      const metric = (tenant: string) => ({
        Namespace: namespace,
        MetricName: TENANT_DWELL_METRIC,
        Dimensions: [
          { Name: "service", Value: consumer },
          { Name: TENANT_DIMENSION, Value: tenant },
        ],
      });
      const query = async (stat: string, prefix: string) =>
        await cloudwatch.send(
          new GetMetricDataCommand({
            StartTime: new Date(now - 15 * 60_000),
            // A minute ahead: a datapoint stamped this very second still falls in the window.
            EndTime: new Date(now + 60_000),
            MetricDataQueries: tenants.map((tenant, i) => ({
              Id: `${prefix}${i}`,
              MetricStat: { Metric: metric(tenant), Period: 900, Stat: stat },
            })),
          }),
        );
      // Percentiles in a call of their own: LocalStack 4.14 answers SampleCount but refuses "p95".
      const [counts, p95s] = await Promise.all([
        query("SampleCount", "n"),
        query("p95", "p").catch(() => undefined),
      ]);
      const byId = new Map(
        [...(counts.MetricDataResults ?? []), ...(p95s?.MetricDataResults ?? [])].map((r) => [
          r.Id,
          r.Values ?? [],
        ]),
      );
      const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
      return tenants
        .map((tenant, i) => {
          const p95 = byId.get(`p${i}`)?.[0];
          return {
            tenant,
            processed: Math.round(sum(byId.get(`n${i}`) ?? [])),
            p95DwellMs: p95 === undefined ? null : Math.round(p95),
          };
        })
        .filter((t) => t.processed > 0)
        .sort((a, b) => b.processed - a.processed || a.tenant.localeCompare(b.tenant));
    } catch {
      return null;
    }
  };
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
  /** Where a tenant consumer's noisy tenants come from; without one they are reported as unknown (null). */
  noisyTenants?: NoisyTenants;
}): Promise<ConsumerStatus[]> {
  const now = options.now ?? Date.now;
  return Promise.all(
    (options.consumers ?? Object.keys(options.topology.consumers)).map(async (consumer) => {
      const deployed = deployedConsumer(options.topology, consumer);
      const age = options.oldestAge ?? (async () => null);
      const mappingId = deployed.eventSourceMappingId;
      const tenantConsumer = deployed.tenant !== undefined && !deployed.fifo;
      const [queue, dlq, queueAge, dlqAge, subscriptionDlq, pause, mapping, noisy, held] = await Promise.all([
        queueCounts(options.sqs, deployed.queueUrl),
        queueCounts(options.sqs, deployed.dlqUrl),
        age(deployed.queueUrl, now()),
        age(deployed.dlqUrl, now()),
        deployed.subscriptionDlqUrl ? queueCounts(options.sqs, deployed.subscriptionDlqUrl) : undefined,
        readQueuePause(options.sqs, deployed.queueUrl).catch(() => undefined),
        mappingId && options.mappingState
          ? options.mappingState(mappingId).catch(() => undefined)
          : undefined,
        tenantConsumer && options.noisyTenants ? options.noisyTenants(consumer, now()) : null,
        tenantConsumer
          ? readTenantControls(options.sqs, deployed.queueUrl).then(
              (controls) => [...controls.values()],
              () => [],
            )
          : [],
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
        ...(tenantConsumer ? { tenants: { noisy, held } } : {}),
      };
    }),
  );
}
