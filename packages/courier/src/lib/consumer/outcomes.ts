/**
 * What happened to each record, as data: the consumer runtime publishes one `RecordOutcome` per
 * record it handles on a Node.js diagnostics channel. A process that shows them to a person (the
 * worker behind `courier work` and `npm start`) subscribes and writes its own lines; on Lambda
 * nobody subscribes, publishing costs one boolean check, and the runtime's JSON log lines and EMF
 * metrics are written as ever.
 *
 * A diagnostics channel rather than an option of `createConsumerHandler`: handler modules build
 * their handler at module scope, out of reach of the process that loads them, and the channel is
 * process-wide by name.
 */
import { channel } from "node:diagnostics_channel";

export const RECORD_OUTCOME_CHANNEL = "courier:consumer:record-outcome";

interface OutcomeBase {
  readonly consumer: string;
  /** The producer's eventId; absent when the body could not be decoded. */
  readonly eventId?: string;
  /** The message's correlation id (its envelope's trace), when it carries one. */
  readonly correlationId?: string;
  readonly messageId: string;
  /** ApproximateReceiveCount of this delivery: 1 on the first. */
  readonly receiveCount: number;
  /** When the outcome was decided, epoch milliseconds. */
  readonly at: number;
  /** From the record's start to its outcome. */
  readonly durationMs: number;
}

interface FailureDetails {
  readonly errorClass: string;
  readonly errorMessage: string;
}

export type RecordOutcome =
  | (OutcomeBase & { readonly outcome: "processed" })
  | (OutcomeBase &
      FailureDetails & {
        readonly outcome: "retried";
        /** The backoff set on the record; the queue's visibility timeout applies when not set. */
        readonly retryInSeconds: number;
        readonly retryDelaySet: boolean;
      })
  | (OutcomeBase &
      FailureDetails & {
        readonly outcome: "dead-lettered";
        /**
         * `permanent`: retrying cannot fix it; `exhausted`: its last allowed receive failed;
         * `tenant-quarantined`: its tenant is quarantined on this consumer.
         */
        readonly kind: "permanent" | "exhausted" | "tenant-quarantined";
      })
  /** The DLQ send failed: the record is reported failed and comes back (nothing is lost). */
  | (OutcomeBase & FailureDetails & { readonly outcome: "dead-letter-failed" });

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A failure's own fields: what the runtime adds to the record's common ones. */
export type FailureOutcomeDetails = DistributiveOmit<
  Exclude<RecordOutcome, { outcome: "processed" }>,
  keyof OutcomeBase
>;

const outcomes = channel(RECORD_OUTCOME_CHANNEL);

/**
 * Publishes an outcome. Returns whether anyone listened: a listener that reports outcomes takes
 * over the runtime's own per-record log line, so a person sees each record once.
 */
export function publishRecordOutcome(outcome: RecordOutcome): boolean {
  if (!outcomes.hasSubscribers) return false;
  outcomes.publish(outcome);
  return true;
}

/** Whether anyone listens: on Lambda nobody does, and a processed record then builds no outcome object. */
export function hasRecordOutcomeListeners(): boolean {
  return outcomes.hasSubscribers;
}

/** Calls `listener` with every outcome the runtime publishes in this process; returns the unsubscriber. */
export function onRecordOutcome(listener: (outcome: RecordOutcome) => void): () => void {
  const subscriber = (message: unknown) => listener(message as RecordOutcome);
  outcomes.subscribe(subscriber);
  return () => outcomes.unsubscribe(subscriber);
}
