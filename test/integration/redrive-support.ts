/**
 * LocalStack fixtures for the redrive tests: uniquely named queue pairs (deleted afterwards),
 * contract-valid messages as SNS raw delivery leaves them in SQS, and a small poller that feeds a
 * `defineConsumer` handler the way Lambda's SQS event source does (receive a batch, invoke, delete
 * what did not fail).
 * TODO: drive the consumers through src/local/event-source.ts once it is committed.
 */
import { randomUUID } from "node:crypto";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import type { ConsumerHandler } from "../../src/consumer/index.ts";
import { ImageUploadedV1Contract, NewAccountV1Contract } from "../../src/contracts/index.ts";
import { localClientConfig } from "../../src/local/aws-config.ts";
import { type PreparedMessage, prepareMessage } from "../../src/publisher/index.ts";

export const sqs = new SQSClient(localClientConfig());

export interface QueuePair {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
}

const created: string[] = [];

export async function createQueuePair(
  label: string,
  options: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<QueuePair> {
  const name = `redrive-it-${label}-${randomUUID().slice(0, 8)}`;
  const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl ?? "";
  created.push(dlqUrl);
  const dlqArn = await queueArn(dlqUrl);
  const queueUrl =
    (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: dlqArn,
              maxReceiveCount: options.maxReceiveCount ?? 5,
            }),
          },
        }),
      )
    ).QueueUrl ?? "";
  created.push(queueUrl);
  return { queueUrl, queueArn: await queueArn(queueUrl), dlqUrl, dlqArn };
}

/** Deletes only the queues this file created. */
export async function deleteCreatedQueues(): Promise<void> {
  for (const url of created.splice(0)) {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
  }
}

async function queueArn(queueUrl: string): Promise<string> {
  const result = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
  );
  return result.Attributes?.QueueArn ?? "";
}

/** Visible plus in-flight messages. */
export async function depth(queueUrl: string): Promise<number> {
  const result = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(result.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Visible messages only. */
export async function visibleDepth(queueUrl: string): Promise<number> {
  const result = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
  );
  return Number(result.Attributes?.ApproximateNumberOfMessages ?? 0);
}

const source = { producer: "redrive-it", now: () => new Date(), newId: () => randomUUID() };

export function newAccounts(count: number): PreparedMessage[] {
  return Array.from({ length: count }, (_, i) =>
    prepareMessage(
      "account-signups",
      NewAccountV1Contract,
      {
        accountId: `acct-${i}`,
        email: `user${i}@example.com`,
        displayName: `User ${i} Zoë`,
        ...(i % 2 === 0 ? { phone: "+14155550123" } : {}),
        locale: "en-US",
        createdAt: new Date().toISOString(),
      },
      source,
    ),
  );
}

export function imageUploads(count: number): PreparedMessage[] {
  return Array.from({ length: count }, (_, i) =>
    prepareMessage(
      "image-uploads",
      ImageUploadedV1Contract,
      {
        imageId: `img-${i}`,
        bucket: "uploads",
        key: `originals/img-${i}.png`,
        contentType: "image/png",
        byteSize: 1024 + i,
        uploadedBy: `acct-${i}`,
        uploadedAt: new Date().toISOString(),
      },
      source,
    ),
  );
}

/** Sends as SNS raw delivery leaves a message in SQS: the envelope as body, the contract's attributes. */
export async function sendAll(queueUrl: string, messages: readonly PreparedMessage[]): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    const chunk = messages.slice(start, start + 10);
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((m, i) => ({
          Id: `m${i}`,
          MessageBody: m.body,
          MessageAttributes: m.attributes as Record<string, MessageAttributeValue>,
        })),
      }),
    );
    if ((result.Failed ?? []).length > 0) throw new Error(`send failed: ${JSON.stringify(result.Failed)}`);
  }
}

/** ReceiveMessage's shape to Lambda's SQS record shape, as the event source mapping delivers it. */
function toRecord(message: Message, queueArnValue: string): SQSRecord {
  const attributes = Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
      name,
      {
        dataType: value.DataType ?? "String",
        stringListValues: [],
        binaryListValues: [],
        ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined
          ? { binaryValue: Buffer.from(value.BinaryValue).toString("base64") }
          : {}),
      },
    ]),
  );
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: message.Attributes as SQSRecord["attributes"],
    messageAttributes: attributes,
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArnValue,
    awsRegion: "us-east-1",
  };
}

const lambdaContext = {
  functionName: "redrive-it",
  awsRequestId: "",
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

/**
 * Feeds the queue to `handler` with `pollers` concurrent pollers until `done()` holds, deleting
 * the records the handler did not report as failed. Throws when `timeoutMs` passes first.
 */
export async function runConsumer(
  handler: ConsumerHandler,
  pair: QueuePair,
  done: () => boolean | Promise<boolean>,
  options: { pollers?: number; timeoutMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let finished = false;
  const poll = async () => {
    while (!finished) {
      if (Date.now() > deadline) throw new Error("consumer did not finish in time");
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: pair.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) {
        if (await done()) finished = true;
        continue;
      }
      const event: SQSEvent = { Records: messages.map((m) => toRecord(m, pair.queueArn)) };
      const response = await handler(event, lambdaContext);
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      const succeeded = messages.filter((m) => !failed.has(m.MessageId ?? ""));
      if (succeeded.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: pair.queueUrl,
            Entries: succeeded.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle ?? "" })),
          }),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: options.pollers ?? 2 }, poll));
}

/** Receives every message of a queue and deletes it: for inspecting what a queue held. */
export async function drainQueue(queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  let empty = 0;
  while (empty < 2) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) {
      empty += 1;
      continue;
    }
    empty = 0;
    all.push(...messages);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle ?? "" })),
      }),
    );
  }
  return all;
}

/** Polls `condition` until it holds; generous by default so load never decides a test. */
export async function eventually(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
