/**
 * The pure half of the local event source: SQS messages to Lambda's `SQSRecord` shape, and a
 * handler's outcome to the records to delete. Kept apart from the polling loop so both can be
 * held against Lambda's documented behaviour without a network.
 */
import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSMessageAttribute, SQSRecord, SQSRecordAttributes } from "aws-lambda";

/** Where records come from: the queue ARN and region Lambda stamps on every record. */
export interface RecordSource {
  readonly queueArn: string;
  readonly awsRegion: string;
}

/** A message ReceiveMessage returned without a field Lambda's record needs. */
export class IncompleteMessageError extends Error {
  override readonly name = "IncompleteMessageError";
  constructor(field: string, messageId: string | undefined) {
    super(`SQS returned a message without ${field} (MessageId ${messageId ?? "unknown"})`);
  }
}

/** Lambda gives Binary attribute values as base64 strings; the SDK gives bytes. */
function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** One message attribute in Lambda's shape: camelCase, list fields always present and empty. */
export function toLambdaMessageAttribute(value: MessageAttributeValue): SQSMessageAttribute {
  return {
    ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
    ...(value.BinaryValue !== undefined ? { binaryValue: base64(value.BinaryValue) } : {}),
    // Reserved by SQS and never filled; Lambda still sends them as empty arrays.
    stringListValues: [],
    binaryListValues: [],
    dataType: value.DataType ?? "String",
  };
}

export function toSqsRecord(message: Message, source: RecordSource): SQSRecord {
  const { MessageId, ReceiptHandle, Body, MD5OfBody } = message;
  if (!MessageId) throw new IncompleteMessageError("MessageId", MessageId);
  if (!ReceiptHandle) throw new IncompleteMessageError("ReceiptHandle", MessageId);
  // System attributes arrive as strings from SQS and Lambda passes them on as strings.
  const attributes = { ...(message.Attributes ?? {}) } as unknown as SQSRecordAttributes;
  const messageAttributes = Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
      name,
      toLambdaMessageAttribute(value),
    ]),
  );
  return {
    messageId: MessageId,
    receiptHandle: ReceiptHandle,
    body: Body ?? "",
    attributes,
    messageAttributes,
    md5OfBody: MD5OfBody ?? "",
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: source.queueArn,
    awsRegion: source.awsRegion,
  };
}

/** How one invocation ended, as the event source saw it. */
export type InvocationOutcome =
  | { readonly kind: "returned"; readonly value: unknown }
  | { readonly kind: "threw"; readonly error: unknown }
  | { readonly kind: "timedOut" };

export interface Settlement {
  /** Records to delete: the handler processed them. */
  readonly succeeded: SQSRecord[];
  /** Records left to the visibility timeout, to be received again. */
  readonly failed: SQSRecord[];
  /** Why the whole batch failed, when it did. */
  readonly batchFailure?: string;
}

function failAll(records: readonly SQSRecord[], reason: string): Settlement {
  return { succeeded: [], failed: [...records], batchFailure: reason };
}

/**
 * Lambda's rules with ReportBatchItemFailures on: a throw or a timeout fails the whole batch; an
 * empty or absent response (or an empty `batchItemFailures`) succeeds it; `batchItemFailures`
 * fails only the records it names, unless it is malformed or names an id that is not in the
 * batch, which fails the whole batch.
 */
export function settleBatch(records: readonly SQSRecord[], outcome: InvocationOutcome): Settlement {
  if (outcome.kind === "timedOut") return failAll(records, "the handler ran past the function timeout");
  if (outcome.kind === "threw") {
    const reason = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
    return failAll(records, `the handler threw: ${reason}`);
  }
  const value = outcome.value;
  if (value === undefined || value === null) return { succeeded: [...records], failed: [] };
  if (typeof value !== "object") return failAll(records, "the handler returned a non-object response");
  const failures = (value as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return { succeeded: [...records], failed: [] };
  if (!Array.isArray(failures)) return failAll(records, "batchItemFailures is not an array");

  const inBatch = new Set(records.map((r) => r.messageId));
  const failedIds = new Set<string>();
  for (const failure of failures as unknown[]) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== "string" || id === "") {
      return failAll(records, "a batchItemFailures entry has no itemIdentifier");
    }
    if (!inBatch.has(id))
      return failAll(records, `batchItemFailures names "${id}", which is not in the batch`);
    failedIds.add(id);
  }
  return {
    succeeded: records.filter((r) => !failedIds.has(r.messageId)),
    failed: records.filter((r) => failedIds.has(r.messageId)),
  };
}

/** "arn:aws:sqs:us-east-1:000000000000:name" -> its region and account. */
export function parseQueueArn(arn: string): { region: string; accountId: string; queueName: string } {
  const parts = arn.split(":");
  const [prefix, , service, region, accountId, queueName] = parts;
  if (parts.length !== 6 || prefix !== "arn" || service !== "sqs" || !region || !accountId || !queueName) {
    throw new Error(`"${arn}" is not an SQS queue ARN`);
  }
  return { region, accountId, queueName };
}
