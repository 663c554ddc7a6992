/**
 * The manifest a courier stack carries in its CloudFormation outputs: what the CLI, the console and
 * workers need to operate a stack they never saw at build time (every consumer's queues and
 * settings, every topic's address and contracts, the stack's shared resources). The construct
 * writes it; `readDeployedTopology()` reads it back. One output per consumer and per topic keeps
 * each value small, and a stack with several courier constructs is told apart by their prefix.
 */
// zod/mini (lib/zod-locale.ts says why): these schemas are built wherever the topology module
// loads, every consumer's cold start among them.
import * as z from "zod/mini";
import "../lib/zod-locale.ts";

/** Bumped on a change a reader of an older version would misread. */
export const MANIFEST_VERSION = 1;

/** "verification-email" -> "VerificationEmail": CloudFormation logical ids are alphanumeric. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join("");
}

export const STACK_MANIFEST_OUTPUT = "CourierManifest";
export function consumerManifestOutputKey(consumer: string): string {
  return `CourierConsumer${pascalCase(consumer)}`;
}
export function topicManifestOutputKey(topic: string): string {
  return `CourierTopic${pascalCase(topic)}`;
}

const contractRefSchema = z.object({ type: z.string(), version: z.int() });

export const stackManifestSchema = z.object({
  v: z.literal(MANIFEST_VERSION),
  /** The courier package version that synthesized the stack. */
  courier: z.string(),
  topics: z.array(z.string()),
  consumers: z.array(z.string()),
  /** Where offloaded payloads go; absent when no topic offloads. */
  payloadBucket: z.optional(z.string()),
  /** Where archived topics keep their history; absent when no topic is archived. */
  archiveBucket: z.optional(z.string()),
  /** The idempotency table; absent when no consumer needs one (or where it is not deployed). */
  idempotencyTable: z.optional(z.string()),
  /** Each secret of the topology by name: its ARN. */
  secrets: z._default(z.record(z.string(), z.string()), {}),
  redrive: z.object({ functionName: z.optional(z.string()), maxRedrives: z.int().check(z.positive()) }),
  alarmTopicArn: z.optional(z.string()),
  dashboardName: z.optional(z.string()),
  metricsNamespace: z._default(z.string(), "courier"),
});
export type StackManifest = z.infer<typeof stackManifestSchema>;

export const archiveManifestSchema = z.object({
  bucket: z.string(),
  retentionDays: z.int(),
  /** The data field erasure goes by. */
  subject: z.optional(z.string()),
  queueUrl: z.string(),
  queueArn: z.string(),
  dlqUrl: z.string(),
  dlqArn: z.string(),
  subscriptionDlqUrl: z.optional(z.string()),
  /** Absent where no function is deployed (LocalStack here): run the worker `archive:<topic>`. */
  functionName: z.optional(z.string()),
  batchSize: z.int(),
  maxBatchingWindowSeconds: z.number(),
  environment: z._default(z.record(z.string(), z.string()), {}),
});
export type ArchiveManifest = z.infer<typeof archiveManifestSchema>;

export const topicManifestSchema = z.object({
  name: z.string(),
  arn: z.string(),
  description: z._default(z.string(), ""),
  fifo: z.boolean(),
  groupBy: z.optional(z.string()),
  /** The data field that names a message's tenant (its MessageGroupId on a standard topic). */
  tenant: z.optional(z.string()),
  maxMessageBytes: z.int(),
  offloadLargePayloads: z.boolean(),
  current: contractRefSchema,
  accepts: z.array(contractRefSchema),
  filterAttributeNames: z._default(z.array(z.string()), []),
  /** The topic's archive; absent when it keeps none (`archive: false`) or from an older stack. */
  archive: z.optional(archiveManifestSchema),
});
export type TopicManifest = z.infer<typeof topicManifestSchema>;

export const consumerManifestSchema = z.object({
  name: z.string(),
  topic: z.string(),
  description: z._default(z.string(), ""),
  /** The handler module, relative to the project that synthesized the stack. */
  handlerEntry: z.string(),
  queueUrl: z.string(),
  queueArn: z.string(),
  dlqUrl: z.string(),
  dlqArn: z.string(),
  subscriptionDlqUrl: z.optional(z.string()),
  subscriptionDlqArn: z.optional(z.string()),
  /** Absent where no function is deployed (LocalStack here). */
  functionName: z.optional(z.string()),
  eventSourceMappingId: z.optional(z.string()),
  fifo: z.boolean(),
  /** Its topic's tenant field: workers serve this consumer's tenants fairly (fair queue). */
  tenant: z.optional(z.string()),
  maxReceiveCount: z.int(),
  batchSize: z.int(),
  maxBatchingWindowSeconds: z.number(),
  maxConcurrency: z.int(),
  timeoutSeconds: z.number(),
  visibilityTimeoutSeconds: z.number(),
  backoff: z.object({ baseSeconds: z.number(), maxSeconds: z.number() }),
  onPermanentFailure: z.optional(z.enum(["dead-letter", "hold-group"])),
  /** The subscription's SNS filter policy (attribute to allowed values); absent: every message. */
  filterPolicy: z.optional(z.record(z.string(), z.array(z.string()))),
  /** The function's environment as declared (the queue, DLQ, secrets, the team's own variables). */
  environment: z._default(z.record(z.string(), z.string()), {}),
});
export type ConsumerManifest = z.infer<typeof consumerManifestSchema>;
