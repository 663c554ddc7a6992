import { defineContract, plainText } from "@courier-queue/courier";
// zod/mini, as courier's runtime: these contracts are in every consumer's bundle (src/lib/zod.ts in
// the package says why); classic zod would work the same, at ~65 KiB and milliseconds more per cold start.
import * as z from "zod/mini";
import { newAccountDataV1 } from "./new-account.ts";

/** One object of the account's data in an export: what it is, where it is, how big. */
export const exportItemV1 = z.strictObject({
  kind: z.enum(["image"]),
  id: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/, "id must be 1-128 of A-Z a-z 0-9 _ -")),
  key: z.string().check(z.minLength(1), z.maxLength(1024)),
  contentType: z.string().check(z.regex(/^[\w.+-]+\/[\w.+-]+$/, "contentType must be a MIME type")),
  byteSize: z.int().check(z.nonnegative()),
  createdAt: z.iso.datetime({ offset: true }),
});
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
  account: z.extend(
    z.pick(newAccountDataV1, { email: true, displayName: true, phone: true, locale: true, createdAt: true }),
    { verifiedAt: z.optional(z.iso.datetime({ offset: true })) },
  ),
  /**
   * The manifest: every object the account owns, inline, so the consumer needs no second lookup.
   * A busy account's runs to megabytes; the topic carries it by reference (payload offloading).
   */
  items: z.array(exportItemV1).check(z.maxLength(MAX_EXPORT_ITEMS)),
});
export type AccountExportRequestedV1 = z.infer<typeof accountExportRequestedDataV1>;

export const AccountExportRequestedV1Contract = defineContract({
  type: "AccountExportRequested",
  version: 1,
  data: accountExportRequestedDataV1,
});
