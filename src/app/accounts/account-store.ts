/**
 * The example API server's accounts, in SQLite on disk. Creating an account writes the account
 * row and its NewAccount outbox row in ONE transaction: either both exist or neither does, so no
 * sign-up goes unannounced and no message announces an account that was never created.
 */
import { randomUUID } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import type { TraceContext } from "@courier-queue/courier";
import { z } from "zod";
import { e164PhoneSchema, type NewAccountV1, newAccountDataV1 } from "../contracts/index.ts";
import { enqueueOutbox, migrateOutbox } from "../outbox/index.ts";
import { migrateAccountUploads } from "./account-uploads.ts";
import { migratePasswordResets } from "./password-resets.ts";
import { migratePasswords } from "./passwords.ts";
import { inTransaction } from "./transaction.ts";
import { codeState, migrateVerificationAttempts, reissueCode } from "./verification-attempts.ts";

/** What a client sends to sign up; the server assigns the id and the time. */
export const signupRequestSchema = z
  .object({
    email: newAccountDataV1.shape.email,
    displayName: newAccountDataV1.shape.displayName,
    // The contract's schemas are zod/mini: wrapped with zod's functions, not chained methods.
    phone: z.optional(e164PhoneSchema),
    locale: z._default(newAccountDataV1.shape.locale, "en-US"),
  })
  .strict();
export type SignupRequest = z.input<typeof signupRequestSchema>;

export interface Account extends NewAccountV1 {
  /** When the email address was verified, by its link (the address is the account's identity). */
  readonly verifiedAt?: string;
  /** When the phone number was verified, by its SMS code. Each channel proves only itself. */
  readonly phoneVerifiedAt?: string;
}

export class DuplicateAccountError extends Error {
  override readonly name = "DuplicateAccountError";
  constructor(readonly email: string) {
    super(`an account with email ${email} already exists`);
  }
}

/** SQLite's extended result code for a UNIQUE constraint violation. */
const SQLITE_CONSTRAINT_UNIQUE = 2067;

export { inTransaction };

export function openAccountsDb(path: string): DatabaseSync {
  // node:sqlite (built in since Node.js 22): no native module to compile at install.
  const db = new DatabaseSync(path);
  // WAL: the relay reads while the API writes, without blocking each other.
  db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;");
  db.exec(`
    CREATE TABLE IF NOT EXISTS accounts (
      id TEXT PRIMARY KEY,
      email TEXT NOT NULL UNIQUE COLLATE NOCASE,
      display_name TEXT NOT NULL,
      phone TEXT,
      locale TEXT NOT NULL,
      created_at TEXT NOT NULL,
      verified_at TEXT
    );
  `);
  // verified_at is the email's; the phone has its own (an SMS code once verified the address too).
  const columns = db.prepare("PRAGMA table_info(accounts)").all() as unknown as { name: string }[];
  if (!columns.some((c) => c.name === "phone_verified_at"))
    db.exec("ALTER TABLE accounts ADD COLUMN phone_verified_at TEXT");
  migrateOutbox(db);
  migrateVerificationAttempts(db);
  migrateAccountUploads(db);
  migratePasswordResets(db);
  migratePasswords(db);
  return db;
}

export interface CreateAccountOptions {
  readonly now?: () => Date;
  readonly newId?: () => string;
  /** The request's trace context, stored with the outbox row so the NewAccount carries it. */
  readonly trace?: TraceContext | undefined;
  /**
   * An address held by an account that never verified it is released once this long has passed
   * since that account signed up (a link's lifetime): that account is removed, so an address typed
   * by someone else cannot block its owner. Counted from the sign-up, not the newest link: a holder
   * re-sending the link every day would otherwise keep the address forever. @default 24 h
   */
  readonly unverifiedHoldSeconds?: number;
}

/** Validated sign-up in, account out; the NewAccount message waits in the outbox. */
export function createAccount(
  db: DatabaseSync,
  request: SignupRequest,
  options: CreateAccountOptions = {},
): Account {
  const input = signupRequestSchema.parse(request);
  const newId = options.newId ?? randomUUID;
  const createdAt = (options.now?.() ?? new Date()).toISOString();
  const account: NewAccountV1 = newAccountDataV1.parse({ accountId: newId(), createdAt, ...input });
  const holdMs = (options.unverifiedHoldSeconds ?? 24 * 60 * 60) * 1000;
  const write = () => {
    releaseUnverifiedAddress(db, account.email, Date.parse(createdAt) - holdMs);
    db.prepare(
      `INSERT INTO accounts (id, email, display_name, phone, locale, created_at)
       VALUES (@accountId, @email, @displayName, @phone, @locale, @createdAt)`,
    ).run({
      accountId: account.accountId,
      email: account.email,
      displayName: account.displayName,
      phone: account.phone ?? null,
      locale: account.locale,
      createdAt: account.createdAt,
    });
    enqueueOutbox(db, {
      topic: "account-signups",
      eventId: randomUUID(),
      occurredAt: createdAt,
      data: account,
      trace: options.trace,
    });
  };
  try {
    inTransaction(db, write);
  } catch (error) {
    if (error instanceof Error && "errcode" in error && error.errcode === SQLITE_CONSTRAINT_UNIQUE) {
      throw new DuplicateAccountError(account.email);
    }
    throw error;
  }
  return account;
}

