/**
 * Lambda's SQS trigger, as cases: each runs courier's local event source on a queue and holds what
 * the handler saw (batches, receive counts, order, timing) and what the queue kept (DLQ, leftovers)
 * against the behaviour AWS documents. One list, two targets: the test kit's in-memory queue on a
 * manual clock (test/unit/sqs-trigger-conformance.test.ts) and LocalStack's SQS on the wall clock
 * (test/integration/sqs-trigger-conformance.test.ts); bench/test-kit.bench.ts times both.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSRecord } from "aws-lambda";
import { ManualClock } from "../../packages/courier/src/testing/manual-clock.ts";
import { MemorySqs } from "../../packages/courier/src/testing/memory-sqs.ts";
import { Scheduler } from "../../packages/courier/src/testing/scheduler.ts";
import type { Clock } from "../../packages/courier/src/worker/clock.ts";
import { LocalEventSource, type SqsHandler } from "../../packages/courier/src/worker/event-source.ts";

const LAMBDA_SQS_ERRORS = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html";
const LAMBDA_SQS_BATCHING = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html";
const SQS_VISIBILITY =
  "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html";
const SQS_DLQ =
  "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html";
const SQS_FIFO =
  "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html";

export interface SeenRecord {
  readonly body: string;
  readonly messageId: string;
  readonly receiveCount: number;
  /** Whether the handler reported it failed (or the batch failed whole). */
  readonly failed: boolean;
}

export interface Invocation {
  /** On the target's clock. */
  readonly atMs: number;
  readonly records: readonly SeenRecord[];
}

export interface Observed {
  readonly invocations: readonly Invocation[];
  readonly deadLetters: readonly string[];
  readonly left: number;
}

type Outcome =
  | { readonly respond: SQSBatchResponse | undefined; readonly failed: ReadonlySet<string> }
  | "throw";

export interface ConformanceCase {
  readonly id: string;
  readonly behaviour: string;
  readonly doc: string;
  readonly fifo?: boolean;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly messages: readonly { readonly body: string; readonly group?: string }[];
  /** What the handler does with a batch, given every record delivered before it. */
  readonly decide: (batch: readonly SQSRecord[], before: readonly Invocation[]) => Outcome;
  /** Enough has been delivered to judge. */
  readonly done: (invocations: readonly Invocation[]) => boolean;
  /** How long to go on afterwards, to see that nothing else comes (a deleted record stays deleted). */
  readonly quietSeconds: number;
  /** What is wrong with the run: empty when it conforms. */
  readonly check: (observed: Observed) => string[];
}

const times = (o: Observed, body: string) =>
  o.invocations.flatMap((i) => i.records).filter((r) => r.body === body);
const succeeded = (o: Observed) =>
  o.invocations.flatMap((i) => i.records.filter((r) => !r.failed).map((r) => r.body));
const delivered = (invocations: readonly Invocation[]) => invocations.flatMap((i) => i.records);
const allOk = (_batch: readonly SQSRecord[]): Outcome => ({ respond: undefined, failed: new Set() });
const failing = (batch: readonly SQSRecord[], ids: ReadonlySet<string>): Outcome => ({
  respond: { batchItemFailures: [...ids].map((itemIdentifier) => ({ itemIdentifier })) },
  failed: new Set(batch.filter((r) => ids.has(r.messageId)).map((r) => r.body)),
});

function problems(...checks: [boolean, string][]): string[] {
  return checks.filter(([ok]) => !ok).map(([, problem]) => problem);
}

