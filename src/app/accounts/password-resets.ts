/**
 * Password reset requests and attempts, per account, in the accounts database.
 *
 * A request records the account's newest request time and enqueues PasswordResetRequested in ONE
 * transaction, so the token the email will carry (derived from that time, reset-token.ts) is the
 * only one that works from the moment the request is accepted. Each request time is later than the
 * previous one by at least a millisecond: two requests never share a token.
 *
 * Attempts are counted like verification codes (verification-attempts.ts): every token that does
 * not work (wrong, superseded, expired, already used, or none requested) counts the same, and at
 * `maxFailures` resets are locked until a new request; the lock is checked before any comparison,
 * in the same BEGIN IMMEDIATE transaction. Failures are counted per account AND client address: a
 * stranger's wrong tokens lock only the stranger (five of them once locked the owner's valid link
 * too, and could be repeated every hour). The token is a 256-bit MAC, so the count is not what
 * keeps it from being guessed. A malformed token (its form is public) is refused without counting.
 * The request's trace context rides in the outbox row, so both consumers log the request's ids.
 */
import { randomUUID } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import type { TraceContext } from "@courier-queue/courier";
import { type PasswordResetRequestedV1, passwordResetRequestedDataV1 } from "../contracts/index.ts";
import { enqueueOutbox } from "../outbox/index.ts";
import { verifyResetToken } from "../password-reset/reset-token.ts";
import type { VerificationKey } from "../signup/verification-code.ts";
import type { Account } from "./account-store.ts";
import { storePasswordHash } from "./passwords.ts";
import { inTransaction } from "./transaction.ts";

/** Tokens that do not work, per account, before its reset locks until a new request. */
export const DEFAULT_MAX_RESET_FAILURES = 5;

