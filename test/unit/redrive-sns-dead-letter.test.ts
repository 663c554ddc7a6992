/**
 * SNS delivery failures (a subscription's DLQ) redriven as what the queue would have received.
 * Failure modes covered: the SNS notification JSON sent to the consumer's queue as its body (the
 * consumer would dead-letter it as schema-invalid), attributes lost in the unwrapping (filter and
 * type attributes, binary values), a raw dead letter mangled, a subscription dead letter reported
 * as a consumer failure, and a bulk move task asked to move SNS's dead letters.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  InvalidRedriveRequestError,
  runRedriveRequest,
} from "../../packages/courier/src/deployment/redrive-request.ts";
import { LINEAGE_ATTRIBUTE } from "../../packages/courier/src/lib/consumer/failure-attributes.ts";
import { describeDlqMessage } from "../../packages/courier/src/lib/redrive/dlq-message.ts";
import { redriveSelectively } from "../../packages/courier/src/lib/redrive/selective.ts";
import {
  SNS_DELIVERY_ERROR_CLASS,
  unwrapSnsDeadLetter,
} from "../../packages/courier/src/lib/redrive/sns-dead-letter.ts";
import { DLQ_ARN, DLQ_URL, NOW, QUEUE_ARN, QUEUE_URL } from "./redrive-fixtures.ts";

const envelope = JSON.stringify({
  eventId: "3f1c2a8e-0000-4000-8000-000000000001",
  type: "NewAccount",
  version: 1,
  occurredAt: NOW.toISOString(),
  producer: "api",
  data: { accountId: "a-1" },
});

/** What SNS puts in a subscription DLQ when raw message delivery is off. */
function notificationDeadLetter(id: string): Message {
  return {
    MessageId: id,
    ReceiptHandle: `handle-${id}`,
    Body: JSON.stringify({
      Type: "Notification",
      MessageId: "sns-message-id",
      TopicArn: "arn:aws:sns:us-east-1:000000000000:account-signups",
      Message: envelope,
      Timestamp: NOW.toISOString(),
      MessageAttributes: {
        type: { Type: "String", Value: "NewAccount" },
        version: { Type: "Number", Value: "1" },
        hasPhone: { Type: "String", Value: "true" },
        blob: { Type: "Binary", Value: Buffer.from([1, 2, 3]).toString("base64") },
      },
    }),
    Attributes: { SentTimestamp: String(NOW.getTime() - 60_000), ApproximateReceiveCount: "1" },
  };
}

/** What SNS puts there for a raw subscription (courier's; LocalStack 4.14 does the same). */
function rawDeadLetter(id: string): Message {
  return {
    MessageId: id,
    ReceiptHandle: `handle-${id}`,
    Body: envelope,
    Attributes: { SentTimestamp: String(NOW.getTime() - 60_000), ApproximateReceiveCount: "1" },
    MessageAttributes: {
      type: { DataType: "String", StringValue: "NewAccount" },
      version: { DataType: "Number", StringValue: "1" },
    },
  };
}

describe("GIVEN a dead letter of a non-raw subscription (SNS notification JSON)", () => {
  it("WHEN unwrapped THEN the body is the published envelope and every attribute is back in SQS's shape", () => {
    const unwrapped = unwrapSnsDeadLetter(notificationDeadLetter("n-1"));
    expect(unwrapped.Body).toBe(envelope);
    expect(unwrapped.MessageAttributes).toEqual({
      type: { DataType: "String", StringValue: "NewAccount" },
      version: { DataType: "Number", StringValue: "1" },
      hasPhone: { DataType: "String", StringValue: "true" },
      blob: { DataType: "Binary", BinaryValue: Buffer.from([1, 2, 3]) },
    });
    expect(unwrapped.ReceiptHandle).toBe("handle-n-1");
  });
});

