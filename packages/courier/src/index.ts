/**
 * @courier-queue/courier: what producers and consumers import. Contracts, a topology typed from
 * them, the publisher, the consumer runtime (`defineConsumer`), payload offloading, idempotency
 * and trace context. No CDK here: the construct is `@courier-queue/courier/cdk`, the worker mode
 * `@courier-queue/courier/worker`, the operator CLI the package's `courier` bin.
 */

// Reading a deployed courier stack (its manifest): topic ARNs for a producer, queues for tools.
export { readDeployedTopology, StackNotFoundError } from "./deployment/deployed-stack.ts";
export {
  type DeployedConsumer,
  type DeployedTopic,
  type DeployedTopology,
  deployedConsumer,
  deployedTopic,
  InvalidManifestError,
  MissingStackOutputError,
  topicArnsOf,
  topologyFromOutputs,
} from "./deployment/deployed-topology.ts";
// History and replay: each topic's archive (lib/archive) and replaying a window of it to one
// consumer's queue (lib/replay); the deployed stack's archive and a consumer's replay sources.
export { archivedTopics, NoArchiveError, replaySourcesOf } from "./deployment/replay-target.ts";
export {
  type ArchiveEntry,
  type ArchiveLocation,
  type ArchiveSettings,
  type ArchiveStats,
  archiveSettingsOf,
  archiveStats,
  type EraseResult,
  erasedSubjects,
  eraseSubject,
  readWindow,
  subjectHash,
} from "./lib/archive/index.ts";
// Settings from the environment, and the consumer runtime's errors, metrics and failure reasons.
export { ConfigError, type ParseEnvOptions, parseEnv } from "./lib/config.ts";
export {
  ConsumerConfigError,
  type ConsumerContext,
  type ConsumerHandler,
  type ConsumerHandlerSettings,
  type ConsumerMetrics,
  EmfMetrics,
  type EmfMetricsOptions,
  type EnvelopeOf,
  FAILURE_ATTRIBUTE,
  type FailureReason,
  InvalidDataError,
  LINEAGE_ATTRIBUTE,
  type Lineage,
  MalformedBodyError,
  MissingEnvelopeError,
  PermanentError,
  RetryableError,
  UnsupportedMessageError,
} from "./lib/consumer/index.ts";
export { REPLAY_ATTRIBUTE, type ReplayLineage, replayLineageOf } from "./lib/consumer/replay-lineage.ts";
// Contracts: one zod schema per message kind and version, inside courier's envelope.
export {
  type AnyContract,
  type ContractData,
  type ContractEnvelope,
  defineContract,
  type MessageAttributeValues,
  type MessageContract,
} from "./lib/contracts/contract.ts";
export { type AnyEnvelope, type Envelope, envelopeHeaderSchema } from "./lib/contracts/envelope.ts";
export { plainText } from "./lib/contracts/text.ts";
export type {
  PayloadLocationSpec,
  TopicArchiveSpec,
  TopicOrdering,
  TopicSpec,
  TopicTenant,
} from "./lib/contracts/topic-spec.ts";
// Side effects once per event; payloads offloaded to S3; the publisher's errors; trace context.
export {
  IDEMPOTENCY_PARTITION_KEY,
  IDEMPOTENCY_TTL_ATTRIBUTE,
  IdempotencyConfigError,
  idempotencyStoreFromEnv,
  type OncePerEvent,
  type OncePerEventOptions,
  oncePerEvent,
} from "./lib/idempotency/once-per-event.ts";
export {
  MalformedPointerError,
  PayloadLocationRefusedError,
  PayloadMissingError,
  PayloadSizeMismatchError,
  PayloadTooLargeError,
} from "./lib/payload-offloading/errors.ts";
export type { PayloadStore } from "./lib/payload-offloading/payload-store.ts";
export {
  type BatchItemResult,
  type EventIdentity,
  type FieldIssue,
  InvalidMessageError,
  MessageTooLargeError,
  type Published,
  PublisherError,
  PublishFailedError,
  type PublishOptions,
  ReservedAttributeError,
  UnknownTopicError,
} from "./lib/publisher/index.ts";
export { messageGroupIdFor } from "./lib/publisher/ordering.ts";
export { tenantGroupId, tenantGroupIdOfBody, tenantValue } from "./lib/publisher/tenant.ts";
export {
  type FilterPolicy,
  filterPolicyAccepts,
  parseReplayTime,
  planReplay,
  type ReplayCheckpoint,
  type ReplayOptions,
  type ReplayPlan,
  type ReplayProgress,
  ReplayResumeError,
  type ReplaySources,
  type ReplaySummary,
  type ReplayTarget,
  type ReplayWindow,
  readReplayCheckpoint,
  replay,
} from "./lib/replay/index.ts";
export { RUNTIME_ENV } from "./lib/runtime-env.ts";
// Tracing on the OpenTelemetry API (a no-op until the application registers an SDK, e.g. with
// `@courier-queue/courier/otel`): a handler's AWS clients traced under the record that caused the
// calls, and the span attribute names courier writes (messaging conventions plus `courier.*`).
export { ATTR as SPAN_ATTRIBUTES, MESSAGING_SYSTEM, TRACER_NAME } from "./lib/trace/semconv.ts";
export {
  envelopeTraceSchema,
  parseCorrelationId,
  parseTraceparent,
  startTrace,
  type TraceContext,
  type TraceStart,
} from "./lib/trace/trace-context.ts";
// Consuming and producing, typed from the team's topology.
export { type ConsumerMessage, type ConsumerOptions, defineConsumer } from "./topology/define-consumer.ts";
export {
  type CreatePublisherOptions,
  createPublisher,
  type Publisher,
  type TopicData,
} from "./topology/publisher.ts";
// The team's topology, and the types derived from it.
export {
  type AcceptedContractOf,
  type AnyTopology,
  alarmThresholds,
  type BackoffSpec,
  CONSUMER_DEFAULTS,
  type ConsumerAlarmThresholds,
  type ConsumerDeclaration,
  type ConsumerNameOf,
  type ConsumerNeeds,
  type ConsumerSettings,
  type ConsumerSpec,
  consumerSpecOf,
  DEFAULT_ALARM_THRESHOLDS,
  defineTopology,
  FIFO_CONSUMER_DEFAULTS,
  InvalidTopologyError,
  isOrderedTopic,
  type SecretSpec,
  type TopicDeclaration,
  type TopicNameOf,
  type TopicOfConsumer,
  type Topology,
  type TopologySpec,
} from "./topology/topology.ts";
export { tracedClient, tracedFetch } from "./topology/tracing.ts";
