/**
 * The environment variables the example's handlers read. The courier construct sets the package's
 * own (queue, DLQ, secret ARNs as `<NAME>_SECRET_ARN`, IDEMPOTENCY_TABLE, payload locations); the
 * example's stack adds the rest on the functions it exposes; local workers get the same values
 * from the deployed stack's manifest.
 */
import { RUNTIME_ENV } from "@courier-queue/courier";
import { DEPLOY_SETTINGS } from "./deploy-settings.ts";

export const ENV = {
  ...RUNTIME_ENV,
  /** The topology's "verification" secret, as the construct names its ARN variable. */
  verificationSecretArn: "VERIFICATION_SECRET_ARN",
  mailFrom: DEPLOY_SETTINGS.mailFrom.env,
  verifyUrlBase: DEPLOY_SETTINGS.verifyUrlBase.env,
  teamWebhookUrl: DEPLOY_SETTINGS.teamWebhookUrl.env,
  teamWebhookSecretArn: DEPLOY_SETTINGS.teamWebhookUrl.secretAlternative.env,
  uploadsBucket: "UPLOADS_BUCKET",
  auditTable: "AUDIT_TABLE",
  /** The consumer's `smsCap`, as JSON: what the SMS sender counts against (in the idempotency table). */
  smsCap: "SMS_CAP",
} as const;
