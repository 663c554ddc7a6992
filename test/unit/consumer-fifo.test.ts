/**
 * The consumer runtime on a FIFO queue (`defineConsumer` for a consumer of the password-resets
 * topic). Failure modes covered: records of one group run out of order or concurrently; a retryable
 * failure lets later records of its group run (order broken); a failure in one group stops other
 * groups; the failed group's records come back at different times (a later one overtaking); a
 * poison pill blocks its group for good, or with "hold-group" is dead-lettered at once.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSRecord } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { PasswordResetRequestedV1Contract } from "../../src/app/contracts/index.ts";
import {
  type ConsumerMetrics,
  createConsumerHandler,
  PermanentError,
  RetryableError,
} from "../helpers/example-consumer.ts";
import { confirmSqsBatches, sentMessages } from "../helpers/sqs-batch-mock.ts";

const QUEUE_URL = "http://sqs.local/000000000000/security-audit.fifo";
const DLQ_URL = "http://sqs.local/000000000000/security-audit-dlq.fifo";
const sqs = new SQSClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
const sqsMock = mockClient(sqs);
const silentMetrics = {
  addMetric: () => undefined,
  publishStoredMetrics: () => undefined,
} as unknown as ConsumerMetrics;
const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

beforeEach(() => {
  sqsMock.reset();
  confirmSqsBatches(sqsMock);
});

let n = 0;
/** An SNS FIFO notification in an SQS FIFO record, as the raw-delivery-off subscription delivers it. */
function record(
  group: string,
  label: string,
  options: { receiveCount?: number; sequence?: string } = {},
): SQSRecord {
  n += 1;
  const envelope = {
    eventId: crypto.randomUUID(),
    type: "PasswordResetRequested",
    version: 1,
    occurredAt: "2026-11-28T08:00:00.000Z",
    producer: "test",
    data: { accountId: group, email: `${label}@example.com`, requestedAt: "2026-11-28T08:00:00.000Z" },
  };
  const notification = {
    Type: "Notification",
    MessageId: `sns-${n}`,
    SequenceNumber: options.sequence ?? String(10_000_000_000_000_000_000n + BigInt(n)),
    TopicArn: "arn:aws:sns:us-east-1:000000000000:password-resets.fifo",
    Message: JSON.stringify(envelope),
    Timestamp: "2026-11-28T08:00:00.000Z",
    UnsubscribeURL: "http://localhost/unsubscribe",
  };
  return {
    messageId: `m-${n}-${label}`,
    receiptHandle: `r-${n}-${label}`,
    body: JSON.stringify(notification),
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(Date.now()),
      SenderId: "x",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      MessageGroupId: group,
      MessageDeduplicationId: envelope.eventId,
      SequenceNumber: String(n),
    } as SQSRecord["attributes"],
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:security-audit.fifo",
    awsRegion: "us-east-1",
  };
}

const labelOf = (message: { data: { email: string } }) => message.data.email.split("@")[0] ?? "";

function handlerWith(
  handle: (label: string, ctx: { sequenceNumber?: string; messageGroupId?: string }) => Promise<void> | void,
  onPermanentFailure?: "dead-letter" | "hold-group",
) {
  return createConsumerHandler({
    spec: {
      name: "security-audit",
      accepts: [PasswordResetRequestedV1Contract],
      maxReceiveCount: 5,
      backoff: { baseSeconds: 4, maxSeconds: 60 },
      timeoutSeconds: 30,
      ...(onPermanentFailure ? { onPermanentFailure } : {}),
    },
    sqs,
    queueUrl: QUEUE_URL,
    dlqUrl: DLQ_URL,
    metrics: silentMetrics,
    random: () => 0.5,
    handle: (message, ctx) => handle(labelOf(message), ctx),
  });
}

