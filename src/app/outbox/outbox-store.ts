/**
 * The transactional outbox's table. A producer writes its business row and an outbox row in one
 * SQLite transaction; the relay publishes pending rows afterwards. The eventId is fixed when the
 * row is written, so a relay that publishes and then crashes before marking the row sent
 * republishes the SAME eventId, which the idempotent consumers absorb.
 *
 * A row for an ordered (FIFO) topic carries its message group, derived from the topology when the
 * row is written. Rows get their ids in commit order (AUTOINCREMENT, assigned under the write lock
 * every writer takes with BEGIN IMMEDIATE), so a group's rows in id order are its commit order; the
 * relay publishes them in that order and never past a row of the group that is still pending.
 */
import type { DatabaseSync } from "node:sqlite";
import type { TopicSpec } from "@courier-queue/courier";
import { envelopeTraceSchema, messageGroupIdFor, type TraceContext } from "@courier-queue/courier";
import { isTopicName, topics } from "../../topology.ts";

export interface OutboxRow {
  readonly id: number;
  readonly topic: string;
  readonly eventId: string;
  readonly occurredAt: string;
  /** The message's `data`, as JSON. */
  readonly data: string;
  readonly attempts: number;
  /** The SNS message group on an ordered topic; null on a standard topic. */
  readonly messageGroup: string | null;
  /** The trace context of the request that wrote the row, as JSON; null when it had none. */
  readonly trace: string | null;
}

export interface NewOutboxEntry {
  readonly topic: string;
  readonly eventId: string;
  readonly occurredAt: string;
  readonly data: unknown;
  /** The request's trace context: the relay publishes with it, so consumers log the request's ids. */
  readonly trace?: TraceContext | undefined;
}

export function migrateOutbox(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      topic TEXT NOT NULL,
      event_id TEXT NOT NULL UNIQUE,
      occurred_at TEXT NOT NULL,
      data TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL DEFAULT 0,
      sent_at TEXT,
      message_id TEXT,
      last_error TEXT
    );
    CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL;
  `);
  // Databases written before ordered topics existed lack the column; their rows are ungrouped.
  const columns = db.prepare("PRAGMA table_info(outbox)").all() as unknown as Array<{ name: string }>;
  if (!columns.some((c) => c.name === "message_group"))
    db.exec("ALTER TABLE outbox ADD COLUMN message_group TEXT");
  // Likewise for rows written before trace contexts: the relay starts a new trace for them.
  if (!columns.some((c) => c.name === "trace")) db.exec("ALTER TABLE outbox ADD COLUMN trace TEXT");
  db.exec(
    "CREATE INDEX IF NOT EXISTS outbox_pending_group ON outbox (message_group, id) WHERE sent_at IS NULL",
  );
}

/**
 * The message group SNS will get for this entry (the same derivation as the publisher's), or null
 * on a standard topic. Throws TypeError when an ordered topic's data lacks its group field.
 */
export function outboxMessageGroup(topic: string, data: unknown): string | null {
  const ordering = isTopicName(topic) ? (topics[topic] as TopicSpec).ordering : undefined;
  if (!ordering) return null;
  const value = (data as Record<string, unknown> | null)?.[ordering.groupBy];
  if (typeof value !== "string" || value === "")
    throw new TypeError(`outbox row for "${topic}": "${ordering.groupBy}" is not a non-empty string`);
  return messageGroupIdFor(value);
}

/** Adds an entry; call it inside the transaction that writes the business row. */
export function enqueueOutbox(db: DatabaseSync, entry: NewOutboxEntry): void {
  db.prepare(
    `INSERT INTO outbox (topic, event_id, occurred_at, data, message_group, trace)
     VALUES (@topic, @eventId, @occurredAt, @data, @messageGroup, @trace)`,
  ).run({
    topic: entry.topic,
    eventId: entry.eventId,
    occurredAt: entry.occurredAt,
    data: JSON.stringify(entry.data),
    messageGroup: outboxMessageGroup(entry.topic, entry.data),
    trace: entry.trace ? JSON.stringify(entry.trace) : null,
  });
}

/** A row's stored trace context, or undefined when it has none or it is unreadable (a new trace starts). */
export function outboxRowTrace(row: Pick<OutboxRow, "trace">): TraceContext | undefined {
  if (!row.trace) return undefined;
  try {
    return envelopeTraceSchema.parse(JSON.parse(row.trace));
  } catch {
    return undefined;
  }
}

/**
 * Pending rows that are due, oldest first, leaving out every row of a group behind an earlier
 * pending row of that group that is not due (waiting out its backoff): the group is stopped there.
 */
export function duePending(db: DatabaseSync, nowMs: number, limit: number): OutboxRow[] {
  return db
    .prepare(
      `SELECT id, topic, event_id AS eventId, occurred_at AS occurredAt, data, attempts,
              message_group AS messageGroup, trace
       FROM outbox o
       WHERE sent_at IS NULL AND next_attempt_at <= @now
         AND (message_group IS NULL OR NOT EXISTS (
           SELECT 1 FROM outbox earlier
           WHERE earlier.message_group = o.message_group AND earlier.sent_at IS NULL
             AND earlier.id < o.id AND earlier.next_attempt_at > @now))
       ORDER BY id LIMIT @limit`,
    )
    .all({ now: nowMs, limit }) as unknown as OutboxRow[];
}

export function markSent(db: DatabaseSync, id: number, messageId: string, sentAt: string): void {
  db.prepare("UPDATE outbox SET sent_at = ?, message_id = ?, last_error = NULL WHERE id = ?").run(
    sentAt,
    messageId,
    id,
  );
}

export function markFailed(db: DatabaseSync, id: number, error: string, nextAttemptAtMs: number): void {
  db.prepare(
    "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
  ).run(error.slice(0, 1000), nextAttemptAtMs, id);
}

export interface OutboxCounts {
  readonly pending: number;
  readonly sent: number;
}

export function outboxCounts(db: DatabaseSync): OutboxCounts {
  const row = db
    .prepare("SELECT SUM(sent_at IS NULL) AS pending, SUM(sent_at IS NOT NULL) AS sent FROM outbox")
    .get() as unknown as { pending: number | null; sent: number | null };
  return { pending: row.pending ?? 0, sent: row.sent ?? 0 };
}
