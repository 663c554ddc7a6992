/**
 * Redrive's and replay's spans: a PRODUCER `send <queue>` span per message moved back (or replayed), linked to the
 * context the message was first produced in (its envelope's traceparent, which the move keeps), so
 * the message's journey reads on past the DLQ. OpenTelemetry API only: a no-op without an SDK.
 */
import { type Span, SpanKind } from "@opentelemetry/api";
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

/** The span for one message moved back, or undefined when no SDK records it. */
export function redriveSpan(
  queueUrl: string,
  message: DlqMessage,
  lineage: Lineage,
  source: "dlq" | "subscription-dlq",
): RedriveSpan | undefined {
  const producer = spanContextOf(message.traceparent);
  const queue = queueNameOfUrl(queueUrl);
  const span: Span = courierTracer().startSpan(`send ${queue}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      [ATTR.messagingSystem]: MESSAGING_SYSTEM.sqs,
      [ATTR.destinationName]: queue,
      [ATTR.operationType]: "send",
      [ATTR.operationName]: "redrive",
      [ATTR.outcome]: "redriven",
      [ATTR.redriveSource]: source,
      [ATTR.redriveCount]: lineage.redriveCount,
      [ATTR.originalMessageId]: lineage.originalMessageId,
      [ATTR.errorClass]: message.errorClass,
      [ATTR.xrayAnnotations]: XRAY_ANNOTATED,
      ...(message.eventId ? { [ATTR.eventId]: message.eventId } : {}),
      ...(message.correlationId ? { [ATTR.correlationId]: message.correlationId } : {}),
      ...(message.type ? { [ATTR.messageType]: message.type } : {}),
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
      span.setAttribute(ATTR.outcome, "redrive-failed");
      recordFailure(span, error);
      span.end();
    },
  };
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
  const producer = spanContextOf(traceparentOfBody(entry.message));
  const queue = queueNameOfUrl(queueUrl);
  const span: Span = courierTracer().startSpan(`send ${queue}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      [ATTR.messagingSystem]: MESSAGING_SYSTEM.sqs,
      [ATTR.destinationName]: queue,
      [ATTR.operationType]: "send",
      [ATTR.operationName]: "replay",
      [ATTR.outcome]: "replayed",
      "courier.replay.run_id": runId,
      [ATTR.xrayAnnotations]: XRAY_ANNOTATED,
      ...(entry.eventId ? { [ATTR.eventId]: entry.eventId } : {}),
      ...(entry.type ? { [ATTR.messageType]: entry.type } : {}),
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
      span.setAttribute(ATTR.outcome, "replay-failed");
      recordFailure(span, error);
      span.end();
    },
  };
}
