import { S3ServiceException } from "@aws-sdk/client-s3";

/**
 * GetObject says NoSuchKey, HeadObject (which has no body to name the error) says NotFound; both
 * carry HTTP 404. Anything else (5xx, throttling, network) is left to the caller to retry.
 */
export function isMissingObject(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return error.name === "NoSuchKey" || error.name === "NotFound" || error.$metadata.httpStatusCode === 404;
}
