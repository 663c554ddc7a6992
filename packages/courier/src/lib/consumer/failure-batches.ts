/**
 * The SQS calls for a batch's failures, batched: one ChangeMessageVisibilityBatch per 10 retried
 * records and one SendMessageBatch per 10 dead letters (fewer when the payload limit says so),
 * instead of one call per record. Each entry's outcome is reported on its own, since SQS answers
 * a batch call entry by entry: the caller then acknowledges only what SQS confirmed.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SendMessageCommandInput,
  type SQSClient,
} from "@aws-sdk/client-sqs";

/** SQS takes at most 10 entries per batch call. */
export const MAX_BATCH_ENTRIES = 10;
/**
 * SendMessageBatch's payload limit: the sum of the entries' bodies and attributes, 1 MiB on AWS
 * since August 2025 and on LocalStack 4.14. A lone entry over it still gets its own call, so that
 * SQS, not courier, says whether the queue takes it.
 */
export const MAX_BATCH_PAYLOAD_BYTES = 1_048_576;

/** One entry's outcome: `error` set when SQS refused it or the whole call failed. */
export interface EntryOutcome<T> {
  readonly item: T;
  readonly error?: unknown;
}

export interface VisibilityChange {
  readonly receiptHandle: string;
  readonly visibilityTimeout: number;
}

export async function changeVisibilityInBatches<T extends VisibilityChange>(
  sqs: SQSClient,
  queueUrl: string,
  items: readonly T[],
): Promise<EntryOutcome<T>[]> {
  const calls = chunk(items, () => 0, Number.POSITIVE_INFINITY).map(async (group) => {
    try {
      const response = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: group.map((item, i) => ({
            Id: String(i),
            ReceiptHandle: item.receiptHandle,
            VisibilityTimeout: item.visibilityTimeout,
          })),
        }),
      );
      return entryOutcomes(group, response);
    } catch (error) {
      return group.map((item) => ({ item, error }));
    }
  });
  return (await Promise.all(calls)).flat();
}

export async function sendInBatches<T extends { readonly message: SendMessageCommandInput }>(
  sqs: SQSClient,
  queueUrl: string,
  items: readonly T[],
): Promise<EntryOutcome<T>[]> {
  const calls = chunk(items, (item) => payloadBytes(item.message), MAX_BATCH_PAYLOAD_BYTES).map(
    async (group) => {
      try {
        const response = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: group.map(({ message }, i) => {
              // Whatever the single-send input carries (FIFO group and deduplication ids included) travels.
              const { QueueUrl: _queueUrl, ...entry } = message;
              return { ...entry, Id: String(i) } as SendMessageBatchRequestEntry;
            }),
          }),
        );
        return entryOutcomes(group, response);
      } catch (error) {
        return group.map((item) => ({ item, error }));
      }
    },
  );
  return (await Promise.all(calls)).flat();
}

interface BatchResponse {
  readonly Successful?: ReadonlyArray<{ readonly Id?: string }>;
  readonly Failed?: ReadonlyArray<{
    readonly Id?: string;
    readonly Code?: string;
    readonly Message?: string;
  }>;
}

/** An entry counts as done only when SQS lists it as successful; anything else is a failure. */
function entryOutcomes<T>(group: readonly T[], response: BatchResponse): EntryOutcome<T>[] {
  const succeeded = new Set((response.Successful ?? []).map((s) => s.Id));
  const failed = new Map((response.Failed ?? []).map((f) => [f.Id, f]));
  return group.map((item, i) => {
    const id = String(i);
    if (succeeded.has(id)) return { item };
    const entry = failed.get(id);
    const error = new BatchEntryError(
      entry?.Code ?? "NotConfirmed",
      entry?.Message ?? "SQS did not list this entry as successful",
    );
    return { item, error };
  });
}

/** An entry SQS refused inside a batch call that itself succeeded. */
export class BatchEntryError extends Error {
  override readonly name: string = "BatchEntryError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** Groups of at most 10 whose summed sizes stay within `maxBytes` (a lone oversized item goes alone). */
export function chunk<T>(items: readonly T[], sizeOf: (item: T) => number, maxBytes: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length === MAX_BATCH_ENTRIES || bytes + size > maxBytes)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** What SQS counts towards a message's size: the body and each attribute's name, type and value. */
export function payloadBytes(message: SendMessageCommandInput): number {
  let bytes = Buffer.byteLength(message.MessageBody ?? "");
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    bytes += Buffer.byteLength(name) + attributeBytes(value);
  }
  return bytes;
}

function attributeBytes(value: MessageAttributeValue): number {
  const data =
    value.StringValue !== undefined ? Buffer.byteLength(value.StringValue) : (value.BinaryValue?.length ?? 0);
  return Buffer.byteLength(value.DataType ?? "") + data;
}
