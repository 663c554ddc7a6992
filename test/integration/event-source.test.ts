/**
 * The local event source against LocalStack's real SQS API, held to Lambda's SQS event source
 * mapping. Failure modes covered: a record shape that differs from Lambda's (ARN, region, system
 * attributes, message attribute shape), a partial batch response that deletes failures or re-runs
 * successes, a timed-out batch that is deleted (lost) instead of retried, a stop that drops or
 * deletes messages it did not finish.
 */
import { createHash } from "node:crypto";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import {
  type EventSourceOptions,
  type LocalEventSource,
  startEventSource,
} from "../../packages/courier/src/worker/event-source.ts";
import {
  createTestQueue,
  eventually,
  eventuallyEmpty,
  messagesLeft,
  sendAll,
  sqs,
  type TestQueue,
} from "./event-source-queues.ts";

const queues: TestQueue[] = [];
const sources: LocalEventSource[] = [];

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  await Promise.all(queues.splice(0).map((q) => q.delete()));
});

async function queue(
  label: string,
  visibilityTimeoutSeconds: number,
  maxReceiveCount = 5,
): Promise<TestQueue> {
  const q = await createTestQueue(label, { visibilityTimeoutSeconds, maxReceiveCount });
  queues.push(q);
  return q;
}

async function run(
  q: TestQueue,
  handler: EventSourceOptions["handler"],
  overrides: Partial<EventSourceOptions> = {},
): Promise<LocalEventSource> {
  const source = await startEventSource({
    sqs,
    queueUrl: q.url,
    functionName: "event-source-test",
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    timeoutSeconds: 10,
    concurrency: 2,
    waitTimeSeconds: 2,
    onError: () => undefined,
    handler,
    ...overrides,
  });
  sources.push(source);
  return source;
}

const receiveCount = (r: SQSRecord) => Number(r.attributes.ApproximateReceiveCount);

