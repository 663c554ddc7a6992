import { setTimeout as sleep } from "node:timers/promises";
import {
  DeleteMessageBatchCommand,
  type DeleteMessageBatchRequestEntry,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type EventSourceOptions, LocalEventSource, type SqsHandler } from "../../src/worker/event-source.ts";

const QUEUE_URL = "http://sqs.local/000000000000/orders";
const QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:orders";
const sqsMock = mockClient(SQSClient);

const messages = (n: number, prefix = "m"): Message[] =>
  Array.from({ length: n }, (_, i) => ({
    MessageId: `${prefix}${i}`,
    ReceiptHandle: `rh-${prefix}${i}`,
    Body: `body-${prefix}${i}`,
    MD5OfBody: "x",
    Attributes: { ApproximateReceiveCount: "1" },
  }));

/** Serves the scripted receives in order, then behaves like an empty queue's long poll. */
function scriptReceives(script: Message[][]): void {
  sqsMock.on(ReceiveMessageCommand).callsFake(async () => {
    const next = script.shift();
    if (next) return { Messages: next };
    await sleep(10);
    return {};
  });
}

function deletedHandles(): string[] {
  return sqsMock
    .commandCalls(DeleteMessageBatchCommand)
    .flatMap((call) =>
      (call.args[0].input.Entries ?? []).map((e: DeleteMessageBatchRequestEntry) => e.ReceiptHandle ?? ""),
    );
}

let running: LocalEventSource | undefined;

function source(handler: SqsHandler, overrides: Partial<EventSourceOptions> = {}): LocalEventSource {
  running = new LocalEventSource({
    sqs: new SQSClient({ region: "us-east-1" }),
    queueUrl: QUEUE_URL,
    queueArn: QUEUE_ARN,
    handler,
    functionName: "orders-consumer",
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    timeoutSeconds: 5,
    concurrency: 1,
    onError: () => undefined,
    ...overrides,
  });
  return running;
}

