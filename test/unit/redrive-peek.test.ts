import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { peekDlq } from "../../packages/courier/src/lib/redrive/peek.ts";
import { DLQ_URL, dlqMessage, NOW } from "./redrive-fixtures.ts";

const sqsMock = mockClient(SQSClient);
const sqs = new SQSClient({ region: "us-east-1" });

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: "2" } });
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
});

describe("peek at a DLQ", () => {
  it("GIVEN a message the runtime dead-lettered and one SQS moved WHEN peeking THEN each is listed with age, type, eventId, reason and the receives before dead-lettering", async () => {
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          dlqMessage({
            id: "a",
            failure: { errorClass: "ZodError", message: "bad", receiveCount: 4 },
            receiveCount: 2,
          }),
          dlqMessage({
            id: "b",
            type: "ImageUploaded",
            receiveCount: 6,
            sentAt: new Date(NOW.getTime() - 90_000),
          }),
        ],
      })
      .resolves({ Messages: [] });

    const result = await peekDlq({
      sqs,
      dlqUrl: DLQ_URL,
      sourceMaxReceiveCount: 5,
      waitTimeSeconds: 0,
      now: () => NOW,
    });

    expect(result.approximateDepth).toBe(2);
    expect(result.messages.map(({ body: _b, failure: _f, attributes: _a, ...rest }) => rest)).toEqual([
      {
        messageId: "a",
        ageSeconds: 7200,
        type: "NewAccount",
        eventId: "event-a",
        errorClass: "ZodError",
        cause: "ZodError: bad",
        reason: "ZodError (permanent): bad",
        receiveCount: 4,
        redriveCount: 0,
        firstSeenAt: "2026-03-01T10:00:00.000Z",
      },
      {
        messageId: "b",
        ageSeconds: 90,
        type: "ImageUploaded",
        eventId: "event-b",
        errorClass: "unknown",
        cause: "unknown",
        reason: "unknown: moved by SQS after 5 receives",
        receiveCount: 5,
        redriveCount: 0,
        firstSeenAt: "2026-03-01T11:58:30.000Z",
      },
    ]);
    expect(result.messages[1]?.attributes).toEqual({ type: "ImageUploaded", version: "1" });
  });

  it("GIVEN messages peeked WHEN the peek ends THEN all are made visible again and nothing is sent or deleted", async () => {
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [dlqMessage({ id: "a" }), dlqMessage({ id: "b" })] })
      .resolves({ Messages: [] });

    await peekDlq({ sqs, dlqUrl: DLQ_URL, waitTimeSeconds: 0 });

    const released = sqsMock
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => [e.ReceiptHandle, e.VisibilityTimeout]));
    expect(released).toEqual([
      ["handle-a", 0],
      ["handle-b", 0],
    ]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
  });

  it("GIVEN more messages than the maximum WHEN peeking with max 1 THEN one message is listed", async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [dlqMessage({ id: "a" })] });

    const result = await peekDlq({ sqs, dlqUrl: DLQ_URL, max: 1, waitTimeSeconds: 0 });

    expect(result.messages).toHaveLength(1);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)[0]?.args[0].input.MaxNumberOfMessages).toBe(1);
  });
});
