/**
 * team-notify: posts a summary of each sign-up to the team's chat webhook. Config is parsed once
 * per cold start; the logic lives in src/signup/team-notify.ts.
 */
import { defineConsumer } from "../../src/consumer/index.ts";
import { teamNotifyConfig } from "../../src/signup/config.ts";
import { onceWhereConfigured } from "../../src/signup/once-where-configured.ts";
import type { SignupEvent } from "../../src/signup/signup-event.ts";
import { notifyTeam } from "../../src/signup/team-notify.ts";

// Fails the cold start with a message naming any missing setting.
const config = teamNotifyConfig();

const notifyOnce = onceWhereConfigured("team-notify", (message: SignupEvent) =>
  notifyTeam({ config }, message),
);

export const handler = defineConsumer({
  name: "team-notify",
  handle: async (message, ctx) => {
    const { status } = await notifyOnce(message, ctx);
    ctx.logger.info("team notified", { webhookStatus: status, deduplicated: notifyOnce.deduplicated });
  },
});
