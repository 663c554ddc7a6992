/**
 * Broadcast on LocalStack: a deployed copy of the stack, sign-ups published with the producer
 * library, and the three sign-up consumers' real handler modules run through the local event
 * source, each in a worker thread with its own function environment. Effects are read back from
 * LocalStack's SES and SMS stores and from a test webhook server; no mocks.
 *
 * Failure modes covered: a consumer that misses a sign-up or acts on it twice; an email whose link
 * the API server cannot verify (wrong key, wrong binding); an SMS code that does not verify; an
 * SMS sent to a sign-up without a phone (filter policy not honoured); a webhook never called or
 * called twice; handlers that fail on the real SDK calls (SES sender identity, SNS SMS).
 */

import { randomInt, randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESClient, VerifyEmailIdentityCommand } from "@aws-sdk/client-ses";
import { SNSClient } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeployedTopology } from "../../packages/courier/src/deployment/deployed-topology.ts";
import type { NewAccountV1 } from "../../src/app/contracts/index.ts";
import { keyFromSecretValue, type VerificationKey, verifyCode } from "../../src/app/signup/index.ts";
import { localClientConfig, localEndpoint } from "../../src/dev/local-aws-config.ts";
import { type ConsumerName, type TopicName, topicNames } from "../../src/topology.ts";
import { exampleConsumerEnvironment as consumerEnvironment } from "../helpers/example-environment.ts";
import { createPublisher, type Publisher } from "../helpers/example-publisher.ts";
import { consumerOf, topicOf, uploadsBucketOf, verificationSecretArnOf } from "../helpers/example-stack.ts";
import type { BroadcastWorkerMessage } from "./broadcast-worker.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const SIGNUP_CONSUMERS = [
  "verification-email",
  "verification-sms",
  "team-notify",
] as const satisfies readonly ConsumerName[];
type SignupConsumer = (typeof SIGNUP_CONSUMERS)[number];

/** Generous: LocalStack and three pollers on two busy cores. */
const DEADLINE_MS = 90_000;
const ABSENCE_GRACE_MS = 3_000;
const run = randomUUID().slice(0, 8);
const endpoint = localEndpoint();
const clientConfig = localClientConfig();
const sqs = new SQSClient(clientConfig);

// ---- the test webhook -------------------------------------------------------------------------

interface WebhookCall {
  readonly headers: IncomingHttpHeaders;
  readonly body: { eventId?: string; text?: string; account?: Record<string, unknown> };
}
const webhookCalls: WebhookCall[] = [];
let webhook: Server;

