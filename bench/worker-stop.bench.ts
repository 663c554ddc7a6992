/**
 * Stop, publish, start: the rolling-deploy cycle of a worker. A worker with 4 pollers waits on an
 * empty queue (its long polls parked at SQS); it is stopped; half a second later a message is sent;
 * once the stop has returned a new worker (the local event source, the same in every row) starts.
 * Measured: how long the stop took, and how long the message waited from its send until a handler
 * had it. A stopper that abandons its parked polls leaves the message hidden in one of them for
 * the queue's visibility timeout.
 *
 * Rows, in the same run on fresh queues:
 * - sqs-consumer v14, `stop({ abort: true })`: the long polls aborted on the client side only (what
 *   courier's event source did before issue 18);
 * - sqs-consumer v14, `stop()`: the polls run out, and a message one of them brings is processed by
 *   the stopping consumer (so the stop lasts as long as that handler);
 * - the local event source's `stop()`, with the default 20 s long-poll wait and with 5 s: the polls
 *   run out, and a message one brings after the stop began is held while the worker's other polls
 *   are parked, then released (visibility 0) for the next worker, not processed.
 *
 * BENCH_ROUNDS (default 2) rounds; the queue's visibility timeout is 30 s (the project's own queues
 * use 180 s and 360 s, so the hidden case waits longer there).
 *
 * Run with the others: npm run bench -- worker-stop. Run alone: npx tsx bench/worker-stop.bench.ts
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { CreateQueueCommand, DeleteQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Consumer } from "sqs-consumer";
import { type LocalEventSource, startEventSource } from "../packages/courier/src/worker/event-source.ts";
import { localClientConfig } from "../src/dev/local-aws-config.ts";
import type { BenchContext, Benchmark, BenchResult, Row } from "./lib/benchmark.ts";
import { round } from "./lib/stats.ts";

const POLLERS = 4;
const DEFAULT_ROUNDS = 2;
const VISIBILITY_TIMEOUT_SECONDS = 30;
/** Long enough for every poll to be parked at SQS before the stop. */
const PARKED_MS = 1_500;
const PUBLISH_AFTER_STOP_MS = 500;
/** Bounds a broken run: the hidden message returns after the visibility timeout. */
const HANDLED_DEADLINE_MS = (VISIBILITY_TIMEOUT_SECONDS + 30) * 1000;

interface StoppingWorker {
  /** `onHandled` gets the body and the ApproximateReceiveCount of the delivery handled. */
  start(queueUrl: string, onHandled: (body: string, receiveCount: number) => void): Promise<void>;
  /** Resolves when the worker has stopped; `released` where the worker counts it. */
  stop(): Promise<{ released?: number }>;
}

interface Scenario {
  readonly name: string;
  readonly make: (sqs: SQSClient) => StoppingWorker;
}

function sqsConsumerWorker(abort: boolean) {
  return (sqs: SQSClient): StoppingWorker => {
    const consumers: Consumer[] = [];
    return {
      async start(queueUrl, onHandled) {
        for (let i = 0; i < POLLERS; i++) {
          const consumer = Consumer.create({
            sqs,
            queueUrl,
            batchSize: 10,
            waitTimeSeconds: 20,
            // Without it stop() emits "stopped" at once, before the last poll has returned.
            pollingCompleteWaitTimeMs: 30_000,
            messageSystemAttributeNames: ["ApproximateReceiveCount"],
            handleMessage: async (message) => {
              onHandled(message.Body ?? "", Number(message.Attributes?.ApproximateReceiveCount));
              return message;
            },
          });
          // The aborted polls report errors; they are what this row measures, not a failure.
          consumer.on("error", () => undefined);
          consumer.start();
          consumers.push(consumer);
        }
      },
      async stop() {
        await Promise.all(
          consumers.map((consumer) => {
            const stopped = new Promise<void>((resolve) => consumer.once("stopped", () => resolve()));
            consumer.stop({ abort });
            return stopped;
          }),
        );
        return {};
      },
    };
  };
}

function eventSourceWorker(waitTimeSeconds: number) {
  return (sqs: SQSClient): StoppingWorker => eventSource(sqs, waitTimeSeconds);
}

function eventSource(sqs: SQSClient, waitTimeSeconds: number): StoppingWorker {
  let source: LocalEventSource | undefined;
  return {
    async start(queueUrl, onHandled) {
      source = await startEventSource({
        sqs,
        queueUrl,
        functionName: "worker-stop-bench",
        batchSize: 10,
        maxBatchingWindowSeconds: 0,
        timeoutSeconds: 10,
        concurrency: POLLERS,
        waitTimeSeconds,
        onError: () => undefined,
        handler: async (event) => {
          for (const record of event.Records) {
            onHandled(record.body, Number(record.attributes.ApproximateReceiveCount));
          }
        },
      });
    },
    async stop() {
      const stats = (await source?.stop()) as { released?: number } | undefined;
      return { ...(stats?.released !== undefined ? { released: stats.released } : {}) };
    },
  };
}

const scenarios: Scenario[] = [
  { name: "sqs-consumer stop({abort: true}) (courier before #18)", make: sqsConsumerWorker(true) },
  { name: "sqs-consumer stop()", make: sqsConsumerWorker(false) },
  { name: "local event source stop(), 20 s long-poll wait", make: eventSourceWorker(20) },
  { name: "local event source stop(), 5 s long-poll wait", make: eventSourceWorker(5) },
];

