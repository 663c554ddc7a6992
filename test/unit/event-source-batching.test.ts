import type { Message } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import {
  type BatchingSettings,
  gatherBatch,
  nextStep,
  type ReceiveRequest,
} from "../../packages/courier/src/worker/event-source-batching.ts";

const settings = (batchSize: number, maxBatchingWindowSeconds: number): BatchingSettings => ({
  batchSize,
  maxBatchingWindowSeconds,
  waitTimeSeconds: 20,
});

describe("nextStep: when to receive and when to invoke", () => {
  it("GIVEN nothing gathered WHEN deciding THEN long-poll for up to 10", () => {
    expect(nextStep(settings(25, 5), 0, undefined, 0)).toEqual({
      kind: "receive",
      request: { maxMessages: 10, waitTimeSeconds: 20 },
    });
  });

  it("GIVEN a full batch WHEN deciding THEN invoke even though the window is still open", () => {
    expect(nextStep(settings(10, 5), 10, 0, 100)).toEqual({ kind: "invoke" });
  });

  it("GIVEN a batch size over 10 with room left WHEN deciding THEN ask only for what fits", () => {
    expect(nextStep(settings(25, 5), 20, 0, 1000)).toEqual({
      kind: "receive",
      request: { maxMessages: 5, waitTimeSeconds: 4 },
    });
  });

  it("GIVEN the window has elapsed since the first message WHEN deciding THEN invoke with a partial batch", () => {
    expect(nextStep(settings(10, 2), 3, 1_000, 3_000)).toEqual({ kind: "invoke" });
  });

  it("GIVEN a zero window WHEN the first receive returned messages THEN invoke at once", () => {
    expect(nextStep(settings(10, 0), 1, 1_000, 1_000)).toEqual({ kind: "invoke" });
  });

  it("GIVEN under a second of window left WHEN deciding THEN a short poll, never a wait past the window", () => {
    expect(nextStep(settings(10, 1), 2, 1_000, 1_400)).toEqual({
      kind: "receive",
      request: { maxMessages: 8, waitTimeSeconds: 0 },
    });
  });
});

/** A queue of receive results and a clock that each receive advances by its wait time. */
function fakeQueue(responses: Message[][]) {
  let clock = 0;
  const requests: ReceiveRequest[] = [];
  return {
    requests,
    deps: {
      receive: async (request: ReceiveRequest) => {
        requests.push(request);
        const next = responses.shift() ?? [];
        if (next.length === 0) clock += request.waitTimeSeconds * 1000 || 1;
        else clock += 10;
        return next.slice(0, request.maxMessages);
      },
      now: () => clock,
      sleep: async (ms: number) => {
        clock += ms;
      },
    },
  };
}

const messages = (n: number, prefix = "m"): Message[] =>
  Array.from({ length: n }, (_, i) => ({ MessageId: `${prefix}${i}`, ReceiptHandle: `r${i}` }));