describe("local event source on LocalStack", () => {
  it("GIVEN a message with attributes WHEN delivered THEN the record has Lambda's shape, ARN and receive count", async () => {
    const q = await queue("shape", 30);
    const body = JSON.stringify({ hello: "lambda" });
    await sendAll(q.url, [
      {
        body,
        attributes: {
          type: { DataType: "String", StringValue: "NewAccount" },
          version: { DataType: "Number", StringValue: "1" },
          raw: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 254, 255]) },
        },
      },
    ]);
    const events: SQSEvent[] = [];
    await run(q, async (event) => {
      events.push(event);
    });
    await eventually(() => events.length === 1, "one invocation");
    const record = events[0]?.Records[0];
    const sentAt = Number(record?.attributes.SentTimestamp);

    expect(events[0]?.Records).toHaveLength(1);
    expect(record).toMatchObject({
      body,
      md5OfBody: createHash("md5").update(body).digest("hex"),
      eventSource: "aws:sqs",
      eventSourceARN: q.arn,
      awsRegion: q.arn.split(":")[3],
    });
    expect(record?.attributes.ApproximateReceiveCount).toBe("1");
    expect(Number.isInteger(sentAt) && sentAt > 1_600_000_000_000).toBe(true);
    expect(typeof record?.attributes.ApproximateFirstReceiveTimestamp).toBe("string");
    expect(typeof record?.attributes.SenderId).toBe("string");
    expect(record?.messageAttributes).toEqual({
      type: { stringValue: "NewAccount", stringListValues: [], binaryListValues: [], dataType: "String" },
      version: { stringValue: "1", stringListValues: [], binaryListValues: [], dataType: "Number" },
      raw: {
        binaryValue: Buffer.from([0, 1, 254, 255]).toString("base64"),
        stringListValues: [],
        binaryListValues: [],
        dataType: "Binary",
      },
    });
  });

  it("GIVEN a partial batch response WHEN the batch settles THEN successes are deleted and failures come back with a higher receive count", async () => {
    const q = await queue("partial", 2);
    const bodies = Array.from({ length: 10 }, (_, i) => (i % 3 === 0 ? `fail-once-${i}` : `ok-${i}`));
    await sendAll(
      q.url,
      bodies.map((body) => ({ body })),
    );
    const seen: { body: string; count: number }[] = [];
    const done = new Set<string>();
    const source = await run(q, async (event) => {
      const batchItemFailures: { itemIdentifier: string }[] = [];
      for (const r of event.Records) {
        seen.push({ body: r.body, count: receiveCount(r) });
        if (r.body.startsWith("fail-once") && receiveCount(r) === 1) {
          batchItemFailures.push({ itemIdentifier: r.messageId });
        } else {
          done.add(r.body);
        }
      }
      return { batchItemFailures };
    });
    await eventually(() => done.size === bodies.length, "every message processed");
    await eventuallyEmpty(q.url);

    const countsOf = (body: string) => seen.filter((s) => s.body === body).map((s) => s.count);
    for (const body of bodies) {
      expect(countsOf(body), body).toEqual(body.startsWith("fail-once") ? [1, 2] : [1]);
    }
    expect(source.stats).toMatchObject({ succeeded: 10, failed: 4 });
    expect(await messagesLeft(q.dlqUrl)).toBe(0);
  });

  it("GIVEN a handler that throws for a batch WHEN it settles THEN every record of that batch is received again", async () => {
    const q = await queue("throw", 2);
    await sendAll(q.url, [{ body: "a" }, { body: "b" }, { body: "c" }]);
    const seen: { body: string; count: number }[] = [];
    let threw = false;
    await run(
      q,
      async (event) => {
        for (const r of event.Records) seen.push({ body: r.body, count: receiveCount(r) });
        if (!threw) {
          threw = true;
          throw new Error("downstream unavailable");
        }
      },
      { concurrency: 1, batchSize: 3, maxBatchingWindowSeconds: 2 },
    );
    await eventually(
      () => ["a", "b", "c"].every((b) => seen.some((s) => s.body === b && s.count === 2)),
      "every record received a second time",
    );
    await eventuallyEmpty(q.url);
    const firstBatch = seen.filter((s) => s.count === 1).map((s) => s.body);
    const retried = seen.filter((s) => s.count === 2).map((s) => s.body);
    expect(retried.sort()).toEqual(firstBatch.sort());
    expect(firstBatch.length).toBeGreaterThan(0);
  });

  it("GIVEN a handler that overruns the function timeout WHEN its batch times out THEN every record is retried, not lost", async () => {
    const q = await queue("timeout", 3);
    const bodies = ["t-1", "t-2", "t-3"];
    await sendAll(
      q.url,
      bodies.map((body) => ({ body })),
    );
    const attempts: { body: string; count: number }[] = [];
    const source = await run(
      q,
      async (event) => {
        for (const r of event.Records) attempts.push({ body: r.body, count: receiveCount(r) });
        // First delivery: outlive the 1 s function timeout, then "succeed" too late to count.
        if (event.Records.some((r) => receiveCount(r) === 1)) await new Promise((r) => setTimeout(r, 2_000));
      },
      { timeoutSeconds: 1, concurrency: 1, batchSize: 3, maxBatchingWindowSeconds: 2 },
    );
    await eventually(
      () => bodies.every((b) => attempts.some((a) => a.body === b && a.count >= 2)),
      "every timed-out record received again",
    );
    await eventuallyEmpty(q.url);

    expect(source.stats.timeouts).toBeGreaterThanOrEqual(1);
    for (const body of bodies) {
      expect(
        attempts.filter((a) => a.body === body).map((a) => a.count),
        body,
      ).toContain(1);
    }
    expect(await messagesLeft(q.dlqUrl)).toBe(0);
  });

  it("GIVEN a stop while a slow handler holds a batch WHEN stopped THEN that batch finishes and nothing is lost", async () => {
    const q = await queue("stop", 3);
    const bodies = Array.from({ length: 30 }, (_, i) => `s-${i}`);
    await sendAll(
      q.url,
      bodies.map((body) => ({ body })),
    );
    const processedByFirst = new Set<string>();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = false;
    const first = await run(
      q,
      async (event) => {
        holding = true;
        await held;
        for (const r of event.Records) processedByFirst.add(r.body);
      },
      { concurrency: 2 },
    );
    await eventually(() => holding, "the slow handler holding a batch");
    const stopping = first.stop();
    release();
    const firstStats = await stopping;
    // The held batch finished after the stop began, and stop() waited for it and its deletes.
    expect(firstStats.succeeded).toBeGreaterThan(0);
    expect(firstStats.succeeded).toBe(processedByFirst.size);
    expect(firstStats.inFlight).toBe(0);

    const processedBySecond = new Set<string>();
    await run(q, async (event) => {
      for (const r of event.Records) processedBySecond.add(r.body);
    });
    await eventually(
      () => bodies.every((b) => processedByFirst.has(b) || processedBySecond.has(b)),
      "every message processed by one source or the other",
    );
    await eventuallyEmpty(q.url);
    // What the first source finished it deleted: the second never sees it again.
    expect([...processedBySecond].filter((b) => processedByFirst.has(b))).toEqual([]);
  });
});
