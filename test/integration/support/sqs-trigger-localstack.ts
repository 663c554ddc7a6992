/**
 * The conformance cases' LocalStack target: real queues (FIFO where the case says so) on
 * LocalStack's SQS, the local event source on the wall clock. Each case creates and deletes its own.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { queueDepth } from "../../../packages/courier/src/deployment/consumer-status.ts";
import { localClientConfig } from "../../../src/dev/local-aws-config.ts";
import type { ConformanceTarget } from "../../helpers/sqs-trigger-conformance.ts";

export function localStackTarget(): ConformanceTarget {
  const sqs = new SQSClient(localClientConfig());
  const arnOf = async (url: string) => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
    );
    if (!Attributes?.QueueArn) throw new Error(`no QueueArn for ${url}`);
    return Attributes.QueueArn;
  };
  return {
    name: "LocalStack",
    sqs,
    async createQueue(c) {
      const suffix = c.fifo ? ".fifo" : "";
      const name = `conf-${c.id.slice(0, 30)}-${randomUUID().slice(0, 8)}`;
      const fifo = c.fifo ? { FifoQueue: "true", ContentBasedDeduplication: "true" } : {};
      const { QueueUrl: dlqUrl } = await sqs.send(
        new CreateQueueCommand({ QueueName: `${name}-dlq${suffix}`, Attributes: fifo }),
      );
      if (!dlqUrl) throw new Error("no DLQ URL");
      const { QueueUrl: url } = await sqs.send(
        new CreateQueueCommand({
          QueueName: `${name}${suffix}`,
          Attributes: {
            ...fifo,
            VisibilityTimeout: String(c.visibilityTimeoutSeconds),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: await arnOf(dlqUrl),
              maxReceiveCount: c.maxReceiveCount,
            }),
          },
        }),
      );
      if (!url) throw new Error("no queue URL");
      const arn = await arnOf(url);
      return {
        url,
        arn,
        dlqUrl,
        delete: async () => {
          await Promise.allSettled(
            [url, dlqUrl].map((QueueUrl) => sqs.send(new DeleteQueueCommand({ QueueUrl }))),
          );
        },
      };
    },
    async send(url, c) {
      // One at a time, so a FIFO group's order is the list's.
      for (const m of c.messages) {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: url,
            MessageBody: m.body,
            ...(m.group ? { MessageGroupId: m.group } : {}),
          }),
        );
      }
    },
    async waitUntil(done, seconds) {
      const deadline = Date.now() + seconds * 1000;
      while (!done() && Date.now() < deadline) await sleep(50);
    },
    track: (handler) => handler,
    endReceives: () => undefined,
    async deadLetters(dlqUrl) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      return Messages.map((m) => m.Body ?? "");
    },
    left: (url) => queueDepth(sqs, url),
    now: () => Date.now(),
  };
}
