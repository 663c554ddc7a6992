/**
 * The example API server's accounts, in SQLite on disk. Creating an account writes the account
 * row and its NewAccount outbox row in ONE transaction: either both exist or neither does, so no
 * sign-up goes unannounced and no message announces an account that was never created.
 */
import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import { z } from "zod";
import { e164PhoneSchema, type NewAccountV1, newAccountDataV1 } from "../../lib/contracts/index.ts";
import { enqueueOutbox, migrateOutbox } from "../outbox/index.ts";

/** What a client sends to sign up; the server assigns the id and the time. */
export const signupRequestSchema = z
  .object({
    email: newAccountDataV1.shape.email,
    displayName: newAccountDataV1.shape.displayName,
    phone: e164PhoneSchema.optional(),
    locale: newAccountDataV1.shape.locale.default("en-US"),
  })
  .strict();
export type SignupRequest = z.input<typeof signupRequestSchema>;

export interface Account extends NewAccountV1 {
  readonly verifiedAt?: string;
}

export class DuplicateAccountError extends Error {
  override readonly name = "DuplicateAccountError";
  constructor(readonly email: string) {
    super(`an account with email ${email} already exists`);
  }
}

export function openAccountsDb(path: string): Database.Database {
  const db = new Database(path);
  // WAL: the relay reads while the API writes, without blocking each other.
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
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
  migrateOutbox(db);
  return db;
}

export interface CreateAccountOptions {
  readonly now?: () => Date;
  readonly newId?: () => string;
}

/** Validated sign-up in, account out; the NewAccount message waits in the outbox. */
export function createAccount(
  db: Database.Database,
  request: SignupRequest,
  options: CreateAccountOptions = {},
): Account {
  const input = signupRequestSchema.parse(request);
  const newId = options.newId ?? randomUUID;
  const createdAt = (options.now?.() ?? new Date()).toISOString();
  const account: NewAccountV1 = newAccountDataV1.parse({ accountId: newId(), createdAt, ...input });
  const write = db.transaction(() => {
    db.prepare(
      `INSERT INTO accounts (id, email, display_name, phone, locale, created_at)
       VALUES (@accountId, @email, @displayName, @phone, @locale, @createdAt)`,
    ).run({ ...account, phone: account.phone ?? null });
    enqueueOutbox(db, {
      topic: "account-signups",
      eventId: randomUUID(),
      occurredAt: createdAt,
      data: account,
    });
  });
  try {
    write();
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "SQLITE_CONSTRAINT_UNIQUE") {
      throw new DuplicateAccountError(account.email);
    }
    throw error;
  }
  return account;
}

interface AccountRow {
  id: string;
  email: string;
  display_name: string;
  phone: string | null;
  locale: string;
  created_at: string;
  verified_at: string | null;
}

export function findAccount(db: Database.Database, id: string): Account | undefined {
  const row = db.prepare("SELECT * FROM accounts WHERE id = ?").get(id) as AccountRow | undefined;
  if (!row) return undefined;
  return {
    accountId: row.id,
    email: row.email,
    displayName: row.display_name,
    locale: row.locale,
    createdAt: row.created_at,
    ...(row.phone ? { phone: row.phone } : {}),
    ...(row.verified_at ? { verifiedAt: row.verified_at } : {}),
  };
}

export function markVerified(db: Database.Database, id: string, at: Date): void {
  db.prepare("UPDATE accounts SET verified_at = COALESCE(verified_at, ?) WHERE id = ?").run(
    at.toISOString(),
    id,
  );
}
