/**
 * Publishing to LocalStack: one `publish` per message (1 and 10 in flight) against `publishBatch`
 * (one call for all messages, and 10-message calls 10 in flight), on a topic and subscribed queue
 * this benchmark creates with unique names and deletes afterwards. `--messages N` (default 1000)
 * per scenario and round; BENCH_ROUNDS (default 3) rounds, scenarios interleaved.
 */
import { randomBytes } from "node:crypto";
import { CreateTopicCommand, DeleteTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { NewAccountV1 } from "../src/app/contracts/index.ts";
import { localClientConfig } from "../src/dev/local-aws-config.ts";
import type { TopicName } from "../src/topology.ts";
import {
  type BatchItemResult,
  createPublisher,
  type Publisher,
  type PublisherError,
} from "../test/helpers/example-publisher.ts";
import type { BenchContext, Benchmark, Row } from "./lib/benchmark.ts";
import { forEachWithConcurrency } from "./lib/concurrency.ts";
import { percentile, round } from "./lib/stats.ts";

const DEFAULT_MESSAGES = 1_000;
/** Each scenario publishes `messages` this many times; BENCH_ROUNDS overrides. */
const DEFAULT_ROUNDS = 3;
const IN_FLIGHT = 10;
const WARM_UP_MESSAGES = 20;
/** SNS hands messages to SQS asynchronously; give a loaded laptop plenty of time to catch up. */
const DELIVERY_DEADLINE_MS = 120_000;

interface Scenario {
  readonly name: string;
  readonly run: (publisher: Publisher, items: NewAccountV1[]) => Promise<BatchItemResult[]>;
}

async function publishEach(publisher: Publisher, items: NewAccountV1[], inFlight: number) {
  const results: BatchItemResult[] = new Array(items.length);
  await forEachWithConcurrency(items.length, inFlight, async (i) => {
    try {
      results[i] = { ok: true, ...(await publisher.publish("account-signups", items[i] as NewAccountV1)) };
    } catch (error) {
      // The publisher throws only its own typed errors.
      results[i] = { ok: false, error: error as PublisherError };
    }
  });
  return results;
}

async function publishBatchSlices(publisher: Publisher, items: NewAccountV1[], inFlight: number) {
  const slices = Array.from({ length: Math.ceil(items.length / 10) }, (_, i) =>
    items.slice(i * 10, i * 10 + 10),
  );
  const results: BatchItemResult[][] = new Array(slices.length);
  await forEachWithConcurrency(slices.length, inFlight, async (i) => {
    results[i] = await publisher.publishBatch("account-signups", slices[i] ?? []);
  });
  return results.flat();
}

const scenarios: Scenario[] = [
  { name: "publish, 1 in flight (baseline)", run: (p, items) => publishEach(p, items, 1) },
  { name: `publish, ${IN_FLIGHT} in flight`, run: (p, items) => publishEach(p, items, IN_FLIGHT) },
  {
    name: "publishBatch, all messages in one call",
    run: (p, items) => p.publishBatch("account-signups", items),
  },
  {
    name: `publishBatch, 10-message calls ${IN_FLIGHT} in flight`,
    run: (p, items) => publishBatchSlices(p, items, IN_FLIGHT),
  },
];

function signups(count: number, runId: string): NewAccountV1[] {
  return Array.from({ length: count }, (_, i) => ({
    accountId: `bench-${runId}-${i}`,
    email: `user${i}@example.com`,
    displayName: `Bench User ${i}`,
    // Half with a phone, so both values of the hasPhone attribute are in the mix.
    ...(i % 2 === 0 ? { phone: `+1415555${String(i % 10_000).padStart(4, "0")}` } : {}),
    locale: "en-US",
    createdAt: new Date().toISOString(),
  }));
}

/** Times every HTTP request the SNS client makes, so batch and single calls compare per request. */
function recordRequestDurations(sns: SNSClient): number[] {
  const samples: number[] = [];
  sns.middlewareStack.add(
    (next) => async (args) => {
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        samples.push(performance.now() - started);
      }
    },
    { step: "finalizeRequest", name: "benchRequestTimer" },
  );
  return samples;
}

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Polls until the queue holds `expected` messages or the deadline passes; returns the last depth. */
async function awaitDepth(sqs: SQSClient, queueUrl: string, expected: number): Promise<number> {
  const deadline = Date.now() + DELIVERY_DEADLINE_MS;
  let depth = await queueDepth(sqs, queueUrl);
  while (depth < expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    depth = await queueDepth(sqs, queueUrl);
  }
  return depth;
}

