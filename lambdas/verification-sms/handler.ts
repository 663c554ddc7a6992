/**
 * verification-sms: texts the confirmation code to sign-ups that gave a phone number. Dependencies
 * are built once per cold start; the logic lives in src/signup/verification-sms.ts.
 */

import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SNSClient } from "@aws-sdk/client-sns";
import { defineConsumer, tracedClient } from "@courier-queue/courier";
import { verificationSmsConfig } from "../../src/app/signup/config.ts";
import { onceWhereConfigured } from "../../src/app/signup/once-where-configured.ts";
import { type SignupEvent, wantsChannel } from "../../src/app/signup/signup-event.ts";
import { SMS_CAP_METRIC, smsCapFromEnv } from "../../src/app/signup/sms-cap.ts";
import { verificationKeyFromSecret } from "../../src/app/signup/verification-key.ts";
import { sendVerificationSms } from "../../src/app/signup/verification-sms.ts";
import { courierTopology } from "../../src/topology.ts";

// Fails the cold start with a message naming any missing setting.
const config = verificationSmsConfig();
// Its calls are the side effects: a span each under the record that caused them (OpenTelemetry).
const sns = tracedClient("verification-sms", new SNSClient({}));
const key = verificationKeyFromSecret(
  new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({}) }),
  config.verificationSecretArn,
);

// The daily cap from the topology, counted in the idempotency table; each refusal is a metric the
// stack's alarm watches.
const metrics = new Metrics({ namespace: "courier", serviceName: "verification-sms" });
const cap = smsCapFromEnv(new DynamoDBClient({}), {
  onRefused: () => {
    metrics.addMetric(SMS_CAP_METRIC, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  },
});

const sendOnce = onceWhereConfigured("verification-sms", async (message: SignupEvent) => {
  const sent = await sendVerificationSms({ sns, key, ...(cap ? { cap } : {}) }, message);
  return { snsMessageId: sent.snsMessageId, expiresAt: sent.expiresAt.toISOString() };
});

export const handler = defineConsumer(courierTopology, {
  name: "verification-sms",
  handle: async (message, ctx) => {
    // The subscription filter keeps the other channel's re-sends away; this guards a filterless run.
    if (!wantsChannel(message.data, "sms")) return;
    const { result, deduplicated } = await sendOnce(message, ctx);
    ctx.logger.info("verification SMS sent", { ...result, deduplicated });
  },
});
