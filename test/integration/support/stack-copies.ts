/**
 * The stack copies the integration files need, synthesized by the global setup in one process (one
 * aws-cdk-lib load) and deployed all at the same time, instead of each file loading aws-cdk-lib,
 * synthesizing and deploying (a CloudFormation round on LocalStack) in turn. Each file still gets its own copy: a
 * file that breaks or fills its queues cannot disturb another.
 *
 * A file names its copy with deployTestStack(prefix); a prefix listed here is ready when the file
 * starts, any other is synthesized and deployed on demand.
 */
export const PREDEPLOYED_PREFIXES = [
  "abuse",
  "account-export",
  "broadcast",
  "cli-target",
  "console",
  "fanout",
  "first-hour",
  "harness-deploy",
  "password-reset-api",
  "pause",
  "redrive-cli",
  "shutdown",
  "tenant-controls",
  "tenant-group",
  "thumbnails",
  "traces",
  "work",
] as const;
