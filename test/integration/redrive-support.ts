/**
 * LocalStack fixtures for the redrive tests: uniquely named queue pairs (deleted afterwards),
 * contract-valid messages as SNS raw delivery leaves them in SQS, and consumers run through the
 * local event source.
 */

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
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
import type { ConsumerHandler } from "../../packages/courier/src/lib/consumer/index.ts";
import { startEventSource } from "../../packages/courier/src/worker/event-source.ts";
import { ImageUploadedV1Contract, NewAccountV1Contract } from "../../src/app/contracts/index.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { type PreparedMessage, prepareMessage } from "../helpers/example-publisher.ts";

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
            // Short, so a message taken by a receive whose caller had gone (an aborted long poll
            // still completes in SQS) is visible again within seconds.
            VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 5),
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

/**
 * Runs `handler` on the pair's source queue through the local event source (Lambda's SQS event
 * source mapping semantics) until `done()` holds, then stops it. Throws when `timeoutMs` passes first.
 */
export async function runConsumer(
  handler: ConsumerHandler,
  pair: QueuePair,
  done: () => Promise<boolean>,
  options: { pollers?: number; timeoutMs?: number } = {},
): Promise<void> {
  const source = await startEventSource({
    sqs,
    queueUrl: pair.queueUrl,
    queueArn: pair.queueArn,
    handler,
    functionName: "redrive-it",
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    timeoutSeconds: 30,
    concurrency: options.pollers ?? 2,
    waitTimeSeconds: 1,
  });
  try {
    await eventually(done, options.timeoutMs ?? 120_000);
  } finally {
    await source.stop();
  }
}

/**
 * Receives every message of a queue and deletes it, for inspecting what a queue held. Ends when
 * the queue holds nothing, in flight included: a message an aborted receive took still counts.
 */
export async function drainQueue(queueUrl: string, timeoutMs = 120_000): Promise<Message[]> {
  const all: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
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
      if ((await depth(queueUrl)) === 0) return all;
      if (Date.now() > deadline) throw new Error(`${queueUrl} did not drain in time`);
      continue;
    }
    all.push(...messages);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle ?? "" })),
      }),
    );
  }
}

/** Polls `condition` until it holds; generous by default so load never decides a test. */
export async function eventually(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(250);
  }
}
