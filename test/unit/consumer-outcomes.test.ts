/**
 * The runtime's record outcomes: what `courier work` and `npm start` turn into one line per
 * message. Failure modes: an outcome missing or wrong for a record, a record reported twice (the
 * outcome and the runtime's own log line), a listener left out when nobody subscribes.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSRecord } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { onRecordOutcome, type RecordOutcome } from "../../packages/courier/src/lib/consumer/outcomes.ts";
import { consumers } from "../../src/topology.ts";
import { defineConsumer, PermanentError } from "../helpers/example-consumer.ts";
import { confirmSqsBatches } from "../helpers/sqs-batch-mock.ts";

const sqs = new SQSClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
const sqsMock = mockClient(sqs);
const spec = consumers["verification-email"];
let clock = 1_000_000;
let seen: RecordOutcome[];
let unsubscribe: (() => void) | undefined;

beforeEach(() => {
  sqsMock.reset();
  confirmSqsBatches(sqsMock);
  seen = [];
});
afterEach(() => {
  unsubscribe?.();
  unsubscribe = undefined;
});

const listen = () => {
  unsubscribe = onRecordOutcome((outcome) => seen.push(outcome));
};

function record(body: string, receiveCount = 1): SQSRecord {
  return {
    messageId: `msg-${receiveCount}`,
    receiptHandle: "receipt",
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(clock),
      SenderId: "x",
      ApproximateFirstReceiveTimestamp: String(clock),
    },
    messageAttributes: {},
    md5OfBody: "x",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:verification-email",
    awsRegion: "us-east-1",
  };
}

const eventId = "3f2a9c1e-0000-4000-8000-000000000001";
const body = JSON.stringify({
  eventId,
  type: "NewAccount",
  version: 1,
  occurredAt: "2025-06-01T11:59:00.000Z",
  producer: "test",
  data: {
    accountId: "acct-1",
    email: "ada@example.com",
    displayName: "Ada",
    locale: "en-GB",
    createdAt: "2025-06-01T11:59:00.000Z",
  },
});

function consumerWith(handle: () => unknown, logger = new Logger({ logLevel: "SILENT" })) {
  return defineConsumer({
    name: "verification-email",
    handle: async () => {
      clock += 40; // the handler takes 40 ms of the injected clock
      return handle();
    },
    sqs,
    queueUrl: "http://sqs.local/q",
    dlqUrl: "http://sqs.local/dlq",
    logger,
    metrics: { addMetric: () => undefined, publishStoredMetrics: () => undefined } as never,
    random: () => 0.5,
    now: () => clock,
  });
}

const context = {} as Context;

describe("record outcomes", () => {
  it("GIVEN a listener WHEN a record is processed THEN one processed outcome with eventId, receive count and duration", async () => {
    listen();
    await consumerWith(() => undefined)({ Records: [record(body)] }, context);
    expect(seen).toEqual([
      expect.objectContaining({
        outcome: "processed",
        consumer: "verification-email",
        eventId,
        messageId: "msg-1",
        receiveCount: 1,
        durationMs: 40,
      }),
    ]);
  });

  it("GIVEN a listener WHEN a record fails before its last receive THEN a retried outcome with the delay and the error, and no warn line of its own", async () => {
    listen();
    const logger = new Logger({ logLevel: "SILENT" });
    const warn = vi.spyOn(logger, "warn");
    await consumerWith(() => {
      throw new Error("webhook answered 503");
    }, logger)({ Records: [record(body, 2)] }, context);
    expect(seen).toEqual([
      expect.objectContaining({
        outcome: "retried",
        receiveCount: 2,
        retryDelaySet: true,
        errorClass: "Error",
        errorMessage: "webhook answered 503",
      }),
    ]);
    expect((seen[0] as { retryInSeconds: number }).retryInSeconds).toBeGreaterThan(0);
    expect(warn).not.toHaveBeenCalled();
  });

  it("GIVEN a listener WHEN a record is rejected for good THEN a dead-lettered outcome (permanent) with the reason, and no error line of its own", async () => {
    listen();
    const logger = new Logger({ logLevel: "SILENT" });
    const error = vi.spyOn(logger, "error");
    await consumerWith(() => {
      throw new PermanentError("corrupt: premature end of JPEG");
    }, logger)({ Records: [record(body)] }, context);
    expect(seen).toEqual([
      expect.objectContaining({
        outcome: "dead-lettered",
        kind: "permanent",
        errorClass: "PermanentError",
        errorMessage: "corrupt: premature end of JPEG",
      }),
    ]);
    expect(error).not.toHaveBeenCalled();
  });

  it("GIVEN a listener WHEN the last allowed receive fails THEN a dead-lettered outcome (exhausted)", async () => {
    listen();
    await consumerWith(() => {
      throw new Error("still down");
    })({ Records: [record(body, spec.maxReceiveCount)] }, context);
    expect(seen).toEqual([expect.objectContaining({ outcome: "dead-lettered", kind: "exhausted" })]);
  });

  it("GIVEN a listener WHEN the DLQ send fails THEN a dead-letter-failed outcome (the record comes back)", async () => {
    listen();
    sqsMock.on(SendMessageBatchCommand).rejects(new Error("KMS access denied"));
    await consumerWith(() => {
      throw new PermanentError("bad input");
    })({ Records: [record(body)] }, context);
    expect(seen).toEqual([
      expect.objectContaining({ outcome: "dead-letter-failed", errorMessage: "bad input" }),
    ]);
  });

  it("GIVEN an undecodable body WHEN dead-lettered THEN the outcome has no eventId but names the message", async () => {
    listen();
    await consumerWith(() => undefined)({ Records: [record("not json")] }, context);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ outcome: "dead-lettered", messageId: "msg-1" });
    expect(seen[0]?.eventId).toBeUndefined();
  });

  it("GIVEN no listener (Lambda) WHEN a record fails THEN the runtime writes its own warn line as before", async () => {
    const logger = new Logger({ logLevel: "SILENT" });
    const warn = vi.spyOn(logger, "warn");
    await consumerWith(() => {
      throw new Error("boom");
    }, logger)({ Records: [record(body, 2)] }, context);
    expect(warn).toHaveBeenCalledWith("record failed; retrying later", expect.anything());
  });
});