export const CASES: readonly ConformanceCase[] = [
  {
    id: "success-deletes",
    behaviour: "A batch that returns nothing succeeds: every record is deleted and never delivered again",
    doc: LAMBDA_SQS_ERRORS,
    visibilityTimeoutSeconds: 2,
    maxReceiveCount: 5,
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    messages: [{ body: "a" }, { body: "b" }, { body: "c" }],
    decide: allOk,
    done: (inv) => delivered(inv).length >= 3,
    quietSeconds: 3,
    check: (o) =>
      problems(
        [["a", "b", "c"].every((b) => times(o, b).length === 1), "a record was delivered more than once"],
        [o.left === 0, `${o.left} messages left in the queue`],
      ),
  },
  {
    id: "batching-window",
    behaviour: "Records sent together within the batching window arrive in one invocation (batch size 10)",
    doc: LAMBDA_SQS_BATCHING,
    visibilityTimeoutSeconds: 2,
    maxReceiveCount: 5,
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    messages: ["1", "2", "3", "4", "5"].map((body) => ({ body })),
    decide: allOk,
    done: (inv) => delivered(inv).length >= 5,
    quietSeconds: 0,
    check: (o) =>
      problems([
        o.invocations.length === 1,
        `${o.invocations.length} invocations for 5 records sent at once`,
      ]),
  },
  {
    id: "partial-batch-response",
    behaviour: "batchItemFailures fails only the records it names; they return after the visibility timeout",
    doc: LAMBDA_SQS_ERRORS,
    visibilityTimeoutSeconds: 2,
    maxReceiveCount: 5,
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    messages: [{ body: "ok-1" }, { body: "fail-once" }, { body: "ok-2" }],
    decide: (batch) => {
      const first = batch.filter(
        (r) => r.body === "fail-once" && r.attributes.ApproximateReceiveCount === "1",
      );
      return failing(batch, new Set(first.map((r) => r.messageId)));
    },
    done: (inv) => delivered(inv).filter((r) => !r.failed).length >= 3,
    quietSeconds: 3,
    check: (o) => {
      const [first, second] = times(o, "fail-once");
      const firstAt = o.invocations.find((i) => i.records.some((r) => r === first))?.atMs ?? 0;
      const secondAt = o.invocations.find((i) => i.records.some((r) => r === second))?.atMs ?? 0;
      return problems(
        [
          times(o, "ok-1").length === 1 && times(o, "ok-2").length === 1,
          "a record not named was delivered again",
        ],
        [second?.receiveCount === 2, "the named record did not come back with ApproximateReceiveCount 2"],
        [
          secondAt - firstAt >= 1900,
          `it came back after ${secondAt - firstAt} ms, before its visibility timeout`,
        ],
        [o.left === 0, `${o.left} messages left in the queue`],
      );
    },
  },
  {
    id: "empty-batch-item-failures",
    behaviour: "An empty batchItemFailures list is a complete success",
    doc: LAMBDA_SQS_ERRORS,
    visibilityTimeoutSeconds: 2,
    maxReceiveCount: 5,
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    messages: [{ body: "a" }, { body: "b" }],
    decide: (batch) => failing(batch, new Set()),
    done: (inv) => delivered(inv).length >= 2,
    quietSeconds: 3,
    check: (o) => problems([delivered(o.invocations).length === 2, "a record was delivered again"]),
  },
  {
    id: "invalid-item-identifier",
    behaviour: "A batchItemFailures entry naming a record not in the batch fails the whole batch",
    doc: LAMBDA_SQS_ERRORS,
    visibilityTimeoutSeconds: 2,
    maxReceiveCount: 5,
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    messages: [{ body: "a" }, { body: "b" }],
    decide: (batch, before) =>
      before.length === 0
        ? {
            respond: { batchItemFailures: [{ itemIdentifier: "not-in-this-batch" }] },
            failed: new Set(batch.map((r) => r.body)),
          }
        : allOk(batch),
    done: (inv) => delivered(inv).length >= 4,
    quietSeconds: 0,
    check: (o) =>
      problems([times(o, "a").length === 2 && times(o, "b").length === 2, "the batch was not retried whole"]),
  },
  {
    id: "throw-fails-batch",
    behaviour: "A handler that throws fails the whole batch: every record returns",
    doc: LAMBDA_SQS_ERRORS,
    visibilityTimeoutSeconds: 2,
    maxReceiveCount: 5,
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    messages: [{ body: "a" }, { body: "b" }],
    decide: (_batch, before) => (before.length === 0 ? "throw" : allOk(_batch)),
    done: (inv) => delivered(inv).length >= 4,
    quietSeconds: 0,
    check: (o) =>
      problems([times(o, "a").length === 2 && times(o, "b").length === 2, "the batch was not retried whole"]),
  },
  {
    id: "max-receive-count-dlq",
    behaviour:
      "After maxReceiveCount receives SQS moves a failing message to the DLQ; it is not delivered again",
    doc: SQS_DLQ,
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 2,
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    messages: [{ body: "poison" }],
    decide: (batch) => failing(batch, new Set(batch.map((r) => r.messageId))),
    done: (inv) => delivered(inv).length >= 2,
    quietSeconds: 4,
    check: (o) =>
      problems(
        [
          times(o, "poison").length === 2,
          `delivered ${times(o, "poison").length} times with maxReceiveCount 2`,
        ],
        [o.deadLetters.includes("poison"), "not in the DLQ"],
        [o.left === 0, `${o.left} messages left in the queue`],
      ),
  },
  {
    id: "visibility-timeout",
    behaviour: "A failed record stays hidden for the queue's visibility timeout before its next delivery",
    doc: SQS_VISIBILITY,
    visibilityTimeoutSeconds: 3,
    maxReceiveCount: 5,
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    messages: [{ body: "slow" }],
    decide: (batch, before) =>
      before.length === 0 ? failing(batch, new Set(batch.map((r) => r.messageId))) : allOk(batch),
    done: (inv) => delivered(inv).length >= 2,
    quietSeconds: 0,
    check: (o) => {
      const gap = (o.invocations[1]?.atMs ?? 0) - (o.invocations[0]?.atMs ?? 0);
      return problems([gap >= 2900, `delivered again after ${gap} ms (visibility timeout 3 s)`]);
    },
  },
  {
    id: "fifo-group-order",
    behaviour:
      "FIFO: a group's records are delivered in order, one batch of a group at a time; after a failure the group resumes from the failed record, other groups go on",
    doc: SQS_FIFO,
    fifo: true,
    visibilityTimeoutSeconds: 2,
    maxReceiveCount: 5,
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    messages: [
      { body: "g1-1", group: "g1" },
      { body: "g1-2", group: "g1" },
      { body: "g1-3", group: "g1" },
      { body: "g2-1", group: "g2" },
    ],
    // As Powertools' SqsFifoPartialProcessor: stop at the first failure, report it and the rest of its group.
    decide: (batch) => {
      const firstFail = batch.findIndex(
        (r) => r.body === "g1-1" && r.attributes.ApproximateReceiveCount === "1",
      );
      if (firstFail < 0) return allOk(batch);
      const rest = batch.slice(firstFail).filter((r) => r.attributes.MessageGroupId === "g1");
      return failing(batch, new Set(rest.map((r) => r.messageId)));
    },
    done: (inv) => delivered(inv).filter((r) => !r.failed).length >= 4,
    quietSeconds: 0,
    check: (o) =>
      problems(
        [
          JSON.stringify(succeeded(o).filter((b) => b.startsWith("g1"))) ===
            JSON.stringify(["g1-1", "g1-2", "g1-3"]),
          `group g1 completed as ${JSON.stringify(succeeded(o).filter((b) => b.startsWith("g1")))}`,
        ],
        [times(o, "g2-1").length === 1, "group g2 was held or repeated by g1's failure"],
      ),
  },
];

