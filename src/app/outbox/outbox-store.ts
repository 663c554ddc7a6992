/**
 * The transactional outbox's table. A producer writes its business row and an outbox row in one
 * SQLite transaction; the relay publishes pending rows afterwards. The eventId is fixed when the
 * row is written, so a relay that publishes and then crashes before marking the row sent
 * republishes the SAME eventId, which the idempotent consumers absorb.
 */
import type { DatabaseSync } from "node:sqlite";

export interface OutboxRow {
  readonly id: number;
  readonly topic: string;
  readonly eventId: string;
  readonly occurredAt: string;
  /** The message's `data`, as JSON. */
  readonly data: string;
  readonly attempts: number;
}

export interface NewOutboxEntry {
  readonly topic: string;
  readonly eventId: string;
  readonly occurredAt: string;
  readonly data: unknown;
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
}

/** Adds an entry; call it inside the transaction that writes the business row. */
export function enqueueOutbox(db: DatabaseSync, entry: NewOutboxEntry): void {
  db.prepare(
    "INSERT INTO outbox (topic, event_id, occurred_at, data) VALUES (@topic, @eventId, @occurredAt, @data)",
  ).run({
    topic: entry.topic,
    eventId: entry.eventId,
    occurredAt: entry.occurredAt,
    data: JSON.stringify(entry.data),
  });
}

export function duePending(db: DatabaseSync, nowMs: number, limit: number): OutboxRow[] {
  return db
    .prepare(
      `SELECT id, topic, event_id AS eventId, occurred_at AS occurredAt, data, attempts
       FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
    )
    .all(nowMs, limit) as unknown as OutboxRow[];
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
