/**
 * Typed failures of the sign-up consumers. Those that extend `PermanentError` dead-letter the
 * record at once (retrying cannot help); `RetryableError` ones say explicitly that a later try may
 * succeed. The class name lands in the DLQ's failure reason, so it should say what happened.
 */
import { PermanentError, RetryableError } from "@courier-queue/courier";

/** SES refused the message for good (MessageRejected, unverified sender domain, bad address). */
export class EmailRejectedError extends PermanentError {
  override readonly name: string = "EmailRejectedError";
}

/**
 * SES errors no retry can fix: the message, the sender's domain or the configuration set is wrong.
 * Throttling and service errors are missing on purpose: they pass, and a later try may succeed.
 */
const PERMANENT_SES_ERRORS: ReadonlySet<string> = new Set([
  "MessageRejected",
  "MailFromDomainNotVerifiedException",
  "ConfigurationSetDoesNotExistException",
  "InvalidParameterValue",
]);

/** What a failed SES send should throw: EmailRejectedError for a permanent refusal, else the error as it came. */
export function sesSendFailure(error: unknown, what: string): unknown {
  if (error instanceof Error && PERMANENT_SES_ERRORS.has(error.name)) {
    return new EmailRejectedError(`SES refused the ${what} (${error.name}): ${error.message}`, {
      cause: error,
    });
  }
  return error;
}

/** SNS refused the SMS for good (invalid or opted-out phone number). */
export class SmsRejectedError extends PermanentError {
  override readonly name: string = "SmsRejectedError";
}

/** verification-sms got a sign-up without a phone; its subscription filter should prevent that. */
export class MissingPhoneError extends PermanentError {
  override readonly name: string = "MissingPhoneError";
}

/**
 * The code this event derives had already expired when the event was processed (it sat in a
 * queue or DLQ for longer than the code's lifetime): sending it would only confuse the user.
 * The account service must issue a new sign-up verification.
 */
export class VerificationExpiredError extends PermanentError {
  override readonly name: string = "VerificationExpiredError";
}

/** The webhook answered with a 4xx other than 429: the request itself is wrong. */
export class WebhookRejectedError extends PermanentError {
  override readonly name: string = "WebhookRejectedError";
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(`webhook rejected the notification with HTTP ${status}${detail ? `: ${detail}` : ""}`);
  }
}

/** The webhook answered 5xx or 429, timed out, or could not be reached: try again later. */
export class WebhookUnavailableError extends RetryableError {
  override readonly name: string = "WebhookUnavailableError";
  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
