import { setTimeout as sleep } from "node:timers/promises";
import {
  ChangeMessageVisibilityBatchCommand,
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
import {
  type EventSourceOptions,
  LocalEventSource,
  type SqsHandler,
} from "../../packages/courier/src/worker/event-source.ts";

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
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { VisibilityTimeout: "30" } });
  sqsMock
    .on(ChangeMessageVisibilityBatchCommand)
    .callsFake(async (input: { Entries?: { Id?: string }[] }) => ({
      Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })),
      Failed: [],
    }));
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
    sqsMock
      .on(GetQueueAttributesCommand)
      .resolves({ Attributes: { QueueArn: "arn:aws:sqs:eu-west-1:1:q", VisibilityTimeout: "30" } });
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

  it("GIVEN validation WHEN extendVisibilityAfter is outside (0, 1) THEN a settings error names it", () => {
    expect(() => source(async () => undefined, { extendVisibilityAfter: 1 })).toThrow(
      /extendVisibilityAfter/,
    );
    running = undefined;
  });

  it("GIVEN a batch size of 0 WHEN constructed THEN a settings error names it", () => {
    expect(() => source(async () => undefined, { batchSize: 0 })).toThrow(/batchSize/);
    running = undefined;
  });
});

/** A receive that stays at "SQS" until the test answers it: a long poll parked on an empty queue. */
function parkedReceives() {
  const parked: Array<(messages: Message[]) => void> = [];
  sqsMock.on(ReceiveMessageCommand).callsFake(
    () =>
      new Promise((resolve) => {
        parked.push((messages) => resolve(messages.length > 0 ? { Messages: messages } : {}));
      }),
  );
  return parked;
}

function visibilityChanges(): { handle: string; timeout: number | undefined }[] {
  return sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).flatMap((call) =>
    (call.args[0].input.Entries ?? []).map((e) => ({
      handle: e.ReceiptHandle ?? "",
      timeout: e.VisibilityTimeout,
    })),
  );
}

