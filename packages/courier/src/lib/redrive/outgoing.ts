/**
 * Builds what the selective mover sends back to the source queue: the body byte for byte, every
 * message attribute, and the `courier.lineage` attribute that counts redrives.
 */
import type { MessageAttributeValue, SendMessageBatchRequestEntry } from "@aws-sdk/client-sqs";
import { FAILURE_ATTRIBUTE, LINEAGE_ATTRIBUTE, type Lineage } from "../consumer/failure-attributes.ts";
import type { DlqMessage } from "./dlq-message.ts";

/** SQS's limit on message attributes per message. */
export const MAX_MESSAGE_ATTRIBUTES = 10;
/** SQS's limit on the summed size of a SendMessageBatch (bodies plus attributes). */
export const MAX_BATCH_PAYLOAD_BYTES = 1_048_576;
/** SQS's limit on entries per batch call. */
export const MAX_BATCH_ENTRIES = 10;

export function nextLineage(message: DlqMessage, now: Date): Lineage {
  return {
    // The first DLQ MessageId is the stable handle across trips: SQS gives every send a new one.
    originalMessageId: message.lineage?.originalMessageId ?? message.messageId,
    redriveCount: message.redriveCount + 1,
    lastRedriveAt: now.toISOString(),
  };
}

export type OutgoingEntry =
  | { readonly ok: true; readonly entry: SendMessageBatchRequestEntry; readonly bytes: number }
  | { readonly ok: false; readonly reason: string };

/** `id` must be unique within one batch call (SQS: alphanumerics, hyphen, underscore). */
export function outgoingEntry(
  message: DlqMessage,
  lineage: Lineage,
  id: string,
  target: { readonly fifo: boolean } = { fifo: message.message.Attributes?.MessageGroupId !== undefined },
): OutgoingEntry {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(message.message.MessageAttributes ?? {})) {
    if (name === LINEAGE_ATTRIBUTE) continue; // replaced below
    attributes[name] = sendableAttribute(value);
  }
  if (Object.keys(attributes).length + 1 > MAX_MESSAGE_ATTRIBUTES) {
    // Lineage must travel, or a poison message could loop forever. The failure reason is the one
    // attribute that can give way: it describes the previous trip and is rewritten on the next failure.
    delete attributes[FAILURE_ATTRIBUTE];
  }
  if (Object.keys(attributes).length + 1 > MAX_MESSAGE_ATTRIBUTES) {
    return {
      ok: false,
      reason: `message has ${Object.keys(attributes).length} attributes; ${LINEAGE_ATTRIBUTE} does not fit SQS's limit of ${MAX_MESSAGE_ATTRIBUTES}`,
    };
  }
  attributes[LINEAGE_ATTRIBUTE] = { DataType: "String", StringValue: JSON.stringify(lineage) };
  const body = message.message.Body ?? "";
  const traceHeader = message.message.Attributes?.AWSTraceHeader;
  // From a FIFO DLQ: back into the message's own group (so it is ordered with that group again),
  // with a deduplication id new for each trip (the original's would be dropped within 5 minutes).
  // From a standard DLQ the group is the message's tenant (fair queues): it goes back with it, and
  // without a deduplication id, which a standard queue refuses.
  const group = message.message.Attributes?.MessageGroupId;
  const entry: SendMessageBatchRequestEntry = {
    Id: id,
    MessageBody: body,
    MessageAttributes: attributes,
    ...(group && target.fifo
      ? {
          MessageGroupId: group,
          MessageDeduplicationId: `${lineage.originalMessageId}:${lineage.redriveCount}`.slice(0, 128),
        }
      : group
        ? { MessageGroupId: group }
        : {}),
    ...(traceHeader
      ? { MessageSystemAttributes: { AWSTraceHeader: { DataType: "String", StringValue: traceHeader } } }
      : {}),
  };
  return { ok: true, entry, bytes: payloadBytes(body, attributes) };
}

/** Received attribute values carry list fields SendMessage rejects; keep the three it takes. */
function sendableAttribute(value: MessageAttributeValue): MessageAttributeValue {
  return {
    DataType: value.DataType,
    ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
    ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
  };
}

/** The size SQS counts against its limits: body, and each attribute's name, type and value. */
export function payloadBytes(body: string, attributes: Record<string, MessageAttributeValue>): number {
  let bytes = Buffer.byteLength(body, "utf8");
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name, "utf8") + Buffer.byteLength(value.DataType ?? "", "utf8");
    bytes += value.StringValue !== undefined ? Buffer.byteLength(value.StringValue, "utf8") : 0;
    bytes += value.BinaryValue?.byteLength ?? 0;
  }
  return bytes;
}

/** Splits entries into SendMessageBatch calls within the entry-count and payload limits. */
export function batchesWithinLimits<T extends { readonly bytes: number }>(entries: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const entry of entries) {
    if (
      current.length === MAX_BATCH_ENTRIES ||
      (current.length > 0 && currentBytes + entry.bytes > MAX_BATCH_PAYLOAD_BYTES)
    ) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += entry.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
