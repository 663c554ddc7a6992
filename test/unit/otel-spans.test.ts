/**
 * courier's OpenTelemetry spans, read from an in-memory exporter (the SDK as
 * `@courier-queue/courier/otel` starts it). Failure modes covered: a publish with no producer span
 * or one the envelope does not name (the consumer could not link back); a batch entry sharing a
 * neighbour's span; a caller's trace not continued; a batch span without its records' links; a
 * record's outcome (processed, retried with its delay, dead-lettered with its reason) missing from
 * its span; a side effect not under the record that caused it; a Lambda batch outside the
 * invocation's X-Ray trace; attribute names off the messaging conventions.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishBatchCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { tracedClient, tracedFetch } from "../../packages/courier/src/index.ts";
import { encodeEntries } from "../../packages/courier/src/lib/archive/archive-entry.ts";
import { batchObjectKey } from "../../packages/courier/src/lib/archive/archive-keys.ts";
import { redriveSelectively } from "../../packages/courier/src/lib/redrive/selective.ts";
import { replay } from "../../packages/courier/src/lib/replay/replay.ts";
import { startTracing, type Tracing } from "../../packages/courier/src/otel/index.ts";
import type { NewAccountV1 } from "../../src/app/contracts/index.ts";
import type { TopicName } from "../../src/topology.ts";
import { type ConsumerMetrics, defineConsumer, PermanentError } from "../helpers/example-consumer.ts";
import { createPublisher } from "../helpers/example-publisher.ts";
import { confirmSqsBatches, sentMessages } from "../helpers/sqs-batch-mock.ts";
import { sqsEvent, sqsRecord } from "../helpers/sqs-record.ts";
import { DLQ_URL, dlqMessage, NOW, QUEUE_URL } from "./redrive-fixtures.ts";

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
beforeAll(() => {
  tracing = startTracing({ exporter, batch: false, serviceName: "otel-spans-test" });
});
afterAll(async () => {
  await tracing.shutdown();
});

const sns = mockClient(SNSClient);
const sqs = new SQSClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
const sqsMock = mockClient(sqs);
/** A real client (aws-sdk-client-mock would replace `send` and so skip middleware), answered in-process. */
const dynamo = new DynamoDBClient({
  region: "us-east-1",
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
});
dynamo.middlewareStack.add(
  () => async () => ({
    output: { $metadata: { requestId: "ddb-req-1", httpStatusCode: 200 } },
    response: {},
  }),
  { step: "serialize", name: "answerInProcess" },
);
const context = { getRemainingTimeInMillis: () => 25_000 } as unknown as Context;
const topicArns = { "account-signups": "arn:aws:sns:us-east-1:000000000000:account-signups" } as Record<
  TopicName,
  string
>;
const signup: NewAccountV1 = {
  accountId: "acc_1",
  email: "ada@example.com",
  displayName: "Ada",
  phone: "+14155550123",
  locale: "en-GB",
  createdAt: "2025-06-01T11:59:59.000Z",
};
const REQUEST_TRACE = {
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  correlationId: "req-7",
};

beforeEach(() => {
  exporter.reset();
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: "sns-1" });
  sns.on(PublishBatchCommand).callsFake((input) => ({
    Successful: input.PublishBatchRequestEntries.map((e: { Id: string }) => ({
      Id: e.Id,
      MessageId: `sns-${e.Id}`,
    })),
    Failed: [],
  }));
  sqsMock.reset();
  sqsMock.onAnyCommand().resolves({});
  confirmSqsBatches(sqsMock);
  vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  return () => vi.restoreAllMocks();
});

function publisher() {
  return createPublisher({
    sns: new SNSClient({ region: "us-east-1" }),
    topicArns,
    producer: "api",
    env: {},
  });
}

function publishedBodies(): Array<{
  eventId: string;
  trace: { traceparent: string; correlationId: string };
}> {
  const single = sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Message ?? "{}");
  const batched = sns
    .commandCalls(PublishBatchCommand)
    .flatMap((c) => c.args[0].input.PublishBatchRequestEntries ?? [])
    .map((e) => e.Message ?? "{}");
  return [...single, ...batched].map((m) => JSON.parse(m));
}

const spans = (name?: string | RegExp): ReadableSpan[] =>
  exporter
    .getFinishedSpans()
    .filter((s) => name === undefined || (typeof name === "string" ? s.name === name : name.test(s.name)));
