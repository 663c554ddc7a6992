/**
 * team-notify: posts a summary of each sign-up to the team's chat webhook. Config is parsed once
 * per cold start; the webhook URL comes from Secrets Manager (TEAM_WEBHOOK_SECRET_ARN) or, in local
 * runs, from TEAM_WEBHOOK_URL. The logic lives in src/signup/team-notify.ts.
 */
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { defineConsumer, tracedFetch } from "@courier-queue/courier";
import { teamNotifySettings } from "../../src/app/signup/config.ts";
import { onceWhereConfigured } from "../../src/app/signup/once-where-configured.ts";
import type { SignupEvent } from "../../src/app/signup/signup-event.ts";
import { notifyTeam } from "../../src/app/signup/team-notify.ts";
import { webhookUrlSource } from "../../src/app/signup/team-webhook-url.ts";
import { courierTopology } from "../../src/topology.ts";

// Fails the cold start with a message naming any missing setting.
const settings = teamNotifySettings();
const webhookUrl = webhookUrlSource(
  settings,
  () => new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({}) }),
);

// The webhook POST is the side effect: a span under the record that caused it (host only, never the URL).
const fetchTraced = tracedFetch("team-notify");

const notifyOnce = onceWhereConfigured("team-notify", async (message: SignupEvent) =>
  notifyTeam(
    { config: { webhookUrl: await webhookUrl(), timeoutMs: settings.timeoutMs }, fetch: fetchTraced },
    message,
  ),
);

export const handler = defineConsumer(courierTopology, {
  name: "team-notify",
  handle: async (message, ctx) => {
    // A code re-send is not a sign-up; the subscription filter (purpose) keeps it away too.
    if (message.data.resendChannel !== undefined) return;
    const { result, deduplicated } = await notifyOnce(message, ctx);
    ctx.logger.info("team notified", { webhookStatus: result.status, deduplicated });
  },
});
