/**
 * Throwaway queues for the event source tests: a uniquely named source queue with its own DLQ and
 * redrive policy, deleted afterwards. Tests never touch queues they did not create.
 */

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { queueDepth } from "../../packages/courier/src/deployment/consumer-status.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";

export const sqs = new SQSClient(localClientConfig());

export interface TestQueue {
  readonly url: string;
  readonly arn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
  delete(): Promise<void>;
}

async function queueArn(url: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  if (!Attributes?.QueueArn) throw new Error(`no QueueArn for ${url}`);
  return Attributes.QueueArn;
}

export async function createTestQueue(
  label: string,
  settings: { visibilityTimeoutSeconds: number; maxReceiveCount: number },
): Promise<TestQueue> {
  const name = `es-${label}-${randomUUID().slice(0, 8)}`;
  const { QueueUrl: dlqUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  if (!dlqUrl) throw new Error("CreateQueue returned no URL for the DLQ");
  const dlqArn = await queueArn(dlqUrl);
  const { QueueUrl: url } = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: settings.maxReceiveCount,
        }),
      },
    }),
  );
  if (!url) throw new Error("CreateQueue returned no URL");
  const arn = await queueArn(url);
  return {
    url,
    arn,
    dlqUrl,
    dlqArn,
    delete: async () => {
      await Promise.allSettled([
        sqs.send(new DeleteQueueCommand({ QueueUrl: url })),
        sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })),
      ]);
    },
  };
}

export interface OutgoingMessage {
  readonly body: string;
  readonly attributes?: Record<string, MessageAttributeValue>;
}

/** Sends in SendMessageBatch calls of 10, a few calls at a time; fails if any entry fails. */
export async function sendAll(
  queueUrl: string,
  messages: readonly OutgoingMessage[],
  parallel = 8,
): Promise<void> {
  const chunks: OutgoingMessage[][] = [];
  for (let i = 0; i < messages.length; i += 10) chunks.push(messages.slice(i, i + 10));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++] ?? [];
      const { Failed = [] } = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((m, i) => ({
            Id: String(i),
            MessageBody: m.body,
            ...(m.attributes ? { MessageAttributes: m.attributes } : {}),
          })),
        }),
      );
      if (Failed.length > 0) throw new Error(`SendMessageBatch failed for ${Failed.length} entries`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** Visible plus in-flight plus delayed: zero only when every message was deleted. */
export function messagesLeft(queueUrl: string): Promise<number> {
  return queueDepth(sqs, queueUrl);
}

/** Polls until the condition holds; the deadline only bounds a broken run, it never decides a pass. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Waits until the queue holds nothing, read as zero several times in a row: LocalStack can briefly
 * report a message that a receive is moving to in-flight as neither visible nor in flight.
 */
export async function eventuallyEmpty(queueUrl: string, timeoutMs = 90_000): Promise<void> {
  let zeros = 0;
  await eventually(
    async () => {
      zeros = (await messagesLeft(queueUrl)) === 0 ? zeros + 1 : 0;
      return zeros >= 3;
    },
    `${queueUrl} to be empty`,
    timeoutMs,
  );
}
