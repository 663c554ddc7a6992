/**
 * What courier knows about one message received from a DLQ: its type and eventId (from the
 * `type` message attribute or the envelope in the body), why it failed (`courier.failure`), how
 * often it was redriven (`courier.lineage`) and how old it is. Peek and the selective mover both
 * read messages through this one function, so they agree on every field.
 */
import type { Message } from "@aws-sdk/client-sqs";
import * as z from "zod";
import {
  FAILURE_ATTRIBUTE,
  type FailureReason,
  LINEAGE_ATTRIBUTE,
  type Lineage,
} from "../consumer/failure-attributes.ts";
import { parseCorrelationId, parseTraceparent } from "../trace/trace-context.ts";
import { SNS_DELIVERY_ERROR_CLASS } from "./sns-dead-letter.ts";

/** The message attribute the publisher sets from the contract (SNS raw delivery copies it). */
export const TYPE_ATTRIBUTE = "type";
/** Error class reported for a message that carries no (current) `courier.failure`. */
export const UNKNOWN_ERROR_CLASS = "unknown";

const failureSchema = z.object({
  errorClass: z.string(),
  message: z.string(),
  consumer: z.string(),
  receiveCount: z.number(),
  failedAt: z.string(),
  kind: z.enum(["permanent", "exhausted", "tenant-quarantined"]),
  messageId: z.string(),
});

const lineageSchema = z.object({
  originalMessageId: z.string().min(1),
  redriveCount: z.number().int().nonnegative(),
  lastRedriveAt: z.string(),
});

export interface DlqMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly type?: string;
  readonly eventId?: string;
  /**
   * The correlation id of the request that caused the message (its envelope's trace). Redrive
   * moves the body byte for byte, so it stays with the message beside its lineage.
   */
  readonly correlationId?: string;
  /** The W3C traceparent of the context the message was produced in (its envelope's trace). */
  readonly traceparent?: string;
  /** The failure that put the message in the DLQ, if the consumer runtime recorded it. */
  readonly failure?: FailureReason;
  /** `UNKNOWN_ERROR_CLASS` when SQS moved the message by itself. */
  readonly errorClass: string;
  readonly lineage?: Lineage;
  /** Times redriven before (0 for a message never redriven). */
  readonly redriveCount: number;
  /** SQS's ApproximateReceiveCount: receives from the source and from the DLQ (peeks included). */
  readonly receiveCount: number;
  /** The earliest time known for the message: its SentTimestamp or its failure, whichever is first. */
  readonly firstSeenAt?: Date;
  /** One line for a person: why the message is in the DLQ. */
  readonly reason: string;
  readonly message: Message;
}

export interface DescribeOptions {
  /** The source queue's maxReceiveCount, to explain messages SQS moved by itself. */
  readonly sourceMaxReceiveCount?: number;
  /**
   * The message comes from a subscription's DLQ: SNS could not deliver it to the queue, so no
   * consumer ever saw it. Pass it unwrapped (`unwrapSnsDeadLetter`).
   */
  readonly deliveryFailure?: boolean;
}

export function describeDlqMessage(message: Message, options: DescribeOptions = {}): DlqMessage {
  const attributes = message.MessageAttributes ?? {};
  const lineage = parseJsonAttribute(attributes[LINEAGE_ATTRIBUTE]?.StringValue, lineageSchema);
  const recorded = parseJsonAttribute(attributes[FAILURE_ATTRIBUTE]?.StringValue, failureSchema);
  // A failure recorded before the last redrive belongs to an earlier trip through the DLQ: the
  // message came back since, without a new reason, so SQS moved it by itself this time.
  const failure =
    recorded && lineage && Date.parse(recorded.failedAt) < Date.parse(lineage.lastRedriveAt)
      ? undefined
      : recorded;
  const envelope = envelopeFields(message.Body);
  const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 0);
  const sentTimestamp = Number(message.Attributes?.SentTimestamp);
  const times = [sentTimestamp, failure ? Date.parse(failure.failedAt) : Number.NaN].filter(Number.isFinite);
  const type = attributes[TYPE_ATTRIBUTE]?.StringValue ?? envelope.type;
  const { eventId, correlationId, traceparent } = envelope;
  const firstSeenAt = times.length > 0 ? new Date(Math.min(...times)) : undefined;
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    ...(type ? { type } : {}),
    ...(eventId ? { eventId } : {}),
    ...(correlationId ? { correlationId } : {}),
    ...(traceparent ? { traceparent } : {}),
    ...(failure ? { failure } : {}),
    errorClass: options.deliveryFailure
      ? SNS_DELIVERY_ERROR_CLASS
      : (failure?.errorClass ?? UNKNOWN_ERROR_CLASS),
    ...(lineage ? { lineage } : {}),
    redriveCount: lineage?.redriveCount ?? 0,
    receiveCount,
    ...(firstSeenAt ? { firstSeenAt } : {}),
    reason: options.deliveryFailure
      ? `${SNS_DELIVERY_ERROR_CLASS}: SNS could not deliver it to the consumer's queue (key or queue policy, deleted queue?)`
      : failureReasonText(failure, recorded, options.sourceMaxReceiveCount),
    message,
  };
}

export function ageSeconds(message: DlqMessage, now: Date): number | undefined {
  return message.firstSeenAt
    ? Math.max(0, (now.getTime() - message.firstSeenAt.getTime()) / 1000)
    : undefined;
}

function failureReasonText(
  failure: FailureReason | undefined,
  stale: FailureReason | undefined,
  sourceMaxReceiveCount: number | undefined,
): string {
  if (failure) {
    const how =
      failure.kind === "exhausted"
        ? `after ${failure.receiveCount} receives`
        : failure.kind === "permanent"
          ? "permanent"
          : "tenant quarantined";
    return `${failure.errorClass} (${how}): ${failure.message}`;
  }
  const receives = sourceMaxReceiveCount === undefined ? "maxReceiveCount" : String(sourceMaxReceiveCount);
  const earlier = stale ? `; before its last redrive: ${stale.errorClass}: ${stale.message}` : "";
  return `unknown: moved by SQS after ${receives} receives${earlier}`;
}

function parseJsonAttribute<T>(value: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads type and eventId from the body: courier's envelope itself (SNS raw delivery or a direct
 * send), or an SNS notification that wraps it when raw delivery is off.
 */
function envelopeFields(body: string | undefined): {
  type?: string;
  eventId?: string;
  correlationId?: string;
  traceparent?: string;
} {
  const parsed = parseJson(body);
  if (!isRecord(parsed)) return {};
  const envelope =
    parsed.Type === "Notification" && typeof parsed.Message === "string" ? parseJson(parsed.Message) : parsed;
  const notificationType =
    parsed.Type === "Notification"
      ? asString(field(field(parsed.MessageAttributes, TYPE_ATTRIBUTE), "Value"))
      : undefined;
  if (!isRecord(envelope)) return notificationType ? { type: notificationType } : {};
  const type = asString(envelope.type) ?? notificationType;
  const eventId = asString(envelope.eventId);
  const correlationId = parseCorrelationId(field(envelope.trace, "correlationId"));
  const traceparent = asString(field(envelope.trace, "traceparent"));
  return {
    ...(type ? { type } : {}),
    ...(eventId ? { eventId } : {}),
    ...(correlationId ? { correlationId } : {}),
    ...(traceparent && parseTraceparent(traceparent) ? { traceparent } : {}),
  };
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
