/**
 * What a run on LocalStack uses in place of a real deployment's settings: the sender, the link base
 * and the webhook of the laptop's example API, and the name of the idempotency table a local
 * DynamoDB-API server holds (the stack's own table is not deployed there).
 */
import type { DeploySettings } from "../../../packages/courier/src/deployment/consumer-environment.ts";

export const LOCAL_DEPLOY_SETTINGS: DeploySettings = {
  mailFrom: "courier@example.com",
  verifyUrlBase: "http://127.0.0.1:3000/verify",
  teamWebhookUrl: "http://127.0.0.1:3000/team-webhook",
};

/**
 * The settings `courier work --local` may assume when the environment has none: only values that
 * really work there (the example API's sender and link base). No team webhook: nothing listens at
 * a guessed address, and a consumer started against one fails every record; without
 * TEAM_WEBHOOK_URL team-notify is not started (npm start supplies its own sink).
 */
export const LOCAL_WORKER_DEFAULTS: Partial<DeploySettings> = {
  mailFrom: LOCAL_DEPLOY_SETTINGS.mailFrom,
  verifyUrlBase: LOCAL_DEPLOY_SETTINGS.verifyUrlBase,
};

/**
 * The largest publish LocalStack 4.14's SNS takes, whatever a topic's MaximumMessageSize says (it
 * stores a raised value but answers "Message too long" above 256 KiB). Publishers aimed at it pass
 * this as `maxMessageBytesCeiling`, so an offloading topic goes by reference above it.
 */
export const LOCALSTACK_MAX_PUBLISH_BYTES = 262_144;

export function localIdempotencyTableName(stackName: string): string {
  return `${stackName}-idempotency`;
}

export function localAuditTableName(stackName: string): string {
  return `${stackName}-audit`;
}
