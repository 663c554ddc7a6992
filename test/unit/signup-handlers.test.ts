/**
 * The thin handlers as Lambda runs them: module imported with the environment the stack sets,
 * then invoked with an SQS event. AWS calls are answered by aws-sdk-client-mock (it patches the
 * client classes, so the handlers' own module-scope clients are covered).
 */

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESClient, SendEmailCommand } from "@aws-sdk/client-ses";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConsumerName } from "../../src/topology.ts";
import { exampleConsumerEnvironment as consumerEnvironment } from "../helpers/example-environment.ts";
import { confirmSqsBatches, sentMessages } from "../helpers/sqs-batch-mock.ts";
import { sqsEvent, sqsRecord } from "../helpers/sqs-record.ts";

const KEY_MATERIAL = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01";
const secrets = mockClient(SecretsManagerClient);
const ses = mockClient(SESClient);
const sns = mockClient(SNSClient);
const sqs = mockClient(SQSClient);
const dynamo = mockClient(DynamoDBClient);

let webhook: Server;
let webhookUrl = "";
let webhookCalls = 0;

beforeAll(async () => {
  webhook = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      webhookCalls += 1;
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, "127.0.0.1", resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  webhook.closeAllConnections();
  await new Promise((resolve) => webhook.close(resolve));
});

const savedEnv = { ...process.env };

beforeEach(() => {
  vi.resetModules();
  for (const mock of [secrets, ses, sns, sqs, dynamo]) mock.reset();
  dynamo.onAnyCommand().resolves({});
  secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY_MATERIAL });
  ses.on(SendEmailCommand).resolves({ MessageId: "ses-1" });
  sns.on(PublishCommand).resolves({ MessageId: "sns-1" });
  sqs.onAnyCommand().resolves({});
  confirmSqsBatches(sqs);
  webhookCalls = 0;
});

afterEach(() => {
  process.env = { ...savedEnv };
});

function useEnvironmentOf(consumer: ConsumerName, idempotencyTable?: string): void {
  const env = consumerEnvironment(
    consumer,
    {
      queueUrl: `http://sqs.local/000000000000/${consumer}`,
      dlqUrl: `http://sqs.local/000000000000/${consumer}-dlq`,
      secretArns: { verification: "arn:aws:secretsmanager:us-east-1:000000000000:secret:verification" },
      uploadsBucket: "uploads",
      ...(idempotencyTable ? { idempotencyTable } : {}),
    },
    {
      mailFrom: "no-reply@courier.example",
      verifyUrlBase: "https://app.example/verify",
      teamWebhookUrl: webhookUrl,
    },
  );
  process.env = { ...savedEnv, AWS_REGION: "us-east-1", ...env };
}

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

async function loadHandler(consumer: ConsumerName): Promise<Handler> {
  const module = (await import(`../../lambdas/${consumer}/handler.ts`)) as { handler: Handler };
  return module.handler;
}

function event(data: Record<string, unknown> = {}): SQSEvent {
  const body = JSON.stringify({
    eventId: crypto.randomUUID(),
    type: "NewAccount",
    version: 1,
    occurredAt: new Date().toISOString(),
    producer: "api-server",
    data: {
      accountId: "acct-1",
      email: "ada@example.com",
      displayName: "Ada",
      phone: "+14155550123",
      locale: "en-GB",
      createdAt: new Date().toISOString(),
      ...data,
    },
  });
  return sqsEvent(sqsRecord(body, { messageId: "msg-1", receiptHandle: "receipt-1", queue: "queue" }));
}

const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

describe("sign-up consumer handlers", () => {
  it("GIVEN verification-email's environment WHEN a sign-up is handled THEN one email is sent and the record succeeds", async () => {
    useEnvironmentOf("verification-email");
    const handler = await loadHandler("verification-email");
    const response = await handler(event(), context);
    expect(response.batchItemFailures).toEqual([]);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
  });

  it("GIVEN an idempotency table WHEN a sign-up is handled THEN the email is recorded under a verification-email key", async () => {
    // Failure mode: the deployed function ignores its table and mails again on every redelivery.
    useEnvironmentOf("verification-email", "courier-idempotency");
    const handler = await loadHandler("verification-email");
    const response = await handler(event(), context);
    expect(response.batchItemFailures).toEqual([]);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
    const put = dynamo.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(put?.TableName).toBe("courier-idempotency");
    expect(put?.Item?.id?.S).toMatch(/^courier\.verification-email#/);
  });

  it("GIVEN two invocations of one instance WHEN handled THEN the secret is read once", async () => {
    // Failure mode: the key is fetched per record instead of once per cold start.
    useEnvironmentOf("verification-sms");
    const handler = await loadHandler("verification-sms");
    await handler(event(), context);
    await handler(event(), context);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it("GIVEN verification-sms gets a sign-up without a phone WHEN handled THEN it is dead-lettered at once", async () => {
    useEnvironmentOf("verification-sms");
    const handler = await loadHandler("verification-sms");
    const response = await handler(event({ phone: undefined }), context);
    // Acknowledged (not a batch failure) because it went to the DLQ with its reason.
    expect(response.batchItemFailures).toEqual([]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    const dlqSend = sentMessages(sqs)[0];
    expect(dlqSend?.QueueUrl).toBe("http://sqs.local/000000000000/verification-sms-dlq");
    expect(dlqSend?.MessageAttributes?.["courier.failure"]?.StringValue).toContain("MissingPhoneError");
  });

  it("GIVEN team-notify's environment WHEN a sign-up is handled THEN the webhook is called once", async () => {
    useEnvironmentOf("team-notify");
    const handler = await loadHandler("team-notify");
    const response = await handler(event(), context);
    expect(response.batchItemFailures).toEqual([]);
    expect(webhookCalls).toBe(1);
  });

  it("GIVEN MAIL_FROM is missing WHEN verification-email's module loads THEN the cold start fails naming MAIL_FROM", async () => {
    // Failure mode: a misdeployed function starts and then fails every record with an unrelated error.
    useEnvironmentOf("verification-email");
    delete process.env.MAIL_FROM;
    await expect(loadHandler("verification-email")).rejects.toThrow(/MAIL_FROM is not set/);
  });

  it("GIVEN TEAM_WEBHOOK_URL is missing WHEN team-notify's module loads THEN the cold start fails naming it", async () => {
    useEnvironmentOf("team-notify");
    delete process.env.TEAM_WEBHOOK_URL;
    await expect(loadHandler("team-notify")).rejects.toThrow(/TEAM_WEBHOOK_URL is not set/);
  });
});
