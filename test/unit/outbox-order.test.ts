/**
 * The outbox relay on an ordered (FIFO) topic, with an injected fake publisher that fails on cue.
 * Failure modes covered: a group's later row overtaking an earlier one that failed (in the same pass
 * or while the failed row waits out its backoff); one failing group stopping the others or the
 * ungrouped rows; rows of a group published concurrently (out of commit order); a row of an ordered
 * topic written without its group; an old database without the group column.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { openAccountsDb } from "../../src/app/accounts/account-store.ts";
import {
  createOutboxRelay,
  enqueueOutbox,
  migrateOutbox,
  type OutboxMessage,
  outboxCounts,
  outboxMessageGroup,
} from "../../src/app/outbox/index.ts";

function freshDb(): DatabaseSync {
  return openAccountsDb(join(mkdtempSync(join(tmpdir(), "courier-outbox-order-")), "accounts.db"));
}

/** A password reset row for `account`; `n` marks its place in the account's sequence. */
function enqueueReset(db: DatabaseSync, account: string, n: number): string {
  const eventId = randomUUID();
  enqueueOutbox(db, {
    topic: "password-resets",
    eventId,
    occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    data: {
      accountId: account,
      email: `${account}@example.com`,
      requestedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    },
  });
  return eventId;
}

function enqueueSignup(db: DatabaseSync, n: number): string {
  const eventId = randomUUID();
  enqueueOutbox(db, {
    topic: "account-signups",
    eventId,
    occurredAt: new Date().toISOString(),
    data: { accountId: `signup-${n}` },
  });
  return eventId;
}

/** A publisher that records what it sent, in call order, and fails the eventIds in `failing`. */
function fakePublisher(failing: Set<string>) {
  const sent: OutboxMessage[] = [];
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlightPerGroup = 0;
  const inFlightByGroup = new Map<string, number>();
  const publish = async (m: OutboxMessage) => {
    const group = (m.data as { accountId: string }).accountId;
    calls.push(m.eventId);
    inFlight += 1;
    inFlightByGroup.set(group, (inFlightByGroup.get(group) ?? 0) + 1);
    maxInFlightPerGroup = Math.max(maxInFlightPerGroup, inFlightByGroup.get(group) ?? 0);
    // Yield so that concurrent publishes would overlap if the relay started them together.
    await new Promise((r) => setTimeout(r, 1));
    inFlight -= 1;
    inFlightByGroup.set(group, (inFlightByGroup.get(group) ?? 1) - 1);
    if (failing.has(m.eventId)) throw new Error(`SNS refused ${m.eventId}`);
    sent.push(m);
    return { messageId: `m-${sent.length}` };
  };
  return {
    publish,
    sent,
    calls,
    maxInFlightPerGroup: () => maxInFlightPerGroup,
    inFlight: () => inFlight,
  };
}

