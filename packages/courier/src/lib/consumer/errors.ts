/**
 * Failure classes a consumer's handler (and the runtime itself) can raise. The runtime decides
 * what happens to a record by class: a `PermanentError` goes to the DLQ at once with its reason,
 * anything else is retried with backoff until the last allowed receive.
 */
import { ConfigError } from "../config.ts";

/** Retrying cannot help (the input is permanently rejected): dead-letter the record now. */
export class PermanentError extends Error {
  override readonly name: string = "PermanentError";
}

/**
 * Retry this record later. Any error that is not a `PermanentError` is retried anyway; throwing
 * this one only says so explicitly (e.g. a downstream 5xx or timeout).
 */
export class RetryableError extends Error {
  override readonly name: string = "RetryableError";
}

/** The body is not JSON (or an SNS notification whose Message is not JSON). */
export class MalformedBodyError extends PermanentError {
  override readonly name: string = "MalformedBodyError";
}

/** The body is JSON but not a courier envelope (eventId, type, version, occurredAt, producer, data). */
export class MissingEnvelopeError extends PermanentError {
  override readonly name: string = "MissingEnvelopeError";
}

/** The envelope names a type and version this consumer's topic does not accept. */
export class UnsupportedMessageError extends PermanentError {
  override readonly name: string = "UnsupportedMessageError";
}

/** The envelope's data does not satisfy the contract for its type and version. */
export class InvalidDataError extends PermanentError {
  override readonly name: string = "InvalidDataError";
}

/** A setting the runtime needs is missing or malformed; names the environment variable. */
export class ConsumerConfigError extends ConfigError {
  override readonly name: string = "ConsumerConfigError";
}
