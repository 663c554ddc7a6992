/**
 * Poison pills and schema-invalid bodies through the real consumer runtime (defineConsumer) and the
 * real local event source on LocalStack's SQS, on throwaway queues this file creates and deletes.
 *
 * Failure modes covered:
 * - a message that always fails is retried forever, retried too few or too many times, or blocks
 *   its neighbours (they are not processed, or processed twice);
 * - retries come back at a fixed interval (the backoff's ChangeMessageVisibility not applied) or
 *   sooner than the backoff says;
 * - the last allowed receive is left to SQS's own redrive, which moves the message without a
 *   reason, or the DLQ copy loses the reason, the receive count or the original body;
 * - a schema-invalid body is retried instead of dead-lettered at once, reaches the handler, stays
 *   in the source queue, or is dead-lettered without a reason that names the problem.
 *
 * The source queues use the deployed stack's maxReceiveCount (5, from the topology) rather than 6:
 * SQS moves a message only on the receive AFTER the 5th (LocalStack as AWS), so the runtime must
 * dead-letter on the 5th receive itself to get there first. A runtime that waited one receive too
 * long would let SQS move the message without `courier.failure`, and this test would see that.
 */
import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { type Message, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { consumerSpecOf } from "../../packages/courier/src/topology/topology.ts";
import { type LocalEventSource, startEventSource } from "../../packages/courier/src/worker/event-source.ts";
import { NewAccountV1Contract } from "../../src/app/contracts/index.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { courierTopology } from "../../src/topology.ts";
import {
  type ConsumerHandler,
  type ConsumerMetrics,
  defineConsumer,
  FAILURE_ATTRIBUTE,
  type FailureReason,
} from "../helpers/example-consumer.ts";
import { type PreparedMessage, prepareMessage } from "../helpers/example-publisher.ts";
import {
  createTestQueue,
  eventually,
  eventuallyEmpty,
  messagesLeft,
  sendAll,
  sqs,
  type TestQueue,
} from "./event-source-queues.ts";

const CONSUMER = "team-notify";
const spec = consumerSpecOf(courierTopology, CONSUMER);
/**
 * Only for a failed ChangeMessageVisibility: every retry delay is set on the message itself. Not
 * shorter: on a loaded machine (integration files run side by side) a receive-to-ChangeMessageVisibility
 * round took over 5 s, the message surfaced before its delay was set, and a retry came early.
 */
const QUEUE_VISIBILITY_TIMEOUT_SECONDS = 30;
/** The runtime's jitter source: 0.999 makes full jitter pick (almost) the ceiling every time. */
const NEAR_ONE = () => 0.999;

const queues: TestQueue[] = [];
const sources: LocalEventSource[] = [];

afterAll(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  await Promise.all(queues.splice(0).map((q) => q.delete()));
});

beforeAll(() => {
  // The clients below must talk to the LocalStack the suite's global setup found or started.
  expect(localClientConfig().endpoint).toBe(inject("localstackEndpoint"));
});

const noMetrics = {
  addMetric: () => undefined,
  publishStoredMetrics: () => undefined,
} as unknown as ConsumerMetrics;

function newAccount(i: number): PreparedMessage {
  return prepareMessage(
    "account-signups",
    NewAccountV1Contract,
    {
      accountId: `acct-poison-${i}`,
      email: `user${i}@example.com`,
      displayName: `User ${i}`,
      locale: "en-US",
      createdAt: new Date().toISOString(),
    },
    { producer: "poison-pill-test", now: () => new Date(), newId: randomUUID },
  );
}

interface Receive {
  readonly atMs: number;
  readonly receiveCount: number;
}

/** What the runtime was handed, per body: one entry per receive, in order. */
class ReceiveLog {
  private readonly byBody = new Map<string, Receive[]>();

