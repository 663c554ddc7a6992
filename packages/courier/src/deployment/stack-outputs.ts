/**
 * Names of the CloudFormation outputs the stack exports. The CDK stack writes them and the local
 * runtime and CLI read them back from the deployed stack, so resource addresses are never
 * configured by hand.
 */
import type { ConsumerName, TopicName } from "../../../../src/topology.ts";

/** "verification-email" -> "VerificationEmail": CloudFormation logical ids are alphanumeric. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join("");
}

export type ConsumerOutput =
  | "QueueUrl"
  | "QueueArn"
  | "DlqUrl"
  | "DlqArn"
  | "SubscriptionDlqUrl"
  | "SubscriptionDlqArn"
  | "EventSourceMappingId";
export type TopicOutput = "TopicArn";

export function consumerOutputKey(consumer: ConsumerName | (string & {}), output: ConsumerOutput): string {
  return `${pascalCase(consumer)}${output}`;
}

export function topicOutputKey(topic: TopicName | (string & {}), output: TopicOutput): string {
  return `${pascalCase(topic)}${output}`;
}

/** "verification" -> "VerificationSecretArn". */
export function secretOutputKey(secret: string): string {
  return `${pascalCase(secret)}SecretArn`;
}

export const UPLOADS_BUCKET_OUTPUT = "UploadsBucketName";
/** Only in a stack with a topic that offloads large payloads. */
export const PAYLOAD_BUCKET_OUTPUT = "PayloadBucketName";
export const VERIFICATION_SECRET_OUTPUT = secretOutputKey("verification");
export const IDEMPOTENCY_TABLE_OUTPUT = "IdempotencyTableName";
export const AUDIT_TABLE_OUTPUT = "AuditTableName";

export const DEFAULT_STACK_NAME = "courier";
