/**
 * What became of an upload, told from the bucket alone so the API server needs no store of its
 * own: `ready` when both renditions exist, `failed` when the thumbnailer left a failure marker
 * beside where the renditions go (it writes one when it rejects an upload, or when the last
 * allowed try failed), `pending` while the original waits, `not-found` with no original at all.
 * Renditions win over a marker: a redriven upload that then succeeds is `ready`.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
// zod/mini: configuration parsed at every cold start, in the consumer's bundle (courier's lib/zod.ts).
import * as z from "zod/mini";
import { ImageRejectedError } from "./errors.ts";
import { failureMarkerKey, originalKey, type RenditionName, renditionKey } from "./keys.ts";
import { isMissingObject } from "./s3-errors.ts";

/** Why an upload failed, as the marker holds it; `reason` is the rejection (or `exhausted`). */
export const failureMarkerSchema = z.object({
  reason: z.string().check(z.maxLength(64)),
  message: z.string().check(z.maxLength(1024)),
  failedAt: z.string(),
});

export type FailureMarker = z.infer<typeof failureMarkerSchema>;

export type ImageStatus =
  | { readonly status: "ready"; readonly renditions: Record<RenditionName, string> }
  | ({ readonly status: "failed" } & FailureMarker)
  | { readonly status: "pending" }
  | { readonly status: "not-found" };

const MESSAGE_MAX_CHARS = 1024;

export async function writeFailureMarker(
  s3: S3Client,
  bucket: string,
  imageId: string,
  failure: { reason: string; message: string; failedAt: Date },
): Promise<void> {
  const marker: FailureMarker = {
    reason: failure.reason,
    message: failure.message.slice(0, MESSAGE_MAX_CHARS),
    failedAt: failure.failedAt.toISOString(),
  };
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: failureMarkerKey(imageId),
      Body: JSON.stringify(marker),
      ContentType: "application/json",
      ServerSideEncryption: "AES256",
    }),
  );
}

async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (isMissingObject(error)) return false;
    throw error;
  }
}

async function readMarker(s3: S3Client, bucket: string, imageId: string): Promise<FailureMarker | undefined> {
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: failureMarkerKey(imageId) }));
    if (!got?.Body) return undefined;
    const text = await got.Body.transformToString("utf8");
    const parsed = failureMarkerSchema.safeParse(JSON.parse(text));
    // A marker we cannot read still says the thumbnailer gave up on this upload.
    return parsed.success
      ? parsed.data
      : { reason: "unknown", message: "the failure marker is unreadable", failedAt: "" };
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    if (error instanceof SyntaxError)
      return { reason: "unknown", message: "the failure marker is unreadable", failedAt: "" };
    throw error;
  }
}

export async function imageStatus(s3: S3Client, bucket: string, imageId: string): Promise<ImageStatus> {
  const renditions = { thumb: renditionKey(imageId, "thumb"), medium: renditionKey(imageId, "medium") };
  const [thumb, medium, marker, original] = await Promise.all([
    exists(s3, bucket, renditions.thumb),
    exists(s3, bucket, renditions.medium),
    readMarker(s3, bucket, imageId),
    exists(s3, bucket, originalKey(imageId)),
  ]);
  if (thumb && medium) return { status: "ready", renditions };
  if (marker) return { status: "failed", ...marker };
  return original ? { status: "pending" } : { status: "not-found" };
}

/**
 * Runs the thumbnailer's work for one upload and, when it fails for good, leaves the marker that
 * makes the upload `failed`: at once for a rejection (`ImageRejectedError`, dead-lettered at once),
 * and on the last allowed try for any other error (dead-lettered as exhausted). The error is
 * rethrown either way, so the runtime still retries or dead-letters it. If the marker cannot be
 * written for a rejection, that S3 error is thrown instead: the record is retried, so the status
 * is not left `pending` for an upload that was refused.
 */
export async function recordingFailure<T>(
  deps: { readonly s3: S3Client; readonly bucket: string; readonly now?: () => Date },
  imageId: string,
  lastTry: boolean,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const failedAt = deps.now?.() ?? new Date();
    if (error instanceof ImageRejectedError) {
      await writeFailureMarker(deps.s3, deps.bucket, imageId, {
        reason: error.reason,
        message: error.message,
        failedAt,
      });
    } else if (lastTry) {
      const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      // Best effort: the record is dead-lettered with its own reason whether or not this lands.
      await writeFailureMarker(deps.s3, deps.bucket, imageId, {
        reason: "exhausted",
        message: `gave up after the last allowed try: ${why}`,
        failedAt,
      }).catch(() => undefined);
    }
    throw error;
  }
}
