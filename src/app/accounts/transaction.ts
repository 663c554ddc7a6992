import type { DatabaseSync } from "node:sqlite";

/** Runs `work` in one transaction: committed if it returns, rolled back if it throws. */
export function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  // IMMEDIATE takes the write lock at once: two processes cannot read the same state and both act on it.
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
