/**
 * Replay on LocalStack: sign-ups published to the deployed stack, archived by the `archive:<topic>`
 * worker, replayed to one consumer's queue by the library and by `courier replay` as an operator
 * runs it. Failure modes covered: a replay reaching other consumers (sent to the topic, not the
 * queue); messages the consumer's filter never accepted sent to it; a dry run that sends; counts
 * by type and day wrong; a resumed replay sending twice or skipping; --reprocess not re-running
 * completed work, or running it twice within one run; replay without --reprocess re-running work
 * (idempotency bypassed); a consumer added after the publishes not back-filled.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import type { Message } from "@aws-sdk/client-sqs";
import type { SQSMessageAttributes } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CourierStack } from "../../cdk/stacks/courier-stack.ts";
import { localTarget } from "../../packages/courier/src/deployment/aws-target.ts";
import type { DeployedTopology } from "../../packages/courier/src/deployment/deployed-topology.ts";
import { replaySourcesOf } from "../../packages/courier/src/deployment/replay-target.ts";
import { readWindow } from "../../packages/courier/src/lib/archive/archive-store.ts";
import { REPLAY_ATTRIBUTE, replayLineageOf } from "../../packages/courier/src/lib/consumer/replay-lineage.ts";
import {
  IDEMPOTENCY_PARTITION_KEY,
  IDEMPOTENCY_TTL_ATTRIBUTE,
  oncePerEvent,
} from "../../packages/courier/src/lib/idempotency/once-per-event.ts";
import { planReplay, replay } from "../../packages/courier/src/lib/replay/replay.ts";
import { sqsClient } from "../../packages/courier/src/lib/sqs-client.ts";
import { defineConsumer } from "../../packages/courier/src/topology/define-consumer.ts";
import type { TopologySpec } from "../../packages/courier/src/topology/topology.ts";
import { startWorkers } from "../../packages/courier/src/worker/start.ts";
import type { WorkerPool } from "../../packages/courier/src/worker/worker.ts";
import { workerTarget } from "../../packages/courier/src/worker/worker-target.ts";
import { LOCAL_DEPLOY_SETTINGS } from "../../src/app/deployment/local-run.ts";
import { deployToLocalStack } from "../../src/dev/deploy.ts";
import { ensureIdempotencyTable, ensureLocalDynamo, type LocalDynamo } from "../../src/dev/dynamodb-local.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { courierTopology, type TopicName, topicNames } from "../../src/topology.ts";
import { createPublisher, type Publisher } from "../helpers/example-publisher.ts";
import { topicOf } from "../helpers/example-stack.ts";
import { sqsRecord } from "../helpers/sqs-record.ts";
import { drainQueue } from "./redrive-support.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const SIGNUP_CONSUMERS = ["verification-email", "verification-sms", "team-notify"] as const;
let stack: TestStack;
let topology: DeployedTopology;
let publisher: Publisher;
let workers: WorkerPool;
let dynamo: LocalDynamo;
const s3 = new S3Client(localClientConfig());
const sqs = sqsClient(localClientConfig());
const started = new Date(Date.now() - 1_000);
const idempotencyTable = `replay-idempotency-${randomUUID().slice(0, 8)}`;

interface Published {
  readonly eventId: string;
  readonly hasPhone: boolean;
  readonly purpose: string;
}
const published: Published[] = [];

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function courier(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["bin/courier.mjs", ...args, "--stack", topology.stackName, "--local"],
      { cwd: repoRoot, env: { ...process.env, AWS_ENDPOINT_URL: inject("localstackEndpoint") } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const eventIdOf = (m: Message) => (JSON.parse(m.Body ?? "{}") as { eventId?: string }).eventId;
const queueOf = (consumer: string) => topology.consumers[consumer]?.queueUrl as string;

beforeAll(async () => {
  stack = await deployTestStack("replay");
  topology = stack.topology;
  dynamo = await ensureLocalDynamo();
  await ensureIdempotencyTable(dynamo.endpoint, idempotencyTable);
  publisher = createPublisher({
    sns: new SNSClient(localClientConfig()),
    topicArns: Object.fromEntries(topicNames.map((t) => [t, topicOf(topology, t).arn])) as Record<
      TopicName,
      string
    >,
    producer: "replay-test",
  });
  workers = startWorkers({
    topology,
    consumers: ["archive:account-signups"],
    target: workerTarget(localTarget({ ...process.env, AWS_ENDPOINT_URL: inject("localstackEndpoint") })),
    waitTimeSeconds: 1,
  });
  // 25 sign-ups: every third with a phone (verification-sms), every fifth an email re-send.
  for (let i = 0; i < 25; i++) {
    const id = randomUUID().slice(0, 8);
    const resend = i % 5 === 4;
    const data = {
      accountId: `acc_${id}`,
      email: `${id}@example.com`,
      displayName: "Replay Test",
      locale: "en-GB",
      createdAt: new Date().toISOString(),
      ...(i % 3 === 0 ? { phone: "+14155550123" } : {}),
      ...(resend ? { resendChannel: "email" as const } : {}),
    };
    const { eventId } = await publisher.publish("account-signups", data);
    published.push({
      eventId,
      hasPhone: i % 3 === 0 && !resend,
      purpose: resend ? "resend-email" : "signup",
    });
  }
  await until(async () => {
    const entries = await readWindow(
      { s3, bucket: topology.manifest.archiveBucket as string, topic: "account-signups" },
      started,
      new Date(Date.now() + 60_000),
    );
    const ids = new Set(entries.map((e) => e.eventId));
    return published.every((p) => ids.has(p.eventId)) ? true : undefined;
  }, "the 25 sign-ups in the archive");
  // What the live publishes delivered is not what these tests look at.
  for (const consumer of SIGNUP_CONSUMERS) await drainQueue(queueOf(consumer));
}, 300_000);

afterAll(async () => {
  await workers?.stop();
  await dynamo?.close();
  await stack?.cleanup();
});

const window = () => ({ from: started, to: new Date(Date.now() + 1_000) });
const withPhone = () =>
  published
    .filter((p) => p.hasPhone)
    .map((p) => p.eventId)
    .sort();
const realSignups = () =>
  published
    .filter((p) => p.purpose === "signup")
    .map((p) => p.eventId)
    .sort();

async function othersSawNothing(except: string): Promise<void> {
  for (const consumer of SIGNUP_CONSUMERS.filter((c) => c !== except)) {
    expect(await drainQueue(queueOf(consumer)), `${consumer} received a replay meant for ${except}`).toEqual(
      [],
    );
  }
}

describe("replay", () => {
  it("GIVEN 25 archived sign-ups WHEN a dry run for verification-sms runs THEN it counts only what its filter accepts, by type and day, and sends nothing", async () => {
    const plan = await planReplay(replaySourcesOf(topology, "verification-sms", s3), window());
    const today = new Date().toISOString().slice(0, 10);
    expect(plan.archived).toBe(25);
    expect(plan.toSend).toBe(withPhone().length);
    expect(plan.filteredOut).toBe(25 - withPhone().length);
    expect(plan.byType).toEqual({ NewAccount: withPhone().length });
    expect(plan.byDay).toEqual({ [today]: withPhone().length });

    const cli = await courier("replay", "verification-sms", "--from", "1h", "--dry-run", "--json");
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ dryRun: true, toSend: withPhone().length, archived: 25 });
    expect(await drainQueue(queueOf("verification-sms"))).toEqual([]);
  });

  it("GIVEN the archive WHEN `courier replay team-notify --yes` runs THEN team-notify's queue gets exactly the real sign-ups with the replay lineage, and no other consumer gets anything", async () => {
    const refused = await courier("replay", "team-notify", "--from", "1h", "--json");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("--dry-run first");

    const cli = await courier("replay", "team-notify", "--from", "1h", "--yes", "--json");
    expect(cli.code, cli.stderr).toBe(0);
    const summary = JSON.parse(cli.stdout) as { runId: string; sent: number; done: boolean };
    expect(summary).toMatchObject({ sent: realSignups().length, done: true });
    const received = await drainQueue(queueOf("team-notify"));
    expect(received.map(eventIdOf).sort()).toEqual(realSignups());
    for (const message of received) {
      const raw = message.MessageAttributes?.[REPLAY_ATTRIBUTE]?.StringValue ?? "";
      expect(JSON.parse(raw)).toMatchObject({ runId: summary.runId, reprocess: false });
      expect(message.MessageAttributes?.purpose?.StringValue).toBe("signup");
    }
    await othersSawNothing("team-notify");
  });

  it("GIVEN a replay stopped after its first batch WHEN it is resumed by run id THEN every message arrives exactly once", async () => {
    const controller = new AbortController();
    const sources = replaySourcesOf(topology, "verification-email", s3);
    const first = await replay({
      ...sources,
      sqs,
      window: window(),
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    expect(first.done).toBe(false);
    expect(first.sent).toBe(10);
    const resumed = await replay({ ...sources, sqs, resume: first.runId });
    expect(resumed.done).toBe(true);
    expect(resumed.alreadySent).toBe(10);
    expect(resumed.sent).toBe(25 - 10);
    const received = (await drainQueue(queueOf("verification-email"))).map(eventIdOf);
    expect(received).toHaveLength(25);
    expect(new Set(received).size).toBe(25);
    await othersSawNothing("verification-email");
  });

  it("GIVEN verification-email completed every sign-up WHEN replayed without --reprocess THEN nothing runs again; with --reprocess it runs once more per run, and a duplicate within the run does not", async () => {
    const { region, credentials } = localClientConfig();
    const runs: string[] = [];
    const once = oncePerEvent(
      async (input: { eventId: string }) => {
        runs.push(input.eventId);
        return "sent";
      },
      {
        persistenceStore: new DynamoDBPersistenceLayer({
          tableName: idempotencyTable,
          keyAttr: IDEMPOTENCY_PARTITION_KEY,
          expiryAttr: IDEMPOTENCY_TTL_ATTRIBUTE,
          awsSdkV3Client: new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials }),
        }),
        consumer: "verification-email",
      },
    );
    const handler = defineConsumer(courierTopology, {
      name: "verification-email",
      handle: async (message) => {
        await once({ eventId: message.eventId });
      },
      sqs,
      queueUrl: queueOf("verification-email"),
      dlqUrl: topology.consumers["verification-email"]?.dlqUrl as string,
      logger: new Logger({ serviceName: "replay-test", logLevel: "SILENT" }),
    });
    const deliver = async (messages: Message[]) => {
      const records = messages.map((m) =>
        sqsRecord(m.Body ?? "", {
          messageAttributes: Object.fromEntries(
            Object.entries(m.MessageAttributes ?? {}).map(([k, a]) => [
              k,
              { dataType: a.DataType ?? "String", stringValue: a.StringValue },
            ]),
          ) as SQSMessageAttributes,
        }),
      );
      const result = await handler({ Records: records }, undefined as never);
      expect(result?.batchItemFailures ?? []).toEqual([]);
    };
    const sources = replaySourcesOf(topology, "verification-email", s3);
    const replayed = async (reprocess: boolean) => {
      await replay({ ...sources, sqs, window: window(), reprocess });
      return drainQueue(queueOf("verification-email"));
    };
    const expected = published.filter((p) => p.purpose !== "resend-sms").length;

    // Live: every sign-up is done once (its messages as a plain delivery: no replay attribute).
    const live = await replayed(false);
    await deliver(live.map((m) => ({ ...m, MessageAttributes: {} })));
    expect(runs).toHaveLength(expected);
    // A recovery replay: the completed events are skipped by the eventId key.
    await deliver(await replayed(false));
    expect(runs).toHaveLength(expected);
    // A reprocessing replay runs each once more, and only once within its run.
    const reprocess = await replayed(true);
    expect(
      replayLineageOf({
        messageAttributes: {
          [REPLAY_ATTRIBUTE]: {
            stringValue: reprocess[0]?.MessageAttributes?.[REPLAY_ATTRIBUTE]?.StringValue,
            dataType: "String",
          },
        } as never,
      })?.reprocess,
    ).toBe(true);
    await deliver(reprocess);
    await deliver(reprocess);
    expect(runs).toHaveLength(2 * expected);
    // A second reprocessing run is a new run: once more.
    await deliver(await replayed(true));
    expect(runs).toHaveLength(3 * expected);
  });

  it("GIVEN a consumer added to the topology after the publishes WHEN `courier replay <it> --from 30d` runs THEN it sees every message its filter accepts, and the old consumers see nothing", async () => {
    const withAudit: TopologySpec = {
      ...courierTopology,
      consumers: {
        ...courierTopology.consumers,
        "signup-audit": {
          ...courierTopology.consumers["team-notify"],
          name: "signup-audit",
          description: "A consumer added after the fact: back-filled by replay.",
          filterPolicy: { purpose: ["signup"] },
        },
      },
    };
    const redeployed = await deployToLocalStack({
      stackName: topology.stackName,
      endpoint: inject("localstackEndpoint"),
      build: (app, name) =>
        new CourierStack(app, name, { settings: LOCAL_DEPLOY_SETTINGS, topology: withAudit as never }),
    });
    topology = redeployed.topology;
    const audit = topology.consumers["signup-audit"];
    expect(audit).toBeDefined();
    // It did not exist when the sign-ups were published: its queue is empty.
    expect(await drainQueue(audit?.queueUrl as string)).toEqual([]);

    const cli = await courier("replay", "signup-audit", "--from", "30d", "--yes", "--json");
    expect(cli.code, cli.stderr).toBe(0);
    const received = await drainQueue(audit?.queueUrl as string);
    expect(received.map(eventIdOf).sort()).toEqual(realSignups());
    await othersSawNothing("signup-audit");
  });
});
