/**
 * Work queue semantics through the local event source on LocalStack: many pollers share one
 * queue's messages. Failure modes covered: a message lost (never handed to the handler, or deleted
 * unprocessed), a message processed twice when nothing failed (a delete that did not happen, or two
 * pollers holding it), a poller count that is not honoured, leftovers in the queue or its DLQ.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { type LocalEventSource, startEventSource } from "../../packages/courier/src/worker/event-source.ts";
import {
  createTestQueue,
  eventually,
  eventuallyEmpty,
  messagesLeft,
  sendAll,
  sqs,
  type TestQueue,
} from "./event-source-queues.ts";

const MESSAGES = 2_000;
const POLLERS = 4;

let queue: TestQueue | undefined;
let source: LocalEventSource | undefined;

afterEach(async () => {
  await source?.stop();
  await queue?.delete();
  source = undefined;
  queue = undefined;
});

describe("work queue: one queue drained by concurrent pollers", () => {
  it(`GIVEN ${MESSAGES} messages WHEN drained by ${POLLERS} pollers with a handler that never fails THEN each is processed exactly once and none is lost`, async () => {
    // A visibility timeout far above the handler's run time: any second delivery is then a bug, not a retry.
    const q = await createTestQueue("work", { visibilityTimeoutSeconds: 60, maxReceiveCount: 3 });
    queue = q;
    const bodies = Array.from({ length: MESSAGES }, (_, i) => `job-${i}`);
    await sendAll(
      q.url,
      bodies.map((body) => ({ body })),
    );

    const processed = new Map<string, number>();
    const messageIds = new Set<string>();
    let running = 0;
    let mostAtOnce = 0;
    source = await startEventSource({
      sqs,
      queueUrl: q.url,
      functionName: "work-queue-test",
      batchSize: 10,
      maxBatchingWindowSeconds: 0,
      timeoutSeconds: 30,
      concurrency: POLLERS,
      handler: async (event) => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        // A little real work per batch, so the pollers overlap as Lambda instances would.
        await sleep(10);
        for (const record of event.Records) {
          processed.set(record.body, (processed.get(record.body) ?? 0) + 1);
          messageIds.add(record.messageId);
        }
        running -= 1;
      },
    });
    const es = source;
    await eventually(() => es.stats.succeeded >= MESSAGES, `${MESSAGES} records processed`, 150_000);
    await eventuallyEmpty(q.url);
    const stats = await es.stop();

    const missing = bodies.filter((b) => !processed.has(b));
    const twice = [...processed].filter(([, n]) => n > 1).map(([b]) => b);
    expect(missing).toEqual([]);
    expect(twice).toEqual([]);
    expect(messageIds.size).toBe(MESSAGES);
    expect(stats).toMatchObject({
      received: MESSAGES,
      succeeded: MESSAGES,
      failed: 0,
      timeouts: 0,
      deleteFailures: 0,
    });
    expect(mostAtOnce).toBeLessThanOrEqual(POLLERS);
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(await messagesLeft(q.dlqUrl)).toBe(0);
  });
});