  /** Wraps the consumer's Lambda handler so every record the event source delivers is logged first. */
  wrap(handler: ConsumerHandler): ConsumerHandler {
    return (event, context) => {
      const atMs = Date.now();
      for (const record of event.Records) this.add(record, atMs);
      return handler(event, context);
    };
  }

  of(body: string): Receive[] {
    return this.byBody.get(body) ?? [];
  }

  private add(record: SQSRecord, atMs: number): void {
    const receives = this.byBody.get(record.body) ?? [];
    receives.push({ atMs, receiveCount: Number(record.attributes.ApproximateReceiveCount) });
    this.byBody.set(record.body, receives);
  }
}

/** Runs the consumer through the local event source with the consumer's own topology settings. */
async function runConsumer(q: TestQueue, handler: ConsumerHandler, handlerErrors: unknown[]) {
  const source = await startEventSource({
    sqs,
    queueUrl: q.url,
    queueArn: q.arn,
    handler,
    functionName: CONSUMER,
    batchSize: spec.batchSize,
    maxBatchingWindowSeconds: spec.maxBatchingWindowSeconds,
    timeoutSeconds: spec.timeoutSeconds,
    concurrency: spec.maxConcurrency,
    // A stop waits for parked receives to return (nothing is left hidden): with the 20 s default each
    // describe's stop took up to 20 s. Retries are set by the backoff, not by the poll.
    waitTimeSeconds: 2,
    onError: (error, during) => {
      if (during === "handler") handlerErrors.push(error);
    },
  });
  sources.push(source);
  return source;
}

/** Every message in a DLQ, held invisible so each is read once. Call only once nothing can arrive. */
async function readAll(queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 300,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
  }
}

function failureOf(message: Message | undefined): FailureReason {
  const value = message?.MessageAttributes?.[FAILURE_ATTRIBUTE]?.StringValue;
  if (value === undefined) throw new Error(`DLQ message has no ${FAILURE_ATTRIBUTE} attribute`);
  return JSON.parse(value) as FailureReason;
}

/**
 * The delay the runtime sets after the k-th failed receive, computed here independently of
 * src/consumer/backoff.ts: full jitter picks floor(0.999 × (ceiling + 1)) = ceiling for any
 * ceiling under 999 s, and the ceiling is base × 2^(k−1), capped.
 */
function expectedDelaySeconds(receiveCount: number): number {
  return Math.min(spec.backoff.baseSeconds * 2 ** (receiveCount - 1), spec.backoff.maxSeconds);
}

const NEIGHBOURS = 20;

