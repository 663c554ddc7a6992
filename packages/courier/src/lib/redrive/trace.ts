/**
 * Redrive's and replay's spans: a PRODUCER `send <queue>` span per message moved back (or replayed), linked to the
 * context the message was first produced in (its envelope's traceparent, which the move keeps), so
 * the message's journey reads on past the DLQ. OpenTelemetry API only: a no-op without an SDK.
 */
import { type Attributes, type Span, SpanKind } from "@opentelemetry/api";
import type { Lineage } from "../consumer/failure-attributes.ts";
import { ATTR, MESSAGING_SYSTEM, XRAY_ANNOTATED } from "../trace/semconv.ts";
import { courierTracer, recordFailure, spanContextOf } from "../trace/spans.ts";
import type { DlqMessage } from "./dlq-message.ts";

export interface RedriveSpan {
  /** The send was confirmed: the message is back on its source queue under this MessageId. */
  sent(messageId: string | undefined): void;
  fail(error: unknown): void;
}

export function queueNameOfUrl(url: string): string {
  return url.slice(url.lastIndexOf("/") + 1);
}

/**
 * A PRODUCER `send <queue>` span for one message sent back by an operation (redrive, replay),
 * linked to its producer; undefined when no SDK records it. A failed send sets `<outcome>-failed`.
 */
function sendBackSpan(
  queueUrl: string,
  operation: "redrive" | "replay",
  traceparent: string | undefined,
  attributes: Attributes,
): RedriveSpan | undefined {
  const producer = spanContextOf(traceparent);
  const queue = queueNameOfUrl(queueUrl);
  const outcome = operation === "redrive" ? "redriven" : "replayed";
  const span: Span = courierTracer().startSpan(`send ${queue}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      [ATTR.messagingSystem]: MESSAGING_SYSTEM.sqs,
      [ATTR.destinationName]: queue,
      [ATTR.operationType]: "send",
      [ATTR.operationName]: operation,
      [ATTR.outcome]: outcome,
      ...attributes,
      [ATTR.xrayAnnotations]: XRAY_ANNOTATED,
    },
    ...(producer ? { links: [{ context: producer }] } : {}),
  });
  if (!span.isRecording()) {
    span.end();
    return undefined;
  }
  return {
    sent(messageId) {
      if (messageId) span.setAttribute(ATTR.messageId, messageId);
      span.end();
    },
    fail(error) {
      span.setAttribute(ATTR.outcome, `${operation}-failed`);
      recordFailure(span, error);
      span.end();
    },
  };
}

/** The span for one message moved back, or undefined when no SDK records it. */
export function redriveSpan(
  queueUrl: string,
  message: DlqMessage,
  lineage: Lineage,
  source: "dlq" | "subscription-dlq",
): RedriveSpan | undefined {
  return sendBackSpan(queueUrl, "redrive", message.traceparent, {
    [ATTR.redriveSource]: source,
    [ATTR.redriveCount]: lineage.redriveCount,
    [ATTR.originalMessageId]: lineage.originalMessageId,
    [ATTR.errorClass]: message.errorClass,
    ...(message.eventId ? { [ATTR.eventId]: message.eventId } : {}),
    ...(message.correlationId ? { [ATTR.correlationId]: message.correlationId } : {}),
    ...(message.type ? { [ATTR.messageType]: message.type } : {}),
  });
}

/** The producer's context an archived or moved body names (its envelope's traceparent), if any. */
export function traceparentOfBody(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { trace?: { traceparent?: unknown } };
    return typeof parsed?.trace?.traceparent === "string" ? parsed.trace.traceparent : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A replay's PRODUCER span for one archived message sent to one consumer's queue, linked to where
 * the message was first produced; undefined when no SDK records it.
 */
export function replaySpan(
  queueUrl: string,
  entry: {
    readonly eventId?: string | undefined;
    readonly type?: string | undefined;
    readonly message: string;
  },
  runId: string,
): RedriveSpan | undefined {
  return sendBackSpan(queueUrl, "replay", traceparentOfBody(entry.message), {
    "courier.replay.run_id": runId,
    ...(entry.eventId ? { [ATTR.eventId]: entry.eventId } : {}),
    ...(entry.type ? { [ATTR.messageType]: entry.type } : {}),
  });
}
