/**
 * The CDK app: reads per-deployment settings from CDK context (`-c mailFrom=... -c verifyUrlBase=...
 * -c teamWebhookSecretArn=... (or -c teamWebhookUrl=...) -c stackName=...`), instantiates the stack and registers the cdk-nag checks.
 */
import { App } from "aws-cdk-lib";
import type { DeploySettings } from "../src/app/deployment/deploy-settings.ts";
import { DEFAULT_STACK_NAME } from "../src/app/deployment/example-outputs.ts";
import { alarmNotificationsFromContext } from "./alarm-context.ts";
import { acknowledgeExampleNagFindings, addNagChecks } from "./nag-suppressions.ts";
import { CourierStack } from "./stacks/courier-stack.ts";

/** Placeholders that synthesize anywhere; a real deployment passes its own through context. */
const DEFAULT_SETTINGS: DeploySettings = {
  mailFrom: "courier@example.com",
  verifyUrlBase: "https://example.com/verify",
  teamWebhookUrl: "https://hooks.example.com/courier",
};

const app = new App();

function setting(key: string, fallback: string): string {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === "string" && value.length > 0 ? value : fallback;
}

const settings: DeploySettings = {
  mailFrom: setting("mailFrom", DEFAULT_SETTINGS.mailFrom),
  verifyUrlBase: setting("verifyUrlBase", DEFAULT_SETTINGS.verifyUrlBase),
  teamWebhookUrl: setting("teamWebhookUrl", DEFAULT_SETTINGS.teamWebhookUrl),
  // Preferred in AWS: the webhook URL stays in Secrets Manager and out of the template.
  ...(setting("teamWebhookSecretArn", "")
    ? { teamWebhookSecretArn: setting("teamWebhookSecretArn", "") }
    : {}),
};

const stack = new CourierStack(app, setting("stackName", DEFAULT_STACK_NAME), {
  settings,
  // -c alarmEmail=ops@example.com[,oncall@example.com] -c alarmHttpsEndpoint=https://... -c alarmTopicArn=arn:...
  alarmNotifications: alarmNotificationsFromContext((key) => app.node.tryGetContext(key)),
});

// cdk-nag's AwsSolutions pack: synth fails on any finding not fixed or acknowledged with a reason.
// The Courier construct acknowledges its own; these are the example's.
addNagChecks(app);
acknowledgeExampleNagFindings(stack);
