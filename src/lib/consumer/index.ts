export { backoffCeilingSeconds, backoffSeconds, MAX_VISIBILITY_TIMEOUT_SECONDS } from "./backoff.ts";
export {
  type AcceptedContract,
  type ConsumerContext,
  type ConsumerHandler,
  type ConsumerMessage,
  type ConsumerMetrics,
  type ConsumerOptions,
  defineConsumer,
  METRIC,
} from "./define-consumer.ts";
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
