// The cold-start peer: the sign-up consumer written with Powertools for AWS Lambda alone, the way
// its documentation writes one (BatchProcessor + processPartialResponse, Logger, Metrics, Tracer
// with a captured SES client) and the same zod schema as courier's NewAccount v1 envelope, imported
// as zod 4's documentation imports it (`import * as z from "zod"`, which lets esbuild leave out what
// is unused, the locales among it).
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { SESClient, SendEmailCommand } from "@aws-sdk/client-ses";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import * as z from "zod";

const logger = new Logger({ serviceName: "verification-email" });
const metrics = new Metrics({ namespace: "peer", serviceName: "verification-email" });
const tracer = new Tracer({ serviceName: "verification-email" });
const ses = tracer.captureAWSv3Client(new SESClient({}));
const processor = new BatchProcessor(EventType.SQS);

const plainText = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((s) => !/[\uD800-\uDFFF]|\p{Cc}|[\u202A-\u202E\u2066-\u2069]/u.test(s), "must be plain text");
const newAccount = z.object({
  eventId: z.uuid(),
  type: z.literal("NewAccount"),
  version: z.literal(1),
  occurredAt: z.iso.datetime({ offset: true }),
  producer: z.string().min(1).max(128),
  data: z.object({
    accountId: plainText(1, 128),
    email: z.email().max(254),
    displayName: plainText(1, 200),
    phone: z
      .string()
      .regex(/^\+[1-9]\d{1,14}$/)
      .optional(),
    locale: z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/),
    createdAt: z.iso.datetime({ offset: true }),
    resendChannel: z.enum(["email", "sms"]).optional(),
  }),
});
const snsNotification = z.object({ Type: z.literal("Notification"), Message: z.string() });

const recordHandler = async (record: SQSRecord) => {
  const message = newAccount.parse(JSON.parse(snsNotification.parse(JSON.parse(record.body)).Message));
  await ses.send(
    new SendEmailCommand({
      Source: "peer@example.com",
      Destination: { ToAddresses: [message.data.email] },
      Message: { Subject: { Data: "Verify" }, Body: { Text: { Data: "code" } } },
    }),
  );
  metrics.addMetric("sent", MetricUnit.Count, 1);
  logger.info("verification email sent", { accountId: message.data.accountId });
};

export const handler = async (event: SQSEvent, context: Context) => {
  try {
    return await processPartialResponse(event, recordHandler, processor, { context });
  } finally {
    metrics.publishStoredMetrics();
  }
};
