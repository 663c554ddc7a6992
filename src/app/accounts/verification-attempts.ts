/**
 * Attempt limits on verification codes, per account and channel, in the accounts database (so they
 * survive a restart and hold across API processes sharing the file).
 *
 * A six-digit SMS code has 10^6 values: without a limit, a client that can post a few hundred
 * guesses a second finds one in hours. Here each wrong code counts; at `maxFailures` the code is
 * locked, and every later attempt (the right code included) is refused until a re-send issues a new
 * code, which resets the count. The lock is taken and checked in the same BEGIN IMMEDIATE transaction
 * as the comparison, before it: concurrent guesses cannot slip past the limit, and a locked code is
 * never compared at all.
 *
 * A code is derived, not stored (see verification-code.ts): what a re-send changes is the time the
 * code was issued, from which the new code and its expiry are derived. A row here holds that time
 * once a code has been re-sent; without a row the code dates from the account's creation.
 */
import type { DatabaseSync } from "node:sqlite";
import type { VerificationChannel } from "../signup/verification-code.ts";
import { inTransaction } from "./transaction.ts";

/** Wrong codes per account and channel before the code is locked. */
export const DEFAULT_MAX_CODE_FAILURES = 5;

export function migrateVerificationAttempts(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS verification_codes (
      account_id TEXT NOT NULL,
      channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
      issued_at TEXT,
      failures INTEGER NOT NULL DEFAULT 0,
      locked_at TEXT,
      PRIMARY KEY (account_id, channel)
    );
  `);
}

export interface CodeState {
  /** When the current code was issued (a re-send's time), or undefined: the account's creation. */
  readonly issuedAt?: string;
  readonly failures: number;
  readonly lockedAt?: string;
}

interface CodeRow {
  issued_at: string | null;
  failures: number;
  locked_at: string | null;
}

export function codeState(db: DatabaseSync, accountId: string, channel: VerificationChannel): CodeState {
  const row = db
    .prepare(
      "SELECT issued_at, failures, locked_at FROM verification_codes WHERE account_id = ? AND channel = ?",
    )
    .get(accountId, channel) as unknown as CodeRow | undefined;
  if (!row) return { failures: 0 };
  return {
    failures: row.failures,
    ...(row.issued_at ? { issuedAt: row.issued_at } : {}),
    ...(row.locked_at ? { lockedAt: row.locked_at } : {}),
  };
}

/** What the comparison said: only "mismatch" counts against the limit. */
export type ComparisonOutcome = "match" | "mismatch" | "other";

export type AttemptResult<T> =
  | { readonly status: "locked"; readonly lockedAt: string }
  | {
      readonly status: "compared";
      readonly result: T;
      readonly failures: number;
      readonly lockedNow: boolean;
    };

export interface AttemptOptions {
  readonly maxFailures?: number;
  readonly now?: Date;
}

/**
 * Runs `compare` (given the code's state) unless the code is locked, and counts a mismatch, locking
 * the code when the count reaches the limit. One transaction: the check, the comparison and the
 * count cannot interleave with another attempt on the same database.
 */
export function attemptCode<T>(
  db: DatabaseSync,
  accountId: string,
  channel: VerificationChannel,
  compare: (state: CodeState) => { readonly outcome: ComparisonOutcome; readonly result: T },
  options: AttemptOptions = {},
): AttemptResult<T> {
  const maxFailures = options.maxFailures ?? DEFAULT_MAX_CODE_FAILURES;
  const at = (options.now ?? new Date()).toISOString();
  return inTransaction(db, () => {
    const state = codeState(db, accountId, channel);
    // Checked before the comparison: a locked code is not compared, right or wrong.
    if (state.lockedAt) return { status: "locked", lockedAt: state.lockedAt };
    const { outcome, result } = compare(state);
    if (outcome !== "mismatch")
      return { status: "compared", result, failures: state.failures, lockedNow: false };
    const failures = state.failures + 1;
    const lockedNow = failures >= maxFailures;
    db.prepare(
      `INSERT INTO verification_codes (account_id, channel, failures, locked_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id, channel) DO UPDATE SET failures = excluded.failures, locked_at = excluded.locked_at`,
    ).run(accountId, channel, failures, lockedNow ? at : null);
    return { status: "compared", result, failures, lockedNow };
  });
}

/**
 * Issues a new code for the channel: records its issue time (from which the code derives), clears
 * the count and the lock. Call it inside the transaction that enqueues the re-send message.
 */
export function reissueCode(
  db: DatabaseSync,
  accountId: string,
  channel: VerificationChannel,
  at: Date,
): void {
  db.prepare(
    `INSERT INTO verification_codes (account_id, channel, issued_at, failures, locked_at) VALUES (?, ?, ?, 0, NULL)
     ON CONFLICT (account_id, channel) DO UPDATE SET issued_at = excluded.issued_at, failures = 0, locked_at = NULL`,
  ).run(accountId, channel, at.toISOString());
}
