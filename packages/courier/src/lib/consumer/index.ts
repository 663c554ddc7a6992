export {
  type BackoffSpec,
  backoffCeilingSeconds,
  backoffSeconds,
  MAX_VISIBILITY_TIMEOUT_SECONDS,
} from "./backoff.ts";
export {
  CORRELATION_IDS_METADATA,
  type ConsumerContext,
  type ConsumerHandler,
  type ConsumerHandlerOptions,
  type ConsumerHandlerSettings,
  type ConsumerMetrics,
  type ConsumerRuntimeSpec,
  createConsumerHandler,
  type EnvelopeOf,
  METRIC,
} from "./define-consumer.ts";
export { EMF_MAX_VALUES_PER_METRIC, EmfMetrics, type EmfMetricsOptions } from "./emf-metrics.ts";
export {
  ConsumerConfigError,
  InvalidDataError,
  MalformedBodyError,
  MissingEnvelopeError,
  PermanentError,
  RetryableError,
  UnsupportedMessageError,
} from "./errors.ts";
export * from "./failure-attributes.ts";
export * from "./replay-lineage.ts";
