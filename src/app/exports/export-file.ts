/**
 * The consumer side of an account data export: the export file, written from the manifest the
 * message carries, and its status as the API reads it back. The key derives from the exportId, so
 * a redelivered message rewrites the same file instead of adding a copy.
 */
import { HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { AccountExportRequestedV1 } from "../contracts/index.ts";
import { isMissingObject } from "../images/s3-errors.ts";

export const EXPORTS_PREFIX = "exports/";

export function exportFileKey(exportId: string): string {
  return `${EXPORTS_PREFIX}${exportId}.json`;
}

/** User metadata on the file: whose export it is (the API answers only that account). */
const ACCOUNT_METADATA = "account-id";

export interface ExportSummary {
  readonly items: number;
  readonly totalBytes: number;
  /** Items and bytes per content type, e.g. { "image/jpeg": { items: 3, bytes: 1234 } }. */
  readonly byContentType: Readonly<Record<string, { items: number; bytes: number }>>;
}

export function summarizeExport(request: AccountExportRequestedV1): ExportSummary {
  const byContentType: Record<string, { items: number; bytes: number }> = {};
  let totalBytes = 0;
  for (const item of request.items) {
    totalBytes += item.byteSize;
    const entry = byContentType[item.contentType] ?? { items: 0, bytes: 0 };
    entry.items += 1;
    entry.bytes += item.byteSize;
    byContentType[item.contentType] = entry;
  }
  return { items: request.items.length, totalBytes, byContentType };
}

/** What the file holds: the request's manifest as it arrived, and a summary of it. */
export interface ExportFile {
  readonly exportId: string;
  readonly accountId: string;
  readonly requestedAt: string;
  readonly account: AccountExportRequestedV1["account"];
  readonly summary: ExportSummary;
  readonly items: AccountExportRequestedV1["items"];
}

export interface WrittenExport {
  readonly bucket: string;
  readonly key: string;
  readonly bytes: number;
  readonly summary: ExportSummary;
}

export async function writeExportFile(
  deps: { readonly s3: S3Client; readonly bucket: string },
  request: AccountExportRequestedV1,
): Promise<WrittenExport> {
  const summary = summarizeExport(request);
  const file: ExportFile = {
    exportId: request.exportId,
    accountId: request.accountId,
    requestedAt: request.requestedAt,
    account: request.account,
    summary,
    items: request.items,
  };
  const body = Buffer.from(JSON.stringify(file), "utf8");
  const key = exportFileKey(request.exportId);
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.bucket,
      Key: key,
      Body: body,
      ContentType: "application/json",
      ContentLength: body.byteLength,
      ServerSideEncryption: "AES256",
      // Metadata values are ASCII in S3: the id is percent-encoded (plain text may be any Unicode).
      Metadata: { [ACCOUNT_METADATA]: encodeURIComponent(request.accountId) },
    }),
  );
  return { bucket: deps.bucket, key, bytes: body.byteLength, summary };
}

export type ExportStatus =
  | { readonly status: "ready"; readonly key: string; readonly bytes: number }
  | { readonly status: "pending" };

/**
 * `ready` once the file exists for this account; `pending` otherwise (also for an exportId that is
 * another account's: the answer does not tell whether someone else's export exists).
 */
export async function exportStatus(
  s3: S3Client,
  bucket: string,
  accountId: string,
  exportId: string,
): Promise<ExportStatus> {
  const key = exportFileKey(exportId);
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    if (head.Metadata?.[ACCOUNT_METADATA] !== encodeURIComponent(accountId)) return { status: "pending" };
    return { status: "ready", key, bytes: head.ContentLength ?? 0 };
  } catch (error) {
    if (isMissingObject(error)) return { status: "pending" };
    throw error;
  }
}
