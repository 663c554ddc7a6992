/**
 * Which uploads belong to which account: the API records an image here when its uploader is an
 * account, so an account's data export can list what the account owns without scanning the bucket.
 */
import type { DatabaseSync } from "node:sqlite";

export function migrateAccountUploads(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS account_uploads (
      account_id TEXT NOT NULL,
      image_id TEXT NOT NULL,
      object_key TEXT NOT NULL,
      content_type TEXT NOT NULL,
      byte_size INTEGER NOT NULL,
      uploaded_at TEXT NOT NULL,
      PRIMARY KEY (account_id, image_id)
    );
  `);
}

export interface AccountUpload {
  readonly accountId: string;
  readonly imageId: string;
  readonly key: string;
  readonly contentType: string;
  readonly byteSize: number;
  readonly uploadedAt: string;
}

/** Records (or, for the same image id, replaces) one of an account's uploads. */
export function recordAccountUpload(db: DatabaseSync, upload: AccountUpload): void {
  db.prepare(
    `INSERT OR REPLACE INTO account_uploads (account_id, image_id, object_key, content_type, byte_size, uploaded_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(upload.accountId, upload.imageId, upload.key, upload.contentType, upload.byteSize, upload.uploadedAt);
}

interface UploadRow {
  image_id: string;
  object_key: string;
  content_type: string;
  byte_size: number;
  uploaded_at: string;
}

/** The account's uploads, oldest first; at most `limit` of them (ask for one more than you allow). */
export function listAccountUploads(db: DatabaseSync, accountId: string, limit: number): AccountUpload[] {
  const rows = db
    .prepare(
      `SELECT image_id, object_key, content_type, byte_size, uploaded_at FROM account_uploads
       WHERE account_id = ? ORDER BY uploaded_at, image_id LIMIT ?`,
    )
    .all(accountId, limit) as unknown as UploadRow[];
  return rows.map((row) => ({
    accountId,
    imageId: row.image_id,
    key: row.object_key,
    contentType: row.content_type,
    byteSize: row.byte_size,
    uploadedAt: row.uploaded_at,
  }));
}
