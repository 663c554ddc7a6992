import type { MessageAttributeValue } from "@aws-sdk/client-sns";

/**
 * SNS's default limit on one message, and on the sum of all entries of one PublishBatch: 256 KiB.
 * A topic may raise its own (`MaximumMessageSize`, see `topicMaxMessageBytes`).
 */
export const SNS_MAX_PAYLOAD_BYTES = 262_144;
/** The most a topic's `MaximumMessageSize` may be raised to: 1 MiB (SQS's limit too). */
export const SNS_MAX_RAISED_PAYLOAD_BYTES = 1_048_576;
/** The least a topic's `MaximumMessageSize` may be set to. */
export const SNS_MIN_PAYLOAD_BYTES = 1024;
/** A topic raised above the default may have at most this many subscriptions (SQS, Lambda, Firehose). */
export const SNS_RAISED_TOPIC_MAX_SUBSCRIPTIONS = 100;
/** PublishBatch takes at most 10 entries. */
export const SNS_MAX_BATCH_ENTRIES = 10;

/**
 * The size SNS holds against its limit: the UTF-8 body plus, for every message attribute, its name,
 * its data type and its value (as SNS documents for message attributes).
 */
export function snsMessageSize(body: string, attributes: Record<string, MessageAttributeValue>): number {
  let size = Buffer.byteLength(body, "utf8");
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name, "utf8");
    size += Buffer.byteLength(value.DataType ?? "", "utf8");
    size += Buffer.byteLength(value.StringValue ?? "", "utf8");
    size += value.BinaryValue?.byteLength ?? 0;
  }
  return size;
}

/** The limit SNS holds a topic's messages to: its `maxMessageBytes`, or SNS's default. */
export function topicMaxMessageBytes(spec: { readonly maxMessageBytes?: number | undefined }): number {
  return spec.maxMessageBytes ?? SNS_MAX_PAYLOAD_BYTES;
}

/** What is wrong with a topic's `maxMessageBytes`, or undefined when SNS would take it. */
export function maxMessageBytesProblem(value: number): string | undefined {
  if (!Number.isInteger(value) || value < SNS_MIN_PAYLOAD_BYTES || value > SNS_MAX_RAISED_PAYLOAD_BYTES) {
    return `maxMessageBytes must be a whole number from ${SNS_MIN_PAYLOAD_BYTES} to ${SNS_MAX_RAISED_PAYLOAD_BYTES} (SNS's MaximumMessageSize range), got ${value}`;
  }
  return undefined;
}

/** The largest message a producer may hand the publisher for a topic: any size when it offloads. */
export function publishableBytes(spec: {
  readonly maxMessageBytes?: number | undefined;
  readonly offloadLargePayloads?: boolean | undefined;
}): number {
  return spec.offloadLargePayloads ? Number.POSITIVE_INFINITY : topicMaxMessageBytes(spec);
}