describe("LocalEventSource stop: nothing left hidden", () => {
  it("GIVEN 4 pollers parked in long polls WHEN stop begins THEN it waits for those receives instead of abandoning them", async () => {
    const parked = parkedReceives();
    const es = source(async () => undefined, { concurrency: 4 });
    await es.start();
    await until(() => parked.length === 4, "four parked receives");
    let stopped = false;
    const stopping = es.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stopped).toBe(false);
    for (const answer of parked) answer([]);
    await stopping;
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(4);
  });

  it("GIVEN a parked receive WHEN it brings messages after the stop began THEN they are released at visibility 0, not processed, and counted", async () => {
    const parked = parkedReceives();
    let invoked = 0;
    const es = source(async () => {
      invoked += 1;
    });
    await es.start();
    await until(() => parked.length === 1, "a parked receive");
    const stopping = es.stop();
    parked[0]?.(messages(3, "late"));
    const stats = await stopping;
    expect(invoked).toBe(0);
    expect(deletedHandles()).toEqual([]);
    expect(visibilityChanges().map((c) => [c.handle, c.timeout])).toEqual([
      ["rh-late0", 0],
      ["rh-late1", 0],
      ["rh-late2", 0],
    ]);
    expect(stats).toMatchObject({ received: 3, released: 3, releaseFailures: 0, succeeded: 0, batches: 0 });
  });

  it("GIVEN 2 parked receives WHEN one brings a message after the stop began THEN it is held hidden while the other is parked, and released the moment that one returns", async () => {
    const parked = parkedReceives();
    let invoked = 0;
    const es = source(
      async () => {
        invoked += 1;
      },
      { concurrency: 2 },
    );
    await es.start();
    await until(() => parked.length === 2, "two parked receives");
    const stopping = es.stop();
    parked[0]?.(messages(1, "late"));
    await until(() => visibilityChanges().length === 1, "the hold");
    const [hold] = visibilityChanges();
    // Hidden past the other receive's 20 s wait, so that receive cannot take it (another receive).
    expect(hold?.handle).toBe("rh-late0");
    expect(hold?.timeout).toBeGreaterThanOrEqual(20);
    expect(es.stats.released).toBe(0);
    parked[1]?.([]);
    const stats = await stopping;
    expect(visibilityChanges().map((c) => [c.handle, c.timeout])).toEqual([
      ["rh-late0", hold?.timeout],
      ["rh-late0", 0],
    ]);
    expect(stats).toMatchObject({ released: 1, releaseFailures: 0, succeeded: 0 });
    expect(invoked).toBe(0);
  });

  it("GIVEN a batch in the handler and a parked receive WHEN stopped THEN the batch finishes and is deleted while the late message is released", async () => {
    let received = 0;
    let answerLate: (messages: Message[]) => void = () => undefined;
    sqsMock.on(ReceiveMessageCommand).callsFake(() => {
      received += 1;
      if (received === 1) return Promise.resolve({ Messages: messages(2, "early") });
      return new Promise((resolve) => {
        answerLate = (m) => resolve({ Messages: m });
      });
    });
    let finish: () => void = () => undefined;
    const es = source(() => new Promise<void>((resolve) => (finish = resolve)), { concurrency: 2 });
    await es.start();
    await until(() => es.stats.inFlight === 2 && received >= 2, "a batch in flight and a parked receive");
    const stopping = es.stop();
    answerLate(messages(1, "late"));
    await until(() => es.stats.released === 1, "the late message released");
    finish();
    const stats = await stopping;
    expect(deletedHandles()).toEqual(["rh-early0", "rh-early1"]);
    expect(stats).toMatchObject({ succeeded: 2, released: 1, inFlight: 0 });
  });

  it("GIVEN a release entry fails on SQS's side WHEN releasing THEN it is retried; a sender fault is counted as a release failure", async () => {
    const parked = parkedReceives();
    sqsMock
      .on(ChangeMessageVisibilityBatchCommand)
      .resolvesOnce({
        Successful: [],
        Failed: [
          { Id: "0", Code: "InternalError", SenderFault: false },
          { Id: "1", Code: "ReceiptHandleIsInvalid", SenderFault: true },
        ],
      })
      .resolves({ Successful: [{ Id: "0" }], Failed: [] });
    const errors: string[] = [];
    const es = source(async () => undefined, { onError: (_e, during) => errors.push(during) });
    await es.start();
    await until(() => parked.length === 1, "a parked receive");
    const stopping = es.stop();
    parked[0]?.(messages(2, "late"));
    const stats = await stopping;
    const calls = sqsMock
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .map((c) => c.args[0].input.Entries?.map((e) => e.ReceiptHandle));
    expect(calls).toEqual([["rh-late0", "rh-late1"], ["rh-late0"]]);
    expect(stats).toMatchObject({ released: 1, releaseFailures: 1 });
    expect(errors).toEqual(["release", "release"]);
  });

  it("GIVEN a receive that stalls past its wait time WHEN stopped THEN it is aborted after the grace and the stop completes", async () => {
    let receives = 0;
    // A hand-made client: aws-sdk-client-mock does not pass the abort signal to its fakes.
    const stalling = {
      send: (command: unknown, options?: { abortSignal?: AbortSignal }) => {
        if (!(command instanceof ReceiveMessageCommand)) return Promise.resolve({});
        receives += 1;
        return new Promise((_resolve, reject) => {
          options?.abortSignal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
        });
      },
    } as unknown as SQSClient;
    const es = source(async () => undefined, {
      sqs: stalling,
      waitTimeSeconds: 0,
      stalledReceiveGraceMs: 50,
      extendVisibilityAfter: false,
    });
    await es.start();
    await until(() => receives === 1, "a receive");
    const stats = await es.stop();
    expect(stats.received).toBe(0);
    expect(receives).toBe(1);
  });
});