describe(`poison pill: one message that always fails among ${NEIGHBOURS} that succeed (${CONSUMER})`, () => {
  const POISON_ERROR = "downstream rejected this sign-up again";
  const messages = Array.from({ length: NEIGHBOURS + 1 }, (_, i) => newAccount(i));
  // In the middle, so neighbours share its batches before and after it.
  const poison = messages[NEIGHBOURS / 2] as PreparedMessage;
  const neighbours = messages.filter((m) => m !== poison);
  const receives = new ReceiveLog();
  const handled = new Map<string, number>();
  const handlerErrors: unknown[] = [];
  let dlq: Message[] = [];
  let q: TestQueue;
  let runSeconds = 0;

  beforeAll(async () => {
    q = await createTestQueue("poison", {
      visibilityTimeoutSeconds: QUEUE_VISIBILITY_TIMEOUT_SECONDS,
      maxReceiveCount: spec.maxReceiveCount,
    });
    queues.push(q);
    await sendAll(
      q.url,
      messages.map((m) => ({ body: m.body, attributes: m.attributes })),
    );
    const consumer = defineConsumer({
      name: CONSUMER,
      sqs,
      queueUrl: q.url,
      dlqUrl: q.dlqUrl,
      logger: new Logger({ serviceName: CONSUMER, logLevel: "SILENT" }),
      metrics: noMetrics,
      random: NEAR_ONE,
      handle: (_message, ctx) => {
        handled.set(ctx.eventId, (handled.get(ctx.eventId) ?? 0) + 1);
        // A plain Error: retryable, as any error that is not a PermanentError.
        if (ctx.eventId === poison.envelope.eventId) throw new Error(POISON_ERROR);
      },
    });
    const started = Date.now();
    const source = await runConsumer(q, receives.wrap(consumer), handlerErrors);
    // The deadline only bounds a broken run (the backoff delays sum to 30 s); it never decides a pass.
    await eventually(async () => (await messagesLeft(q.dlqUrl)) >= 1, "the poison pill in the DLQ", 150_000);
    await eventuallyEmpty(q.url, 60_000);
    runSeconds = (Date.now() - started) / 1000;
    await source.stop();
    dlq = await readAll(q.dlqUrl);
    process.stderr.write(
      `[poison-pill] receives at +s: ${receives
        .of(poison.body)
        .map((r) => ((r.atMs - started) / 1000).toFixed(2))
        .join(", ")}; done in ${runSeconds.toFixed(1)} s\n`,
    );
  }, 240_000);

  it(`GIVEN a handler that always throws for one message WHEN the runtime retries it THEN it is received exactly maxReceiveCount (${spec.maxReceiveCount}) times`, () => {
    // Failure mode: retried forever, given up early, or left for SQS to move after one receive too many.
    expect(receives.of(poison.body).map((r) => r.receiveCount)).toEqual([1, 2, 3, 4, 5]);
    expect(handled.get(poison.envelope.eventId)).toBe(spec.maxReceiveCount);
  });

  it("GIVEN the poison pill's receives WHEN their times are compared THEN each gap is at least the backoff delay and larger than the one before", () => {
    // Failure mode: retries at the queue's fixed visibility timeout (backoff not applied) or too soon.
    const times = receives.of(poison.body).map((r) => r.atMs);
    const gapsMs = times.slice(1).map((t, i) => t - (times[i] as number));
    process.stderr.write(
      `[poison-pill] gaps between receives (s): ${gapsMs.map((g) => g / 1000).join(", ")}\n`,
    );
    expect(gapsMs).toHaveLength(spec.maxReceiveCount - 1);
    gapsMs.forEach((gap, i) => {
      // A small allowance for clock reads on either side; SQS cannot return the message earlier.
      expect(gap, `gap after receive ${i + 1}`).toBeGreaterThanOrEqual(
        expectedDelaySeconds(i + 1) * 1000 - 100,
      );
    });
    // The backoff doubles, but each gap also holds the event source's batching window (1 s) and
    // LocalStack's once-a-second return of due messages (up to ~1.1 s), so the first pair can be as
    // close as (4 + 1) / (2 + 1 + 1.1) = 1.22 when all is well; a fixed interval gives about 1.
    const GROWTH = 1.2;
    for (let i = 1; i < gapsMs.length; i++) {
      expect(gapsMs[i], `gap ${i + 1} vs gap ${i}`).toBeGreaterThan((gapsMs[i - 1] as number) * GROWTH);
    }
  });

  it("GIVEN the poison pill exhausted its receives WHEN the DLQ is read THEN it is there once, byte for byte, with its reason", () => {
    // Failure mode: moved by SQS without a reason, dead-lettered twice, or its body altered.
    expect(dlq.map((m) => m.Body)).toEqual([poison.body]);
    const copy = dlq[0];
    const reason = failureOf(copy);
    expect(reason).toMatchObject({
      errorClass: "Error",
      message: POISON_ERROR,
      kind: "exhausted",
      consumer: CONSUMER,
      receiveCount: spec.maxReceiveCount,
    });
    expect(Number.isNaN(Date.parse(reason.failedAt))).toBe(false);
    // The contract's attributes travel with it, so a redrive still reaches the same subscriptions.
    expect(copy?.MessageAttributes?.type?.StringValue).toBe("NewAccount");
    expect(copy?.MessageAttributes?.version?.StringValue).toBe("1");
  });

  it("GIVEN a poison pill among them WHEN its neighbours are delivered THEN each neighbour is received and handled exactly once", () => {
    // Failure mode: the poison pill blocks its batch-mates, or its failure makes them run again.
    for (const m of neighbours) {
      expect(receives.of(m.body), m.envelope.eventId).toHaveLength(1);
      expect(handled.get(m.envelope.eventId), m.envelope.eventId).toBe(1);
    }
    expect(handlerErrors).toEqual([]);
  });
});

