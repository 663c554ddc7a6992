/**
 * Publishes the outbox's pending rows and marks them sent, retrying failures with exponential
 * backoff and jitter. Publishing happens strictly after the business transaction commits, and a
 * row is marked sent only after SNS confirmed it: a crash in between republishes the row (same
 * eventId) on the next start, so a message is never lost and never invented.
 *
 * Rows of an ordered topic's message group go out one after another in commit order, and a group
 * stops at its first failure: its later rows wait (untouched) until the failed row is sent, so SNS
 * FIFO never receives them out of order. Other groups and ungrouped rows go on.
 */

import type { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import type { TraceContext } from "@courier-queue/courier";
import { duePending, markFailed, markSent, type OutboxRow, outboxRowTrace } from "./outbox-store.ts";

export interface OutboxMessage {
  readonly topic: string;
  readonly eventId: string;
  readonly occurredAt: string;
  readonly data: unknown;
  /** The trace context of the request that wrote the row; publish with it. */
  readonly trace?: TraceContext | undefined;
}

/** Publishes one outbox message under its stored eventId; resolves with the SNS MessageId. */
export type PublishOutboxMessage = (message: OutboxMessage) => Promise<{ messageId: string }>;

export interface OutboxRelayOptions {
  readonly db: DatabaseSync;
  readonly publish: PublishOutboxMessage;
  /** @default 50 */
  readonly batchSize?: number;
  /** Pause between polls when nothing is due. @default 200 */
  readonly pollIntervalMs?: number;
  /** @default { baseMs: 500, maxMs: 60_000 } */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  readonly now?: () => number;
  readonly random?: () => number;
  readonly onError?: (row: OutboxRow, error: unknown) => void;
}

export interface RelayPass {
  readonly sent: number;
  readonly failed: number;
  /** Rows not tried because an earlier row of their message group failed in this pass. */
  readonly held: number;
}

export interface OutboxRelay {
  /** One pass over the due rows. */
  runOnce(): Promise<RelayPass>;
  /** Polls in the background until `stop()`. */
  start(): void;
  /** Finishes the pass under way (so nothing is half-marked), then stops. */
  stop(): Promise<void>;
}

export function retryDelayMs(attempts: number, backoff: { baseMs: number; maxMs: number }, random: number) {
  // Full jitter: spreads retries of many rows that failed together (an SNS outage).
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(attempts, 30));
  return Math.floor(random * ceiling);
}

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const batchSize = options.batchSize ?? 50;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const backoff = options.backoff ?? { baseMs: 500, maxMs: 60_000 };
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;

  async function relayRow(row: OutboxRow): Promise<boolean> {
    try {
      const { messageId } = await options.publish({
        topic: row.topic,
        eventId: row.eventId,
        occurredAt: row.occurredAt,
        data: JSON.parse(row.data),
        trace: outboxRowTrace(row),
      });
      markSent(options.db, row.id, messageId, new Date(now()).toISOString());
      return true;
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      markFailed(options.db, row.id, reason, now() + retryDelayMs(row.attempts, backoff, random()));
      options.onError?.(row, error);
      return false;
    }
  }

  /** A group's rows in order, stopping at the first failure; the rest are held for a later pass. */
  async function relayInOrder(rows: readonly OutboxRow[]): Promise<RelayPass> {
    let sent = 0;
    for (const row of rows) {
      if (!(await relayRow(row))) return { sent, failed: 1, held: rows.length - sent - 1 };
      sent += 1;
    }
    return { sent, failed: 0, held: 0 };
  }

  async function runOnce(): Promise<RelayPass> {
    const rows = duePending(options.db, now(), batchSize);
    // Lanes run concurrently: each ungrouped row alone (a standard topic does not order anyway),
    // each message group's rows together, in id (commit) order.
    const lanes = new Map<string | number, OutboxRow[]>();
    for (const row of rows) {
      const lane = row.messageGroup === null ? row.id : `group:${row.messageGroup}`;
      const list = lanes.get(lane);
      if (list) list.push(row);
      else lanes.set(lane, [row]);
    }
    const passes = await Promise.all([...lanes.values()].map(relayInOrder));
    return passes.reduce(
      (a, b) => ({ sent: a.sent + b.sent, failed: a.failed + b.failed, held: a.held + b.held }),
      {
        sent: 0,
        failed: 0,
        held: 0,
      },
    );
  }

  let running = false;
  let loop: Promise<void> | undefined;
  return {
    runOnce,
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          const pass = await runOnce();
          if (pass.sent + pass.failed === 0) await sleep(pollIntervalMs);
        }
      })();
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}
