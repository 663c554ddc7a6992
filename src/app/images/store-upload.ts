/**
 * The producer side of image uploads, for API servers: persist the original, then announce it.
 *
 * Order matters. The original is written first and `ImageUploaded` published only after S3 has
 * confirmed the write, so a consumer never receives a message for an object it cannot read (S3
 * reads are strongly consistent after a successful PutObject). The reverse failure is the one to
 * handle: the object is stored but the publish fails. Then `storeUpload` throws an
 * `UploadPublishError` carrying the imageId and key, and the object stays in the bucket; the
 * caller (or a sweeper) retries with `republishUpload({ imageId })`, which rebuilds the same
 * message from the stored object. A duplicate publish is harmless: rendition keys derive from the
 * imageId and the consumer skips work whose renditions already name the original's ETag.
 */
import { randomUUID } from "node:crypto";
import {
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectCommand,
  type S3Client,
  type ServerSideEncryption,
} from "@aws-sdk/client-s3";
import type { TraceContext } from "@courier-queue/courier";
import { type ImageUploadedV1, imageUploadedDataV1 } from "../contracts/index.ts";
import { detectImageType } from "./detect-type.ts";
import { UploadNotFoundError, UploadPublishError } from "./errors.ts";
import { originalKey } from "./keys.ts";
import { isMissingObject } from "./s3-errors.ts";

export interface PublishReceipt {
  readonly eventId: string;
  readonly messageId: string;
}

/**
 * The slice of courier's publisher that uploads need; `createPublisher(...)` from src/publisher
 * satisfies it, and tests pass a stub.
 */
export interface ImageUploadPublisher {
  publish(
    topic: "image-uploads",
    data: ImageUploadedV1,
    options?: { readonly trace?: TraceContext | undefined },
  ): Promise<PublishReceipt>;
}

/** User metadata on the original, so `republishUpload` can rebuild the exact message. */
export const ORIGINAL_METADATA = {
  imageId: "image-id",
  uploadedBy: "uploaded-by",
  uploadedAt: "uploaded-at",
} as const;

export interface StoreUploadInput {
  readonly s3: S3Client;
  readonly publisher: ImageUploadPublisher;
  readonly bucket: string;
  /** Defaults to a random UUID. Reusing one replaces that original; its renditions follow the new ETag. */
  readonly imageId?: string;
  readonly body: Uint8Array;
  /**
   * The uploader's claim, e.g. image/jpeg. Not stored: the original and the message carry the type
   * sharp detects in the bytes (detect-type.ts), and the consumer sniffs the format itself.
   */
  readonly contentType: string;
  readonly uploadedBy: string;
  /** @default "AES256" (SSE-S3); pass "aws:kms" when the bucket requires KMS. */
  readonly serverSideEncryption?: ServerSideEncryption;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** The request's trace context, for the ImageUploaded message. @default - the publisher starts one */
  readonly trace?: TraceContext | undefined;
}

export interface StoredUpload extends PublishReceipt {
  readonly imageId: string;
  readonly bucket: string;
  readonly key: string;
  readonly etag: string | undefined;
  readonly data: ImageUploadedV1;
}

/**
 * Stores the original under `originals/<imageId>`, then publishes `ImageUploaded`. The message is
 * validated before the write, so an upload that could never be announced is never stored.
 *
 * @throws $ZodError (zod's core error; the contract is zod/mini) when the message would be invalid (nothing was stored).
 * @throws the S3 error when the write fails (nothing was published).
 * @throws UploadPublishError when the write succeeded and the publish failed; retry with
 *   `republishUpload({ s3, publisher, bucket, imageId: error.imageId })`.
 */
export async function storeUpload(input: StoreUploadInput): Promise<StoredUpload> {
  const imageId = input.imageId ?? randomUUID();
  const key = originalKey(imageId);
  // The claim must still be a media type (a malformed one is the client's error), though not stored.
  imageUploadedDataV1.shape.contentType.parse(input.contentType);
  const data = imageUploadedDataV1.parse({
    imageId,
    bucket: input.bucket,
    key,
    contentType: await detectImageType(input.body),
    byteSize: input.body.byteLength,
    uploadedBy: input.uploadedBy,
    uploadedAt: (input.now?.() ?? new Date()).toISOString(),
  } satisfies ImageUploadedV1);

  const put = await input.s3.send(
    new PutObjectCommand({
      Bucket: input.bucket,
      Key: key,
      Body: input.body,
      ContentLength: input.body.byteLength,
      ContentType: data.contentType,
      ServerSideEncryption: input.serverSideEncryption ?? "AES256",
      Metadata: originalMetadata(data),
    }),
  );

  const receipt = await publishOrExplain(input.publisher, data, input.trace);
  return { ...receipt, imageId, bucket: input.bucket, key, etag: put.ETag, data };
}

export interface RepublishUploadInput {
  readonly s3: S3Client;
  readonly publisher: ImageUploadPublisher;
  readonly bucket: string;
  readonly imageId: string;
}

/**
 * Publishes `ImageUploaded` again for an original already stored by `storeUpload`, after a failed
 * publish. It HEADs the object (so it never announces one that is gone) and rebuilds the message
 * from what S3 holds: content type, size, and the uploader recorded in the object's metadata. The
 * message gets a new eventId; that is safe, the consumer's work is idempotent per original ETag.
 *
 * @throws UploadNotFoundError when no original is stored under the imageId.
 * @throws UploadPublishError when the publish fails again; call it again later.
 */
export async function republishUpload(input: RepublishUploadInput): Promise<StoredUpload> {
  const key = originalKey(input.imageId);
  let head: HeadObjectCommandOutput;
  try {
    head = await input.s3.send(new HeadObjectCommand({ Bucket: input.bucket, Key: key }));
  } catch (error) {
    if (isMissingObject(error)) throw new UploadNotFoundError(input.imageId, key, { cause: error });
    throw error;
  }
  const metadata = head.Metadata ?? {};
  const uploadedBy = metadata[ORIGINAL_METADATA.uploadedBy];
  const data = imageUploadedDataV1.parse({
    imageId: input.imageId,
    bucket: input.bucket,
    key,
    contentType: head.ContentType ?? "application/octet-stream",
    byteSize: head.ContentLength ?? 0,
    // An object written by other means lacks our metadata; the message still needs an uploader.
    uploadedBy: uploadedBy ? decodeURIComponent(uploadedBy) : "unknown",
    uploadedAt: metadata[ORIGINAL_METADATA.uploadedAt] ?? (head.LastModified ?? new Date()).toISOString(),
  } satisfies ImageUploadedV1);
  const receipt = await publishOrExplain(input.publisher, data);
  return { ...receipt, imageId: input.imageId, bucket: input.bucket, key, etag: head.ETag, data };
}

async function publishOrExplain(
  publisher: ImageUploadPublisher,
  data: ImageUploadedV1,
  trace?: TraceContext,
): Promise<PublishReceipt> {
  try {
    return await (trace
      ? publisher.publish("image-uploads", data, { trace })
      : publisher.publish("image-uploads", data));
  } catch (error) {
    throw new UploadPublishError(
      { imageId: data.imageId, bucket: data.bucket, key: data.key },
      { cause: error },
    );
  }
}

function originalMetadata(data: ImageUploadedV1): Record<string, string> {
  return {
    [ORIGINAL_METADATA.imageId]: data.imageId,
    // S3 metadata travels as HTTP headers: ASCII only, so free text is percent-encoded.
    [ORIGINAL_METADATA.uploadedBy]: encodeURIComponent(data.uploadedBy),
    [ORIGINAL_METADATA.uploadedAt]: data.uploadedAt,
  };
}
