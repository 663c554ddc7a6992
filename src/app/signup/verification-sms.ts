/**
 * verification-sms: sends a new account's phone number its six-digit confirmation code with SNS
 * Publish to the number (no topic: SMS goes straight to the phone).
 */
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { MissingPhoneError, SmsRejectedError, VerificationExpiredError } from "./errors.ts";
import { codeIssuedAt, type SignupEvent } from "./signup-event.ts";
import { phoneCounterId, type SmsCapDeps, takeSmsAllowance } from "./sms-cap.ts";
import { issueSmsCode, VERIFICATION_TTL_SECONDS } from "./verification-code.ts";
import type { VerificationKeySource } from "./verification-key.ts";

export interface VerificationSmsDeps {
  readonly sns: Pick<SNSClient, "send">;
  readonly key: VerificationKeySource;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** The daily cap, counted before each send; without it nothing is capped (no table to count in). */
  readonly cap?: SmsCapDeps;
}

export interface SentVerificationSms {
  readonly snsMessageId: string;
  readonly expiresAt: Date;
}

/** SNS errors that no retry can fix (a malformed or opted-out number). */
const PERMANENT_SNS_ERRORS = new Set([
  "InvalidParameterException",
  "InvalidParameterValueException",
  "OptedOutException",
]);

export function verificationSmsText(code: string): string {
  // Code first: phones show the start of an SMS in the notification and offer to autofill it.
  const hours = Math.round(VERIFICATION_TTL_SECONDS / 3600);
  return `${code} is your courier verification code. It is valid for ${hours} hours. Do not share it.`;
}

export async function sendVerificationSms(
  deps: VerificationSmsDeps,
  event: SignupEvent,
): Promise<SentVerificationSms> {
  const { data } = event;
  if (!data.phone) {
    throw new MissingPhoneError(
      `sign-up ${event.eventId} has no phone number; the verification-sms subscription filter (hasPhone) should have dropped it`,
    );
  }
  const now = deps.now?.() ?? new Date();
  const key = await deps.key();
  const issued = issueSmsCode(key, { accountId: data.accountId, address: data.phone }, codeIssuedAt(data));
  if (issued.expiresAt.getTime() <= now.getTime()) {
    throw new VerificationExpiredError(
      `the SMS code for event ${event.eventId} expired at ${issued.expiresAt.toISOString()}, before it was sent`,
    );
  }
  // Counted before the send: an SMS over the cap is never sent (dead-lettered by the runtime).
  if (deps.cap) await takeSmsAllowance(deps.cap, data.phone, now, phoneCounterId(key.bytes, data.phone));
  try {
    const sent = await deps.sns.send(
      new PublishCommand({
        PhoneNumber: data.phone,
        Message: verificationSmsText(issued.code),
        MessageAttributes: {
          // A verification code is time-critical: Transactional is delivered with priority.
          "AWS.SNS.SMS.SMSType": { DataType: "String", StringValue: "Transactional" },
        },
      }),
    );
    return { snsMessageId: sent.MessageId ?? "", expiresAt: issued.expiresAt };
  } catch (error) {
    // SNS's error text may quote the number; it goes on to a DLQ reason and the logs, so mask it first.
    if (error instanceof Error) error.message = maskPhoneNumbers(error.message, data.phone);
    if (error instanceof Error && PERMANENT_SNS_ERRORS.has(error.name)) {
      throw new SmsRejectedError(`SNS refused the verification SMS (${error.name}): ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * `text` with `phone` (as given, or its digits however they are grouped) and anything else that
 * looks like an international number masked but for its last two digits.
 */
export function maskPhoneNumbers(text: string, phone: string): string {
  const digits = phone.replace(/\D/g, "");
  const mask = (found: string) => {
    const own = found.replace(/\D/g, "");
    return `${"•".repeat(Math.max(0, own.length - 2))}${own.slice(-2)}`;
  };
  // Bounded repetition: linear on any text.
  const masked = text.replace(/\+?\d(?:[\s().-]?\d){6,14}/g, mask);
  return digits.length >= 4 ? masked.split(digits).join(mask(digits)) : masked;
}
