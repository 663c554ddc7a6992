/**
 * The `ctx` a handler gets for one record. A class rather than an object literal: a literal with a
 * getter is built slowly on every record (5 % of the runtime's CPU profile), while a class keeps
 * the getter on its prototype and builds each record's context as a plain fast object.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Context, SQSRecord } from "aws-lambda";
import type { TraceContext } from "../trace/trace-context.ts";

export interface ConsumerContext<N extends string = string> {
  readonly consumer: N;
  /** The producer's id for the message: the idempotency key for side effects. */
  readonly eventId: string;
  /** The SQS MessageId of this delivery (a redriven message gets a new one). */
  readonly messageId: string;
  /** ApproximateReceiveCount: 1 on the first delivery. */
  readonly receiveCount: number;
  /** On a FIFO queue: the message group (records of one group run one after another, in order). */
  readonly messageGroupId?: string | undefined;
  /**
   * On a FIFO queue: the order of the message within its group. The SNS FIFO topic's number when
   * the record is an SNS notification (it survives redrive), else SQS's.
   */
  readonly sequenceNumber?: string | undefined;
  /** The producer's trace context (traceparent, correlationId), when the message carries one. */
  readonly trace?: TraceContext | undefined;
  /**
   * The consumer's logger for this record: eventId, messageId and, when the message carries them,
   * correlationId and traceparent on every line.
   */
  readonly logger: Logger;
  readonly record: SQSRecord;
  /** Milliseconds before the invocation times out. */
  remainingTimeMs(): number;
}

/** What every record of a consumer shares. */
export interface RecordContextShared<N extends string> {
  readonly consumer: N;
  readonly logger: Logger;
  readonly timeoutSeconds: number;
  readonly now: () => number;
}

export class RecordContext<N extends string> implements ConsumerContext<N> {
  readonly consumer: N;
  readonly messageId: string;
  #child: Logger | undefined;
  #remainingTimeMs: (() => number) | undefined;

  constructor(
    private readonly shared: RecordContextShared<N>,
    readonly record: SQSRecord,
    readonly eventId: string,
    readonly receiveCount: number,
    private readonly lambda: Context | undefined,
    private readonly startedAt: number,
    private readonly snsSequenceNumber?: string,
    readonly trace?: TraceContext,
  ) {
    this.consumer = shared.consumer;
    this.messageId = record.messageId;
  }

  get messageGroupId(): string | undefined {
    return (this.record.attributes as { MessageGroupId?: string } | undefined)?.MessageGroupId;
  }

  get sequenceNumber(): string | undefined {
    return this.snsSequenceNumber ?? this.record.attributes?.SequenceNumber;
  }

  /**
   * Built on first use: most handlers log little, and a child logger per record is not free.
   * A child per record rather than appendKeys/removeKeys on the shared logger: a batch's records
   * run concurrently, so keys appended for one would land on its neighbours' lines.
   */
  get logger(): Logger {
    this.#child ??= this.shared.logger.createChild({
      persistentKeys: { eventId: this.eventId, messageId: this.messageId, ...traceLogKeys(this.trace) },
    });
    return this.#child;
  }

  /**
   * A function that works unbound (handlers pass it on as `getRemainingTimeInMillis`), made on
   * first use rather than for every record.
   */
  get remainingTimeMs(): () => number {
    this.#remainingTimeMs ??= (): number =>
      this.lambda?.getRemainingTimeInMillis?.() ??
      this.shared.timeoutSeconds * 1000 - (this.shared.now() - this.startedAt);
    return this.#remainingTimeMs;
  }
}

/** The keys a record's log lines carry for its trace; none when the message has no trace. */
export function traceLogKeys(trace: TraceContext | undefined): {
  correlationId?: string;
  traceparent?: string;
} {
  return trace ? { correlationId: trace.correlationId, traceparent: trace.traceparent } : {};
}