describe("GIVEN a dead letter of a raw subscription", () => {
  it("WHEN unwrapped THEN it is left exactly as it is", () => {
    const message = rawDeadLetter("r-1");
    expect(unwrapSnsDeadLetter(message)).toBe(message);
  });

  it("WHEN described as a delivery failure THEN its reason says SNS could not deliver it, not a consumer error", () => {
    const described = describeDlqMessage(rawDeadLetter("r-1"), { deliveryFailure: true });
    expect(described.errorClass).toBe(SNS_DELIVERY_ERROR_CLASS);
    expect(described.reason).toMatch(/^sns-delivery: SNS could not deliver it to the consumer's queue/);
    expect(described.eventId).toBe("3f1c2a8e-0000-4000-8000-000000000001");
  });
});

describe("GIVEN SNS dead letters in a subscription DLQ WHEN redriven selectively", () => {
  const sqsMock = mockClient(SQSClient);
  const sqs = new SQSClient({ region: "us-east-1" });
  const sent: SendMessageBatchRequestEntry[] = [];

  beforeEach(() => {
    sqsMock.reset();
    sent.length = 0;
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [notificationDeadLetter("n-1"), rawDeadLetter("r-1")] })
      .resolves({ Messages: [] });
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: "2" } });
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
      sent.push(...input.Entries);
      return {
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}`, MD5OfMessageBody: "x" })),
      };
    });
    sqsMock.on(DeleteMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id })),
    }));
  });

  it("THEN both reach the queue as the raw envelope with the publisher's attributes and a lineage", async () => {
    const summary = await redriveSelectively({
      sqs,
      dlqUrl: DLQ_URL,
      queueUrl: QUEUE_URL,
      deliveryFailure: true,
      waitTimeSeconds: 0,
      now: () => NOW,
    });
    expect(summary).toMatchObject({ moved: 2, failed: 0 });
    expect(sent.map((e) => e.MessageBody)).toEqual([envelope, envelope]);
    for (const entry of sent) {
      expect(entry.MessageAttributes?.type).toEqual({ DataType: "String", StringValue: "NewAccount" });
      expect(JSON.parse(entry.MessageAttributes?.[LINEAGE_ATTRIBUTE]?.StringValue ?? "{}")).toMatchObject({
        redriveCount: 1,
      });
    }
    expect(sent[0]?.MessageAttributes?.hasPhone).toEqual({ DataType: "String", StringValue: "true" });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.QueueUrl).toBe(QUEUE_URL);
  });

  it("WHEN the request names the subscription DLQ through runRedriveRequest THEN it reads that queue", async () => {
    const summary = await runRedriveRequest(
      { consumer: "orders", source: "subscription-dlq" },
      {
        sqs,
        maxRedrives: 3,
        pairs: {
          orders: {
            queueUrl: QUEUE_URL,
            dlqUrl: DLQ_URL,
            queueArn: QUEUE_ARN,
            dlqArn: DLQ_ARN,
            subscriptionDlqUrl: `${DLQ_URL}-subscription`,
          },
        },
      },
    );
    expect(summary.moved).toBe(2);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)[0]?.args[0].input.QueueUrl).toBe(
      `${DLQ_URL}-subscription`,
    );
  });
});

describe("GIVEN a redrive request for a subscription DLQ", () => {
  const deps = {
    sqs: new SQSClient({ region: "us-east-1" }),
    maxRedrives: 3,
    pairs: { orders: { queueUrl: QUEUE_URL, dlqUrl: DLQ_URL, queueArn: QUEUE_ARN, dlqArn: DLQ_ARN } },
  };

  it("WHEN it asks for bulk mode THEN it is refused: a move task cannot unwrap SNS's dead letters", async () => {
    await expect(
      runRedriveRequest({ consumer: "orders", source: "subscription-dlq", mode: "bulk" }, deps),
    ).rejects.toThrow(InvalidRedriveRequestError);
  });

  it("WHEN the deployment has no subscription DLQ THEN it is refused with a line saying so", async () => {
    await expect(runRedriveRequest({ consumer: "orders", source: "subscription-dlq" }, deps)).rejects.toThrow(
      /has no subscription DLQ/,
    );
  });
});
