/**
 * An in-memory SNS for the test kit's publisher: Publish and PublishBatch fan a message out to
 * every consumer queue subscribed to its topic whose filter policy matches its attributes, as the
 * construct subscribes them: raw delivery to a standard queue (the attributes become SQS message
 * attributes), the SNS notification JSON to a FIFO queue (group and deduplication id passed on).
 */
import { randomUUID } from "node:crypto";
import {
  type MessageAttributeValue,
  PublishBatchCommand,
  PublishCommand,
  type SNSClient,
} from "@aws-sdk/client-sns";
import type { MessageAttributeValue as SqsAttributeValue } from "@aws-sdk/client-sqs";

export interface SnsDelivery {
  readonly topicArn: string;
  readonly messageId: string;
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  readonly groupId?: string;
  readonly deduplicationId?: string;
  readonly sequenceNumber?: string;
}

/** Where a published message goes: the kit fans it out and records it. */
export type SnsSink = (delivery: SnsDelivery) => void;

export class MemorySns {
  private sequence = 0n;
  private readonly sink: SnsSink;

  constructor(sink: SnsSink) {
    this.sink = sink;
  }

  get client(): SNSClient {
    return this as unknown as SNSClient;
  }

  // biome-ignore lint/suspicious/noExplicitAny: answers like SNSClient.send, whose result type depends on the command.
  async send(command: unknown): Promise<any> {
    if (command instanceof PublishCommand) {
      const { TopicArn, Message, MessageAttributes, MessageGroupId, MessageDeduplicationId } = command.input;
      return {
        MessageId: this.publish(TopicArn, Message, MessageAttributes, MessageGroupId, MessageDeduplicationId),
      };
    }
    if (command instanceof PublishBatchCommand) {
      const { TopicArn, PublishBatchRequestEntries = [] } = command.input;
      return {
        Successful: PublishBatchRequestEntries.map((entry) => ({
          Id: entry.Id,
          MessageId: this.publish(
            TopicArn,
            entry.Message,
            entry.MessageAttributes,
            entry.MessageGroupId,
            entry.MessageDeduplicationId,
          ),
        })),
        Failed: [],
      };
    }
    const name = (command as { constructor?: { name?: string } })?.constructor?.name ?? typeof command;
    throw new Error(`the test kit's in-memory SNS does not implement ${name}`);
  }

  private publish(
    topicArn: string | undefined,
    body: string | undefined,
    attributes: Record<string, MessageAttributeValue> | undefined,
    groupId: string | undefined,
    deduplicationId: string | undefined,
  ): string {
    const messageId = randomUUID();
    this.sequence += 1n;
    this.sink({
      topicArn: topicArn ?? "",
      messageId,
      body: body ?? "",
      attributes: attributes ?? {},
      ...(groupId ? { groupId, sequenceNumber: String(10_000_000_000_000_000_000n + this.sequence) } : {}),
      ...(deduplicationId ? { deduplicationId } : {}),
    });
    return messageId;
  }
}

/** SNS's attribute-scope filter policy as the topology declares it: every name, one of its values. */
export function matchesFilterPolicy(
  policy: Readonly<Record<string, readonly string[]>> | undefined,
  attributes: Record<string, MessageAttributeValue>,
): boolean {
  if (!policy) return true;
  return Object.entries(policy).every(([name, allowed]) => {
    const value = attributes[name]?.StringValue;
    return value !== undefined && allowed.includes(value);
  });
}

/** Raw delivery: SNS attributes become SQS message attributes of the same type and value. */
export function toSqsAttributes(
  attributes: Record<string, MessageAttributeValue>,
): Record<string, SqsAttributeValue> {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      {
        DataType: value.DataType ?? "String",
        ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
      },
    ]),
  );
}

/** The notification SNS delivers when raw delivery is off (FIFO subscriptions). */
export function snsNotification(delivery: SnsDelivery, timestamp: Date): string {
  return JSON.stringify({
    Type: "Notification",
    MessageId: delivery.messageId,
    ...(delivery.sequenceNumber ? { SequenceNumber: delivery.sequenceNumber } : {}),
    TopicArn: delivery.topicArn,
    Message: delivery.body,
    Timestamp: timestamp.toISOString(),
    UnsubscribeURL: "https://sns.test-kit.invalid/unsubscribe",
    MessageAttributes: Object.fromEntries(
      Object.entries(delivery.attributes).map(([name, value]) => [
        name,
        { Type: value.DataType ?? "String", Value: value.StringValue ?? "" },
      ]),
    ),
  });
}
