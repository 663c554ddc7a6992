/**
 * Pause and resume on LocalStack's SQS, two ways:
 * - the local event source with its pause watch: `setConsumerPaused` (what `courier pause` runs)
 *   tags the queue, the watch pauses the source, messages sent meanwhile wait; on resume each is
 *   processed exactly once;
 * - the path an operator takes: `courier pause` / `status` / `resume` in a child process against a
 *   deployed stack copy, with team-notify running in worker processes (the WorkerPool that
 *   `courier work` and `npm start` use).
 * The Lambda half (the event source mapping) is a recorded-request unit test
 * (test/unit/consumer-pause.test.ts): LocalStack here runs no Lambda.
 * Failure modes covered: a paused worker that keeps receiving, messages lost or processed twice
 * across a pause, a worker that never resumes, status not showing the pause.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { SNSClient } from "@aws-sdk/client-sns";
import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { localTarget, targetEnvironment } from "../../packages/courier/src/deployment/aws-target.ts";
import { readQueuePause, setConsumerPaused } from "../../packages/courier/src/deployment/consumer-pause.ts";
import { deployedConsumer, deployedTopic } from "../../packages/courier/src/deployment/deployed-topology.ts";
import { type LocalEventSource, startEventSource } from "../../packages/courier/src/worker/event-source.ts";
import { type PauseWatch, watchPause } from "../../packages/courier/src/worker/pause-watch.ts";
import { WorkerPool } from "../../packages/courier/src/worker/worker.ts";
import {
  resolveHandlerModule,
  workerEnvironment,
} from "../../packages/courier/src/worker/worker-environment.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { type TopicName, topicNames } from "../../src/topology.ts";
import { createPublisher } from "../helpers/example-publisher.ts";
import { startWebhookRecorder, type WebhookRecorder } from "../helpers/webhook-recorder.ts";
import {
  createTestQueue,
  eventually,
  eventuallyEmpty,
  messagesLeft,
  sendAll,
  sqs,
  type TestQueue,
} from "./event-source-queues.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const queues: TestQueue[] = [];
const sources: LocalEventSource[] = [];
const watches: PauseWatch[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  for (const w of watches.splice(0)) w.stop();
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  await Promise.all(queues.splice(0).map((q) => q.delete()));
});

describe("GIVEN a local event source draining a consumer's queue", () => {
  it("WHEN the consumer is paused THEN messages wait in the queue; WHEN resumed THEN each is processed exactly once", async () => {
    const queue = await createTestQueue("pause", { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 });
    queues.push(queue);
    const handled: string[] = [];
    const source = await startEventSource({
      sqs,
      queueUrl: queue.url,
      handler: (event: SQSEvent) => {
        for (const record of event.Records) handled.push(record.body);
      },
      functionName: "pause-test",
      batchSize: 10,
      maxBatchingWindowSeconds: 0,
      timeoutSeconds: 10,
      concurrency: 2,
      waitTimeSeconds: 1,
    });
    sources.push(source);
    const changes: boolean[] = [];
    const watch = watchPause({
      sqs,
      queueUrl: queue.url,
      source,
      intervalMs: 200,
      onChange: (p) => changes.push(p),
    });
    watches.push(watch);
    await watch.ready;

    await sendAll(queue.url, [{ body: "before-pause" }]);
    await eventually(() => handled.includes("before-pause"), "the first message");

    // Pause as `courier pause` does (no event source mapping here); wait until the receives in hand are back.
    await setConsumerPaused({ sqs, consumer: { name: "pause-test", queueUrl: queue.url }, paused: true });
    expect((await readQueuePause(sqs, queue.url)).paused).toBe(true);
    await eventually(() => source.paused, "the source to pause");
    expect(await source.whenPaused()).toBe(true);
    const waiting = Array.from({ length: 12 }, (_, i) => ({ body: `while-paused-${i}` }));
    await sendAll(queue.url, waiting);
    // Absence can only be shown over a while: 3 long-poll waits of the source.
    await sleep(3_000);
    expect(handled).toEqual(["before-pause"]);
    expect(await messagesLeft(queue.url)).toBe(12);

    await setConsumerPaused({ sqs, consumer: { name: "pause-test", queueUrl: queue.url }, paused: false });
    await eventually(() => handled.length === 13, "the waiting messages");
    await eventuallyEmpty(queue.url);
    expect([...handled].sort()).toEqual(["before-pause", ...waiting.map((m) => m.body)].sort());
    expect(changes).toEqual([true, false]);
    expect(source.stats.received).toBe(13);
  });
});

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

function courier(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["bin/courier.mjs", ...args, "--local"],
      { cwd: repoRoot, env: { ...process.env, AWS_ENDPOINT_URL: inject("localstackEndpoint") } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("GIVEN team-notify running in worker processes against a deployed stack", () => {
  let stack: TestStack;
  let webhook: WebhookRecorder;

  beforeAll(async () => {
    stack = await deployTestStack("pause");
    webhook = await startWebhookRecorder();
  }, 300_000);

  afterAll(async () => {
    await webhook?.close();
    await stack?.cleanup();
  });

  it("WHEN `courier pause team-notify` runs THEN the workers stop receiving, status says PAUSED and sign-ups wait; WHEN `courier resume` runs THEN each is delivered once", async () => {
    const stackArgs = ["--stack", stack.topology.stackName];
    const teamNotify = deployedConsumer(stack.topology, "team-notify");
    const pool = new WorkerPool(
      [
        {
          consumer: "team-notify",
          env: workerEnvironment({
            consumer: teamNotify,
            handlerModule: resolveHandlerModule(repoRoot, teamNotify.handlerEntry),
            // No DynamoDB-API server in this file: without the table each effect runs directly.
            environment: { TEAM_WEBHOOK_URL: webhook.url, IDEMPOTENCY_TABLE: "" },
            target: {
              env: targetEnvironment(
                localTarget({ ...process.env, AWS_ENDPOINT_URL: inject("localstackEndpoint") }),
              ),
              isolated: true,
            },
            baseEnv: process.env,
            concurrency: 3,
            waitTimeSeconds: 2,
          }),
        },
      ],
      { output: process.stderr },
    );
    const publisher = createPublisher({
      sns: new SNSClient(localClientConfig()),
      topicArns: Object.fromEntries(
        topicNames.map((t) => [t, deployedTopic(stack.topology, t).arn]),
      ) as Record<TopicName, string>,
      producer: "pause-test",
    });
    const signUp = async () => {
      const id = randomUUID().slice(0, 8);
      const { eventId } = await publisher.publish("account-signups", {
        accountId: `acc_${id}`,
        email: `user-${id}@example.com`,
        displayName: "Pause Test",
        locale: "en-GB",
        createdAt: new Date().toISOString(),
      });
      return eventId;
    };
    const queueUrl = teamNotify.queueUrl;
    try {
      await eventually(() => pool.states[0]?.started !== undefined, "the worker to start", 120_000);
      const first = await signUp();
      await eventually(() => webhook.eventIds.includes(first), "a sign-up before the pause", 30_000);

      const paused = await courier("pause", "team-notify", ...stackArgs);
      expect(paused.code, paused.stderr).toBe(0);
      expect(paused.stdout).toMatch(/team-notify: paused/);
      // The worker reads the tag within 3 s and reports once every poller has finished its receive.
      await eventually(() => pool.states[0]?.paused === true, "the worker to report paused", 30_000);
      const status = await courier("status", ...stackArgs, "--json");
      expect(status.code, status.stderr).toBe(0);
      const rows = (JSON.parse(status.stdout) as { consumers: { consumer: string; paused?: boolean }[] })
        .consumers;
      expect(rows.find((r) => r.consumer === "team-notify")?.paused).toBe(true);
      expect(rows.find((r) => r.consumer === "verification-email")?.paused).toBe(false);

      const waiting = [await signUp(), await signUp(), await signUp()];
      await eventually(async () => (await messagesLeft(queueUrl)) === 3, "the sign-ups in the queue", 30_000);
      // Absence can only be shown over a while: several long-poll waits of the worker.
      await sleep(6_000);
      expect(webhook.eventIds.filter((e) => waiting.includes(e))).toEqual([]);
      expect(await messagesLeft(queueUrl)).toBe(3);

      const resumed = await courier("resume", "team-notify", ...stackArgs);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toMatch(/team-notify: resumed/);
      await eventually(
        () => waiting.every((e) => webhook.eventIds.includes(e)),
        "the waiting sign-ups",
        60_000,
      );
      await eventuallyEmpty(queueUrl, 30_000);
      for (const eventId of [first, ...waiting]) {
        expect(webhook.eventIds.filter((e) => e === eventId)).toHaveLength(1);
      }
      expect(pool.states[0]?.paused).toBe(false);
    } finally {
      const [state] = await pool.stop();
      expect(state?.failure).toBeUndefined();
    }
  }, 300_000);
});