describe("GIVEN a FIFO batch with two message groups", () => {
  it("WHEN every record succeeds THEN each runs once, one after another, in batch order", async () => {
    const seen: string[] = [];
    let running = 0;
    const handler = handlerWith(async (label) => {
      running += 1;
      expect(running).toBe(1);
      await new Promise((r) => setTimeout(r, 2));
      seen.push(label);
      running -= 1;
    });
    const records = [record("a", "a1"), record("b", "b1"), record("a", "a2"), record("b", "b2")];
    const response = await handler({ Records: records }, context);
    expect(response.batchItemFailures).toEqual([]);
    expect(seen).toEqual(["a1", "b1", "a2", "b2"]);
  });

  it("WHEN a record fails transiently THEN it and every later record of its group fail unprocessed, and the other group goes on", async () => {
    const seen: string[] = [];
    const handler = handlerWith((label) => {
      if (label === "a2") throw new RetryableError("downstream busy");
      seen.push(label);
    });
    const records = [
      record("a", "a1"),
      record("b", "b1"),
      record("a", "a2"),
      record("b", "b2"),
      record("a", "a3"),
    ];
    const response = await handler({ Records: records }, context);
    expect(seen).toEqual(["a1", "b1", "b2"]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      records[2]?.messageId,
      records[4]?.messageId,
    ]);
  });

  it("WHEN a group fails THEN its failed and skipped records get ONE backoff delay in one batch call, none per record", async () => {
    const handler = handlerWith((label) => {
      if (label === "a1") throw new Error("boom");
    });
    const records = [record("a", "a1", { receiveCount: 2 }), record("b", "b1"), record("a", "a2")];
    await handler({ Records: records }, context);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
    const calls = sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand);
    expect(calls).toHaveLength(1);
    const entries = calls[0]?.args[0].input.Entries ?? [];
    expect(entries.map((e) => e.ReceiptHandle)).toEqual([
      records[0]?.receiptHandle,
      records[2]?.receiptHandle,
    ]);
    // receive 2, base 4 s: ceiling 8, random 0.5 -> 4 s, the same for both.
    expect(entries.map((e) => e.VisibilityTimeout)).toEqual([4, 4]);
  });

  it("WHEN a record is a poison pill (PermanentError) THEN it is dead-lettered with its group id and reason, and its group goes on", async () => {
    const seen: string[] = [];
    const handler = handlerWith((label) => {
      if (label === "a1") throw new PermanentError("cannot be audited");
      seen.push(label);
    });
    const records = [record("a", "a1"), record("a", "a2")];
    const response = await handler({ Records: records }, context);
    expect(response.batchItemFailures).toEqual([]);
    expect(seen).toEqual(["a2"]);
    const sends = sentMessages(sqsMock);
    expect(sends).toHaveLength(1);
    const input = sends[0];
    expect(input?.QueueUrl).toBe(DLQ_URL);
    expect(input?.MessageGroupId).toBe("a");
    expect(JSON.parse(input?.MessageAttributes?.["courier.failure"]?.StringValue ?? "{}")).toMatchObject({
      errorClass: "PermanentError",
      kind: "permanent",
    });
  });

  it("WHEN the consumer holds groups on poison pills THEN a PermanentError fails its group like a retry until the last receive", async () => {
    const seen: string[] = [];
    const handler = handlerWith((label) => {
      if (label === "a1") throw new PermanentError("cannot be audited");
      seen.push(label);
    }, "hold-group");
    const first = [record("a", "a1", { receiveCount: 1 }), record("a", "a2")];
    const held = await handler({ Records: first }, context);
    expect(held.batchItemFailures).toHaveLength(2);
    expect(seen).toEqual([]);
    expect(sentMessages(sqsMock)).toHaveLength(0);

    const last = [record("a", "a1", { receiveCount: 5 }), record("a", "a2")];
    const released = await handler({ Records: last }, context);
    expect(released.batchItemFailures).toEqual([]);
    expect(seen).toEqual(["a2"]);
    expect(sentMessages(sqsMock)).toHaveLength(1);
  });

  it("WHEN a record is handled THEN its context carries the group and the SNS topic's sequence number (not SQS's)", async () => {
    const contexts: Array<{ sequenceNumber?: string; messageGroupId?: string }> = [];
    const handler = handlerWith((_label, ctx) => {
      contexts.push({ sequenceNumber: ctx.sequenceNumber, messageGroupId: ctx.messageGroupId });
    });
    await handler({ Records: [record("acct-7", "x", { sequence: "10000000000000000042" })] }, context);
    expect(contexts).toEqual([{ sequenceNumber: "10000000000000000042", messageGroupId: "acct-7" }]);
  });
});