describe("LocalEventSource: a long handler keeps its messages", () => {
  it("GIVEN a 1 s visibility timeout WHEN the handler runs 1.7 s THEN the batch's visibility is extended while it runs and never after it settles", async () => {
    scriptReceives([messages(2)]);
    const es = source(() => new Promise((resolve) => setTimeout(resolve, 1_700)), {
      visibilityTimeoutSeconds: 1,
      timeoutSeconds: 10,
    });
    await es.start();
    await until(() => es.stats.batches === 1, "one batch");
    const atSettle = visibilityChanges();
    expect(atSettle.length).toBeGreaterThanOrEqual(2);
    expect(new Set(atSettle.map((c) => c.handle))).toEqual(new Set(["rh-m0", "rh-m1"]));
    expect(atSettle.every((c) => c.timeout === 1)).toBe(true);
    expect(es.stats.visibilityExtensions).toBe(atSettle.length);
    expect(deletedHandles()).toEqual(["rh-m0", "rh-m1"]);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(visibilityChanges()).toHaveLength(atSettle.length);
  });

  it("GIVEN a function timeout shorter than the visibility timeout WHEN the handler hangs THEN nothing is extended", async () => {
    scriptReceives([messages(1)]);
    const es = source(() => new Promise(() => undefined), {
      visibilityTimeoutSeconds: 2,
      timeoutSeconds: 1.5,
    });
    await es.start();
    await until(() => es.stats.timeouts === 1, "the timeout");
    expect(visibilityChanges()).toEqual([]);
  });

  it("GIVEN a hanging handler WHEN extending THEN no extension hides the message past the function timeout", async () => {
    scriptReceives([messages(1)]);
    const extensions: { atMs: number; timeout: number }[] = [];
    const startedAt = Date.now();
    sqsMock
      .on(ChangeMessageVisibilityBatchCommand)
      .callsFake(async (input: { Entries?: { Id?: string; VisibilityTimeout?: number }[] }) => {
        for (const e of input.Entries ?? [])
          extensions.push({ atMs: Date.now() - startedAt, timeout: e.VisibilityTimeout ?? -1 });
        return { Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] };
      });
    const es = source(() => new Promise(() => undefined), {
      visibilityTimeoutSeconds: 1,
      timeoutSeconds: 2.2,
    });
    await es.start();
    await until(() => es.stats.timeouts === 1, "the timeout");
    expect(extensions.length).toBeGreaterThanOrEqual(1);
    // Each extension ends no later than the deadline, rounded up to SQS's whole seconds.
    for (const e of extensions) expect(e.atMs + e.timeout * 1000).toBeLessThanOrEqual(2_200 + 1_000 + 100);
    expect(extensions.every((e) => e.atMs < 2_200)).toBe(true);
  });

  it("GIVEN extendVisibilityAfter false WHEN started THEN the visibility timeout is not read and nothing is extended", async () => {
    scriptReceives([messages(1)]);
    const es = source(() => new Promise((resolve) => setTimeout(resolve, 50)), {
      extendVisibilityAfter: false,
    });
    await es.start();
    await until(() => es.stats.batches === 1, "one batch");
    expect(sqsMock.commandCalls(GetQueueAttributesCommand)).toHaveLength(0);
    expect(visibilityChanges()).toEqual([]);
  });
});

describe("LocalEventSource pause and resume: a disabled event source mapping", () => {
  it("GIVEN a source paused before it starts WHEN started THEN it makes no receive until resumed", async () => {
    scriptReceives([messages(2)]);
    let invoked = 0;
    const es = source(async () => {
      invoked += 1;
    });
    es.pause();
    await es.start();
    await sleep(50);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
    es.resume();
    await until(() => es.stats.batches === 1, "the batch after resume");
    expect(invoked).toBe(1);
    expect(deletedHandles()).toEqual(["rh-m0", "rh-m1"]);
  });

  it("GIVEN a parked receive WHEN paused and it then brings messages THEN they are processed and deleted (not released) and no further receive is made", async () => {
    const parked = parkedReceives();
    const handled: string[] = [];
    const es = source(async (event: SQSEvent) => {
      for (const r of event.Records) handled.push(r.messageId);
    });
    await es.start();
    await until(() => parked.length === 1, "a parked receive");
    es.pause();
    parked[0]?.(messages(2, "inhand"));
    await until(() => es.stats.batches === 1, "the receive in hand processed");
    await sleep(50);
    expect(handled).toEqual(["inhand0", "inhand1"]);
    expect(deletedHandles()).toEqual(["rh-inhand0", "rh-inhand1"]);
    expect(visibilityChanges()).toEqual([]);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
  });

  it("GIVEN a batch gathering in its batching window WHEN paused THEN it is invoked at once with what it holds, not held hidden for the pause", async () => {
    const parked = parkedReceives();
    let batches: number[] = [];
    const es = source(
      async (event: SQSEvent) => {
        batches = [...batches, event.Records.length];
      },
      { maxBatchingWindowSeconds: 30 },
    );
    await es.start();
    await until(() => parked.length === 1, "the first receive");
    parked[0]?.(messages(3, "w"));
    await until(() => parked.length === 2, "the window's second receive");
    es.pause();
    parked[1]?.([]);
    await until(() => es.stats.batches === 1, "the partial batch invoked");
    expect(batches).toEqual([3]);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(2);
  });

  it("GIVEN a batch in the handler WHEN paused THEN it finishes, is deleted, and its visibility is still extended while it runs", async () => {
    scriptReceives([messages(1, "slow")]);
    let release: () => void = () => undefined;
    const es = source(
      () =>
        new Promise<undefined>((resolve) => {
          release = () => resolve(undefined);
        }),
      { visibilityTimeoutSeconds: 1, timeoutSeconds: 10 },
    );
    await es.start();
    await until(() => es.stats.inFlight === 1, "the batch in the handler");
    es.pause();
    let idle = false;
    const paused = es.whenPaused().then((p) => {
      idle = p;
    });
    await until(() => es.stats.visibilityExtensions >= 1, "an extension while paused");
    expect(idle).toBe(false);
    release();
    await paused;
    expect(idle).toBe(true);
    expect(es.stats.batches).toBe(1);
    expect(deletedHandles()).toEqual(["rh-slow0"]);
    const receives = sqsMock.commandCalls(ReceiveMessageCommand).length;
    await sleep(50);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(receives);
  });

  it("GIVEN a paused source WHEN resumed THEN its pollers receive and process again", async () => {
    const parked = parkedReceives();
    const es = source(async () => undefined, { concurrency: 2 });
    await es.start();
    await until(() => parked.length === 2, "two parked receives");
    es.pause();
    const paused = es.whenPaused();
    for (const answer of parked.splice(0)) answer([]);
    expect(await paused).toBe(true);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(2);
    es.resume();
    await until(() => parked.length === 2, "both pollers receiving again");
    parked[0]?.(messages(1, "after"));
    await until(() => es.stats.succeeded === 1, "a message after resume");
    // Stop, answering whatever long polls are parked (one more was made after the batch).
    const stopping = es.stop();
    await until(() => parked.length === 3, "the poller's next receive");
    for (const answer of parked.splice(1)) answer([]);
    await stopping;
  });

  it("GIVEN a paused source WHEN stopped THEN the stop ends without waiting for a resume and makes no receive", async () => {
    const parked = parkedReceives();
    const es = source(async () => undefined);
    es.pause();
    await es.start();
    await es.stop();
    expect(parked).toHaveLength(0);
    expect(es.stopped).toBe(true);
  });
});

