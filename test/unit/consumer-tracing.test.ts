/**
 * X-Ray in the consumer runtime: one subsegment per batch (never per record), annotated with the
 * consumer, its counts and its correlation ids; nothing at all where tracing is off (local workers,
 * tests). Failure modes: tracing work per record on a large batch; a batch that cannot be found by
 * the request's correlation id; the invocation's segment not restored after a batch.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { SESClient } from "@aws-sdk/client-ses";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { MAX_ANNOTATION_CHARS } from "../../packages/courier/src/lib/consumer/tracing.ts";
import { consumerTracer, tracedClient } from "../../packages/courier/src/topology/tracing.ts";
import {
  type ConsumerMetrics,
  type ConsumerTracer,
  defineConsumer,
  PermanentError,
  type TraceSegment,
} from "../helpers/example-consumer.ts";
import { confirmSqsBatches } from "../helpers/sqs-batch-mock.ts";
import { sqsEvent, sqsRecord } from "../helpers/sqs-record.ts";

const sqs = new SQSClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
const sqsMock = mockClient(sqs);
const context = { getRemainingTimeInMillis: () => 25_000 } as unknown as Context;
const silentMetrics = {
  addMetric: () => undefined,
  publishStoredMetrics: () => undefined,
} as ConsumerMetrics;

beforeEach(() => {
  sqsMock.reset();
  sqsMock.onAnyCommand().resolves({});
  confirmSqsBatches(sqsMock);
});

interface RecordedSegment extends TraceSegment {
  readonly name: string;
  readonly annotations: Record<string, string | number | boolean>;
  readonly children: RecordedSegment[];
  closed: boolean;
}

function segment(name: string): RecordedSegment {
  const s: RecordedSegment = {
    name,
    annotations: {},
    children: [],
    closed: false,
    addNewSubsegment(child: string) {
      const sub = segment(child);
      s.children.push(sub);
      return sub;
    },
    addAnnotation(key, value) {
      s.annotations[key] = value;
    },
    close() {
      s.closed = true;
    },
  };
  return s;
}

function recordingTracer(enabled = true) {
  const invocation = segment("invocation");
  let current: TraceSegment = invocation;
  let reads = 0;
  const tracer: ConsumerTracer = {
    isTracingEnabled: () => enabled,
    getSegment: () => {
      reads += 1;
      return current;
    },
    setSegment: (s) => {
      current = s;
    },
  };
  return { tracer, invocation, current: () => current, reads: () => reads };
}

function signup(correlationId: string) {
  return JSON.stringify({
    eventId: crypto.randomUUID(),
    type: "NewAccount",
    version: 1,
    occurredAt: "2025-06-01T11:59:00.000Z",
    producer: "api",
    trace: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", correlationId },
    data: {
      accountId: "acct-1",
      email: "ada@example.com",
      displayName: "Ada",
      locale: "en-GB",
      createdAt: "2025-06-01T11:59:00.000Z",
    },
  });
}

function consumer(tracer: ConsumerTracer, handle: () => unknown = () => undefined) {
  return defineConsumer({
    name: "verification-email",
    sqs,
    queueUrl: "http://sqs.local/000000000000/verification-email",
    dlqUrl: "http://sqs.local/000000000000/verification-email-dlq",
    logger: new Logger({ logLevel: "SILENT" }),
    metrics: silentMetrics,
    tracer,
    handle,
  });
}

describe("tracing a batch", () => {
  it("GIVEN tracing on and a batch of 10 WHEN handled THEN one subsegment holds the batch, annotated with consumer, counts and correlation ids, and the invocation's segment is restored", async () => {
    const recorder = recordingTracer();
    let failNext = true;
    const handler = consumer(recorder.tracer, () => {
      if (failNext) {
        failNext = false;
        throw new PermanentError("refused");
      }
    });
    const records = Array.from({ length: 10 }, (_, i) => sqsRecord(signup(`req-${i % 3}`)));
    await handler(sqsEvent(...records), context);

    expect(recorder.invocation.children).toHaveLength(1);
    const [batch] = recorder.invocation.children;
    expect(batch?.name).toBe("## verification-email");
    expect(batch?.children).toEqual([]);
    expect(batch?.closed).toBe(true);
    expect(batch?.annotations).toEqual({
      consumer: "verification-email",
      records: 10,
      // Dead-lettered at once: handled, so not a batch item failure.
      failed: 0,
      correlationIds: "req-0 req-1 req-2",
    });
    expect(recorder.current()).toBe(recorder.invocation);
  });

  it("GIVEN tracing off (outside Lambda) WHEN a batch is handled THEN the runtime never asks for a segment", async () => {
    const recorder = recordingTracer(false);
    await consumer(recorder.tracer)(sqsEvent(sqsRecord(signup("req-1"))), context);
    expect(recorder.reads()).toBe(0);
    expect(recorder.invocation.children).toEqual([]);
  });

  it("GIVEN a batch with more correlation ids than an annotation holds WHEN traced THEN the list is cut within X-Ray's 1,000 characters and says how many are left out", async () => {
    const recorder = recordingTracer();
    const records = Array.from({ length: 100 }, (_, i) =>
      sqsRecord(signup(`request-${String(i).padStart(20, "0")}`)),
    );
    await consumer(recorder.tracer)(sqsEvent(...records), context);
    const list = String(recorder.invocation.children[0]?.annotations.correlationIds);
    expect(list.length).toBeLessThanOrEqual(MAX_ANNOTATION_CHARS);
    expect(list).toMatch(/ \(\+\d+ more\)$/);
  });
});

describe("the deployment's tracer outside Lambda", () => {
  it("GIVEN no Lambda environment (AWS_EXECUTION_ENV unset) WHEN a client is traced THEN tracing is off and the client is returned as it is", () => {
    expect(process.env.AWS_EXECUTION_ENV).toBeUndefined();
    expect(consumerTracer("verification-email").isTracingEnabled()).toBe(false);
    const ses = new SESClient({ region: "us-east-1" });
    expect(tracedClient("verification-email", ses)).toBe(ses);
    expect(ses.middlewareStack.identify().join(" ")).not.toMatch(/xray|trac/i);
  });
});