describe(`schema-invalid bodies sent straight to the queue (${CONSUMER})`, () => {
  const valid = newAccount(1000);
  const invalid = [
    {
      label: "a non-JSON body",
      body: "NewAccount accountId=42 <not json>",
      errorClass: "MalformedBodyError",
    },
    {
      label: "JSON without the envelope header",
      body: JSON.stringify({ type: "NewAccount", version: 1, data: {} }),
      errorClass: "MissingEnvelopeError",
    },
    {
      label: "an envelope whose data breaks the contract",
      body: JSON.stringify({ ...valid.envelope, data: { ...valid.envelope.data, email: "not-an-address" } }),
      errorClass: "InvalidDataError",
    },
    {
      label: "a type and version the topic does not accept",
      body: JSON.stringify({ ...valid.envelope, version: 99 }),
      errorClass: "UnsupportedMessageError",
    },
  ] as const;
  const receives = new ReceiveLog();
  const handled: string[] = [];
  const handlerErrors: unknown[] = [];
  const dlqByBody = new Map<string, Message>();
  let q: TestQueue;

  beforeAll(async () => {
    q = await createTestQueue("invalid", {
      visibilityTimeoutSeconds: QUEUE_VISIBILITY_TIMEOUT_SECONDS,
      maxReceiveCount: spec.maxReceiveCount,
    });
    queues.push(q);
    await sendAll(
      q.url,
      invalid.map((m) => ({ body: m.body })),
    );
    const consumer = defineConsumer({
      name: CONSUMER,
      sqs,
      queueUrl: q.url,
      dlqUrl: q.dlqUrl,
      logger: new Logger({ serviceName: CONSUMER, logLevel: "SILENT" }),
      metrics: noMetrics,
      random: NEAR_ONE,
      handle: (_message, ctx) => {
        handled.push(ctx.eventId);
      },
    });
    const source = await runConsumer(q, receives.wrap(consumer), handlerErrors);
    await eventually(
      async () => (await messagesLeft(q.dlqUrl)) >= invalid.length,
      "every invalid body in the DLQ",
      60_000,
    );
    await eventuallyEmpty(q.url, 60_000);
    await source.stop();
    for (const m of await readAll(q.dlqUrl)) dlqByBody.set(m.Body ?? "", m);
  }, 180_000);

  it("GIVEN only invalid bodies WHEN the consumer has run THEN the source queue is empty, the DLQ holds each once, and the handler never ran", async () => {
    // Failure mode: an invalid body left in the queue to be retried, duplicated, or handed to the handler.
    expect(await messagesLeft(q.url)).toBe(0);
    expect([...dlqByBody.keys()].sort()).toEqual(invalid.map((m) => m.body).sort());
    expect(handled).toEqual([]);
    expect(handlerErrors).toEqual([]);
  });

  it.each(invalid)(
    "GIVEN $label WHEN delivered THEN it is dead-lettered after one receive with $errorClass, kind permanent",
    ({ body, errorClass }) => {
      // Failure mode: retried (more receives), or dead-lettered without a reason naming the problem.
      expect(receives.of(body).map((r) => r.receiveCount)).toEqual([1]);
      const copy = dlqByBody.get(body);
      expect(copy?.Body).toBe(body);
      const reason = failureOf(copy);
      expect(reason).toMatchObject({ errorClass, kind: "permanent", consumer: CONSUMER, receiveCount: 1 });
      expect(reason.message.length).toBeGreaterThan(0);
    },
  );
});