async function startWebhook(): Promise<string> {
  webhook = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      webhookCalls.push({ headers: req.headers, body: JSON.parse(body || "{}") });
      res.setHeader("content-type", "application/json");
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hooks/broadcast-${run}`;
}

// ---- the consumers, one worker thread each ---------------------------------------------------

interface ConsumerWorker {
  readonly worker: Worker;
  readonly succeeded: () => number;
  readonly received: () => number;
  /** eventIds of every record handed to the handler, redeliveries included. */
  readonly eventIds: string[];
  readonly errors: string[];
  stop(): Promise<void>;
}
const workers = new Map<SignupConsumer, ConsumerWorker>();

function startConsumer(consumer: SignupConsumer, env: Record<string, string>): Promise<ConsumerWorker> {
  const entry = new URL("./broadcast-worker.ts", import.meta.url).href;
  // Worker threads do not inherit the TypeScript loader: register tsx in the thread, then load.
  const bootstrap = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(bootstrap, { eval: true, env, workerData: { consumer } });
  let succeeded = 0;
  let received = 0;
  const errors: string[] = [];
  const eventIds: string[] = [];
  let onStopped: (() => void) | undefined;
  return new Promise((resolve, reject) => {
    worker.on("error", reject);
    worker.on("message", (message: BroadcastWorkerMessage) => {
      if (message.kind === "batch") {
        received += message.records;
        succeeded += message.succeeded;
      } else if (message.kind === "invoked") {
        eventIds.push(...message.eventIds);
      } else if (message.kind === "error") {
        errors.push(`${message.during}: ${message.message}`);
      } else if (message.kind === "stopped") {
        onStopped?.();
      } else if (message.kind === "started") {
        resolve({
          worker,
          succeeded: () => succeeded,
          received: () => received,
          eventIds,
          errors,
          // Resolves on "stopped", or on exit should the worker have died, so teardown never hangs.
          stop: () =>
            new Promise<void>((stopped) => {
              onStopped = stopped;
              worker.once("exit", () => stopped());
              worker.postMessage("stop");
            }).then(() => worker.terminate().then(() => undefined)),
        });
      }
    });
  });
}

// ---- LocalStack's records of what was sent ----------------------------------------------------

interface SentEmail {
  readonly Destination: { readonly ToAddresses?: string[] };
  readonly Source: string;
  readonly Subject: string;
  readonly Body: { readonly text_part?: string; readonly html_part?: string };
}

async function emailsTo(address: string): Promise<SentEmail[]> {
  const response = await fetch(`${endpoint}/_aws/ses`);
  const { messages } = (await response.json()) as { messages: SentEmail[] };
  return messages.filter((m) => m.Destination.ToAddresses?.includes(address));
}

interface SentSms {
  readonly PhoneNumber: string;
  readonly Message: string;
}

async function smsTo(phone: string): Promise<SentSms[]> {
  const response = await fetch(`${endpoint}/_aws/sns/sms-messages?phoneNumber=${encodeURIComponent(phone)}`);
  const { sms_messages } = (await response.json()) as { sms_messages: Record<string, SentSms[]> };
  return sms_messages[phone] ?? [];
}

/** Polls until `check` holds; the deadline is generous, so no pass or fail hangs on timing. */
async function eventually(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(250);
  }
}

async function queueDepth(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/**
 * Each of `consumers` has handed `eventId` to its handler and all three queues are empty: nothing
 * in flight or waiting for a retry, so the counts read afterwards are final.
 */
async function settled(eventId: string, consumers: readonly SignupConsumer[]): Promise<boolean> {
  for (const consumer of consumers) {
    if (!workers.get(consumer)?.eventIds.includes(eventId)) return false;
  }
  for (const consumer of SIGNUP_CONSUMERS) {
    if ((await queueDepth(consumerOf(topology, consumer).queueUrl)) > 0) return false;
  }
  return true;
}

function deliveries(consumer: SignupConsumer, eventId: string): number {
  return workers.get(consumer)?.eventIds.filter((id) => id === eventId).length ?? 0;
}

// ---- setup ------------------------------------------------------------------------------------

let stack: TestStack | undefined;
let topology: DeployedTopology;
let publisher: Publisher;
let key: VerificationKey;
const mailFrom = `courier-${run}@courier.example`;
const verifyUrlBase = "https://app.courier.example/verify";

beforeAll(async () => {
  stack = await deployTestStack("broadcast");
  topology = stack.topology;
  const teamWebhookUrl = await startWebhook();
  // LocalStack's SES, like SES in its sandbox, refuses to send from an unverified identity.
  await new SESClient(clientConfig).send(new VerifyEmailIdentityCommand({ EmailAddress: mailFrom }));
  const secret = await new SecretsManagerClient(clientConfig).send(
    new GetSecretValueCommand({ SecretId: verificationSecretArnOf(topology) }),
  );
  // The API server's view: the same secret, read independently of the consumers.
  key = keyFromSecretValue(secret.SecretString ?? secret.SecretBinary ?? "");

  const localAws = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: clientConfig.region,
    AWS_ACCESS_KEY_ID: clientConfig.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: clientConfig.credentials.secretAccessKey,
  };
  const started = await Promise.all(
    SIGNUP_CONSUMERS.map(async (consumer) => {
      const c = consumerOf(topology, consumer);
      const env = {
        ...(process.env as Record<string, string>),
        ...localAws,
        // Keep the workers' structured logs out of the test output; failures arrive as messages.
        POWERTOOLS_LOG_LEVEL: "SILENT",
        POWERTOOLS_METRICS_DISABLED: "true",
        ...consumerEnvironment(
          consumer,
          {
            queueUrl: c.queueUrl,
            dlqUrl: c.dlqUrl,
            secretArns: topology.secretArns,
            uploadsBucket: uploadsBucketOf(topology),
          },
          { mailFrom, verifyUrlBase, teamWebhookUrl },
        ),
      };
      return [consumer, await startConsumer(consumer, env)] as const;
    }),
  );
  for (const [consumer, w] of started) workers.set(consumer, w);
  publisher = createPublisher({
    sns: new SNSClient(clientConfig),
    topicArns: Object.fromEntries(topicNames.map((t) => [t, topicOf(topology, t).arn])) as Record<
      TopicName,
      string
    >,
    producer: "broadcast-test",
  });
});

afterAll(async () => {
  await Promise.all([...workers.values()].map((w) => w.stop()));
  if (webhook) {
    webhook.closeAllConnections();
    await new Promise((resolve) => webhook.close(resolve));
  }
  await stack?.cleanup();
});

function signup(overrides: Partial<NewAccountV1> = {}): NewAccountV1 {
  const id = randomUUID().slice(0, 8);
  return {
    accountId: `acc_${id}`,
    email: `user-${id}@example.com`,
    displayName: "Grace Hopper",
    locale: "en-US",
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

/** A number no other test uses, so LocalStack's SMS store holds only this test's messages for it. */
function uniquePhone(): string {
  return `+1${randomInt(200, 999)}${String(randomInt(0, 10_000_000)).padStart(7, "0")}`;
}

function dlqDepths(): Promise<number[]> {
  return Promise.all(SIGNUP_CONSUMERS.map((c) => queueDepth(consumerOf(topology, c).dlqUrl)));
}

// ---- tests ------------------------------------------------------------------------------------

describe("broadcast: one sign-up, three consumers", () => {
  it("GIVEN a sign-up with a phone WHEN published THEN exactly one email whose link verifies, one SMS whose code verifies and one webhook call", async () => {
    const data = signup({ phone: uniquePhone() });
    const { eventId } = await publisher.publish("account-signups", data);

    await eventually("each consumer handled the sign-up", () => settled(eventId, SIGNUP_CONSUMERS));

    for (const consumer of SIGNUP_CONSUMERS) {
      expect(deliveries(consumer, eventId), `${consumer} received ${workers.get(consumer)?.eventIds}`).toBe(
        1,
      );
    }
    const emails = await emailsTo(data.email);
    expect(emails).toHaveLength(1);
    expect(emails[0]?.Source).toBe(mailFrom);
    const link = new URL(/https:\/\/\S+/.exec(emails[0]?.Body.text_part ?? "")?.[0] ?? "https://missing/");
    expect(link.searchParams.get("accountId")).toBe(data.accountId);
    const emailCheck = verifyCode(key, {
      channel: "email",
      accountId: data.accountId,
      email: data.email,
      token: link.searchParams.get("token") ?? "",
    });
    expect(emailCheck.status).toBe("valid");

    const texts = await smsTo(data.phone ?? "");
    expect(texts).toHaveLength(1);
    const code = /\b(\d{6})\b/.exec(texts[0]?.Message ?? "")?.[1] ?? "";
    const smsCheck = verifyCode(key, {
      channel: "sms",
      accountId: data.accountId,
      phone: data.phone ?? "",
      code,
      issuedAt: data.createdAt,
    });
    expect(smsCheck.status).toBe("valid");

    const calls = webhookCalls.filter((c) => c.body.eventId === eventId);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.headers["idempotency-key"]).toBe(eventId);
    expect(JSON.stringify(calls[0]?.body)).not.toContain(data.email);

    expect(await dlqDepths()).toEqual([0, 0, 0]);
    for (const w of workers.values()) expect(w.errors).toEqual([]);
  });

  it("GIVEN a sign-up without a phone WHEN published THEN one email and one webhook call, and verification-sms never sees it", async () => {
    const data = signup();
    const { eventId } = await publisher.publish("account-signups", data);

    await eventually("email and team-notify handled the sign-up", () =>
      settled(eventId, ["verification-email", "team-notify"]),
    );
    // SNS delivers to all three subscriptions at once; a short grace period lets a delivery the
    // filter should have dropped show up. It can only hide a failure, never cause one.
    await sleep(ABSENCE_GRACE_MS);

    expect(deliveries("verification-email", eventId)).toBe(1);
    expect(deliveries("team-notify", eventId)).toBe(1);
    expect(await emailsTo(data.email)).toHaveLength(1);
    expect(webhookCalls.filter((c) => c.body.eventId === eventId)).toHaveLength(1);
    // The SMS queue is this stack copy's own: the filter policy must keep the sign-up out of it.
    const smsReceived = `verification-sms received ${workers.get("verification-sms")?.eventIds}`;
    expect(deliveries("verification-sms", eventId), smsReceived).toBe(0);
    expect(await queueDepth(consumerOf(topology, "verification-sms").queueUrl)).toBe(0);
    expect(await dlqDepths()).toEqual([0, 0, 0]);
  });
});