export function migratePasswordResets(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS password_resets (
      account_id TEXT PRIMARY KEY,
      requested_at TEXT,
      failures INTEGER NOT NULL DEFAULT 0,
      locked_at TEXT,
      used_at TEXT
    );
    CREATE TABLE IF NOT EXISTS password_reset_failures (
      account_id TEXT NOT NULL,
      client TEXT NOT NULL,
      failures INTEGER NOT NULL DEFAULT 0,
      locked_at TEXT,
      PRIMARY KEY (account_id, client)
    );
  `);
}

export interface ResetState {
  /** The newest accepted request: the only token that works is the one derived from it. */
  readonly requestedAt?: string;
  readonly failures: number;
  readonly lockedAt?: string;
  /** When the newest request's token changed the password. */
  readonly usedAt?: string;
}

interface ResetRow {
  requested_at: string | null;
  failures: number;
  locked_at: string | null;
  used_at: string | null;
}

export function resetState(db: DatabaseSync, accountId: string): ResetState {
  const row = db
    .prepare("SELECT requested_at, failures, locked_at, used_at FROM password_resets WHERE account_id = ?")
    .get(accountId) as unknown as ResetRow | undefined;
  if (!row) return { failures: 0 };
  return {
    failures: row.failures,
    ...(row.requested_at ? { requestedAt: row.requested_at } : {}),
    ...(row.locked_at ? { lockedAt: row.locked_at } : {}),
    ...(row.used_at ? { usedAt: row.used_at } : {}),
  };
}

export interface RequestingClient {
  readonly ip?: string;
  readonly userAgent?: string;
}

/** Which client fields the contract accepts: a header it would refuse is left out, not the request. */
function clientFields(client: RequestingClient): RequestingClient {
  const fields: { ip?: string; userAgent?: string } = {};
  const shape = passwordResetRequestedDataV1.shape;
  if (client.ip && shape.ip.safeParse(client.ip).success) fields.ip = client.ip;
  const agent = client.userAgent?.slice(0, 512);
  if (agent && shape.userAgent.safeParse(agent).success) fields.userAgent = agent;
  return fields;
}

/**
 * Accepts a reset request: the newest request time (which voids every earlier token, clears the
 * attempt count and the lock) and the PasswordResetRequested outbox row, in one transaction.
 */
export function requestPasswordReset(
  db: DatabaseSync,
  account: Account,
  at: Date,
  client: RequestingClient = {},
  trace?: TraceContext,
): PasswordResetRequestedV1 {
  return inTransaction(db, () => {
    const previous = resetState(db, account.accountId).requestedAt;
    const requestedAt = laterMillisecond(at, previous).toISOString();
    const data = passwordResetRequestedDataV1.parse({
      accountId: account.accountId,
      email: account.email,
      requestedAt,
      ...clientFields(client),
    });
    db.prepare(
      `INSERT INTO password_resets (account_id, requested_at, failures, locked_at, used_at) VALUES (?, ?, 0, NULL, NULL)
       ON CONFLICT (account_id) DO UPDATE SET requested_at = excluded.requested_at, failures = 0,
         locked_at = NULL, used_at = NULL`,
    ).run(account.accountId, requestedAt);
    db.prepare("DELETE FROM password_reset_failures WHERE account_id = ?").run(account.accountId);
    enqueueOutbox(db, {
      topic: "password-resets",
      eventId: randomUUID(),
      occurredAt: requestedAt,
      data,
      trace,
    });
    return data;
  });
}

function laterMillisecond(at: Date, previous: string | undefined): Date {
  const previousMs = previous === undefined ? Number.NEGATIVE_INFINITY : Date.parse(previous);
  return at.getTime() > previousMs ? at : new Date(previousMs + 1);
}

export type ResetAttemptResult =
  | { readonly status: "locked"; readonly lockedAt: string }
  | { readonly status: "malformed" }
  /** Wrong, superseded, expired, used or never requested: told apart only in `reason`, for logs. */
  | {
      readonly status: "invalid";
      readonly reason: string;
      readonly failures: number;
      readonly lockedNow: boolean;
    }
  | { readonly status: "valid"; readonly requestedAt: string };

export interface ResetAttemptOptions {
  readonly maxFailures?: number;
  readonly now?: Date;
  /** Who is trying (the client address): failures count and lock per client. @default "" */
  readonly client?: string;
}

/**
 * Checks a token against the account's newest request, counting a failure (and locking at the
 * limit) in the same transaction. A valid token is not consumed here: completePasswordReset does
 * that once the new password is hashed, and checks again that the request is still the newest.
 */
export function attemptPasswordReset(
  db: DatabaseSync,
  account: Account,
  token: string,
  key: VerificationKey,
  options: ResetAttemptOptions = {},
): ResetAttemptResult {
  const maxFailures = options.maxFailures ?? DEFAULT_MAX_RESET_FAILURES;
  const now = options.now ?? new Date();
  const client = options.client ?? "";
  return inTransaction(db, (): ResetAttemptResult => {
    const state = resetState(db, account.accountId);
    const mine = db
      .prepare("SELECT failures, locked_at FROM password_reset_failures WHERE account_id = ? AND client = ?")
      .get(account.accountId, client) as unknown as
      | { failures: number; locked_at: string | null }
      | undefined;
    if (mine?.locked_at) return { status: "locked", lockedAt: mine.locked_at };
    let reason: string;
    if (!state.requestedAt) {
      reason = "none requested";
    } else {
      const result = verifyResetToken(
        key,
        { accountId: account.accountId, email: account.email, token, newestRequestedAt: state.requestedAt },
        now,
      );
      if (result.status === "malformed") return { status: "malformed" };
      if (result.status === "valid" && !state.usedAt)
        return { status: "valid", requestedAt: state.requestedAt };
      reason = result.status === "valid" ? "used" : result.status;
    }
    const failures = (mine?.failures ?? 0) + 1;
    const lockedNow = failures >= maxFailures;
    db.prepare(
      `INSERT INTO password_reset_failures (account_id, client, failures, locked_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id, client) DO UPDATE SET failures = excluded.failures, locked_at = excluded.locked_at`,
    ).run(account.accountId, client, failures, lockedNow ? now.toISOString() : null);
    return { status: "invalid", reason, failures, lockedNow };
  });
}

/**
 * Sets the new password and marks the request used, if the request checked valid is still the
 * newest, unused and unlocked (a newer request or a concurrent use in between voids it). One
 * transaction; false when it no longer holds.
 */
export function completePasswordReset(
  db: DatabaseSync,
  accountId: string,
  requestedAt: string,
  passwordHash: string,
  at: Date,
): boolean {
  return inTransaction(db, () => {
    const state = resetState(db, accountId);
    if (state.requestedAt !== requestedAt || state.usedAt || state.lockedAt) return false;
    db.prepare("UPDATE password_resets SET used_at = ?, failures = 0 WHERE account_id = ?").run(
      at.toISOString(),
      accountId,
    );
    db.prepare("DELETE FROM password_reset_failures WHERE account_id = ?").run(accountId);
    storePasswordHash(db, accountId, passwordHash, at);
    return true;
  });
}
