/**
 * Span attribute names. The `messaging.*` ones are OpenTelemetry's semantic conventions for
 * messaging (https://opentelemetry.io/docs/specs/semconv/messaging/), written out here rather than
 * imported from @opentelemetry/semantic-conventions: the library depends on @opentelemetry/api only.
 * courier's own are namespaced `courier.*`.
 */
export const ATTR = {
  messagingSystem: "messaging.system",
  destinationName: "messaging.destination.name",
  operationType: "messaging.operation.type",
  operationName: "messaging.operation.name",
  messageId: "messaging.message.id",
  bodySize: "messaging.message.body.size",
  batchMessageCount: "messaging.batch.message_count",
  /** The envelope's eventId: the key a message is found by (`courier trace`). */
  eventId: "courier.event_id",
  correlationId: "courier.correlation_id",
  messageType: "courier.message_type",
  consumer: "courier.consumer",
  topic: "courier.topic",
  receiveCount: "courier.receive_count",
  /** processed | retried | dead-lettered | dead-letter-failed (a record), redriven (a redrive move). */
  outcome: "courier.outcome",
  retryDelaySeconds: "courier.retry.delay_seconds",
  /** permanent | exhausted. */
  deadLetterReason: "courier.dead_letter.reason",
  errorClass: "courier.error.class",
  errorMessage: "courier.error.message",
  /** dlq | subscription-dlq: where a redriven message came from. */
  redriveSource: "courier.redrive.source",
  redriveCount: "courier.redrive.count",
  originalMessageId: "courier.original_message_id",
  /**
   * Which attributes the AWS X-Ray exporter (the ADOT collector's awsxray) makes annotations, so
   * X-Ray can filter traces by them (`annotation.courier_event_id = "..."`); dots become underscores.
   */
  xrayAnnotations: "aws.xray.annotations",
} as const;

/** messaging.system values. */
export const MESSAGING_SYSTEM = { sns: "aws_sns", sqs: "aws_sqs" } as const;

/** The attributes courier asks X-Ray to index, so a trace is found by a message's ids. */
export const XRAY_ANNOTATED: readonly string[] = [
  ATTR.eventId,
  ATTR.correlationId,
  ATTR.consumer,
  ATTR.outcome,
];

/** X-Ray's annotation key for an attribute, as the awsxray exporter writes it. */
export function xrayAnnotationKey(attribute: string): string {
  return attribute.replace(/[^A-Za-z0-9_]/g, "_");
}

/** The tracer name every courier span is recorded under (its instrumentation scope). */
export const TRACER_NAME = "@courier-queue/courier";
