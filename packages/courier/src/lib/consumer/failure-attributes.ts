/**
 * Message attributes courier adds to a message. SQS allows 10 attributes per message and SNS
 * raw delivery already carries the contract's (type, version, filter fields), so each concern is
 * one JSON-valued attribute rather than one attribute per field.
 */

/** Set by the consumer runtime when it dead-letters a message: why it failed. */
export const FAILURE_ATTRIBUTE = "courier.failure";

export interface FailureReason {
  /** Error class name, e.g. "PermanentError", "ZodError", "TimeoutError". */
  readonly errorClass: string;
  /** The error message, truncated to keep the attribute small. */
  readonly message: string;
  readonly consumer: string;
  /** ApproximateReceiveCount when the runtime gave up. */
  readonly receiveCount: number;
  /** ISO time of the failure. */
  readonly failedAt: string;
  /**
   * "permanent": retrying cannot help; "exhausted": the last allowed receive failed;
   * "tenant-quarantined": its tenant is quarantined on this consumer (`courier tenant quarantine`).
   */
  readonly kind: "permanent" | "exhausted" | "tenant-quarantined";
  /** The SQS MessageId of the failed delivery. */
  readonly messageId: string;
}

/** Set by redrive: where the message came from and how often it was moved back. */
export const LINEAGE_ATTRIBUTE = "courier.lineage";

export interface Lineage {
  /** MessageId the message had when it was first dead-lettered. */
  readonly originalMessageId: string;
  readonly redriveCount: number;
  readonly lastRedriveAt: string;
}

export const FAILURE_MESSAGE_MAX_CHARS = 512;
