import type { MessageAttributeValue } from "@aws-sdk/client-sns";

/** SNS's limit on one message, and on the sum of all entries of one PublishBatch: 256 KiB. */
export const SNS_MAX_PAYLOAD_BYTES = 262_144;
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
