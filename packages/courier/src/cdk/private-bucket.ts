/**
 * What every bucket courier makes shares: private (public access blocked, objects owned by the
 * bucket owner, ACLs off), encrypted at rest (SSE-S3), reachable over TLS only, unversioned (each
 * bucket's lifecycle rules are what deletes), and with abandoned multipart uploads cleaned up.
 */
import { Duration } from "aws-cdk-lib";
import * as s3 from "aws-cdk-lib/aws-s3";

export const PRIVATE_BUCKET_PROPS = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  encryption: s3.BucketEncryption.S3_MANAGED,
  enforceSSL: true,
  versioned: false,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
} as const satisfies s3.BucketProps;

/** Parts of an upload never completed cost storage until removed: gone after a day. */
export const ABORT_INCOMPLETE_UPLOADS_RULE: s3.LifecycleRule = {
  id: "abort-incomplete-multipart-uploads",
  abortIncompleteMultipartUploadAfter: Duration.days(1),
};
