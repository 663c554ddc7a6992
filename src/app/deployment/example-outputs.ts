/**
 * The CloudFormation outputs the example's stack adds beside the courier construct's manifest:
 * the example's own resources, which its API server and local run read back by these names.
 */
export const UPLOADS_BUCKET_OUTPUT = "UploadsBucketName";
export const AUDIT_TABLE_OUTPUT = "AuditTableName";
export const VERIFICATION_SECRET_OUTPUT = "VerificationSecretArn";

/** The example's default stack name (`-c stackName=...` and `--stack` choose another). */
export const DEFAULT_STACK_NAME = "courier";