/** A queue to run a case on, and how time passes there. */
export interface ConformanceTarget {
  readonly name: string;
  readonly sqs: SQSClient;
  readonly clock?: Clock;
  createQueue(
    c: ConformanceCase,
  ): Promise<{ url: string; arn: string; dlqUrl: string; delete(): Promise<void> }>;
  send(url: string, c: ConformanceCase): Promise<void>;
  /** Until `done()` or `seconds` of the target's time pass. */
  waitUntil(done: () => boolean, seconds: number): Promise<void>;
  track(handler: SqsHandler): SqsHandler;
  /** A stop begins: long polls in progress may end now rather than at the end of their wait. */
  endReceives(): void;
  deadLetters(dlqUrl: string): Promise<string[]>;
  left(url: string): Promise<number>;
  now(): number;
}

/** Runs one case on a target through the local event source; returns what happened. */
export async function runCase(
  target: ConformanceTarget,
  c: ConformanceCase,
  budgetSeconds = 60,
): Promise<Observed> {
  const queue = await target.createQueue(c);
  const invocations: Invocation[] = [];
  let settled = 0;
  const handler: SqsHandler = async (event) => {
    const outcome = c.decide(event.Records, invocations);
    const failedBodies = outcome === "throw" ? new Set(event.Records.map((r) => r.body)) : outcome.failed;
    invocations.push({
      atMs: target.now(),
      records: event.Records.map((r) => ({
        body: r.body,
        messageId: r.messageId,
        receiveCount: Number(r.attributes.ApproximateReceiveCount),
        failed: failedBodies.has(r.body),
      })),
    });
    if (outcome === "throw") throw new Error("the handler failed");
    return outcome.respond;
  };
  const source = new LocalEventSource({
    sqs: target.sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    handler: target.track(handler),
    functionName: `conformance-${c.id}`,
    batchSize: c.batchSize,
    maxBatchingWindowSeconds: c.maxBatchingWindowSeconds,
    timeoutSeconds: 10,
    concurrency: 2,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: c.visibilityTimeoutSeconds,
    extendVisibilityAfter: false,
    fifoReturnWaitSeconds: c.visibilityTimeoutSeconds + 3,
    ...(target.clock ? { clock: target.clock } : {}),
    onBatch: () => {
      settled += 1;
    },
    onError: () => undefined,
  });
  try {
    await target.send(queue.url, c);
    await source.start();
    await target.waitUntil(() => c.done(invocations) && settled >= invocations.length, budgetSeconds);
    if (c.quietSeconds > 0) await target.waitUntil(() => false, c.quietSeconds);
    await target.waitUntil(() => settled >= invocations.length, budgetSeconds);
    const stopping = source.stop();
    target.endReceives();
    await stopping;
    return {
      invocations,
      deadLetters: await target.deadLetters(queue.dlqUrl),
      left: await target.left(queue.url),
    };
  } finally {
    const stopped = source.stop();
    target.endReceives();
    await stopped;
    await queue.delete();
  }
}

