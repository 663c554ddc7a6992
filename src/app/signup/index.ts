/**
 * The sign-up consumers' logic, and what the API server needs to check a verification code:
 * `verifyCode` with the key from `verificationKeyFromSecret` (the same Secrets Manager secret).
 */
export * from "./config.ts";
export * from "./email-template.ts";
export * from "./errors.ts";
export type { SignupEvent } from "./signup-event.ts";
export * from "./team-notify.ts";
export * from "./verification-code.ts";
export * from "./verification-email.ts";
export * from "./verification-key.ts";
export * from "./verification-sms.ts";
