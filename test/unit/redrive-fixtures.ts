/** Builders for DLQ messages as ReceiveMessage returns them, for the redrive unit tests. */
import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import {
  FAILURE_ATTRIBUTE,
  type FailureReason,
  LINEAGE_ATTRIBUTE,
  type Lineage,
} from "../../packages/courier/src/lib/consumer/failure-attributes.ts";

export const DLQ_URL = "http://127.0.0.1:4566/queue/us-east-1/000000000000/orders-dlq";
export const QUEUE_URL = "http://127.0.0.1:4566/queue/us-east-1/000000000000/orders";
export const DLQ_ARN = "arn:aws:sqs:us-east-1:000000000000:orders-dlq";
export const QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:orders";
export const NOW = new Date("2026-03-01T12:00:00.000Z");

export interface DlqMessageSpec {
  id: string;
  type?: string;
  body?: string;
  failure?: Partial<FailureReason>;
  lineage?: Lineage;
  sentAt?: Date;
  receiveCount?: number;
  extraAttributes?: Record<string, MessageAttributeValue>;
  /** MessageGroupId: a FIFO group, or a standard queue's tenant (fair queues). */
  groupId?: string;
}

export function failureOf(overrides: Partial<FailureReason> = {}): FailureReason {
  return {
    errorClass: "PermanentError",
    message: "template missing",
    consumer: "verification-email",
    receiveCount: 1,
    failedAt: new Date(NOW.getTime() - 3_600_000).toISOString(),
    kind: "permanent",
    messageId: "source-message-id",
    ...overrides,
  };
}

export function dlqMessage(spec: DlqMessageSpec): Message {
  const type = spec.type ?? "NewAccount";
  const attributes: Record<string, MessageAttributeValue> = {
    type: { DataType: "String", StringValue: type },
    version: { DataType: "Number", StringValue: "1" },
    ...spec.extraAttributes,
  };
  if (spec.failure)
    attributes[FAILURE_ATTRIBUTE] = {
      DataType: "String",
      StringValue: JSON.stringify(failureOf(spec.failure)),
    };
  if (spec.lineage)
    attributes[LINEAGE_ATTRIBUTE] = { DataType: "String", StringValue: JSON.stringify(spec.lineage) };
  return {
    MessageId: spec.id,
    ReceiptHandle: `handle-${spec.id}`,
    Body: spec.body ?? JSON.stringify({ eventId: `event-${spec.id}`, type, version: 1, data: {} }),
    Attributes: {
      SentTimestamp: String((spec.sentAt ?? new Date(NOW.getTime() - 7_200_000)).getTime()),
      ApproximateReceiveCount: String(spec.receiveCount ?? 1),
      ...(spec.groupId ? { MessageGroupId: spec.groupId } : {}),
    },
    MessageAttributes: attributes,
  };
}
