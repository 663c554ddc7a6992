/**
 * Account passwords, stored as scrypt hashes (node:crypto: nothing native to install). Parameters
 * are OWASP's scrypt minimum (N=2^17, r=8, p=1) and travel inside each stored hash, so raising them
 * later does not break existing ones. Hashing runs on libuv's thread pool, off the event loop.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { z } from "zod";

/** NIST SP 800-63B: at least 8 characters, and accept long passphrases; 12 is a safer floor. */
export const newPasswordSchema = z.string().min(12).max(256);

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, params: ScryptParams) {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$<salt>$<hash>`, base64url. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

export async function passwordMatchesHash(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const key = await derive(password, Buffer.from(salt, "base64url"), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export function migratePasswords(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS account_passwords (
      account_id TEXT PRIMARY KEY,
      hash TEXT NOT NULL,
      changed_at TEXT NOT NULL
    );
  `);
}

/** Call inside the transaction that consumes the reset (password-resets.ts). */
export function storePasswordHash(db: DatabaseSync, accountId: string, hash: string, at: Date): void {
  db.prepare(
    `INSERT INTO account_passwords (account_id, hash, changed_at) VALUES (?, ?, ?)
     ON CONFLICT (account_id) DO UPDATE SET hash = excluded.hash, changed_at = excluded.changed_at`,
  ).run(accountId, hash, at.toISOString());
}

/** Whether `password` is the account's current one (false when it has none). */
export async function checkPassword(db: DatabaseSync, accountId: string, password: string): Promise<boolean> {
  const row = db.prepare("SELECT hash FROM account_passwords WHERE account_id = ?").get(accountId) as
    | { hash: string }
    | undefined;
  return row ? passwordMatchesHash(password, row.hash) : false;
}
