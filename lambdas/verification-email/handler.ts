/**
 * verification-email: emails each new account a link that confirms its address. Dependencies are
 * built once per cold start; the logic lives in src/signup/verification-email.ts.
 */
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESClient } from "@aws-sdk/client-ses";
import { defineConsumer, tracedClient } from "@courier-queue/courier";
import { verificationEmailConfig } from "../../src/app/signup/config.ts";
import { onceWhereConfigured } from "../../src/app/signup/once-where-configured.ts";
import { type SignupEvent, wantsChannel } from "../../src/app/signup/signup-event.ts";
import { sendVerificationEmail } from "../../src/app/signup/verification-email.ts";
import { verificationKeyFromSecret } from "../../src/app/signup/verification-key.ts";
import { courierTopology } from "../../src/topology.ts";

// Fails the cold start with a message naming any missing setting.
const config = verificationEmailConfig();
// Its calls are the side effects: a span each under the record that caused them (OpenTelemetry).
const ses = tracedClient("verification-email", new SESClient({}));
const key = verificationKeyFromSecret(
  new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({}) }),
  config.verificationSecretArn,
);

const sendOnce = onceWhereConfigured("verification-email", async (message: SignupEvent) => {
  const sent = await sendVerificationEmail({ ses, config, key }, message);
  return {
    sesMessageId: sent.sesMessageId,
    language: sent.language,
    expiresAt: sent.expiresAt.toISOString(),
  };
});

export const handler = defineConsumer(courierTopology, {
  name: "verification-email",
  handle: async (message, ctx) => {
    // The subscription filter keeps the other channel's re-sends away; this guards a filterless run.
    if (!wantsChannel(message.data, "email")) return;
    const { result, deduplicated } = await sendOnce(message, ctx);
    ctx.logger.info("verification email sent", { ...result, deduplicated });
  },
});
