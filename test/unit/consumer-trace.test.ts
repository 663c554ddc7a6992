/**
 * The consumer runtime and a message's trace context: correlationId and traceparent on every log
 * line of that record (the handler's and the runtime's own), the batch's correlation ids as EMF
 * metadata, and the trace kept on the DLQ copy. Failure modes: a record's log lines that cannot be
 * tied to the request; keys of one record on its neighbour's lines; a malformed trace failing a
 * good message; a dead-lettered copy that loses the trace.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSRecord } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  CORRELATION_IDS_METADATA,
  type ConsumerMetrics,
  defineConsumer,
  PermanentError,
} from "../helpers/example-consumer.ts";
import { confirmSqsBatches, sentMessages } from "../helpers/sqs-batch-mock.ts";
import { sqsEvent, sqsRecord } from "../helpers/sqs-record.ts";

const sqs = new SQSClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
const sqsMock = mockClient(sqs);
const context = { getRemainingTimeInMillis: () => 25_000 } as unknown as Context;

/** Four hex digits that differ between the tests' correlation ids, ending their trace ids. */
const tail = (correlationId: string) => Buffer.from(correlationId).toString("hex").padStart(4, "0").slice(-4);

function traced(correlationId: string, trace: unknown = undefined) {
  return JSON.stringify({
    eventId: crypto.randomUUID(),
    type: "NewAccount",
    version: 1,
    occurredAt: "2025-06-01T11:59:00.000Z",
    producer: "api",
    trace: trace ?? {
      traceparent: `00-4bf92f3577b34da6a3ce929d0e0e${tail(correlationId)}-00f067aa0ba902b7-01`,
      correlationId,
    },
    data: {
      accountId: "acct-1",
      email: "ada@example.com",
      displayName: "Ada",
      locale: "en-GB",
      createdAt: "2025-06-01T11:59:00.000Z",
    },
  });
}

let lines: Array<Record<string, unknown>> = [];
beforeEach(() => {
  sqsMock.reset();
  sqsMock.onAnyCommand().resolves({});
  confirmSqsBatches(sqsMock);
  lines = [];
  // Powertools writes INFO to stdout and WARN/ERROR to stderr, one JSON object a line.
  const capture = (chunk: string | Uint8Array) => {
    for (const line of String(chunk).split("\n")) if (line.startsWith("{")) lines.push(JSON.parse(line));
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(capture);
  vi.spyOn(process.stderr, "write").mockImplementation(capture);
});
afterEach(() => {
  vi.restoreAllMocks();
});

function consumer(
  handle: Parameters<typeof defineConsumer<"verification-email">>[0]["handle"],
  metrics?: ConsumerMetrics,
) {
  return defineConsumer({
    name: "verification-email",
    sqs,
    queueUrl: "http://sqs.local/000000000000/verification-email",
    dlqUrl: "http://sqs.local/000000000000/verification-email-dlq",
    logger: new Logger({ serviceName: "verification-email", logLevel: "INFO" }),
    metrics:
      metrics ??
      ({ addMetric: () => undefined, publishStoredMetrics: () => undefined } as unknown as ConsumerMetrics),
    random: () => 0.5,
    handle,
  });
}

describe("trace context on a record's log lines", () => {
  it("GIVEN two traced records in one batch WHEN each handler logs after a wait THEN every line carries its own record's correlationId and traceparent (failure mode: keys on a neighbour's lines)", async () => {
    const handler = consumer(async (message, ctx) => {
      // The second record finishes first: lines interleave as they do in a concurrent batch.
      await new Promise((resolve) => setTimeout(resolve, message.trace?.correlationId === "c-1" ? 20 : 0));
      ctx.logger.info("sent", { for: message.trace?.correlationId });
    });
    const records = [sqsRecord(traced("c-1")), sqsRecord(traced("c-2"))];
    await handler(sqsEvent(...records), context);
    const sentLines = lines.filter((l) => l.message === "sent");
    expect(sentLines).toHaveLength(2);
    for (const line of sentLines) {
      expect(line.correlationId).toBe(line.for);
      expect(line.traceparent).toMatch(new RegExp(`^00-[0-9a-f]{28}${tail(String(line.for))}-`));
    }
  });

  it("GIVEN a traced record WHEN it fails permanently THEN the runtime's dead-letter line carries its correlationId and traceparent", async () => {
    const handler = consumer(() => {
      throw new PermanentError("refused");
    });
    await handler(sqsEvent(sqsRecord(traced("c-9"))), context);
    const line = lines.find((l) => l.message === "record dead-lettered");
    expect(line).toMatchObject({ correlationId: "c-9", traceparent: expect.stringMatching(/^00-/) });
  });

  it("GIVEN a traced record WHEN it fails and is retried THEN the runtime's retry line carries its correlationId", async () => {
    const handler = consumer(() => {
      throw new Error("SES is down");
    });
    await handler(sqsEvent(sqsRecord(traced("c-3"))), context);
    expect(lines.find((l) => l.message === "record failed; retrying later")).toMatchObject({
      correlationId: "c-3",
    });
  });

  it("GIVEN a message with a malformed trace WHEN handled THEN it is processed, and its lines simply have no trace keys (failure mode: a bad trace dead-letters a good message)", async () => {
    const handled: string[] = [];
    const handler = consumer((message, ctx) => {
      handled.push(message.eventId);
      ctx.logger.info("sent");
    });
    const response = await handler(
      sqsEvent(sqsRecord(traced("x", { traceparent: "garbage", correlationId: "has space" }))),
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(handled).toHaveLength(1);
    const line = lines.find((l) => l.message === "sent");
    expect(line).not.toHaveProperty("correlationId");
    expect(line).not.toHaveProperty("traceparent");
  });
});

describe("trace context on the metric context and the DLQ copy", () => {
  it("GIVEN a batch of traced records WHEN its metrics are published THEN its correlation ids are metadata, not dimensions", async () => {
    const metadata: Array<[string, string]> = [];
    const dimensions: string[] = [];
    const metrics = {
      addMetric: () => undefined,
      addMetadata: (key: string, value: string) => metadata.push([key, value]),
      addDimension: (name: string) => dimensions.push(name),
      publishStoredMetrics: () => undefined,
    } as unknown as ConsumerMetrics;
    const handler = consumer(() => undefined, metrics);
    await handler(
      sqsEvent(sqsRecord(traced("c-1")), sqsRecord(traced("c-2")), sqsRecord(traced("c-1"))),
      context,
    );
    expect(metadata).toEqual([[CORRELATION_IDS_METADATA, "c-1 c-2"]]);
    expect(dimensions).toEqual([]);
  });

  it("GIVEN a traced record with X-Ray's AWSTraceHeader WHEN dead-lettered THEN the DLQ copy keeps the body (with its trace) and the AWSTraceHeader system attribute", async () => {
    const record: SQSRecord = sqsRecord(traced("c-5"));
    const header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    (record.attributes as { AWSTraceHeader?: string }).AWSTraceHeader = header;
    const handler = consumer(() => {
      throw new PermanentError("refused");
    });
    await handler(sqsEvent(record), context);
    const [copy] = sentMessages(sqsMock);
    expect(copy?.MessageBody).toBe(record.body);
    expect(JSON.parse(copy?.MessageBody ?? "{}").trace.correlationId).toBe("c-5");
    expect(copy?.MessageSystemAttributes?.AWSTraceHeader?.StringValue).toBe(header);
  });
});
