/**
 * Drain rate: how fast the local event source empties a LocalStack queue of N messages, against
 * the sqs-consumer library (v14) draining the same kind of queue in the same run. Both get the same
 * handler work (JSON.parse of each body, counted), batches of 10, long polling, every attribute
 * requested, and the same number of concurrent pollers (sqs-consumer polls with one loop per
 * Consumer, so its N pollers are N Consumers on the queue). Each scenario fills a fresh queue
 * (untimed), then times from start until every message was handled and deleted; the queue is
 * checked empty afterwards. Scenarios are interleaved round by round so machine load hits them alike.
 *
 * `--messages N` (default 2000) per scenario; BENCH_ROUNDS (default 3) rounds; BENCH_POLLERS
 * (default 4) for the concurrent rows.
 *
 * Run with the others: npm run bench -- drain. Run alone: npx tsx bench/drain.bench.ts
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { Consumer } from "sqs-consumer";
import { startEventSource } from "../packages/courier/src/worker/event-source.ts";
import { localClientConfig } from "../src/dev/local-aws-config.ts";
import type { BenchContext, Benchmark, BenchResult, Row } from "./lib/benchmark.ts";
import { forEachWithConcurrency } from "./lib/concurrency.ts";
import { round } from "./lib/stats.ts";

const DEFAULT_MESSAGES = 2_000;
const DEFAULT_ROUNDS = 3;
const DEFAULT_POLLERS = 4;
const BATCH_SIZE = 10;
/** Far above any batch's run time: a redelivery would then be a bug, and it is reported. */
const VISIBILITY_TIMEOUT_SECONDS = 120;
const DRAIN_DEADLINE_MS = 300_000;

interface Drainer {
  /** Starts draining; `onHandled` is called once per message handled, after its delete. */
  start(queueUrl: string, onHandled: (count: number) => void, work: (body: string) => void): Promise<void>;
  stop(): Promise<void>;
}

interface Scenario {
  readonly name: string;
  readonly pollers: number;
  readonly make: (sqs: SQSClient, pollers: number) => Drainer;
}

/** Lambda-style: the local event source with a Lambda SQS handler. */
function eventSourceDrainer(sqs: SQSClient, pollers: number): Drainer {
  let source: Awaited<ReturnType<typeof startEventSource>> | undefined;
  return {
    async start(queueUrl, onHandled, work) {
      source = await startEventSource({
        sqs,
        queueUrl,
        functionName: "drain-bench",
        batchSize: BATCH_SIZE,
        maxBatchingWindowSeconds: 0,
        timeoutSeconds: 30,
        concurrency: pollers,
        handler: async (event) => {
          for (const record of event.Records) work(record.body);
        },
        // onBatch runs after the batch's deletes, as message_processed does in sqs-consumer.
        onBatch: (result) => onHandled(result.succeeded),
      });
    },
    async stop() {
      await source?.stop();
    },
  };
}

/** The baseline: sqs-consumer's batch handler, one Consumer per poller. */
function sqsConsumerDrainer(sqs: SQSClient, pollers: number): Drainer {
  const consumers: Consumer[] = [];
  let stopping = false;
  return {
    async start(queueUrl, onHandled, work) {
      for (let i = 0; i < pollers; i++) {
        const consumer = Consumer.create({
          sqs,
          queueUrl,
          batchSize: BATCH_SIZE,
          waitTimeSeconds: 20,
          attributeNames: ["All"],
          messageSystemAttributeNames: ["All"],
          messageAttributeNames: ["All"],
          handleMessageBatch: async (messages) => {
            for (const message of messages) work(message.Body ?? "");
            return messages;
          },
        });
        consumer.on("message_processed", () => onHandled(1));
        // Aborting the long polls on stop is expected; anything before that is worth seeing.
        consumer.on("error", (error) => {
          if (!stopping) process.stderr.write(`sqs-consumer error: ${error.message}\n`);
        });
        consumer.start();
        consumers.push(consumer);
      }
    },
    async stop() {
      stopping = true;
      for (const consumer of consumers) consumer.stop({ abort: true });
    },
  };
}

const scenarios = (pollers: number): Scenario[] => [
  { name: `sqs-consumer, ${pollers} pollers`, pollers, make: sqsConsumerDrainer },
  { name: `local event source, ${pollers} pollers`, pollers, make: eventSourceDrainer },
  { name: "sqs-consumer, 1 poller", pollers: 1, make: sqsConsumerDrainer },
  { name: "local event source, 1 poller", pollers: 1, make: eventSourceDrainer },
];

function positiveEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw ? Number(raw) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** A body about the size of a NewAccount envelope, so parsing does real work. */
function body(i: number, runId: string): string {
  return JSON.stringify({
    eventId: `${runId}-${i}`,
    type: "NewAccount",
    version: 1,
    occurredAt: new Date().toISOString(),
    producer: "drain-bench",
    data: {
      accountId: `acct-${i}`,
      email: `user${i}@example.com`,
      displayName: `User ${i}`,
      locale: "en-GB",
    },
  });
}

async function createQueue(sqs: SQSClient, name: string): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: { VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS) },
    }),
  );
  if (!QueueUrl) throw new Error(`CreateQueue returned no URL for ${name}`);
  return QueueUrl;
}