/** The test kit's queue and clock: a case takes no wall time beyond its handler calls. */
export function memoryTarget(): ConformanceTarget & { readonly memory: MemorySqs } {
  const clock = new ManualClock(Date.now());
  const scheduler = new Scheduler(clock, 10_000);
  const memory = new MemorySqs(clock, () => scheduler.bump());
  return {
    name: "test kit",
    memory,
    sqs: memory.client,
    clock,
    async createQueue(c) {
      const suffix = c.fifo ? ".fifo" : "";
      const dlq = memory.createQueue({ name: `${c.id}-dlq${suffix}`, visibilityTimeoutSeconds: 30 });
      const queue = memory.createQueue({
        name: `${c.id}${suffix}`,
        visibilityTimeoutSeconds: c.visibilityTimeoutSeconds,
        redrive: { deadLetterQueue: dlq.url, maxReceiveCount: c.maxReceiveCount },
      });
      return { url: queue.url, arn: queue.arn, dlqUrl: dlq.url, delete: async () => memory.endReceives() };
    },
    async send(url, c) {
      const queue = memory.queue(url);
      for (const m of c.messages)
        memory.enqueue(queue, { MessageBody: m.body, ...(m.group ? { MessageGroupId: m.group } : {}) });
    },
    waitUntil: (done, seconds) =>
      scheduler.runUntil(done, clock.now() + seconds * 1000).then(() => undefined),
    track: (handler) => scheduler.track(handler),
    endReceives: () => memory.endReceives(),
    deadLetters: async (dlqUrl) => memory.queue(dlqUrl).messages.map((m) => m.body),
    left: async (url) => memory.queue(url).messages.length,
    now: () => clock.now(),
  };
}