describe("gatherBatch", () => {
  it("GIVEN batch size 25 and a busy queue WHEN gathering THEN three receives fill it exactly (10+10+5)", async () => {
    const q = fakeQueue([messages(10, "a"), messages(10, "b"), messages(10, "c")]);
    const { batch } = await gatherBatch(settings(25, 5), q.deps, new AbortController().signal);
    expect(batch).toHaveLength(25);
    expect(q.requests.map((r) => r.maxMessages)).toEqual([10, 10, 5]);
  });

  it("GIVEN a trickle WHEN the window elapses THEN it invokes with what arrived, not waiting for a full batch", async () => {
    const q = fakeQueue([messages(2), [], [], []]);
    const { batch } = await gatherBatch(settings(10, 3), q.deps, new AbortController().signal);
    expect(batch).toHaveLength(2);
    expect(q.deps.now()).toBeGreaterThanOrEqual(3_000);
  });

  it("GIVEN an empty queue WHEN gathering THEN it keeps long-polling rather than invoking with nothing", async () => {
    const q = fakeQueue([[], [], messages(1)]);
    const { batch } = await gatherBatch(settings(1, 0), q.deps, new AbortController().signal);
    expect(batch).toHaveLength(1);
    expect(q.requests).toHaveLength(3);
  });

  it("GIVEN a stop while messages are gathered WHEN the window's receive returns empty THEN they are returned to be processed, not dropped", async () => {
    const stop = new AbortController();
    const q = fakeQueue([messages(3), []]);
    const receive = q.deps.receive;
    const deps = {
      ...q.deps,
      receive: async (request: ReceiveRequest) => {
        if (q.requests.length === 1) stop.abort();
        return receive(request);
      },
    };
    const gathered = await gatherBatch(settings(10, 5), deps, stop.signal);
    expect(gathered.batch.map((m) => m.MessageId)).toEqual(["m0", "m1", "m2"]);
    expect(gathered.afterStop).toEqual([]);
    expect(q.requests).toHaveLength(2);
  });

  it("GIVEN a receive in flight when the stop begins WHEN it returns messages THEN they come back as afterStop, not in the batch", async () => {
    const stop = new AbortController();
    const q = fakeQueue([messages(2, "early"), messages(3, "late")]);
    const receive = q.deps.receive;
    const deps = {
      ...q.deps,
      receive: async (request: ReceiveRequest) => {
        // The stop begins while the second receive is at SQS.
        if (q.requests.length === 1) stop.abort();
        return receive(request);
      },
    };
    const gathered = await gatherBatch(settings(10, 5), deps, stop.signal);
    expect(gathered.batch.map((m) => m.MessageId)).toEqual(["early0", "early1"]);
    expect(gathered.afterStop.map((m) => m.MessageId)).toEqual(["late0", "late1", "late2"]);
  });

  it("GIVEN a stop before gathering WHEN gathering THEN no receive is made", async () => {
    const stop = new AbortController();
    stop.abort();
    const q = fakeQueue([messages(1)]);
    const gathered = await gatherBatch(settings(10, 0), q.deps, stop.signal);
    expect(q.requests).toHaveLength(0);
    expect(gathered).toEqual({ batch: [], afterStop: [] });
  });

  it("GIVEN a stalled receive aborted after a stop WHEN messages were gathered THEN they are returned for processing", async () => {
    const stop = new AbortController();
    const q = fakeQueue([messages(2)]);
    const receive = q.deps.receive;
    const deps = {
      ...q.deps,
      receive: async (request: ReceiveRequest) => {
        if (q.requests.length === 1) {
          q.requests.push(request);
          stop.abort();
          throw new Error("aborted: stalled past its wait time");
        }
        return receive(request);
      },
    };
    const gathered = await gatherBatch(settings(10, 5), deps, stop.signal);
    expect(gathered.batch.map((m) => m.MessageId)).toEqual(["m0", "m1"]);
    expect(gathered.afterStop).toEqual([]);
  });

  it("GIVEN a receive error with nothing gathered WHEN gathering THEN the error reaches the caller", async () => {
    const deps = {
      receive: async () => {
        throw new Error("connection refused");
      },
      now: () => 0,
      sleep: async () => undefined,
    };
    await expect(gatherBatch(settings(10, 1), deps, new AbortController().signal)).rejects.toThrow(
      "connection refused",
    );
  });
});

describe("gatherBatch while paused", () => {
  it("GIVEN messages gathered in a window WHEN the source is paused THEN it returns them at once without another receive", async () => {
    let paused = false;
    const q = fakeQueue([messages(3), messages(3, "more")]);
    const receive = q.deps.receive;
    const deps = {
      ...q.deps,
      holding: () => paused,
      receive: async (request: ReceiveRequest) => {
        const got = await receive(request);
        paused = true;
        return got;
      },
    };
    const gathered = await gatherBatch(settings(10, 30), deps, new AbortController().signal);
    expect(gathered.batch.map((m) => m.MessageId)).toEqual(["m0", "m1", "m2"]);
    expect(q.requests).toHaveLength(1);
  });

  it("GIVEN a paused source WHEN gathering THEN no receive is made and nothing is returned", async () => {
    const q = fakeQueue([messages(1)]);
    const gathered = await gatherBatch(
      settings(10, 0),
      { ...q.deps, holding: () => true },
      new AbortController().signal,
    );
    expect(q.requests).toHaveLength(0);
    expect(gathered.batch).toEqual([]);
  });
});
