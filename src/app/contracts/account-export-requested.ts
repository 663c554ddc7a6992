import { defineContract, plainText } from "@courier-queue/courier";
import * as z from "zod";
import { newAccountDataV1 } from "./new-account.ts";

/** One object of the account's data in an export: what it is, where it is, how big. */
export const exportItemV1 = z
  .object({
    kind: z.enum(["image"]),
    id: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "id must be 1-128 of A-Z a-z 0-9 _ -"),
    key: z.string().min(1).max(1024),
    contentType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, "contentType must be a MIME type"),
    byteSize: z.number().int().nonnegative(),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .strict();
export type ExportItemV1 = z.infer<typeof exportItemV1>;

/**
 * The most items one export lists. At about 200 bytes an item, a full manifest is about 20 MiB:
 * above any topic's inline limit (it goes by reference) and below the consumer's payload cap (32 MiB).
 */
export const MAX_EXPORT_ITEMS = 100_000;

export const accountExportRequestedDataV1 = z.object({
  exportId: z.uuid(),
  accountId: plainText(1, 128),
  requestedAt: z.iso.datetime({ offset: true }),
  /** The account's own record, as the account service holds it. */
  account: newAccountDataV1
    .pick({ email: true, displayName: true, phone: true, locale: true, createdAt: true })
    .extend({ verifiedAt: z.iso.datetime({ offset: true }).optional() }),
  /**
   * The manifest: every object the account owns, inline, so the consumer needs no second lookup.
   * A busy account's runs to megabytes; the topic carries it by reference (payload offloading).
   */
  items: z.array(exportItemV1).max(MAX_EXPORT_ITEMS),
});
export type AccountExportRequestedV1 = z.infer<typeof accountExportRequestedDataV1>;

export const AccountExportRequestedV1Contract = defineContract({
  type: "AccountExportRequested",
  version: 1,
  data: accountExportRequestedDataV1,
});
