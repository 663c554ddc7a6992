/**
 * Fair delivery per tenant through the local system: a standard SNS topic whose contract names the
 * account as tenant, its SQS queue on LocalStack, the package's publisher (MessageGroupId = the
 * account) and the local event source running the consumer runtime. Tenant A publishes 2,000
 * uploads (PublishBatch, as fast as LocalStack takes them), then tenant B publishes 10, while the
 * consumer runs; each record costs BENCH_WORK_MS of simulated work (default 40 ms, a thumbnail's
 * order of magnitude), batches of 5, 5 pollers (the thumbnails consumer's settings).
 *
 * Dwell time = processed (the handler ran) minus the envelope's occurredAt (publish time). Two
 * scenarios in the same run on fresh topics and queues: fairness off (the queue's order, which is
 * what LocalStack 4.14 serves whatever the MessageGroupId), and fairness on (the event source serves
 * tenants as SQS fair queues do, worker/fair-tenants.ts). Reported: B's median and p95 dwell, A's,
 * and the time to drain everything (what fairness costs in throughput).
 *
 * `--messages N` sets A's flood (default 2000); BENCH_ROUNDS (default 1) rounds, alternating order.
 * Run alone: npm run bench -- fairness, or npx tsx bench/fairness.bench.ts
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { Logger } from "@aws-lambda-powertools/logger";
import { CreateTopicCommand, DeleteTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { z } from "zod";
import { defineContract } from "../packages/courier/src/lib/contracts/contract.ts";
import { defineConsumer } from "../packages/courier/src/topology/define-consumer.ts";
import { createPublisher } from "../packages/courier/src/topology/publisher.ts";
import { defineTopology } from "../packages/courier/src/topology/topology.ts";
import { startEventSource } from "../packages/courier/src/worker/event-source.ts";
import { localClientConfig } from "../src/dev/local-aws-config.ts";
import type { BenchContext, Benchmark, BenchResult, Row } from "./lib/benchmark.ts";
import { percentile, round } from "./lib/stats.ts";

const DEFAULT_FLOOD = 2_000;
const QUIET_MESSAGES = 10;
const DEFAULT_WORK_MS = 40;
const BATCH_SIZE = 5;
const POLLERS = 5;
const DRAIN_DEADLINE_MS = 600_000;

const UploadV1 = defineContract({
  type: "ImageUploaded",
  version: 1,
  data: z.object({ imageId: z.string(), uploadedBy: z.string() }),
});
const topology = defineTopology({
  topics: { uploads: { current: UploadV1, tenant: { from: "uploadedBy" } } },
  consumers: {
    thumbnails: {
      topic: "uploads",
      handlerEntry: "bench",
      batchSize: BATCH_SIZE,
      maxConcurrency: POLLERS,
      timeoutSeconds: 60,
    },
  },
});

interface Measurement {
  readonly quiet: number[];
  readonly noisy: number[];
  readonly drainSeconds: number;
  readonly left: number;
}

function positiveEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  const n = raw ? Number(raw) : fallback;
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

async function runScenario(
  config: ReturnType<typeof localClientConfig>,
  fair: boolean,
  flood: number,
  workMs: number,
  log: (line: string) => void,
): Promise<Measurement> {
  const sqs = new SQSClient(config);
  const sns = new SNSClient(config);
  const runId = randomBytes(4).toString("hex");
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `fairness-bench-${runId}` }));
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: `fairness-bench-${runId}`,
      Attributes: { VisibilityTimeout: "360" },
    }),
  );
  const { QueueUrl: dlqUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `fairness-bench-${runId}-dlq` }),
  );
  if (!TopicArn || !QueueUrl || !dlqUrl) throw new Error("could not create the bench's topic and queues");
  try {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: "sqs",
        Endpoint: Attributes.QueueArn,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    const dwell = { quiet: [] as number[], noisy: [] as number[] };
    const total = flood + QUIET_MESSAGES;
    let done: () => void = () => undefined;
    const allDone = new Promise<void>((resolve) => {
      done = resolve;
    });
    const handler = defineConsumer(topology, {
      name: "thumbnails",
      sqs,
      queueUrl: QueueUrl,
      dlqUrl,
      logger: new Logger({ serviceName: "fairness-bench", logLevel: "SILENT" }),
      metrics: { addMetric: () => undefined, publishStoredMetrics: () => undefined },
      handle: async (message) => {
        if (workMs > 0) await sleep(workMs);
        const ms = Date.now() - Date.parse(message.occurredAt);
        (message.data.uploadedBy === "tenant-b" ? dwell.quiet : dwell.noisy).push(ms);
        if (dwell.quiet.length + dwell.noisy.length >= total) done();
      },
    });
    const source = await startEventSource({
      sqs,
      queueUrl: QueueUrl,
      functionName: "fairness-bench",
      handler,
      batchSize: BATCH_SIZE,
      maxBatchingWindowSeconds: 0,
      timeoutSeconds: 60,
      concurrency: POLLERS,
      visibilityTimeoutSeconds: 360,
      waitTimeSeconds: 1,
      ...(fair ? { fairTenants: true } : {}),
      onError: (error, during) => log(`  ${during} error: ${String(error)}`),
    });
    const publisher = createPublisher(topology, {
      sns,
      topicArns: { uploads: TopicArn },
      producer: "fairness-bench",
      stampTrace: false,
    });
    const started = performance.now();
    try {
      for (let i = 0; i < flood; i += 100) {
        const items = Array.from({ length: Math.min(100, flood - i) }, (_, j) => ({
          imageId: `a-${i + j}`,
          uploadedBy: "tenant-a",
        }));
        const results = await publisher.publishBatch("uploads", items);
        const failed = results.filter((r) => !r.ok).length;
        if (failed > 0) throw new Error(`${failed} of tenant A's uploads were not published`);
      }
      for (let i = 0; i < QUIET_MESSAGES; i++) {
        await publisher.publish("uploads", { imageId: `b-${i}`, uploadedBy: "tenant-b" });
      }
      const deadline = sleep(DRAIN_DEADLINE_MS, "deadline" as const);
      if ((await Promise.race([allDone.then(() => "done" as const), deadline])) === "deadline") {
        throw new Error(`not drained within ${DRAIN_DEADLINE_MS} ms`);
      }
    } finally {
      await source.stop();
    }
    const drainSeconds = (performance.now() - started) / 1000;
    const { Attributes: depth = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    const left =
      Number(depth.ApproximateNumberOfMessages ?? 0) +
      Number(depth.ApproximateNumberOfMessagesNotVisible ?? 0);
    log(
      `  fairness ${fair ? "on" : "off"}: B median ${percentile(dwell.quiet, 50)} ms, p95 ${percentile(dwell.quiet, 95)} ms; drained in ${round(drainSeconds, 1)} s`,
    );
    return { ...dwell, drainSeconds, left };
  } finally {
    await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => undefined);
    await sns.send(new DeleteTopicCommand({ TopicArn })).catch(() => undefined);
    sqs.destroy();
    sns.destroy();
  }
}

async function run(context: BenchContext): Promise<BenchResult> {
  const flood = context.messages ?? DEFAULT_FLOOD;
  const rounds = positiveEnv("BENCH_ROUNDS", 1);
  const workMs = positiveEnv("BENCH_WORK_MS", DEFAULT_WORK_MS, 0);
  const config = localClientConfig({ ...process.env, AWS_ENDPOINT_URL: context.endpoint });
  const runs = new Map<boolean, Measurement[]>([
    [false, []],
    [true, []],
  ]);
  for (let r = 1; r <= rounds; r++) {
    context.log(`  round ${r} of ${rounds}`);
    for (const fair of r % 2 === 1 ? [false, true] : [true, false]) {
      runs.get(fair)?.push(await runScenario(config, fair, flood, workMs, context.log));
    }
  }
  const row = (fair: boolean): Row => {
    const measured = runs.get(fair) ?? [];
    const quiet = measured.flatMap((m) => m.quiet);
    const noisy = measured.flatMap((m) => m.noisy);
    const drain =
      measured.map((m) => m.drainSeconds).sort((a, b) => a - b)[Math.floor(measured.length / 2)] ?? 0;
    return {
      scenario: fair ? "fairness on (as SQS fair queues)" : "fairness off (queue order, as LocalStack)",
      "B median dwell ms": percentile(quiet, 50),
      "B p95 dwell ms": percentile(quiet, 95),
      "A median dwell ms": percentile(noisy, 50),
      "A p95 dwell ms": percentile(noisy, 95),
      "drain all s": round(drain, 1),
      "left in queue": measured.reduce((n, m) => n + m.left, 0),
    };
  };
  return {
    rows: [row(false), row(true)],
    notes: [
      `Tenant A publishes ${flood} uploads (PublishBatch), then tenant B ${QUIET_MESSAGES} (Publish), through a standard SNS topic to its SQS queue on LocalStack, while the consumer runs; ${rounds} round(s), the scenarios alternating.`,
      `The consumer: the package's runtime (defineConsumer) under the local event source, batches of ${BATCH_SIZE}, ${POLLERS} pollers, records of a batch in parallel, ${workMs} ms of simulated work per record.`,
      "Dwell = the handler ran minus the envelope's occurredAt (publish). 'Off' is the order the queue hands out, which is what LocalStack 4.14 does with MessageGroupId on a standard queue; 'on' is the local event source serving tenants as SQS fair queues do (it reads ahead, up to 10,000 messages, and runs quiet tenants' messages first).",
      "On AWS, SQS orders on its servers; these figures show the local emulation, not AWS's dwell times. LocalStack runs on the same shared 2-core machine.",
    ],
  };
}

export const benchmark: Benchmark = {
  name: "fairness",
  description:
    "Fair delivery per tenant: a quiet tenant's dwell time behind another's flood, fairness on and off",
  run,
};
export default benchmark;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const endpoint = localClientConfig().endpoint;
  const fromEnv = process.env.BENCH_MESSAGES ? Number(process.env.BENCH_MESSAGES) : undefined;
  const result = await run({ endpoint, messages: fromEnv, log: (line) => process.stderr.write(`${line}\n`) });
  console.table(result.rows);
  for (const note of result.notes ?? []) console.log(`- ${note}`);
}
