import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  createAccount,
  DuplicateAccountError,
  findAccount,
  openAccountsDb,
} from "../../src/app/accounts/account-store.ts";
import {
  createOutboxRelay,
  type OutboxMessage,
  outboxCounts,
  retryDelayMs,
} from "../../src/app/outbox/index.ts";

function freshDbPath(): string {
  return join(mkdtempSync(join(tmpdir(), "courier-outbox-")), "accounts.db");
}

const signup = {
  email: "ada@example.com",
  displayName: "Ada Lovelace",
  phone: "+442071838750",
  locale: "en-GB",
};

describe("transactional outbox", () => {
  it("GIVEN a sign-up WHEN the account is created THEN the account row and one pending NewAccount outbox row exist", () => {
    const db = openAccountsDb(freshDbPath());
    const account = createAccount(db, signup);
    expect(findAccount(db, account.accountId)?.email).toBe("ada@example.com");
    expect(outboxCounts(db)).toEqual({ pending: 1, sent: 0 });
  });

  it("GIVEN an email already taken WHEN signing up again THEN DuplicateAccountError and no second outbox row (failure mode: message for an account never created)", () => {
    const db = openAccountsDb(freshDbPath());
    createAccount(db, signup);
    expect(() => createAccount(db, { ...signup, email: "ADA@example.com" })).toThrow(DuplicateAccountError);
    expect(outboxCounts(db)).toEqual({ pending: 1, sent: 0 });
  });

  it("GIVEN an invalid sign-up WHEN creating THEN it throws and writes nothing", () => {
    const db = openAccountsDb(freshDbPath());
    expect(() => createAccount(db, { ...signup, phone: "0207 183 8750" })).toThrow(/E\.164/);
    expect(outboxCounts(db)).toEqual({ pending: 0, sent: 0 });
  });

  it("GIVEN a pending row WHEN the relay runs THEN it publishes the stored eventId and data once and marks the row sent", async () => {
    const db = openAccountsDb(freshDbPath());
    const account = createAccount(db, signup);
    const published: OutboxMessage[] = [];
    const relay = createOutboxRelay({
      db,
      publish: async (m) => {
        published.push(m);
        return { messageId: `m-${published.length}` };
      },
    });
    expect(await relay.runOnce()).toEqual({ sent: 1, failed: 0, held: 0 });
    expect(await relay.runOnce()).toEqual({ sent: 0, failed: 0, held: 0 });
    expect(published).toHaveLength(1);
    expect(published[0]?.topic).toBe("account-signups");
    expect(published[0]?.data).toMatchObject({ accountId: account.accountId, email: "ada@example.com" });
    expect(outboxCounts(db)).toEqual({ pending: 0, sent: 1 });
  });

  it("GIVEN SNS fails WHEN the relay runs THEN the row stays pending until its backoff elapses, then is sent (failure mode: lost message on publish error)", async () => {
    const db = openAccountsDb(freshDbPath());
    createAccount(db, signup);
    let clock = 1_000_000;
    let fail = true;
    const relay = createOutboxRelay({
      db,
      now: () => clock,
      random: () => 0.999,
      backoff: { baseMs: 1000, maxMs: 60_000 },
      publish: async () => {
        if (fail) throw new Error("SNS unavailable");
        return { messageId: "m-1" };
      },
    });
    expect(await relay.runOnce()).toEqual({ sent: 0, failed: 1, held: 0 });
    fail = false;
    expect(await relay.runOnce()).toEqual({ sent: 0, failed: 0, held: 0 }); // not due yet
    clock += 1000;
    expect(await relay.runOnce()).toEqual({ sent: 1, failed: 0, held: 0 });
    expect(outboxCounts(db)).toEqual({ pending: 0, sent: 1 });
  });

  it("GIVEN a relay that published but crashed before marking sent WHEN a new relay starts THEN it republishes the same eventId (duplicate, never a loss)", async () => {
    const path = freshDbPath();
    const db = openAccountsDb(path);
    createAccount(db, signup);
    const first: OutboxMessage[] = [];
    const crashing = createOutboxRelay({
      db,
      publish: async (m) => {
        first.push(m);
        throw new Error("process killed after publish");
      },
      random: () => 0,
    });
    await crashing.runOnce();
    db.close();

    const reopened = openAccountsDb(path);
    const second: OutboxMessage[] = [];
    const relay = createOutboxRelay({
      db: reopened,
      publish: async (m) => {
        second.push(m);
        return { messageId: "m-2" };
      },
    });
    expect(await relay.runOnce()).toEqual({ sent: 1, failed: 0, held: 0 });
    expect(second[0]?.eventId).toBe(first[0]?.eventId);
  });

  it("GIVEN growing attempts WHEN computing the retry delay THEN it grows, stays within the cap and uses the jitter", () => {
    const backoff = { baseMs: 500, maxMs: 10_000 };
    expect(retryDelayMs(0, backoff, 0.999)).toBeLessThan(500);
    expect(retryDelayMs(3, backoff, 0.999)).toBeGreaterThan(3_900);
    expect(retryDelayMs(30, backoff, 0.999)).toBeLessThanOrEqual(10_000);
    expect(retryDelayMs(30, backoff, 0)).toBe(0);
  });
});