async function createFixture(sns: SNSClient, sqs: SQSClient, name: string) {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (!TopicArn || !QueueUrl) throw new Error(`creating topic and queue "${name}" returned no address`);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const queueArn = Attributes?.QueueArn;
  if (!queueArn) throw new Error(`queue "${name}" has no QueueArn`);
  // As on AWS: the queue admits SNS deliveries from this topic only.
  const policy = {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: queueArn,
        Condition: { ArnEquals: { "aws:SourceArn": TopicArn } },
      },
    ],
  };
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: JSON.stringify(policy) } }));
  await sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: "sqs",
      Endpoint: queueArn,
      Attributes: { RawMessageDelivery: "true" },
    }),
  );
  return { topicArn: TopicArn, queueUrl: QueueUrl };
}

async function run(context: BenchContext) {
  const messages = context.messages ?? DEFAULT_MESSAGES;
  const rounds = Number(process.env.BENCH_ROUNDS ?? DEFAULT_ROUNDS);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_ROUNDS must be a positive integer`);
  const config = { ...localClientConfig(), endpoint: context.endpoint };
  const sns = new SNSClient(config);
  const sqs = new SQSClient(config);
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const name = `courier-bench-publish-${runId}`;
  const fixture = await createFixture(sns, sqs, name);
  context.log(`  created topic and queue ${name}`);
  try {
    const samples = recordRequestDurations(sns);
    const topicArns: Record<TopicName, string> = {
      "account-signups": fixture.topicArn,
      "image-uploads": fixture.topicArn,
      "password-resets": fixture.topicArn,
      "account-exports": fixture.topicArn,
    };
    const publisher = createPublisher({ sns, topicArns, producer: "courier-bench" });

    // Warm both paths (connections, LocalStack's first-call setup) before anything is timed.
    await publishEach(publisher, signups(WARM_UP_MESSAGES / 2, `${runId}-warm`), 1);
    await publisher.publishBatch("account-signups", signups(WARM_UP_MESSAGES / 2, `${runId}-warm`));
    let expectedDepth = WARM_UP_MESSAGES;
    let depthBefore = await awaitDepth(sqs, fixture.queueUrl, expectedDepth);

    // Rounds interleave the scenarios, so a burst of load on a shared machine hits them alike.
    const tallies = scenarios.map(() => ({
      rates: [] as number[],
      samples: [] as number[],
      failed: 0,
      delivered: 0,
    }));
    for (let round = 1; round <= rounds; round++) {
      for (const [i, scenario] of scenarios.entries()) {
        const tally = tallies[i] as (typeof tallies)[number];
        samples.length = 0;
        const started = performance.now();
        const results = await scenario.run(publisher, signups(messages, `${runId}-${round}`));
        const seconds = (performance.now() - started) / 1000;
        const ok = results.filter((r) => r.ok).length;
        tally.rates.push(ok / seconds);
        tally.samples.push(...samples);
        tally.failed += results.length - ok;
        expectedDepth += ok;
        const depthAfter = await awaitDepth(sqs, fixture.queueUrl, expectedDepth);
        tally.delivered += depthAfter - depthBefore;
        depthBefore = depthAfter;
        context.log(`  round ${round}/${rounds} ${scenario.name}: ${Math.round(ok / seconds)} msg/s`);
      }
    }
    const baselineRate = percentile(tallies[0]?.rates ?? [], 50);
    const rows: Row[] = scenarios.map((scenario, i) => {
      const tally = tallies[i] as (typeof tallies)[number];
      const rate = percentile(tally.rates, 50);
      return {
        scenario: scenario.name,
        "messages × rounds": `${messages} × ${rounds}`,
        "SNS requests": tally.samples.length,
        failed: tally.failed,
        "msg/s (median)": Math.round(rate),
        "msg/s (min–max)": `${Math.round(Math.min(...tally.rates))}–${Math.round(Math.max(...tally.rates))}`,
        "× baseline": round(rate / baselineRate, 2),
        "p50 ms/request": round(percentile(tally.samples, 50)),
        "p99 ms/request": round(percentile(tally.samples, 99)),
        "delivered to queue": tally.delivered,
      };
    });
    return {
      rows,
      notes: [
        "msg/s counts messages SNS accepted per second of publishing, median over the rounds; delivery to SQS is asynchronous and is checked after every scenario of every round (delivered to queue).",
        "publishBatch sends its 10-message calls one after another; the last row runs several publishBatch calls at once.",
        `Each message is a NewAccount v1 envelope (about ${Buffer.byteLength(JSON.stringify(signups(1, runId)[0]))} bytes of data) with type, version and hasPhone attributes.`,
        "LocalStack runs on the same machine as the benchmark, sharing its CPUs: the figures measure request overhead, not network latency.",
      ],
    };
  } finally {
    await sns.send(new DeleteTopicCommand({ TopicArn: fixture.topicArn })).catch(() => undefined);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: fixture.queueUrl })).catch(() => undefined);
    context.log(`  deleted topic and queue ${name}`);
  }
}

export const benchmark: Benchmark = {
  name: "publish",
  description: "Publishing NewAccount messages to a LocalStack SNS topic with one subscribed SQS queue",
  run,
};
