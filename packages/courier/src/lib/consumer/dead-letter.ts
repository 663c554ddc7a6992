/**
 * Builds the DLQ copy of a failed record. Written by hand because Powertools batch has no DLQ
 * routing: it can only report a record as failed, and SQS's own redrive moves a message without
 * saying why it failed. Here the original body travels byte for byte, with its message attributes
 * and one `courier.failure` attribute holding the reason.
 */
import type { MessageAttributeValue, SendMessageCommandInput } from "@aws-sdk/client-sqs";
import type { SQSMessageAttribute, SQSRecord } from "aws-lambda";
import {
  FAILURE_ATTRIBUTE,
  FAILURE_MESSAGE_MAX_CHARS,
  type FailureReason,
  LINEAGE_ATTRIBUTE,
} from "./failure-attributes.ts";
import { describeThrown } from "./thrown.ts";

/** SQS allows 10 message attributes per message. */
export const MAX_MESSAGE_ATTRIBUTES = 10;

export interface FailureDetails {
  readonly error: unknown;
  readonly consumer: string;
  readonly receiveCount: number;
  readonly failedAt: Date;
  readonly kind: FailureReason["kind"];
  readonly messageId: string;
}

export function failureReason(details: FailureDetails): FailureReason {
  const thrown = describeThrown(details.error);
  return {
    errorClass: thrown.errorClass,
    message: truncate(thrown.message, FAILURE_MESSAGE_MAX_CHARS),
    consumer: details.consumer,
    receiveCount: details.receiveCount,
    failedAt: details.failedAt.toISOString(),
    kind: details.kind,
    messageId: details.messageId,
  };
}

export function errorClassOf(error: unknown): string {
  return describeThrown(error).errorClass;
}

export function errorMessageOf(error: unknown): string {
  return describeThrown(error).message;
}

export function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

/**
 * The SendMessage input for the DLQ. `priorityAttributes` (the contract's attributes) survive
 * first when the original carries more attributes than fit beside the failure reason; the redrive
 * lineage always survives, and a failure reason from an earlier dead-lettering is replaced.
 */
export function deadLetterMessage(
  record: SQSRecord,
  reason: FailureReason,
  dlqUrl: string,
  priorityAttributes: readonly string[],
): SendMessageCommandInput {
  const original = Object.entries(record.messageAttributes ?? {}).filter(
    ([name]) => name !== FAILURE_ATTRIBUTE,
  );
  const rank = (name: string): number => {
    if (name === LINEAGE_ATTRIBUTE) return 0;
    const i = priorityAttributes.indexOf(name);
    return i === -1 ? priorityAttributes.length + 1 : i + 1;
  };
  // Array.prototype.sort is stable: attributes of equal rank keep their original order.
  const kept = original
    .map(([name, value]) => [name, toSendAttribute(value)] as const)
    .filter((entry): entry is readonly [string, MessageAttributeValue] => entry[1] !== undefined)
    .sort((a, b) => rank(a[0]) - rank(b[0]))
    .slice(0, MAX_MESSAGE_ATTRIBUTES - 1);

  const attributes: Record<string, MessageAttributeValue> = Object.fromEntries(kept);
  attributes[FAILURE_ATTRIBUTE] = { DataType: "String", StringValue: JSON.stringify(reason) };
  // A FIFO DLQ requires a group: the record's own, so a redrive can return it to its group in order.
  // The dedup id is the delivery's MessageId: a second dead-lettering of the same delivery (a crash
  // between the send and the delete) within 5 minutes is dropped by SQS.
  const group = (record.attributes as { MessageGroupId?: string } | undefined)?.MessageGroupId;
  const fifo = group !== undefined && dlqUrl.endsWith(".fifo");
  // X-Ray's trace header travels as a system attribute (not one of the 10): kept, the DLQ copy and
  // its redrive stay in the request's trace. The body keeps courier's own trace context anyway.
  const traceHeader = record.attributes?.AWSTraceHeader;
  return {
    QueueUrl: dlqUrl,
    MessageBody: record.body,
    MessageAttributes: attributes,
    ...(fifo ? { MessageGroupId: group, MessageDeduplicationId: record.messageId } : {}),
    // A standard queue's group is its tenant (fair queues): the copy keeps it, so a redrive does too.
    ...(!fifo && group !== undefined && group !== "" ? { MessageGroupId: group } : {}),
    ...(traceHeader
      ? { MessageSystemAttributes: { AWSTraceHeader: { DataType: "String", StringValue: traceHeader } } }
      : {}),
  };
}

/** Every message attribute of a record, in SendMessage's shape (a parked record keeps them all). */
export function sendAttributesOf(record: SQSRecord): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    const converted = toSendAttribute(value);
    if (converted) attributes[name] = converted;
  }
  return attributes;
}

/** Lambda's record shape (camelCase, binary as base64) back to SendMessage's shape. */
function toSendAttribute(value: SQSMessageAttribute): MessageAttributeValue | undefined {
  if (value.stringValue !== undefined) return { DataType: value.dataType, StringValue: value.stringValue };
  if (value.binaryValue !== undefined) {
    return { DataType: value.dataType, BinaryValue: Buffer.from(value.binaryValue, "base64") };
  }
  // List values are reserved by SQS and never set; an attribute with no value cannot be sent.
  return undefined;
}
