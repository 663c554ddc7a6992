/**
 * verification-sms: texts the confirmation code to sign-ups that gave a phone number. Dependencies
 * are built once per cold start; the logic lives in src/signup/verification-sms.ts.
 */
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SNSClient } from "@aws-sdk/client-sns";
import { verificationSmsConfig } from "../../src/app/signup/config.ts";
import { onceWhereConfigured } from "../../src/app/signup/once-where-configured.ts";
import { type SignupEvent, wantsChannel } from "../../src/app/signup/signup-event.ts";
import { verificationKeyFromSecret } from "../../src/app/signup/verification-key.ts";
import { sendVerificationSms } from "../../src/app/signup/verification-sms.ts";
import { defineConsumer } from "../../src/deployment/define-consumer.ts";

// Fails the cold start with a message naming any missing setting.
const config = verificationSmsConfig();
const sns = new SNSClient({});
const key = verificationKeyFromSecret(
  new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({}) }),
  config.verificationSecretArn,
);

const sendOnce = onceWhereConfigured("verification-sms", async (message: SignupEvent) => {
  const sent = await sendVerificationSms({ sns, key }, message);
  return { snsMessageId: sent.snsMessageId, expiresAt: sent.expiresAt.toISOString() };
});

export const handler = defineConsumer({
  name: "verification-sms",
  handle: async (message, ctx) => {
    // The subscription filter keeps the other channel's re-sends away; this guards a filterless run.
    if (!wantsChannel(message.data, "sms")) return;
    const sent = await sendOnce(message, ctx);
    ctx.logger.info("verification SMS sent", { ...sent, deduplicated: sendOnce.deduplicated });
  },
});
