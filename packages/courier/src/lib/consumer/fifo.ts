/**
 * FIFO semantics of the consumer runtime: Powertools' `SqsFifoPartialProcessor` with
 * `skipGroupOnError` (records run one after another in the event's order; after a record of a
 * message group fails, the group's later records in the batch are reported failed, unprocessed,
 * while other groups go on), in the runtime's own partial-batch loop (see partial-batch.ts for why
 * that loop replaced Powertools' processors: the runtime needs each record's outcome, not a throw).
 *
 * Added by hand, because Powertools only reports records failed: the backoff. The failed record
 * and the records skipped behind it get ONE visibility delay, in the same batch call, so the group
 * comes back whole and in order after its backoff while the rest of the queue flows: SQS FIFO hands
 * out no message of a group while any of its messages is in flight, so the delay holds that group
 * and only that group. (Different delays would let a later record turn visible before the record it
 * must follow.)
 */
import type { SQSRecord } from "aws-lambda";

/** A FIFO queue's name, hence its ARN, ends in ".fifo". (Standard fair queues carry group ids too.) */
export function isFifoEvent(records: readonly SQSRecord[]): boolean {
  return records.length > 0 && records.every((r) => r.eventSourceARN?.endsWith(".fifo"));
}

export function messageGroupOf(record: SQSRecord): string {
  return (record.attributes as { MessageGroupId?: string } | undefined)?.MessageGroupId ?? "";
}

/** A record not run because an earlier record of its group failed in this batch. */
export interface SkippedRecord {
  readonly record: SQSRecord;
  readonly receiptHandle: string;
  /** The failed record's delay: the whole group turns visible again together. */
  readonly visibilityTimeout: number;
}

/**
 * Runs the records one after another. `delayOf` says, for an outcome, whether its record failed and
 * with what retry delay (undefined: the group goes on).
 */
export async function settleFifoRecords<O>(
  records: readonly SQSRecord[],
  processRecord: (record: SQSRecord) => O | Promise<O>,
  delayOf: (outcome: O) => number | undefined,
): Promise<{ outcomes: O[]; skipped: SkippedRecord[] }> {
  const failedGroups = new Map<string, number>();
  const outcomes: O[] = [];
  const skipped: SkippedRecord[] = [];
  for (const record of records) {
    const group = messageGroupOf(record);
    const groupDelay = failedGroups.get(group);
    if (groupDelay !== undefined) {
      skipped.push({ record, receiptHandle: record.receiptHandle, visibilityTimeout: groupDelay });
      continue;
    }
    const outcome = await processRecord(record);
    const delay = delayOf(outcome);
    if (delay !== undefined) failedGroups.set(group, delay);
    outcomes.push(outcome);
  }
  return { outcomes, skipped };
}
