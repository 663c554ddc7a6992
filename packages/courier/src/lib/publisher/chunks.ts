import { SNS_MAX_BATCH_ENTRIES, SNS_MAX_PAYLOAD_BYTES } from "./size.ts";

/**
 * Splits messages, in order, into PublishBatch calls of at most 10 entries and 256 KiB in all.
 * A single message is never over 256 KiB here: the publisher refuses it before batching.
 */
export function chunkForPublishBatch<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  limits = { entries: SNS_MAX_BATCH_ENTRIES, bytes: SNS_MAX_PAYLOAD_BYTES },
): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let chunkBytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (chunk.length > 0 && (chunk.length === limits.entries || chunkBytes + size > limits.bytes)) {
      chunks.push(chunk);
      chunk = [];
      chunkBytes = 0;
    }
    chunk.push(item);
    chunkBytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