async function fill(sqs: SQSClient, queueUrl: string, messages: number, runId: string): Promise<void> {
  const calls = Math.ceil(messages / 10);
  await forEachWithConcurrency(calls, 8, async (call) => {
    const entries = Array.from({ length: Math.min(10, messages - call * 10) }, (_, i) => ({
      Id: String(i),
      MessageBody: body(call * 10 + i, runId),
    }));
    const { Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
    if (Failed.length > 0) throw new Error(`filling the queue: ${Failed.length} entries failed`);
  });
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

interface Measurement {
  readonly seconds: number;
  readonly handled: number;
  readonly unique: number;
  readonly left: number;
  readonly receives: number;
  readonly deletes: number;
}

/** A fresh client per drain, counting its calls: the two consumers' request patterns side by side. */
function countingClient(config: ReturnType<typeof localClientConfig>) {
  const client = new SQSClient(config);
  const calls = { receives: 0, deletes: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context as { commandName?: string }).commandName;
      if (name === "ReceiveMessageCommand") calls.receives += 1;
      if (name === "DeleteMessageBatchCommand") calls.deletes += 1;
      return next(args);
    },
    { step: "initialize", name: "drainBenchCallCounter" },
  );
  return { client, calls };
}

async function drainOnce(
  sqs: SQSClient,
  config: ReturnType<typeof localClientConfig>,
  scenario: Scenario,
  messages: number,
  label: string,
  log: (line: string) => void,
): Promise<Measurement> {
  const runId = randomBytes(4).toString("hex");
  const queueUrl = await createQueue(sqs, `drain-bench-${label}-${runId}`);
  try {
    await fill(sqs, queueUrl, messages, runId);
    const seen = new Set<string>();
    let handled = 0;
    let done: () => void = () => undefined;
    const allHandled = new Promise<void>((resolve) => {
      done = resolve;
    });
    const work = (text: string) => {
      const parsed = JSON.parse(text) as { eventId: string };
      seen.add(parsed.eventId);
    };
    const counting = countingClient(config);
    const drainer = scenario.make(counting.client, scenario.pollers);
    const started = performance.now();
    await drainer.start(
      queueUrl,
      (count) => {
        handled += count;
        if (handled >= messages) done();
      },
      work,
    );
    const deadline = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${scenario.name}: not drained within ${DRAIN_DEADLINE_MS} ms`)),
        DRAIN_DEADLINE_MS,
      ).unref(),
    );
    await Promise.race([allHandled, deadline]);
    const seconds = (performance.now() - started) / 1000;
    await drainer.stop();
    counting.client.destroy();
    const left = await messagesLeft(sqs, queueUrl);
    log(
      `  ${scenario.name}: ${messages} in ${round(seconds, 2)} s (${Math.round(messages / seconds)} msg/s)`,
    );
    return { seconds, handled, unique: seen.size, left, ...counting.calls };
  } finally {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
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
  const config = localClientConfig({ ...process.env, AWS_ENDPOINT_URL: context.endpoint });
  const sqs = new SQSClient(config);
  const list = scenarios(pollers);
  const results = new Map<string, Measurement[]>(list.map((s) => [s.name, []]));
  for (let r = 1; r <= rounds; r++) {
    context.log(`  round ${r} of ${rounds}`);
    // Alternate the order each round, so neither consumer always runs right after the other.
    const order = r % 2 === 1 ? list : [...list].reverse();
    for (const [i, scenario] of order.entries()) {
      results
        .get(scenario.name)
        ?.push(await drainOnce(sqs, config, scenario, messages, `s${i}`, context.log));
    }
  }
  sqs.destroy();

  const baseline = messages / median((results.get(list[0]?.name ?? "") ?? []).map((m) => m.seconds));
  const rows: Row[] = list.map((scenario) => {
    const runs = results.get(scenario.name) ?? [];
    const rates = runs.map((m) => messages / m.seconds);
    const seconds = median(runs.map((m) => m.seconds));
    const rate = messages / seconds;
    return {
      scenario: scenario.name,
      "msg/s (median run)": Math.round(rate),
      "msg/s (min-max)": `${Math.round(Math.min(...rates))}-${Math.round(Math.max(...rates))}`,
      "vs baseline": `${round(rate / baseline, 2)}x`,
      "seconds (median)": round(seconds, 2),
      "receives/round": Math.round(runs.reduce((n, m) => n + m.receives, 0) / Math.max(1, runs.length)),
      "deletes/round": Math.round(runs.reduce((n, m) => n + m.deletes, 0) / Math.max(1, runs.length)),
      "handled twice": runs.reduce((n, m) => n + (m.handled - m.unique), 0),
      "left in queue": runs.reduce((n, m) => n + m.left, 0),
    };
  });
  return {
    rows,
    notes: [
      `${messages} messages per scenario and round, ${rounds} rounds interleaved (order reversed every other round); batches of ${BATCH_SIZE}, long polling (20 s), all attributes requested; the event source runs with a 0 s batching window, so it invokes as soon as a receive returns, as sqs-consumer does.`,
      "Timed from start until every message was handled and its delete returned; queue filling is not timed. 'handled twice' and 'left in queue' should be 0.",
      "The event source does more per batch than sqs-consumer: it builds Lambda's SQSEvent records and a Context, and races the handler against the function timeout.",
      "LocalStack runs on the same machine, sharing its CPUs: the figures compare the two consumers' request patterns and overhead, not AWS's throughput. On a shared, loaded machine single runs vary by 2x or more; compare receives and deletes per round for the request pattern, and the median over rounds for speed.",
    ],
  };
}

export const benchmark: Benchmark = {
  name: "drain",
  description:
    "Drain rate of a LocalStack SQS queue: the local event source against sqs-consumer, same handler and pollers",
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
