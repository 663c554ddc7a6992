/**
 * What the example's consumers need beyond what the courier construct grants (their queues, the
 * topology's secrets, the idempotency table): the example's deploy settings, the uploads bucket,
 * SES, SMS and the audit trail. The example's stack grants these on the functions the construct
 * exposes, as any team grants its own; the local run derives the same variables.
 */
import type { SettingName } from "./deploy-settings.ts";

/**
 * A cap on the SMS a consumer sends, per UTC day: the bound on what SMS pumping (sign-ups with
 * premium-rate numbers) can cost. Over it a message is dead-lettered with reason `sms-rate-limited`.
 */
export interface SmsCapSpec {
  /** Verification SMS to one phone number per UTC day. */
  readonly perNumberPerDay: number;
  /** Verification SMS to one country calling code (1, 44, 234, ...) per UTC day. */
  readonly perCountryPerDay: number;
  /** When set, only these country calling codes (digits, no plus) get SMS. @default every code */
  readonly allowedCountryCodes?: readonly string[];
}

export interface ExampleNeeds {
  /** Deploy settings the function reads from its environment (`DEPLOY_SETTINGS`). */
  readonly settings?: readonly SettingName[];
  /**
   * Key prefixes of the uploads bucket (each ending in "/") the function reads and writes. Read is
   * GetObject and the bucket's List (so a missing key is 404, not 403); write is PutObject.
   */
  readonly uploads?: { readonly read?: readonly string[]; readonly write?: readonly string[] };
  /** Sends email through SES, only as the `mailFrom` setting's address. */
  readonly sendsEmail?: boolean;
  /** Publishes SMS to phone numbers through SNS, and to no topic. */
  readonly sendsSms?: boolean;
  /** Appends to the security audit trail table: its name, and PutItem on it (no read, update or delete). */
  readonly appendsAuditTrail?: boolean;
  /** For an SMS sender: the daily cap (counted in the idempotency table), and an alarm when it is hit. */
  readonly smsCap?: SmsCapSpec;
}