const traceparentOf = (span: ReadableSpan) =>
  `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;
const parentSpanId = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe("the publisher's PRODUCER spans", () => {
  it("GIVEN a publish WHEN it succeeds THEN one `send <topic>` PRODUCER span carries the messaging attributes and the envelope names it as the parent", async () => {
    const { eventId, messageId } = await publisher().publish("account-signups", signup);
    const [span, ...others] = spans("send account-signups");
    expect(others).toEqual([]);
    expect(span?.kind).toBe(SpanKind.PRODUCER);
    expect(span?.attributes).toMatchObject({
      "messaging.system": "aws_sns",
      "messaging.destination.name": "account-signups",
      "messaging.operation.type": "send",
      "messaging.message.id": messageId,
      "courier.event_id": eventId,
      "courier.message_type": "NewAccount",
    });
    expect(span?.attributes["messaging.message.body.size"]).toBeGreaterThan(100);
    const [body] = publishedBodies();
    expect(body?.trace.traceparent).toBe(traceparentOf(span as ReadableSpan));
  });

  it("GIVEN the request's trace context WHEN published THEN the producer span continues that trace as a child of the request's span", async () => {
    await publisher().publish("account-signups", signup, { trace: REQUEST_TRACE });
    const [span] = spans("send account-signups");
    expect(span?.spanContext().traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(parentSpanId(span as ReadableSpan)).toBe("00f067aa0ba902b7");
    expect(span?.attributes["courier.correlation_id"]).toBe("req-7");
    expect(publishedBodies()[0]?.trace.correlationId).toBe("req-7");
  });

  it("GIVEN a batch of three WHEN published THEN each entry has its own producer span, named by its own envelope", async () => {
    await publisher().publishBatch("account-signups", [signup, signup, signup], { trace: REQUEST_TRACE });
    const produced = spans("send account-signups");
    expect(produced).toHaveLength(3);
    expect(new Set(produced.map((s) => s.spanContext().spanId)).size).toBe(3);
    const bodies = publishedBodies();
    expect(bodies.map((b) => b.trace.traceparent).sort()).toEqual(produced.map(traceparentOf).sort());
    for (const span of produced) expect(parentSpanId(span)).toBe("00f067aa0ba902b7");
    expect(produced.map((s) => s.attributes["messaging.message.id"]).sort()).toEqual([
      "sns-0",
      "sns-1",
      "sns-2",
    ]);
  });

  it("GIVEN SNS refuses the publish WHEN published THEN the span ends with an error status and the error's class", async () => {
    sns
      .on(PublishCommand)
      .rejects(Object.assign(new Error("denied"), { name: "AuthorizationErrorException" }));
    await expect(publisher().publish("account-signups", signup)).rejects.toThrow();
    const [span] = spans("send account-signups");
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes["courier.error.class"]).toBe("PublishFailedError");
  });
});

function consumer(handle: Parameters<typeof defineConsumer<"verification-email">>[0]["handle"]) {
  return defineConsumer({
    name: "verification-email",
    sqs,
    queueUrl: "http://sqs.local/000000000000/verification-email",
    dlqUrl: "http://sqs.local/000000000000/verification-email-dlq",
    logger: new Logger({ serviceName: "verification-email", logLevel: "INFO" }),
    metrics: {
      addMetric: () => undefined,
      publishStoredMetrics: () => undefined,
    } as unknown as ConsumerMetrics,
    random: () => 0.5,
    handle,
  });
}

/** Publishes n sign-ups and returns their SNS-wrapped bodies as SQS would deliver them (raw). */
async function produced(n: number): Promise<Array<{ body: string; eventId: string; traceparent: string }>> {
  const results = await publisher().publishBatch(
    "account-signups",
    Array.from({ length: n }, (_, i) => ({ ...signup, accountId: `acc_${i}` })),
    { trace: REQUEST_TRACE },
  );
  expect(results.every((r) => r.ok)).toBe(true);
  const bodies = publishedBodies();
  return bodies.map((b) => ({
    body: JSON.stringify(b),
    eventId: b.eventId,
    traceparent: b.trace.traceparent,
  }));
}

describe("the consumer runtime's spans", () => {
  it("GIVEN a batch of three records WHEN one is processed, one retried and one dead-lettered THEN one CONSUMER `process <queue>` span links to all three producers and each record's child span carries its outcome", async () => {
    const [ok, flaky, poison] = await produced(3);
    exporter.reset();
    const handler = consumer((message) => {
      if (message.eventId === flaky?.eventId) throw new Error("SES is down");
      if (message.eventId === poison?.eventId) throw new PermanentError("address refused");
    });
    await handler(
      sqsEvent(
        sqsRecord(ok?.body ?? "", { messageId: "m-ok" }),
        sqsRecord(flaky?.body ?? "", { messageId: "m-flaky", receiveCount: 2 }),
        sqsRecord(poison?.body ?? "", { messageId: "m-poison" }),
      ),
      context,
    );
    const [batch, ...more] = spans("process verification-email");
    expect(more).toEqual([]);
    expect(batch?.kind).toBe(SpanKind.CONSUMER);
    expect(batch?.attributes).toMatchObject({
      "messaging.system": "aws_sqs",
      "messaging.destination.name": "verification-email",
      "messaging.operation.type": "process",
      "messaging.batch.message_count": 3,
      "courier.consumer": "verification-email",
      "courier.failed_count": 1,
    });
    const linked = (batch?.links ?? []).map((l) => `00-${l.context.traceId}-${l.context.spanId}-01`).sort();
    expect(linked).toEqual([ok?.traceparent, flaky?.traceparent, poison?.traceparent].sort());

    const records = spans("handle verification-email");
    expect(records).toHaveLength(3);
    for (const record of records) {
      expect(parentSpanId(record)).toBe(batch?.spanContext().spanId);
      expect(record.spanContext().traceId).toBe(batch?.spanContext().traceId);
    }
    const byMessage = Object.fromEntries(records.map((r) => [r.attributes["messaging.message.id"], r]));
    expect(byMessage["m-ok"]?.attributes).toMatchObject({
      "courier.outcome": "processed",
      "courier.event_id": ok?.eventId,
      "courier.correlation_id": "req-7",
    });
    expect(byMessage["m-ok"]?.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(byMessage["m-flaky"]?.attributes).toMatchObject({
      "courier.outcome": "retried",
      "courier.receive_count": 2,
      "courier.error.class": "Error",
    });
    expect(byMessage["m-flaky"]?.attributes["courier.retry.delay_seconds"]).toBeGreaterThan(0);
    expect(byMessage["m-flaky"]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(byMessage["m-poison"]?.attributes).toMatchObject({
      "courier.outcome": "dead-lettered",
      "courier.dead_letter.reason": "permanent",
      "courier.error.class": "PermanentError",
      "courier.error.message": "address refused",
    });
    // Each record's span links to its own message's producer: the journey joins up by message.
    expect(
      byMessage["m-poison"]?.links.map(
        (l: { context: { traceId: string; spanId: string } }) =>
          `00-${l.context.traceId}-${l.context.spanId}-01`,
      ),
    ).toEqual([poison?.traceparent]);
    // The DLQ copy keeps the body, and so the producer's context, byte for byte.
    expect(sentMessages(sqsMock).map((m) => m.MessageBody)).toEqual([poison?.body]);
  });

  it("GIVEN a handler that writes with a traced client WHEN it runs THEN the call's CLIENT span is a child of that record's span", async () => {
    const [message] = await produced(1);
    exporter.reset();
    const client = tracedClient("verification-email", dynamo);
    const handler = consumer(async () => {
      await client.send(new PutItemCommand({ TableName: "t", Item: { pk: { S: "k" } } }));
    });
    await handler(sqsEvent(sqsRecord(message?.body ?? "")), context);
    const [record] = spans("handle verification-email");
    const [call] = spans("DynamoDB.PutItem");
    expect(call?.kind).toBe(SpanKind.CLIENT);
    expect(parentSpanId(call as ReadableSpan)).toBe(record?.spanContext().spanId);
    expect(call?.attributes).toMatchObject({
      "rpc.system": "aws-api",
      "rpc.service": "DynamoDB",
      "rpc.method": "PutItem",
      "aws.request_id": "ddb-req-1",
    });
  });

  it("GIVEN Lambda's X-Ray header for the invocation WHEN a batch runs THEN the batch span continues that X-Ray trace", async () => {
    const [message] = await produced(1);
    exporter.reset();
    vi.stubEnv(
      "_X_AMZN_TRACE_ID",
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    );
    try {
      await consumer(() => undefined)(sqsEvent(sqsRecord(message?.body ?? "")), context);
    } finally {
      vi.unstubAllEnvs();
    }
    const [batch] = spans("process verification-email");
    expect(batch?.spanContext().traceId).toBe("5759e988bd862e3fe1be46a994272793");
    expect(parentSpanId(batch as ReadableSpan)).toBe("53995c3f42cd8ad8");
  });

  it("GIVEN a record with no trace in its envelope WHEN processed THEN its span has no link and the batch still records it", async () => {
    const body = JSON.stringify({ ...JSON.parse((await produced(1))[0]?.body ?? "{}"), trace: undefined });
    exporter.reset();
    await consumer(() => undefined)(sqsEvent(sqsRecord(body)), context);
    const [record] = spans("handle verification-email");
    expect(record?.links).toEqual([]);
    expect(record?.attributes["courier.outcome"]).toBe("processed");
  });
});

describe("redrive's spans", () => {
  it("GIVEN a dead-lettered traced message WHEN the selective mover sends it back THEN a PRODUCER span per message links to its producer and carries its eventId, lineage and new MessageId", async () => {
    const [message] = await produced(1);
    exporter.reset();
    const dlqSqs = new SQSClient({
      region: "us-east-1",
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    const dlqMock = mockClient(dlqSqs);
    dlqMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [dlqMessage({ id: "dlq-1", body: message?.body ?? "", failure: {} })] })
      .resolves({ Messages: [] });
    dlqMock.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: "back-1", MD5OfMessageBody: "x" })),
      Failed: [],
    }));
    dlqMock.on(DeleteMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id })),
      Failed: [],
    }));
    const summary = await redriveSelectively({
      sqs: dlqSqs,
      dlqUrl: DLQ_URL,
      queueUrl: QUEUE_URL,
      waitTimeSeconds: 0,
      concurrency: 1,
      now: () => NOW,
    });
    expect(summary.moved).toBe(1);
    const [span, ...more] = spans("send orders");
    expect(more).toEqual([]);
    expect(span?.kind).toBe(SpanKind.PRODUCER);
    expect(span?.attributes).toMatchObject({
      "messaging.system": "aws_sqs",
      "messaging.destination.name": "orders",
      "messaging.message.id": "back-1",
      "courier.outcome": "redriven",
      "courier.event_id": message?.eventId,
      "courier.correlation_id": "req-7",
      "courier.redrive.count": 1,
      "courier.original_message_id": "dlq-1",
    });
    expect(span?.links.map((l) => `00-${l.context.traceId}-${l.context.spanId}-01`)).toEqual([
      message?.traceparent,
    ]);
  });
});

describe("replay's spans", () => {
  it("GIVEN an archived traced message WHEN replayed to one consumer THEN a PRODUCER span links to its first producer, names the run and carries the new MessageId", async () => {
    const [message] = await produced(1);
    exporter.reset();
    const publishedAt = new Date("2026-12-06T10:15:00.000Z");
    const key = batchObjectKey("account-signups", publishedAt, 1, "b1");
    const body = message?.body ?? "";
    const archived = encodeEntries([
      {
        messageId: "sns-1",
        publishedAt: publishedAt.toISOString(),
        topic: "account-signups",
        eventId: message?.eventId,
        type: "NewAccount",
        version: 1,
        attributes: {},
        message: body,
      },
    ]);
    const s3 = new S3Client({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
    const s3Mock = mockClient(s3);
    s3Mock.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
      Contents: key.startsWith(input.Prefix) ? [{ Key: key, Size: archived.length }] : [],
    }));
    s3Mock
      .on(GetObjectCommand)
      .callsFake(() => ({ Body: { transformToByteArray: async () => new Uint8Array(archived) } }));
    s3Mock.on(PutObjectCommand).resolves({});
    const replaySqs = new SQSClient({
      region: "us-east-1",
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    mockClient(replaySqs)
      .on(SendMessageBatchCommand)
      .callsFake((input: { Entries: Array<{ Id: string }> }) => ({
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: "replayed-1", MD5OfMessageBody: "x" })),
        Failed: [],
      }));
    const summary = await replay({
      s3,
      bucket: "archive",
      sqs: replaySqs,
      target: { consumer: "verification-email", topic: "account-signups", queueUrl: QUEUE_URL, fifo: false },
      window: { from: new Date("2026-12-06T10:00:00.000Z"), to: new Date("2026-12-06T11:00:00.000Z") },
      runId: "run-1",
    });
    expect(summary.sent).toBe(1);
    const [span, ...more] = spans("send orders");
    expect(more).toEqual([]);
    expect(span?.kind).toBe(SpanKind.PRODUCER);
    expect(span?.attributes).toMatchObject({
      "messaging.operation.name": "replay",
      "messaging.message.id": "replayed-1",
      "courier.outcome": "replayed",
      "courier.replay.run_id": "run-1",
      "courier.event_id": message?.eventId,
    });
    expect(span?.links.map((l) => `00-${l.context.traceId}-${l.context.spanId}-01`)).toEqual([
      message?.traceparent,
    ]);
  });
});

describe("a traced fetch (the team webhook's side effect)", () => {
  it("GIVEN a handler posting to a webhook WHEN it runs THEN a CLIENT span under the record names the method, host and status, never the URL's secret path", async () => {
    const [message] = await produced(1);
    exporter.reset();
    const post = tracedFetch("verification-email", async () => new Response("ok", { status: 503 }));
    await consumer(async () => {
      await post("https://hooks.example.com/services/T000/SECRET", { method: "POST", body: "{}" });
    })(sqsEvent(sqsRecord(message?.body ?? "")), context);
    const [record] = spans("handle verification-email");
    const [call] = spans("POST");
    expect(call?.kind).toBe(SpanKind.CLIENT);
    expect(call?.parentSpanContext?.spanId).toBe(record?.spanContext().spanId);
    expect(call?.attributes).toMatchObject({
      "http.request.method": "POST",
      "server.address": "hooks.example.com",
      "http.response.status_code": 503,
    });
    expect(call?.status.code).toBe(SpanStatusCode.ERROR);
    expect(JSON.stringify(call?.attributes)).not.toContain("SECRET");
  });
});
