/**
 * @courier-queue/courier/cdk: the `Courier` construct, which renders a topology into a stack, the
 * constructs it is made of (for a team that assembles its own), and the cdk-nag helpers.
 * Needs aws-cdk-lib and constructs (peer dependencies).
 */

export { DLQ_RETENTION_DAYS } from "../topology/topology-problems.ts";
export { type AlarmNotificationSettings, AlarmTopic, type AlarmTopicProps } from "./alarm-topic.ts";
export {
  ADOT_COLLECTOR_VERSION,
  ADOT_LAYER_ACCOUNT,
  AWS_SDK_SOURCES,
  type AwsSdkSource,
  adotCollectorLayerArn,
  awsSdkExternals,
  awsSdkProblem,
  BundledFunction,
  type BundledFunctionProps,
  ESM_REQUIRE_BANNER,
  type LambdaBundlingTarget,
  type LambdaEsbuildOptions,
  lambdaBundling,
  lambdaEsbuildOptions,
  missingOtelPackages,
  newestNodejsRuntime,
  nodeMajorOf,
  npmPlatformEnvironment,
  OFF_LAMBDA_CREDENTIAL_MODULES,
  OTEL_LAMBDA_ENVIRONMENT,
  OTEL_SDK_PACKAGES,
  otelLambdaStartEntry,
  runtimeProblem,
  TRACING_MODES,
  type TracingMode,
  tracingProblem,
} from "./bundled-function.ts";
export {
  CONSUMER_WIDGETS,
  ConsumerDashboard,
  type ConsumerDashboardProps,
  type ConsumerWidget,
  type DashboardConsumer,
  RUNTIME_OUTCOME_METRICS,
} from "./consumer-dashboard.ts";
export { ConsumerFunction, type ConsumerFunctionProps } from "./consumer-function.ts";
export { ConsumerQueue, type ConsumerQueueProps } from "./consumer-queue.ts";
export {
  Courier,
  type CourierConsumerOverrides,
  type CourierProps,
  type CourierRedriveProps,
  ENVELOPE_ATTRIBUTE_NAMES,
} from "./courier.ts";
export { EncryptedTopic, type EncryptedTopicProps } from "./encrypted-topic.ts";
export { InvalidConstructPropsError } from "./errors.ts";
export { grantSendToEncryptedQueue } from "./grant-send-messages.ts";
export {
  acknowledgeCourierNagFindings,
  acknowledgeNagFindings,
  courierNagAcknowledgements,
  type NagAcknowledgement,
  nagArnToken,
} from "./nag.ts";
export { grantReadPayloadLocation, PayloadBucket, type PayloadBucketProps } from "./payload-bucket.ts";
export {
  RedriveFunction,
  type RedriveFunctionProps,
  type RedrivePair,
  redriveHandlerEntry,
} from "./redrive-function.ts";
export { QuietTenantDwellAlarm, type QuietTenantDwellAlarmProps } from "./tenant-dwell-alarm.ts";
export {
  ARCHIVER_SETTINGS,
  ArchiveBucket,
  type ArchiveBucketProps,
  archiverHandlerEntry,
  TopicArchive,
  type TopicArchiveProps,
} from "./topic-archive.ts";