describe("outbox relay on an ordered topic", () => {
  it("GIVEN a password reset row WHEN written THEN it carries the account as its message group, and a sign-up row none", () => {
    const db = freshDb();
    enqueueReset(db, "acct-1", 1);
    enqueueSignup(db, 1);
    const rows = db.prepare("SELECT topic, message_group AS g FROM outbox ORDER BY id").all();
    expect(rows).toEqual([
      { topic: "password-resets", g: "acct-1" },
      { topic: "account-signups", g: null },
    ]);
  });

  it("GIVEN an ordered topic's row without its group field WHEN written THEN it is refused (failure mode: a row SNS FIFO could not order)", () => {
    const db = freshDb();
    expect(() =>
      enqueueOutbox(db, {
        topic: "password-resets",
        eventId: randomUUID(),
        occurredAt: new Date().toISOString(),
        data: { email: "x@example.com" },
      }),
    ).toThrow(/accountId/);
    expect(outboxCounts(db)).toEqual({ pending: 0, sent: 0 });
    expect(outboxMessageGroup("account-signups", {})).toBeNull();
  });

  it("GIVEN 5 rows of one group WHEN relayed THEN they are published one at a time in commit order (failure mode: concurrent publishes reorder a group)", async () => {
    const db = freshDb();
    const ids = [1, 2, 3, 4, 5].map((n) => enqueueReset(db, "acct-1", n));
    const fake = fakePublisher(new Set());
    const relay = createOutboxRelay({ db, publish: fake.publish });
    expect(await relay.runOnce()).toEqual({ sent: 5, failed: 0, held: 0 });
    expect(fake.calls).toEqual(ids);
    expect(fake.maxInFlightPerGroup()).toBe(1);
  });

  it("GIVEN the 2nd of 4 rows of a group fails WHEN relayed THEN the 3rd and 4th are not tried in that pass (failure mode: a later row overtakes a failed one)", async () => {
    const db = freshDb();
    const ids = [1, 2, 3, 4].map((n) => enqueueReset(db, "acct-1", n));
    const fake = fakePublisher(new Set([ids[1] as string]));
    const relay = createOutboxRelay({ db, publish: fake.publish });
    expect(await relay.runOnce()).toEqual({ sent: 1, failed: 1, held: 2 });
    expect(fake.calls).toEqual(ids.slice(0, 2));
    expect(outboxCounts(db)).toEqual({ pending: 3, sent: 1 });
  });

  it("GIVEN a group's failed row waits out its backoff WHEN later passes run THEN none of its later rows goes out until it is sent, then all in order (failure mode: a later row overtakes during the backoff)", async () => {
    const db = freshDb();
    const ids = [1, 2, 3].map((n) => enqueueReset(db, "acct-1", n));
    const failing = new Set([ids[0] as string]);
    const fake = fakePublisher(failing);
    let clock = 1_000_000;
    const relay = createOutboxRelay({
      db,
      publish: fake.publish,
      now: () => clock,
      random: () => 0.999,
      backoff: { baseMs: 1000, maxMs: 60_000 },
    });
    expect(await relay.runOnce()).toEqual({ sent: 0, failed: 1, held: 2 });
    // The failed row is not due for ~1 s; its successors were never tried and are "due", yet held.
    expect(await relay.runOnce()).toEqual({ sent: 0, failed: 0, held: 0 });
    expect(fake.calls).toEqual([ids[0]]);
    failing.clear();
    clock += 1000;
    expect(await relay.runOnce()).toEqual({ sent: 3, failed: 0, held: 0 });
    expect(fake.sent.map((m) => m.eventId)).toEqual(ids);
  });

  it("GIVEN one group's first row fails WHEN relayed THEN other groups and sign-up rows are all sent (failure mode: one bad group stops the outbox)", async () => {
    const db = freshDb();
    const a = [1, 2, 3].map((n) => enqueueReset(db, "acct-a", n));
    const b = [1, 2, 3].map((n) => enqueueReset(db, "acct-b", n));
    const signups = [1, 2].map((n) => enqueueSignup(db, n));
    const fake = fakePublisher(new Set([a[0] as string]));
    const relay = createOutboxRelay({ db, publish: fake.publish });
    expect(await relay.runOnce()).toEqual({ sent: 5, failed: 1, held: 2 });
    const sentIds = fake.sent.map((m) => m.eventId);
    expect(sentIds.filter((id) => b.includes(id))).toEqual(b);
    expect(sentIds.filter((id) => signups.includes(id)).sort()).toEqual([...signups].sort());
    expect(sentIds.some((id) => a.includes(id))).toBe(false);
  });

  it("GIVEN many groups WHEN relayed THEN groups are published concurrently, each in order (failure mode: ordering serialises the whole outbox)", async () => {
    const db = freshDb();
    const byGroup = new Map<string, string[]>();
    for (let n = 1; n <= 3; n++)
      for (const g of ["g1", "g2", "g3", "g4"]) {
        const list = byGroup.get(g) ?? [];
        list.push(enqueueReset(db, g, n));
        byGroup.set(g, list);
      }
    let maxInFlight = 0;
    const fake = fakePublisher(new Set());
    const relay = createOutboxRelay({
      db,
      publish: async (m) => {
        const pending = fake.publish(m);
        maxInFlight = Math.max(maxInFlight, fake.inFlight());
        return pending;
      },
    });
    expect(await relay.runOnce()).toEqual({ sent: 12, failed: 0, held: 0 });
    expect(maxInFlight).toBe(4);
    expect(fake.maxInFlightPerGroup()).toBe(1);
    for (const [g, ids] of byGroup) {
      const order = fake.calls.filter((id) => ids.includes(id));
      expect(order, g).toEqual(ids);
    }
  });

  it("GIVEN an outbox table from before ordered topics WHEN opened THEN the group column is added and old rows relay as ungrouped", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "courier-outbox-old-")), "accounts.db");
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, event_id TEXT NOT NULL UNIQUE,
      occurred_at TEXT NOT NULL, data TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL DEFAULT 0, sent_at TEXT, message_id TEXT, last_error TEXT);
      INSERT INTO outbox (topic, event_id, occurred_at, data)
      VALUES ('account-signups', 'e-old', '2026-01-01T00:00:00Z', '{"accountId":"old"}');`);
    old.close();
    const db = new DatabaseSync(path);
    migrateOutbox(db);
    migrateOutbox(db); // twice: the migration is idempotent
    const fake = fakePublisher(new Set());
    expect(await createOutboxRelay({ db, publish: fake.publish }).runOnce()).toEqual({
      sent: 1,
      failed: 0,
      held: 0,
    });
  });
});