/** Polls until the condition holds; the deadline only bounds a broken run. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe("LocalEventSource with a mocked SQS", () => {
  it("GIVEN 25 successes in one batch WHEN settled THEN deleted in DeleteMessageBatch calls of at most 10", async () => {
    scriptReceives([messages(10, "a"), messages(10, "b"), messages(5, "c")]);
    const es = source(async () => undefined, { batchSize: 25, maxBatchingWindowSeconds: 5 });
    await es.start();
    await until(() => es.stats.batches === 1, "one batch");
    const sizes = sqsMock.commandCalls(DeleteMessageBatchCommand).map((c) => c.args[0].input.Entries?.length);
    expect(sizes).toEqual([10, 10, 5]);
    expect(es.stats).toMatchObject({ received: 25, succeeded: 25, failed: 0 });
  });

  it("GIVEN a partial batch response WHEN settled THEN the failed records are not deleted and the rest are", async () => {
    scriptReceives([messages(4)]);
    const es = source(async () => ({
      batchItemFailures: [{ itemIdentifier: "m1" }, { itemIdentifier: "m3" }],
    }));
    await es.start();
    await until(() => es.stats.batches === 1, "one batch");
    expect(deletedHandles()).toEqual(["rh-m0", "rh-m2"]);
    expect(es.stats).toMatchObject({ succeeded: 2, failed: 2 });
  });

  it("GIVEN the handler throws WHEN settled THEN nothing is deleted", async () => {
    scriptReceives([messages(3)]);
    const es = source(async () => {
      throw new Error("downstream down");
    });
    await es.start();
    await until(() => es.stats.batches === 1, "one batch");
    expect(deletedHandles()).toEqual([]);
    expect(es.stats.failed).toBe(3);
  });

  it("GIVEN a handler that overruns the function timeout WHEN settled THEN nothing is deleted and a timeout is counted", async () => {
    scriptReceives([messages(2)]);
    const es = source(() => new Promise(() => undefined), { timeoutSeconds: 0.05 });
    await es.start();
    await until(() => es.stats.batches === 1, "one batch");
    expect(deletedHandles()).toEqual([]);
    expect(es.stats).toMatchObject({ timeouts: 1, failed: 2, succeeded: 0 });
  });

  it("GIVEN a delete entry fails with a server fault WHEN deleting THEN that entry alone is retried", async () => {
    scriptReceives([messages(3)]);
    sqsMock
      .on(DeleteMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: "1", Code: "InternalError", SenderFault: false }] })
      .resolves({ Failed: [] });
    const es = source(async () => undefined);
    await es.start();
    await until(() => es.stats.batches === 1, "one batch");
    const calls = sqsMock
      .commandCalls(DeleteMessageBatchCommand)
      .map((c) => c.args[0].input.Entries?.map((e) => e.ReceiptHandle));
    expect(calls).toEqual([["rh-m0", "rh-m1", "rh-m2"], ["rh-m1"]]);
    expect(es.stats.deleteFailures).toBe(0);
  });

  it("GIVEN a delete entry fails with a sender fault WHEN deleting THEN it is not retried and is counted as undeleted", async () => {
    scriptReceives([messages(2)]);
    sqsMock
      .on(DeleteMessageBatchCommand)
      .resolves({ Failed: [{ Id: "0", Code: "ReceiptHandleIsInvalid", SenderFault: true }] });
    const es = source(async () => undefined);
    await es.start();
    await until(() => es.stats.batches === 1, "one batch");
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(1);
    expect(es.stats.deleteFailures).toBe(1);
  });

  it("GIVEN a stop while a batch is in the handler WHEN stop resolves THEN that batch finished and was deleted", async () => {
    scriptReceives([messages(2)]);
    let release: () => void = () => undefined;
    const es = source(() => new Promise<void>((resolve) => (release = resolve)));
    await es.start();
    await until(() => es.stats.inFlight === 2, "the batch in flight");
    const stopped = es.stop();
    release();
    const stats = await stopped;
    expect(stats).toMatchObject({ succeeded: 2, inFlight: 0 });
    expect(deletedHandles()).toEqual(["rh-m0", "rh-m1"]);
  });

  it("GIVEN a stop WHEN stopped THEN no receive is made afterwards", async () => {
    scriptReceives([]);
    const es = source(async () => undefined);
    await es.start();
    await es.stop();
    const before = sqsMock.commandCalls(ReceiveMessageCommand).length;
    await sleep(50);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(before);
  });

  it("GIVEN a receive WHEN made THEN it asks for every system and message attribute, long-polling", async () => {
    scriptReceives([messages(1)]);
    const es = source(async () => undefined);
    await es.start();
    await until(() => es.stats.batches === 1, "one batch");
    const input = sqsMock.commandCalls(ReceiveMessageCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      QueueUrl: QUEUE_URL,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 20,
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    });
  });

  it("GIVEN an invocation WHEN the handler reads its context THEN Lambda's fields and a countdown from the timeout", async () => {
    scriptReceives([messages(1)]);
    let seen: { event: SQSEvent; context: Context; remaining: number } | undefined;
    const es = source(
      async (event, context) => {
        seen = { event, context, remaining: context.getRemainingTimeInMillis() };
      },
      { timeoutSeconds: 30 },
    );
    await es.start();
    await until(() => es.stats.batches === 1, "one batch");
    expect(seen?.context.functionName).toBe("orders-consumer");
    expect(seen?.context.invokedFunctionArn).toBe(
      "arn:aws:lambda:us-east-1:000000000000:function:orders-consumer",
    );
    expect(seen?.remaining).toBeGreaterThan(25_000);
    expect(seen?.remaining).toBeLessThanOrEqual(30_000);
    expect(seen?.event.Records[0]?.eventSourceARN).toBe(QUEUE_ARN);
  });

  it("GIVEN no queue ARN WHEN started THEN it is read from the queue's attributes", async () => {
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: "arn:aws:sqs:eu-west-1:1:q" } });
    scriptReceives([messages(1)]);
    let arn: string | undefined;
    running = new LocalEventSource({
      sqs: new SQSClient({ region: "us-east-1" }),
      queueUrl: QUEUE_URL,
      handler: async (event) => {
        arn = event.Records[0]?.eventSourceARN;
      },
      functionName: "f",
      batchSize: 10,
      maxBatchingWindowSeconds: 0,
      timeoutSeconds: 5,
      concurrency: 1,
    });
    await running.start();
    await until(() => arn !== undefined, "an invocation");
    expect(arn).toBe("arn:aws:sqs:eu-west-1:1:q");
  });

  it("GIVEN an onBatch callback that throws WHEN batches settle THEN the poller survives and takes the next batch", async () => {
    scriptReceives([messages(1, "a"), messages(1, "b")]);
    const bodies: string[] = [];
    const es = source(
      async (event) => {
        for (const r of event.Records) bodies.push(r.body);
      },
      {
        onBatch: () => {
          throw new Error("progress display broke");
        },
      },
    );
    await es.start();
    await until(() => bodies.length === 2, "both batches");
    expect(bodies).toEqual(["body-a0", "body-b0"]);
  });

  it("GIVEN a batch size of 0 WHEN constructed THEN a settings error names it", () => {
    expect(() => source(async () => undefined, { batchSize: 0 })).toThrow(/batchSize/);
    running = undefined;
  });
});
