/**
 * What a run on LocalStack uses in place of a real deployment's settings: the sender, the link base
 * and the webhook of the laptop's example API (the deployed stack's function environments carry
 * them; `npm start` lays its own API's addresses over them).
 */
import type { DeploySettings } from "./deploy-settings.ts";

export const LOCAL_DEPLOY_SETTINGS: DeploySettings = {
  mailFrom: "courier@example.com",
  verifyUrlBase: "http://127.0.0.1:3000/verify",
  teamWebhookUrl: "http://127.0.0.1:3000/team-webhook",
};

/**
 * The largest publish LocalStack 4.14's SNS takes, whatever a topic's MaximumMessageSize says (it
 * stores a raised value but answers "Message too long" above 256 KiB). Publishers aimed at it pass
 * this as `maxMessageBytesCeiling`, so an offloading topic goes by reference above it.
 */
export const LOCALSTACK_MAX_PUBLISH_BYTES = 262_144;
