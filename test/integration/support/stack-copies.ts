/**
 * The stack copies the integration files need, deployed once per run by the global setup from ONE
 * synthesis, all at the same time, instead of each file synthesizing (seconds of aws-cdk-lib) and
 * deploying (a CloudFormation round on LocalStack) in turn. Each file still gets its own copy: a
 * file that breaks or fills its queues cannot disturb another.
 *
 * A file names its copy with deployTestStack(prefix); a prefix listed here is ready when the file
 * starts, any other is deployed on demand (from the same synthesized template).
 */
export const PREDEPLOYED_PREFIXES = [
  "broadcast",
  "cli-target",
  "fanout",
  "harness-deploy",
  "redrive-cli",
  "thumbnails",
  "work",
] as const;