interface Measurement {
  readonly stopSeconds: number;
  readonly handledSeconds: number;
  /** Who handled the message: the stopping worker or the new one. */
  readonly handledBy: "stopping" | "new" | "nobody";
  /** ApproximateReceiveCount of the delivery handled: each extra receive spends a retry. */
  readonly receiveCount: number;
  readonly released?: number;
}

async function cycleOnce(
  sqs: SQSClient,
  scenario: Scenario,
  log: (line: string) => void,
): Promise<Measurement> {
  const runId = randomBytes(4).toString("hex");
  const { QueueUrl: queueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: `worker-stop-bench-${runId}`,
      Attributes: { VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS) },
    }),
  );
  if (!queueUrl) throw new Error("CreateQueue returned no URL");
  const body = `stop-publish-start ${runId}`;
  let handledBy: Measurement["handledBy"] = "nobody";
  let handledAt: number | undefined;
  let receiveCount = Number.NaN;
  let sentAt = 0;
  let onHandled: () => void = () => undefined;
  const handled = new Promise<void>((resolve) => {
    onHandled = resolve;
  });
  const note = (who: "stopping" | "new") => (text: string, count: number) => {
    if (text !== body || handledAt !== undefined) return;
    handledAt = performance.now();
    receiveCount = count;
    handledBy = who;
    onHandled();
  };
  const oldClient = new SQSClient(localClientConfig());
  const newClient = new SQSClient(localClientConfig());
  const next = eventSource(newClient, 20);
  try {
    const stopping = scenario.make(oldClient);
    await stopping.start(queueUrl, note("stopping"));
    await new Promise((resolve) => setTimeout(resolve, PARKED_MS));
    const stopAt = performance.now();
    const stopped = stopping.stop().then((result) => ({ ...result, at: performance.now() }));
    await new Promise((resolve) => setTimeout(resolve, PUBLISH_AFTER_STOP_MS));
    sentAt = performance.now();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const stop = await stopped;
    await next.start(queueUrl, note("new"));
    await Promise.race([handled, new Promise((resolve) => setTimeout(resolve, HANDLED_DEADLINE_MS).unref())]);
    const measurement: Measurement = {
      stopSeconds: (stop.at - stopAt) / 1000,
      handledSeconds: handledAt === undefined ? Number.NaN : (handledAt - sentAt) / 1000,
      handledBy,
      receiveCount,
      ...(stop.released !== undefined ? { released: stop.released } : {}),
    };
    log(
      `  ${scenario.name}: stop ${round(measurement.stopSeconds, 2)} s, handled ${round(measurement.handledSeconds, 2)} s after the send by the ${handledBy} worker (receive ${receiveCount})`,
    );
    return measurement;
  } finally {
    await next.stop().catch(() => undefined);
    oldClient.destroy();
    newClient.destroy();
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
  const raw = process.env.BENCH_ROUNDS;
  const rounds = raw ? Number(raw) : DEFAULT_ROUNDS;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_ROUNDS must be a positive integer`);
  const sqs = new SQSClient(localClientConfig());
  const results = new Map<string, Measurement[]>(scenarios.map((s) => [s.name, []]));
  try {
    for (let r = 1; r <= rounds; r++) {
      context.log(`round ${r}/${rounds}`);
      for (const scenario of scenarios)
        results.get(scenario.name)?.push(await cycleOnce(sqs, scenario, context.log));
    }
  } finally {
    sqs.destroy();
  }
  const rows: Row[] = scenarios.map((scenario) => {
    const ms = results.get(scenario.name) ?? [];
    const released = ms.flatMap((m) => (m.released === undefined ? [] : [m.released]));
    return {
      stopper: scenario.name,
      "stop s (median)": round(median(ms.map((m) => m.stopSeconds)), 2),
      "send to handled s (median)": round(median(ms.map((m) => m.handledSeconds)), 2),
      "send to handled s (max)": round(Math.max(...ms.map((m) => m.handledSeconds)), 2),
      "handled by": [...new Set(ms.map((m) => m.handledBy))].join("/"),
      "receive count when handled": [...new Set(ms.map((m) => m.receiveCount))].join("/"),
      released: released.length > 0 ? released.join("/") : "-",
    };
  });
  return {
    rows,
    notes: [
      `${POLLERS} pollers parked ${PARKED_MS} ms on an empty queue (visibility timeout ${VISIBILITY_TIMEOUT_SECONDS} s), stopped; one message sent ${PUBLISH_AFTER_STOP_MS} ms into the stop; a new local event source starts once the stop has returned.`,
      `Medians over ${rounds} rounds. "released": messages the stopping worker made visible again. "receive count when handled": ApproximateReceiveCount of the delivery that was handled (1: the first; each extra receive spends one of maxReceiveCount).`,
    ],
  };
}

export const benchmark: Benchmark = {
  name: "worker-stop",
  description: "Stop-publish-start: delay before a message sent during a worker's stop is handled",
  run,
};
export default benchmark;

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const endpoint = localClientConfig().endpoint;
  const result = await run({
    endpoint,
    messages: undefined,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.table(result.rows);
  for (const note of result.notes ?? []) console.log(note);
}
