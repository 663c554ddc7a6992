/**
 * X-Ray for the consumer runtime, through Powertools Tracer where Lambda runs with active
 * tracing. Lambda itself records the invocation and continues the trace the SQS message's
 * AWSTraceHeader carries; the runtime adds one subsegment per batch (never one per record: a
 * batch may hold thousands) annotated with the consumer, the batch's outcome counts and its
 * correlation ids, so X-Ray's console finds an invocation by the request's correlation id with
 * `annotation.correlationIds CONTAINS "<id>"`. AWS calls made through clients passed to
 * `tracer.captureAWSv3Client` (the side effects: SES, SNS, S3, DynamoDB) nest under it.
 */

/** What the runtime uses of an X-Ray segment (aws-xray-sdk-core's Segment and Subsegment fit it). */
export interface TraceSegment {
  addNewSubsegment(name: string): TraceSegment;
  addAnnotation(key: string, value: string | number | boolean): void;
  close(): void;
}

/** What the runtime uses of Powertools Tracer, so tests can pass a recorder. */
export interface ConsumerTracer {
  /** False outside Lambda (local workers, tests): the runtime then does no tracing work at all. */
  isTracingEnabled(): boolean;
  getSegment(): TraceSegment | undefined;
  setSegment(segment: TraceSegment): void;
}

/** X-Ray keeps an annotation value to 1,000 characters; longer lists are cut with a count. */
export const MAX_ANNOTATION_CHARS = 1000;

export interface BatchSummary {
  readonly records: number;
  readonly failed: number;
  readonly correlationIds: ReadonlySet<string>;
}

/** Runs one batch inside a `## <consumer>` subsegment of the invocation's segment. */
export async function traceBatch<T>(
  tracer: ConsumerTracer,
  consumer: string,
  run: () => Promise<T>,
  summarize: (result: T | undefined) => BatchSummary,
): Promise<T> {
  const parent = tracer.getSegment();
  if (!parent) return run();
  const segment = parent.addNewSubsegment(`## ${consumer}`);
  tracer.setSegment(segment);
  let result: T | undefined;
  try {
    result = await run();
    return result;
  } finally {
    const summary = summarize(result);
    segment.addAnnotation("consumer", consumer);
    segment.addAnnotation("records", summary.records);
    segment.addAnnotation("failed", summary.failed);
    if (summary.correlationIds.size > 0) {
      segment.addAnnotation("correlationIds", annotationList(summary.correlationIds));
    }
    segment.close();
    tracer.setSegment(parent);
  }
}

function annotationList(ids: ReadonlySet<string>): string {
  let text = "";
  let listed = 0;
  for (const id of ids) {
    // Room kept for " (+N more)".
    if (text.length + id.length + 1 > MAX_ANNOTATION_CHARS - 16) break;
    text = text ? `${text} ${id}` : id;
    listed += 1;
  }
  return listed < ids.size ? `${text} (+${ids.size - listed} more)` : text;
}