describe("LocalEventSource on a FIFO queue: Lambda's FIFO trigger", () => {
  const FIFO_URL = "http://sqs.local/000000000000/resets.fifo";
  const FIFO_ARN = "arn:aws:sqs:us-east-1:000000000000:resets.fifo";
  const fifoMessage = (group: string, sequence: number): Message => ({
    MessageId: `${group}-${sequence}`,
    ReceiptHandle: `rh-${group}-${sequence}-${Math.random().toString(36).slice(2, 6)}`,
    Body: `${group}#${sequence}`,
    MD5OfBody: "x",
    Attributes: { ApproximateReceiveCount: "1", MessageGroupId: group, SequenceNumber: String(sequence) },
  });
  const fifo = (handler: SqsHandler, overrides: Partial<EventSourceOptions> = {}) =>
    source(handler, {
      queueUrl: FIFO_URL,
      queueArn: FIFO_ARN,
      visibilityTimeoutSeconds: 30,
      concurrency: 2,
      ...overrides,
    });
  /** A handler that records each invocation's message ids and waits until the test lets batch n go. */
  function gatedHandler() {
    const invocations: string[][] = [];
    const gates: Array<() => void> = [];
    let running = 0;
    let maxRunningOfGroupA = 0;
    const handler: SqsHandler = async (event: SQSEvent) => {
      invocations.push(event.Records.map((r) => r.messageId));
      const groupA = event.Records.some((r) => r.messageId.startsWith("a-"));
      if (groupA) maxRunningOfGroupA = Math.max(maxRunningOfGroupA, ++running);
      await new Promise<void>((resolve) => gates.push(resolve));
      if (groupA) running -= 1;
    };
    return { handler, invocations, gates, maxRunning: () => maxRunningOfGroupA };
  }

  it("GIVEN group a's batch in the handler WHEN another poller receives a later record of a (as LocalStack can hand out) THEN it waits for that batch and then runs, in order", async () => {
    scriptReceives([[fifoMessage("a", 1), fifoMessage("a", 2)], [fifoMessage("a", 3)]]);
    const h = gatedHandler();
    const es = fifo(h.handler);
    await es.start();
    await until(() => sqsMock.commandCalls(ReceiveMessageCommand).length >= 3, "both receives answered");
    await sleep(30);
    expect(h.invocations).toEqual([["a-1", "a-2"]]);
    h.gates[0]?.();
    await until(() => h.invocations.length === 2, "a-3 after the first batch");
    expect(h.invocations[1]).toEqual(["a-3"]);
    h.gates[1]?.();
    await until(() => es.stats.batches === 2, "both settled");
    expect(h.maxRunning()).toBe(1);
  });

  it("GIVEN group a's batch in the handler WHEN group b arrives THEN b runs at the same time (groups in parallel)", async () => {
    scriptReceives([[fifoMessage("a", 1)], [fifoMessage("b", 2)]]);
    const h = gatedHandler();
    const es = fifo(h.handler);
    await es.start();
    await until(() => h.invocations.length === 2, "a and b both invoked");
    expect(h.invocations).toContainEqual(["a-1"]);
    expect(h.invocations).toContainEqual(["b-2"]);
    for (const go of h.gates) go();
    await until(() => es.stats.batches === 2, "both settled");
  });

  it("GIVEN record 2 failed and 3 was reported failed behind it WHEN record 4 arrives before they return THEN 2 and 3 are recalled, 4 is sent back behind them, and 2, 3, 4 run in order", async () => {
    const invocations: string[][] = [];
    let calls = 0;
    const es = fifo(
      async (event: SQSEvent) => {
        invocations.push(event.Records.map((r) => r.messageId));
        calls += 1;
        // The runtime's FIFO answer: the failed record and its group's later records.
        if (calls === 1) return { batchItemFailures: [{ itemIdentifier: "a-2" }, { itemIdentifier: "a-3" }] };
        return { batchItemFailures: [] };
      },
      { concurrency: 1 },
    );
    const first = [fifoMessage("a", 1), fifoMessage("a", 2), fifoMessage("a", 3)];
    scriptReceives([
      first,
      [fifoMessage("a", 4)],
      [],
      [fifoMessage("a", 2), fifoMessage("a", 3), fifoMessage("a", 4)],
    ]);
    await es.start();
    await until(() => invocations.length === 2, "the retry batch");
    expect(invocations).toEqual([
      ["a-1", "a-2", "a-3"],
      ["a-2", "a-3", "a-4"],
    ]);
    const changes = visibilityChanges();
    const recalled = changes.filter((c) => c.timeout === 0).map((c) => c.handle);
    expect(recalled).toEqual([first[1]?.ReceiptHandle, first[2]?.ReceiptHandle]);
    expect(changes.filter((c) => c.timeout === 2).map((c) => c.handle.slice(0, 6))).toEqual(["rh-a-4"]);
    // Recalled before the early record was sent back, so the queue has them ahead of it.
    expect(changes.findIndex((c) => c.timeout === 2)).toBeGreaterThan(
      changes.findIndex((c) => c.timeout === 0),
    );
    expect(es.stats).toMatchObject({ succeeded: 1 + 3, failed: 2, sentBack: 1 });
  });

  it("GIVEN a record held for its group WHEN its wait outlasts half the visibility timeout THEN its visibility is extended while it waits", async () => {
    scriptReceives([[fifoMessage("a", 1)], [fifoMessage("a", 2)]]);
    const h = gatedHandler();
    const es = fifo(h.handler, { visibilityTimeoutSeconds: 1, extendVisibilityAfter: false });
    await es.start();
    await until(
      () => visibilityChanges().some((c) => c.handle.startsWith("rh-a-2") && c.timeout === 1),
      "the held record's extension",
    );
    h.gates[0]?.();
    await until(() => h.invocations.length === 2, "the held record runs");
    h.gates[1]?.();
    await until(() => es.stats.batches === 2, "both settled");
  });

  it("GIVEN a record held for its group WHEN the source stops THEN the running batch finishes and the held record is released at visibility 0, not processed", async () => {
    scriptReceives([[fifoMessage("a", 1)], [fifoMessage("a", 2)]]);
    const h = gatedHandler();
    const es = fifo(h.handler);
    await es.start();
    await until(() => sqsMock.commandCalls(ReceiveMessageCommand).length >= 3, "both receives answered");
    const stopping = es.stop();
    h.gates[0]?.();
    const stats = await stopping;
    expect(h.invocations).toEqual([["a-1"]]);
    expect(deletedHandles().map((d) => d.slice(0, 6))).toEqual(["rh-a-1"]);
    expect(
      visibilityChanges()
        .filter((c) => c.timeout === 0)
        .map((c) => c.handle.slice(0, 6)),
    ).toEqual(["rh-a-2"]);
    expect(stats).toMatchObject({ succeeded: 1, released: 1 });
  });

  it("GIVEN a standard queue WHEN two records of one group arrive at two pollers THEN they run at the same time (the FIFO rules apply to .fifo queues only)", async () => {
    scriptReceives([[fifoMessage("a", 1)], [fifoMessage("a", 2)]]);
    const h = gatedHandler();
    const es = source(h.handler, { concurrency: 2 });
    await es.start();
    await until(() => h.invocations.length === 2, "both invoked");
    for (const go of h.gates) go();
    await until(() => es.stats.batches === 2, "both settled");
    expect(h.maxRunning()).toBe(2);
  });
});
