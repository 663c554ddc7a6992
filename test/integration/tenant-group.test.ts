/**
 * Fair delivery per tenant, item 1 on LocalStack: the tenant travels as MessageGroupId from the
 * publisher through SNS (standard topic) to the consumer's standard queue, and keeps travelling
 * through the runtime's DLQ copy, a selective redrive and a bulk redrive (StartMessageMoveTask).
 * Failure modes covered: a publisher that sends no group (the queue serves the flood first), an SNS
 * hop that drops it, a DLQ copy or redrive that drops it (a redriven message loses its tenant), a
 * redrive that sends a deduplication id to a standard queue (SQS refuses it, the redrive fails),
 * and a manifest that does not tell workers the consumer's tenant.
 * What LocalStack cannot show: the fair scheduling itself (it serves a standard queue in order;
 * see README "Fair delivery per tenant").
 */
import { randomUUID } from "node:crypto";
import { SNSClient } from "@aws-sdk/client-sns";
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { deadLetterMessage } from "../../packages/courier/src/lib/consumer/dead-letter.ts";
import { redriveInBulk } from "../../packages/courier/src/lib/redrive/bulk.ts";
import { redriveSelectively } from "../../packages/courier/src/lib/redrive/selective.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { topicNames } from "../../src/topology.ts";
import { createPublisher, type Publisher } from "../helpers/example-publisher.ts";
import { consumerOf, topicOf } from "../helpers/example-stack.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const endpoint = inject("localstackEndpoint");
const clientConfig = { ...localClientConfig(), endpoint };
const sqs = new SQSClient(clientConfig);
let stack: TestStack | undefined;
let publisher: Publisher;

beforeAll(async () => {
  stack = await deployTestStack("tenant-group");
  const topology = stack.topology;
  publisher = createPublisher({
    sns: new SNSClient(clientConfig),
    topicArns: Object.fromEntries(topicNames.map((t) => [t, topicOf(topology, t).arn])),
    producer: "tenant-group-test",
  });
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
});

const upload = (uploadedBy: string) => ({
  imageId: `img-${randomUUID()}`,
  bucket: "uploads",
  key: "originals/x",
  contentType: "image/jpeg",
  byteSize: 10,
  uploadedBy,
  uploadedAt: new Date().toISOString(),
});

/** Receives and deletes until `count` messages came or 30 s passed. */
async function drain(queueUrl: string, count: number): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + 30_000;
  while (got.length < count && Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    for (const m of Messages) {
      got.push(m);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return got;
}

const groupsByEvent = (messages: readonly Message[]) =>
  Object.fromEntries(
    messages.map((m) => [
      (JSON.parse(m.Body ?? "{}") as { eventId: string }).eventId,
      m.Attributes?.MessageGroupId,
    ]),
  );

describe("GIVEN the image-uploads topic with the uploading account as tenant, deployed to LocalStack", () => {
  it("WHEN the stack's manifest is read THEN the topic and the thumbnails consumer name the tenant field", () => {
    const topology = stack?.topology;
    expect(topology && topicOf(topology, "image-uploads").tenant).toBe("uploadedBy");
    expect(topology && consumerOf(topology, "thumbnails").tenant).toBe("uploadedBy");
    expect(topology && consumerOf(topology, "verification-email")).not.toHaveProperty("tenant");
  });

  it("WHEN two accounts' uploads are published THEN each arrives on the thumbnails queue with its account as MessageGroupId", async () => {
    const queueUrl = consumerOf(stack?.topology as never, "thumbnails").queueUrl;
    const a = await publisher.publish("image-uploads", upload("acct-a"));
    const b = await publisher.publish("image-uploads", upload("acct-b"));
    const received = await drain(queueUrl, 2);
    expect(groupsByEvent(received)).toEqual({ [a.eventId]: "acct-a", [b.eventId]: "acct-b" });
  });

  it("WHEN a tenant's message is dead-lettered by the runtime and redriven selectively THEN it is back on the queue with its tenant", async () => {
    const consumer = consumerOf(stack?.topology as never, "thumbnails");
    const published = await publisher.publish("image-uploads", upload("acct-dlq"));
    const [delivered] = await drain(consumer.queueUrl, 1);
    const record = {
      messageId: delivered?.MessageId,
      receiptHandle: delivered?.ReceiptHandle,
      body: delivered?.Body,
      attributes: delivered?.Attributes,
      messageAttributes: {},
    } as unknown as SQSRecord;
    const reason = {
      errorClass: "Error",
      message: "boom",
      consumer: "thumbnails",
      receiveCount: 5,
      failedAt: new Date().toISOString(),
      kind: "exhausted" as const,
      messageId: record.messageId,
    };
    await sqs.send(new SendMessageCommand(deadLetterMessage(record, reason, consumer.dlqUrl, [])));
    const summary = await redriveSelectively({ sqs, dlqUrl: consumer.dlqUrl, queueUrl: consumer.queueUrl });
    expect(summary).toMatchObject({ moved: 1, failed: 0 });
    expect(groupsByEvent(await drain(consumer.queueUrl, 1))).toEqual({ [published.eventId]: "acct-dlq" });
  });

  it("WHEN a tenant's message is redriven in bulk (StartMessageMoveTask) THEN it keeps its tenant", async () => {
    const consumer = consumerOf(stack?.topology as never, "thumbnails");
    const body = JSON.stringify({ eventId: randomUUID(), data: {} });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: consumer.dlqUrl, MessageBody: body, MessageGroupId: "acct-bulk" }),
    );
    await redriveInBulk({ sqs, dlqArn: consumer.dlqArn, queueArn: consumer.queueArn, pollIntervalMs: 200 });
    const [back] = await drain(consumer.queueUrl, 1);
    expect(back?.Body).toBe(body);
    expect(back?.Attributes?.MessageGroupId).toBe("acct-bulk");
  });
});
