/**
 * The producer side of an account data export: the manifest of everything the account owns, built
 * from the account service's own records and published whole. A busy account's manifest runs to
 * megabytes; the account-exports topic carries up to 1 MiB inline and the rest by reference
 * (payload offloading), so neither side needs a second lookup design.
 */
import { randomUUID } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import type { TraceContext } from "@courier-queue/courier";
import { findAccount } from "../accounts/account-store.ts";
import { listAccountUploads } from "../accounts/account-uploads.ts";
import {
  type AccountExportRequestedV1,
  accountExportRequestedDataV1,
  MAX_EXPORT_ITEMS,
} from "../contracts/index.ts";

export interface PublishReceipt {
  readonly eventId: string;
  readonly messageId: string;
}

/** The slice of courier's publisher an export needs; `createPublisher(...)` satisfies it. */
export interface AccountExportPublisher {
  publish(
    topic: "account-exports",
    data: AccountExportRequestedV1,
    options?: { readonly trace?: TraceContext | undefined },
  ): Promise<PublishReceipt>;
}

export class AccountNotFoundError extends Error {
  override readonly name = "AccountNotFoundError";
}

/** More items than one export may list: refused before anything is published. */
export class ExportTooLargeError extends Error {
  override readonly name = "ExportTooLargeError";
  constructor(readonly accountId: string) {
    super(`the account owns more than ${MAX_EXPORT_ITEMS} objects, more than one export lists`);
  }
}

export interface BuildExportOptions {
  readonly exportId?: string;
  readonly now?: () => Date;
}

/** The AccountExportRequested message for the account's current records (validated). */
export function buildExportRequest(
  db: DatabaseSync,
  accountId: string,
  options: BuildExportOptions = {},
): AccountExportRequestedV1 {
  const account = findAccount(db, accountId);
  if (!account) throw new AccountNotFoundError(`no account "${accountId}"`);
  // One more than allowed: tells "exactly the maximum" from "over it" without counting twice.
  const uploads = listAccountUploads(db, accountId, MAX_EXPORT_ITEMS + 1);
  if (uploads.length > MAX_EXPORT_ITEMS) throw new ExportTooLargeError(accountId);
  return accountExportRequestedDataV1.parse({
    exportId: options.exportId ?? randomUUID(),
    accountId,
    requestedAt: (options.now?.() ?? new Date()).toISOString(),
    account: {
      email: account.email,
      displayName: account.displayName,
      locale: account.locale,
      createdAt: account.createdAt,
      ...(account.phone ? { phone: account.phone } : {}),
      ...(account.verifiedAt ? { verifiedAt: account.verifiedAt } : {}),
    },
    items: uploads.map((u) => ({
      kind: "image",
      id: u.imageId,
      key: u.key,
      contentType: u.contentType,
      byteSize: u.byteSize,
      createdAt: u.uploadedAt,
    })),
  } satisfies AccountExportRequestedV1);
}
