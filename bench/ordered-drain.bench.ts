/**
 * Ordered drain: 2,000 messages through the FIFO path (an SQS FIFO queue on LocalStack drained by
 * the local event source, Lambda's FIFO trigger as the worker emulates it) with 1, 10 and 100
 * message groups, beside the same 2,000 messages on a standard queue, in the same run.
 *
 * Every scenario gets the same handler (JSON.parse of each body, a per-group order check, and
 * BENCH_WORK_MS of simulated I/O per message, default 2 ms, awaited one record after another as
 * the FIFO runtime does), batches of 10, no batching window, the same pollers (BENCH_POLLERS,
 * default 5). Messages are labelled with a group (i mod groups) and a per-group sequence number,
 * sent in sequence order (untimed, one batch call after another so send order is group order),
 * then timed from start until every message was handled and deleted. The standard queue carries
 * 100 group labels too, to count how much of their order it loses.
 *
 * Reported beside the rate: records handled out of their group's order, handled twice, left in the
 * queue, and the most batches of one group that ran at once (1 is what FIFO promises).
 *
 * `--messages N` (default 2000); BENCH_ROUNDS (default 1) rounds, interleaved.
 * Run with the others: npm run bench -- ordered-drain. Alone: npx tsx bench/ordered-drain.bench.ts
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { startEventSource } from "../packages/courier/src/worker/event-source.ts";
import { localClientConfig } from "../src/dev/local-aws-config.ts";
import type { BenchContext, Benchmark, BenchResult, Row } from "./lib/benchmark.ts";
import { round } from "./lib/stats.ts";

const DEFAULT_MESSAGES = 2_000;
const DEFAULT_ROUNDS = 1;
const DEFAULT_POLLERS = 5;
const DEFAULT_WORK_MS = 2;
const BATCH_SIZE = 10;
const VISIBILITY_TIMEOUT_SECONDS = 120;
const DRAIN_DEADLINE_MS = 300_000;

interface Scenario {
  readonly name: string;
  readonly fifo: boolean;
  readonly groups: number;
}

const SCENARIOS: readonly Scenario[] = [
  { name: "standard queue (no order), 100 group labels", fifo: false, groups: 100 },
  { name: "FIFO, 1 message group", fifo: true, groups: 1 },
  { name: "FIFO, 10 message groups", fifo: true, groups: 10 },
  { name: "FIFO, 100 message groups", fifo: true, groups: 100 },
];

function positiveEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  const n = raw ? Number(raw) : fallback;
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

interface Measurement {
  readonly seconds: number;
  readonly outOfOrder: number;
  readonly handledTwice: number;
  readonly left: number;
  readonly maxBatchesPerGroup: number;
  readonly receives: number;
}

async function createQueue(sqs: SQSClient, name: string, fifo: boolean): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: fifo ? `${name}.fifo` : name,
      Attributes: {
        VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS),
        ...(fifo
          ? {
              FifoQueue: "true",
              DeduplicationScope: "messageGroup",
              FifoThroughputLimit: "perMessageGroupId",
            }
          : {}),
      },
    }),
  );
  if (!QueueUrl) throw new Error(`CreateQueue returned no URL for ${name}`);
  return QueueUrl;
}

/** Sends message i as group `g${i % groups}`, sequence floor(i / groups), in i order. */
async function fill(sqs: SQSClient, queueUrl: string, scenario: Scenario, messages: number, runId: string) {
  for (let start = 0; start < messages; start += BATCH_SIZE) {
    const entries: SendMessageBatchRequestEntry[] = [];
    for (let i = start; i < Math.min(messages, start + BATCH_SIZE); i++) {
      const group = `g${i % scenario.groups}`;
      entries.push({
        Id: String(i - start),
        MessageBody: JSON.stringify({
          eventId: `${runId}-${i}`,
          type: "PasswordResetRequested",
          data: {
            accountId: group,
            sequence: Math.floor(i / scenario.groups),
            email: `${group}@example.com`,
          },
        }),
        ...(scenario.fifo ? { MessageGroupId: group, MessageDeduplicationId: `${runId}-${i}` } : {}),
      });
    }
    const { Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
    if (Failed.length > 0) throw new Error(`filling the queue: ${Failed.length} entries failed`);
  }
}

async function messagesLeft(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

async function drainOnce(
  config: ReturnType<typeof localClientConfig>,
  scenario: Scenario,
  messages: number,
  pollers: number,
  workMs: number,
  log: (line: string) => void,
): Promise<Measurement> {
  const sqs = new SQSClient(config);
  const runId = randomBytes(4).toString("hex");
  const queueUrl = await createQueue(sqs, `ordered-bench-${runId}`, scenario.fifo);
  let receives = 0;
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if ((context as { commandName?: string }).commandName === "ReceiveMessageCommand") receives += 1;
      return next(args);
    },
    { step: "initialize", name: "orderedBenchReceiveCounter" },
  );
  try {
    await fill(sqs, queueUrl, scenario, messages, runId);
    receives = 0;
    const lastSeen = new Map<string, number>();
    const seen = new Set<string>();
    const running = new Map<string, number>();
    let outOfOrder = 0;
    let handledTwice = 0;
    let maxBatchesPerGroup = 0;
    let handled = 0;
    let done: () => void = () => undefined;
    const allHandled = new Promise<void>((resolve) => {
      done = resolve;
    });
    const started = performance.now();
    const source = await startEventSource({
      sqs,
      queueUrl,
      functionName: "ordered-drain-bench",
      batchSize: BATCH_SIZE,
      maxBatchingWindowSeconds: 0,
      timeoutSeconds: 60,
      concurrency: pollers,
      visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
      waitTimeSeconds: 1,
      handler: async (event) => {
        const groups = new Set<string>();
        for (const record of event.Records) {
          groups.add((JSON.parse(record.body) as { data: { accountId: string } }).data.accountId);
        }
        for (const group of groups) {
          const now = (running.get(group) ?? 0) + 1;
          running.set(group, now);
          maxBatchesPerGroup = Math.max(maxBatchesPerGroup, now);
        }
        try {
          for (const record of event.Records) {
            const { eventId, data } = JSON.parse(record.body) as {
              eventId: string;
              data: { accountId: string; sequence: number };
            };
            if (seen.has(eventId)) handledTwice += 1;
            seen.add(eventId);
            if (data.sequence !== (lastSeen.get(data.accountId) ?? -1) + 1) outOfOrder += 1;
            lastSeen.set(data.accountId, Math.max(data.sequence, lastSeen.get(data.accountId) ?? -1));
            if (workMs > 0) await sleep(workMs);
          }
        } finally {
          for (const group of groups) running.set(group, (running.get(group) ?? 1) - 1);
        }
      },
      onBatch: (result) => {
        handled += result.succeeded;
        if (seen.size >= messages) done();
      },
      onError: (error, during) => log(`  ${scenario.name}: ${during} error: ${String(error)}`),
    });
    const deadline = new Promise<never>((_, reject) =>
      setTimeout(
        () =>
          reject(
            new Error(`${scenario.name}: not drained within ${DRAIN_DEADLINE_MS} ms (${handled} handled)`),
          ),
        DRAIN_DEADLINE_MS,
      ).unref(),
    );
    try {
      await Promise.race([allHandled, deadline]);
    } finally {
      await source.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    const left = await messagesLeft(sqs, queueUrl);
    log(
      `  ${scenario.name}: ${messages} in ${round(seconds, 2)} s (${Math.round(messages / seconds)} msg/s)`,
    );
    return { seconds, outOfOrder, handledTwice, left, maxBatchesPerGroup, receives };
  } finally {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    sqs.destroy();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function run(context: BenchContext): Promise<BenchResult> {
  const messages = context.messages ?? DEFAULT_MESSAGES;
  const rounds = positiveEnv("BENCH_ROUNDS", DEFAULT_ROUNDS);
  const pollers = positiveEnv("BENCH_POLLERS", DEFAULT_POLLERS);
  const workMs = positiveEnv("BENCH_WORK_MS", DEFAULT_WORK_MS, 0);
  const config = localClientConfig({ ...process.env, AWS_ENDPOINT_URL: context.endpoint });
  const results = new Map<string, Measurement[]>(SCENARIOS.map((s) => [s.name, []]));
  for (let r = 1; r <= rounds; r++) {
    context.log(`  round ${r} of ${rounds}`);
    const order = r % 2 === 1 ? SCENARIOS : [...SCENARIOS].reverse();
    for (const scenario of order) {
      results
        .get(scenario.name)
        ?.push(await drainOnce(config, scenario, messages, pollers, workMs, context.log));
    }
  }
  const baselineSeconds = median((results.get(SCENARIOS[0]?.name ?? "") ?? []).map((m) => m.seconds));
  const rows: Row[] = SCENARIOS.map((scenario) => {
    const runs = results.get(scenario.name) ?? [];
    const seconds = median(runs.map((m) => m.seconds));
    const rate = messages / seconds;
    const sum = (pick: (m: Measurement) => number) => runs.reduce((n, m) => n + pick(m), 0);
    return {
      scenario: scenario.name,
      "msg/s": Math.round(rate),
      "msg/s per group": scenario.fifo ? round(rate / scenario.groups, 1) : "-",
      "vs standard": `${round(baselineSeconds / seconds, 2)}x`,
      seconds: round(seconds, 2),
      receives: Math.round(sum((m) => m.receives) / Math.max(1, runs.length)),
      "out of group order": sum((m) => m.outOfOrder),
      "handled twice": sum((m) => m.handledTwice),
      "left in queue": sum((m) => m.left),
      "max batches of one group at once": Math.max(...runs.map((m) => m.maxBatchesPerGroup)),
    };
  });
  return {
    rows,
    notes: [
      `${messages} messages per scenario, ${rounds} round(s); ${pollers} pollers, batches of ${BATCH_SIZE}, no batching window, ${workMs} ms of simulated work per message, records of a batch handled one after another.`,
      "The FIFO rows are an SQS FIFO queue on LocalStack (no SNS hop: the topic's fan-out is the same for both kinds) drained by the local event source; the handler is a bare order check, not the consumer runtime, so the figures show the queue and its scheduling, not a consumer's own work.",
      "A FIFO group runs one batch at a time, so one group's rate is bounded by batch size / (receive + handler + delete time); more groups let more pollers work at once, up to the pollers' count.",
      "LocalStack runs on the same (shared, 2-core) machine: compare rows with each other, not with AWS's throughput.",
    ],
  };
}

export const benchmark: Benchmark = {
  name: "ordered-drain",
  description: "Ordered drain of a FIFO queue with 1, 10 and 100 message groups beside a standard queue",
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
