/**
 * Stack outputs as a courier construct leaves them (the manifest, one output per topic and per
 * consumer), built by hand for a topology courier never saw: the CLI and console unit tests read
 * these, never courier's own example topology.
 */
import type { Output } from "@aws-sdk/client-cloudformation";
import {
  type ConsumerManifest,
  consumerManifestOutputKey,
  MANIFEST_VERSION,
  STACK_MANIFEST_OUTPUT,
  type StackManifest,
  type TopicManifest,
  topicManifestOutputKey,
} from "../../packages/courier/src/deployment/manifest.ts";

export const REGION = "eu-west-1";
export const ACCOUNT = "123456789012";

export interface TopicFixture extends Partial<Omit<TopicManifest, "name">> {
  readonly name: string;
}
export interface ConsumerFixture extends Partial<Omit<ConsumerManifest, "name" | "topic">> {
  readonly name: string;
  readonly topic: string;
}

export const queueUrl = (stack: string, queue: string) =>
  `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${stack}-${queue}`;
export const queueArn = (stack: string, queue: string) =>
  `arn:aws:sqs:${REGION}:${ACCOUNT}:${stack}-${queue}`;
export const topicArn = (stack: string, topic: string) =>
  `arn:aws:sns:${REGION}:${ACCOUNT}:${stack}-${topic}`;

export function topicManifest(stack: string, fixture: TopicFixture): TopicManifest {
  const current = fixture.current ?? { type: "OrderPlaced", version: 1 };
  return {
    arn: topicArn(stack, fixture.name),
    description: `the ${fixture.name} topic`,
    fifo: false,
    maxMessageBytes: 262_144,
    offloadLargePayloads: false,
    current,
    accepts: [current],
    filterAttributeNames: [],
    ...fixture,
  };
}

export function consumerManifest(stack: string, fixture: ConsumerFixture): ConsumerManifest {
  return {
    description: `${fixture.name} consumer of ${fixture.topic}`,
    handlerEntry: `src/consumers/${fixture.name}.ts`,
    queueUrl: queueUrl(stack, fixture.name),
    queueArn: queueArn(stack, fixture.name),
    dlqUrl: queueUrl(stack, `${fixture.name}-dlq`),
    dlqArn: queueArn(stack, `${fixture.name}-dlq`),
    fifo: false,
    maxReceiveCount: 5,
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    maxConcurrency: 5,
    timeoutSeconds: 30,
    visibilityTimeoutSeconds: 180,
    backoff: { baseSeconds: 2, maxSeconds: 300 },
    environment: {},
    ...fixture,
  };
}

/** The outputs of a stack holding the given topics and consumers, as DescribeStacks returns them. */
export function manifestOutputs(
  stack: string,
  options: {
    readonly topics: readonly TopicFixture[];
    readonly consumers: readonly ConsumerFixture[];
    readonly manifest?: Partial<StackManifest>;
  },
): Record<string, string> {
  const manifest: StackManifest = {
    v: MANIFEST_VERSION,
    courier: "0.2.0",
    topics: options.topics.map((t) => t.name),
    consumers: options.consumers.map((c) => c.name),
    secrets: {},
    redrive: { functionName: `${stack}-redrive`, maxRedrives: 3 },
    metricsNamespace: "courier",
    ...options.manifest,
  };
  return {
    [STACK_MANIFEST_OUTPUT]: JSON.stringify(manifest),
    ...Object.fromEntries(
      options.topics.map((t) => [topicManifestOutputKey(t.name), JSON.stringify(topicManifest(stack, t))]),
    ),
    ...Object.fromEntries(
      options.consumers.map((c) => [
        consumerManifestOutputKey(c.name),
        JSON.stringify(consumerManifest(stack, c)),
      ]),
    ),
  };
}

export function asStackOutputs(outputs: Record<string, string>): Output[] {
  return Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }));
}

/** A team's order stack: topic "orders", consumers "invoice" and "ledger". */
export function ordersStackOutputs(stack = "acme-orders", manifest?: Partial<StackManifest>) {
  return manifestOutputs(stack, {
    topics: [{ name: "orders", current: { type: "OrderPlaced", version: 1 } }],
    consumers: [
      { name: "invoice", topic: "orders", maxReceiveCount: 4 },
      { name: "ledger", topic: "orders", maxReceiveCount: 7 },
    ],
    ...(manifest ? { manifest } : {}),
  });
}