/**
 * Removes the account holding `email` if it never verified it and signed up before `issuedBefore`.
 * Inside the caller's transaction.
 */
function releaseUnverifiedAddress(db: DatabaseSync, email: string, issuedBefore: number): void {
  const row = db
    .prepare(
      `SELECT a.id AS id, a.created_at AS issued_at FROM accounts a
       WHERE a.email = ? AND a.verified_at IS NULL`,
    )
    .get(email) as { id: string; issued_at: string } | undefined;
  if (!row || Date.parse(row.issued_at) >= issuedBefore) return;
  deleteAccountRows(db, row.id);
}

/** Every row of the account, its own and its dependents'. Inside the caller's transaction. */
function deleteAccountRows(db: DatabaseSync, id: string): void {
  for (const table of [
    "verification_codes",
    "password_resets",
    "password_reset_failures",
    "account_passwords",
    "account_uploads",
  ]) {
    db.prepare(`DELETE FROM ${table} WHERE account_id = ?`).run(id);
  }
  db.prepare("DELETE FROM accounts WHERE id = ?").run(id);
}

/** Deletes an account and everything it owns in this database; false when there was none. */
export function deleteAccount(db: DatabaseSync, id: string): boolean {
  return inTransaction(db, () => {
    if (db.prepare("SELECT 1 AS one FROM accounts WHERE id = ?").get(id) === undefined) return false;
    deleteAccountRows(db, id);
    return true;
  });
}

interface AccountRow {
  id: string;
  email: string;
  display_name: string;
  phone: string | null;
  locale: string;
  created_at: string;
  verified_at: string | null;
  phone_verified_at: string | null;
}

export function findAccount(db: DatabaseSync, id: string): Account | undefined {
  const row = db.prepare("SELECT * FROM accounts WHERE id = ?").get(id) as unknown as AccountRow | undefined;
  if (!row) return undefined;
  return {
    accountId: row.id,
    email: row.email,
    displayName: row.display_name,
    locale: row.locale,
    createdAt: row.created_at,
    ...(row.phone ? { phone: row.phone } : {}),
    ...(row.verified_at ? { verifiedAt: row.verified_at } : {}),
    ...(row.phone_verified_at ? { phoneVerifiedAt: row.phone_verified_at } : {}),
  };
}

/** Marks one channel verified: the email by its link, the phone by its code, never one by the other. */
export function markVerified(db: DatabaseSync, id: string, channel: "email" | "sms", at: Date): void {
  const column = channel === "email" ? "verified_at" : "phone_verified_at";
  db.prepare(`UPDATE accounts SET ${column} = COALESCE(${column}, ?) WHERE id = ?`).run(at.toISOString(), id);
}

export type ResendChannel = "email" | "sms";

/**
 * Issues a new code for one channel and enqueues the message that sends it, in one transaction:
 * the new code (derived from its issue time) replaces the old one, the attempt count and any lock
 * are cleared, and only that channel's consumer acts on the message (`resendChannel`).
 */
export function requestCodeResend(
  db: DatabaseSync,
  account: Account,
  channel: ResendChannel,
  at: Date,
  trace?: TraceContext,
): NewAccountV1 {
  const { verifiedAt: _verifiedAt, ...fields } = account;
  return inTransaction(db, () => {
    const previous = codeState(db, account.accountId, channel).issuedAt ?? account.createdAt;
    const issuedAt = laterSecond(at, previous);
    const data: NewAccountV1 = newAccountDataV1.parse({
      ...fields,
      codeIssuedAt: issuedAt.toISOString(),
      resendChannel: channel,
    });
    reissueCode(db, account.accountId, channel, issuedAt);
    enqueueOutbox(db, {
      topic: "account-signups",
      eventId: randomUUID(),
      occurredAt: at.toISOString(),
      data,
      trace,
    });
    return data;
  });
}

/**
 * `at`, or the whole second after `previous` if `at` is not past it: a code's expiry is in whole
 * seconds and the code derives from it, so a re-send within the same second would repeat the old
 * code instead of replacing it.
 */
function laterSecond(at: Date, previous: string): Date {
  const previousSecond = Math.floor(Date.parse(previous) / 1000);
  return Math.floor(at.getTime() / 1000) > previousSecond ? at : new Date((previousSecond + 1) * 1000);
}
