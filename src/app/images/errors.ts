/** Typed errors of the image pipeline and the upload producer. */
import { PermanentError } from "@courier-queue/courier";

/** Why an upload can never be rendered, however often it is retried. */
export type ImageRejection =
  | "not-an-image"
  | "corrupt"
  | "unsupported-format"
  | "too-many-pixels"
  | "too-large"
  | "missing-object"
  | "wrong-bucket";

/**
 * Input that retrying cannot fix. A `PermanentError`, so the consumer runtime dead-letters the
 * record at once, with this class and message as the DLQ reason.
 */
export class ImageRejectedError extends PermanentError {
  override readonly name: string = "ImageRejectedError";
  readonly reason: ImageRejection;

  constructor(reason: ImageRejection, message: string, options?: { cause?: unknown }) {
    super(`${reason}: ${message}`, options);
    this.reason = reason;
  }
}

/**
 * The original was stored but `ImageUploaded` was not published. The object is still in the bucket:
 * call `republishUpload({ imageId })` (or publish `data` again) once the publisher recovers.
 */
export class UploadPublishError extends Error {
  override readonly name = "UploadPublishError";
  readonly imageId: string;
  readonly bucket: string;
  readonly key: string;

  constructor(details: { imageId: string; bucket: string; key: string }, options: { cause: unknown }) {
    const why = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      `stored s3://${details.bucket}/${details.key} but could not publish ImageUploaded (${why}); ` +
        `republish with republishUpload({ imageId: "${details.imageId}" })`,
      options,
    );
    this.imageId = details.imageId;
    this.bucket = details.bucket;
    this.key = details.key;
  }
}

/** `republishUpload` found no original under the imageId's key. */
export class UploadNotFoundError extends Error {
  override readonly name = "UploadNotFoundError";
  readonly imageId: string;
  readonly key: string;

  constructor(imageId: string, key: string, options?: { cause?: unknown }) {
    super(`no original stored for image ${imageId} at ${key}`, options);
    this.imageId = imageId;
    this.key = key;
  }
}
