/**
 * What a run on LocalStack uses in place of a real deployment's settings: the sender, the link base
 * and the webhook of the laptop's example API, and the name of the idempotency table a local
 * DynamoDB-API server holds (the stack's own table is not deployed there).
 */
import type { DeploySettings } from "./consumer-environment.ts";

export const LOCAL_DEPLOY_SETTINGS: DeploySettings = {
  mailFrom: "courier@example.com",
  verifyUrlBase: "http://127.0.0.1:3000/verify",
  teamWebhookUrl: "http://127.0.0.1:3000/team-webhook",
};

export function localIdempotencyTableName(stackName: string): string {
  return `${stackName}-idempotency`;
}
