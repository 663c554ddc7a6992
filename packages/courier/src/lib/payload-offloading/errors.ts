/**
 * Why an offloaded payload could not be resolved. Each is permanent (the pointer or the object is
 * wrong, and a retry reads the same): the runtime dead-letters the message with the reason, the
 * pointer untouched, so it can be redriven once the cause is fixed.
 */
import { PermanentError } from "../consumer/errors.ts";

/** The body is not a PayloadS3Pointer, or the size attribute is not a number. */
export class MalformedPointerError extends PermanentError {
  override readonly name: string = "MalformedPointerError";
}

/** The pointer names a bucket (or a key outside the prefix) this consumer may not read from: no read. */
export class PayloadLocationRefusedError extends PermanentError {
  override readonly name: string = "PayloadLocationRefusedError";
}

/** The payload is larger than the consumer's cap (declared or actual): not read, or read no further. */
export class PayloadTooLargeError extends PermanentError {
  override readonly name: string = "PayloadTooLargeError";
}

/** The object's size differs from the size the message declares (a replaced or truncated object). */
export class PayloadSizeMismatchError extends PermanentError {
  override readonly name: string = "PayloadSizeMismatchError";
}

/** The object is gone (expired by the lifecycle rule, deleted, never written). */
export class PayloadMissingError extends PermanentError {
  override readonly name: string = "PayloadMissingError";
}
