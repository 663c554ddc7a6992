/**
 * password-reset-email: emails each reset request its link, in each account's request order (FIFO
 * topic). Dependencies are built once per cold start; the logic is in src/app/password-reset/.
 */
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESClient } from "@aws-sdk/client-ses";
import { defineConsumer, tracedClient } from "@courier-queue/courier";
import { passwordResetEmailConfig } from "../../src/app/password-reset/config.ts";
import { type ResetEvent, sendResetEmail } from "../../src/app/password-reset/reset-email.ts";
import { onceWhereConfigured } from "../../src/app/signup/once-where-configured.ts";
import { verificationKeyFromSecret } from "../../src/app/signup/verification-key.ts";
import { courierTopology } from "../../src/topology.ts";

const config = passwordResetEmailConfig();
// Its calls are the side effects: a span each under the record that caused them (OpenTelemetry).
const ses = tracedClient("password-reset-email", new SESClient({}));
const key = verificationKeyFromSecret(
  new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({}) }),
  config.verificationSecretArn,
);

const sendOnce = onceWhereConfigured("password-reset-email", (message: ResetEvent) =>
  sendResetEmail({ ses, config, key }, message),
);

export const handler = defineConsumer(courierTopology, {
  name: "password-reset-email",
  handle: async (message, ctx) => {
    const sent = await sendOnce(message, ctx);
    ctx.logger.info("password reset email sent", { ...sent, messageGroupId: ctx.messageGroupId });
  },
});
