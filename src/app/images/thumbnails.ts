/**
 * The thumbnails consumer's logic: read the original named by an `ImageUploaded` message, render
 * its renditions, store them next to it. Dependencies come in as parameters (the handler builds
 * them once per cold start), so unit tests pass an aws-sdk-client-mock S3 client.
 */
import type { Readable } from "node:stream";
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { ImageUploadedV1 } from "../contracts/index.ts";
import type { ImageLimits } from "./config.ts";
import { ImageRejectedError } from "./errors.ts";
import { originalKey, type RenditionName, renditionKey } from "./keys.ts";
import { RENDITIONS, renderRenditions } from "./render.ts";
import { isMissingObject } from "./s3-errors.ts";

/** S3 user metadata on each rendition (S3 lowercases the names; values are ASCII). */
export const RENDITION_METADATA = {
  width: "width",
  height: "height",
  sourceEtag: "source-etag",
  sourceKey: "source-key",
} as const;

export interface ThumbnailsDeps {
  readonly s3: S3Client;
  /** The only bucket this function may read and write. */
  readonly bucket: string;
  readonly limits: ImageLimits;
}

export interface RenditionRecord {
  readonly name: RenditionName;
  readonly key: string;
  readonly width: number;
  readonly height: number;
}

export type ThumbnailsOutcome =
  | {
      readonly status: "rendered";
      readonly sourceEtag: string;
      readonly renditions: readonly RenditionRecord[];
    }
  /** Both renditions already exist for this exact original (a redelivery or a republish). */
  | {
      readonly status: "skipped";
      readonly sourceEtag: string;
      readonly renditions: readonly RenditionRecord[];
    };

/**
 * Makes (or confirms) the renditions of one upload. Idempotent: keys derive from the imageId, and
 * the work is skipped when both renditions name the original's current ETag.
 *
 * Throws `ImageRejectedError` for input that can never succeed (the handler dead-letters it at
 * once); S3 and network failures propagate unchanged and are retried with backoff.
 */
export async function makeThumbnails(
  deps: ThumbnailsDeps,
  upload: ImageUploadedV1,
): Promise<ThumbnailsOutcome> {
  const { s3, bucket, limits } = deps;
  if (upload.bucket !== bucket) {
    throw new ImageRejectedError(
      "wrong-bucket",
      `message names bucket ${upload.bucket}, but this function serves ${bucket}`,
    );
  }
  if (upload.byteSize > limits.maxInputBytes) {
    throw new ImageRejectedError(
      "too-large",
      `message declares ${upload.byteSize} bytes, over the ${limits.maxInputBytes}-byte cap`,
    );
  }

  // GetObject first rather than HeadObject + GetObject: one request on the common path, and the
  // ETag we compare is the one of the bytes we would render. On a skip the body is dropped unread.
  // The original's key is derived from the image id, never taken from the message: a message naming
  // another key (exports/..., another prefix) cannot make the thumbnailer read or describe it.
  const sourceKey = originalKey(upload.imageId);
  const [originalResult, existingResult] = await Promise.allSettled([
    getOriginal(s3, bucket, sourceKey),
    Promise.all(RENDITIONS.map((spec) => headRendition(s3, bucket, renditionKey(upload.imageId, spec.name)))),
  ]);
  if (originalResult.status === "rejected") throw originalResult.reason;
  const original = originalResult.value;
  const body = original.Body as Readable | undefined;
  if (existingResult.status === "rejected") {
    body?.destroy();
    throw existingResult.reason;
  }
  const existing = existingResult.value;
  try {
    const sourceEtag = normaliseEtag(original.ETag);
    if (!body || !sourceEtag) {
      throw new Error(`GetObject ${sourceKey} returned no body or ETag`);
    }
    const skipped = alreadyRendered(existing, sourceEtag, upload.imageId);
    if (skipped) {
      body.destroy();
      return { status: "skipped", sourceEtag, renditions: skipped };
    }
    if (original.ContentLength !== undefined && original.ContentLength > limits.maxInputBytes) {
      throw new ImageRejectedError(
        "too-large",
        `original is ${original.ContentLength} bytes, over the ${limits.maxInputBytes}-byte cap`,
      );
    }

    const rendered = await renderRenditions(body, limits);
    const renditions = await Promise.all(
      rendered.renditions.map(async (r): Promise<RenditionRecord> => {
        const key = renditionKey(upload.imageId, r.name);
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: r.body,
            ContentType: r.contentType,
            ServerSideEncryption: "AES256",
            Metadata: {
              [RENDITION_METADATA.width]: String(r.width),
              [RENDITION_METADATA.height]: String(r.height),
              [RENDITION_METADATA.sourceEtag]: sourceEtag,
              [RENDITION_METADATA.sourceKey]: encodeURIComponent(sourceKey),
            },
          }),
        );
        return { name: r.name, key, width: r.width, height: r.height };
      }),
    );
    return { status: "rendered", sourceEtag, renditions };
  } finally {
    // A rejected or skipped original must not hold its socket open until the SDK times out.
    if (body && !body.readableEnded) body.destroy();
  }
}

async function getOriginal(s3: S3Client, bucket: string, key: string): Promise<GetObjectCommandOutput> {
  try {
    return await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    if (isMissingObject(error)) {
      throw new ImageRejectedError("missing-object", `no object at s3://${bucket}/${key}`, { cause: error });
    }
    throw error;
  }
}

async function headRendition(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<HeadObjectCommandOutput | undefined> {
  try {
    return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}

function alreadyRendered(
  existing: readonly (HeadObjectCommandOutput | undefined)[],
  sourceEtag: string,
  imageId: string,
): RenditionRecord[] | undefined {
  const records: RenditionRecord[] = [];
  for (const [index, spec] of RENDITIONS.entries()) {
    const metadata = existing[index]?.Metadata;
    if (metadata?.[RENDITION_METADATA.sourceEtag] !== sourceEtag) return undefined;
    records.push({
      name: spec.name,
      key: renditionKey(imageId, spec.name),
      width: Number(metadata[RENDITION_METADATA.width]),
      height: Number(metadata[RENDITION_METADATA.height]),
    });
  }
  return records;
}

/** S3 quotes ETags; metadata values keep them bare so comparisons need no escaping. */
export function normaliseEtag(etag: string | undefined): string | undefined {
  return etag?.replaceAll('"', "");
}
