/**
 * The attribute `courier replay` puts on every message it sends to a consumer's queue: which run,
 * which window, and whether the consumer is to redo work it already did (`reprocess`). The runtime
 * reads it to scope idempotency to the run (idempotency/once-per-event.ts); handlers and logs may
 * read it to tell a replay from live traffic.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { SQSRecord } from "aws-lambda";

export const REPLAY_ATTRIBUTE = "courier.replay";

export interface ReplayLineage {
  readonly runId: string;
  /** The window replayed, ISO times. */
  readonly from: string;
  readonly to: string;
  /** True: the consumer's side effects run again, once per run (a replay-scoped idempotency key). */
  readonly reprocess: boolean;
}

export function replayLineageOf(record: Pick<SQSRecord, "messageAttributes">): ReplayLineage | undefined {
  const raw = record.messageAttributes?.[REPLAY_ATTRIBUTE]?.stringValue;
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as Partial<ReplayLineage>;
    if (typeof parsed.runId !== "string" || parsed.runId.length === 0) return undefined;
    return {
      runId: parsed.runId,
      from: String(parsed.from ?? ""),
      to: String(parsed.to ?? ""),
      reprocess: parsed.reprocess === true,
    };
  } catch {
    return undefined;
  }
}

/**
 * The idempotency scope of the record being handled: undefined for live traffic (the key is the
 * eventId), `replay:<runId>` while a reprocessing replay's record runs, so its effects run once
 * more per run, and a second delivery of the same run's message is still deduplicated.
 */
export const idempotencyScope = new AsyncLocalStorage<string>();

/** The scope a record's handling runs in, or undefined (no replay, or a replay without reprocess). */
export function idempotencyScopeOf(record: Pick<SQSRecord, "messageAttributes">): string | undefined {
  const lineage = replayLineageOf(record);
  return lineage?.reprocess ? `replay:${lineage.runId}` : undefined;
}
