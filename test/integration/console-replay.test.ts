/**
 * History and replay in the operator console, against a private stack copy on LocalStack: the
 * topology view's archive figures (messages, oldest, size) from /api/archive, and a replay's dry
 * run and run from the page, with redrive's guards. Failure modes covered: archive figures missing
 * or wrong; a run started without the dry run's count typed back, or from a read-only console, or
 * from another origin; the run sending to any queue but the chosen consumer's; the page's replay
 * panel not reaching the API.
 */
import { randomUUID } from "node:crypto";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { localStackPeek, oldestAgeFromPeek } from "../../packages/courier/src/cli/index.ts";
import type { ArchiveOverview, ReplayJob } from "../../packages/courier/src/console/api.ts";
import { type RunningConsole, startConsole } from "../../packages/courier/src/console/server.ts";
import { localTarget } from "../../packages/courier/src/deployment/aws-target.ts";
import { readWindow } from "../../packages/courier/src/lib/archive/archive-store.ts";
import { startWorkers } from "../../packages/courier/src/worker/start.ts";
import type { WorkerPool } from "../../packages/courier/src/worker/worker.ts";
import { workerTarget } from "../../packages/courier/src/worker/worker-target.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { type TopicName, topicNames } from "../../src/topology.ts";
import { createPublisher } from "../helpers/example-publisher.ts";
import { topicOf } from "../helpers/example-stack.ts";
import { drainQueue } from "./redrive-support.ts";
import { launchChromium } from "./support/browser.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

let stack: TestStack;
let workers: WorkerPool;
let console_: RunningConsole;
let readOnlyConsole: RunningConsole;
let browser: Browser | undefined;
const s3 = new S3Client(localClientConfig());
const started = new Date(Date.now() - 1_000);
const signups = 6;

beforeAll(async () => {
  stack = await deployTestStack("console-replay");
  const topology = stack.topology;
  workers = startWorkers({
    topology,
    consumers: ["archive:account-signups"],
    target: workerTarget(localTarget({ ...process.env, AWS_ENDPOINT_URL: inject("localstackEndpoint") })),
    waitTimeSeconds: 1,
  });
  const publisher = createPublisher({
    sns: new SNSClient(localClientConfig()),
    topicArns: Object.fromEntries(topicNames.map((t) => [t, topicOf(topology, t).arn])) as Record<
      TopicName,
      string
    >,
    producer: "console-replay-test",
  });
  for (let i = 0; i < signups; i++) {
    const id = randomUUID().slice(0, 8);
    await publisher.publish("account-signups", {
      accountId: `acc_${id}`,
      email: `${id}@example.com`,
      displayName: "Console Replay",
      locale: "en-GB",
      createdAt: new Date().toISOString(),
    });
  }
  const bucket = topology.manifest.archiveBucket as string;
  const deadline = Date.now() + 60_000;
  while (
    (await readWindow({ s3, bucket, topic: "account-signups" }, started, new Date(Date.now() + 60_000)))
      .length < signups
  ) {
    if (Date.now() > deadline) throw new Error("the sign-ups did not reach the archive");
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  for (const consumer of ["verification-email", "verification-sms", "team-notify"]) {
    await drainQueue(topology.consumers[consumer]?.queueUrl as string);
  }
  const options = {
    sqs: new SQSClient(localClientConfig()),
    s3,
    cloudwatch: new CloudWatchClient(localClientConfig()),
    topology,
    endpoint: inject("localstackEndpoint"),
    oldestAge: oldestAgeFromPeek(localStackPeek(inject("localstackEndpoint"))),
    archiveMaxAgeMs: 0,
  };
  console_ = await startConsole({ ...options, readOnly: false });
  readOnlyConsole = await startConsole({ ...options, readOnly: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await console_?.close();
  await readOnlyConsole?.close();
  await workers?.stop();
  await stack?.cleanup();
});

function api(running: RunningConsole) {
  const headers = {
    "x-courier-token": running.token,
    origin: running.origin,
    "content-type": "application/json",
  };
  return {
    get: async <T>(path: string) =>
      (await fetch(`${running.origin}${path}`, { headers })).json() as Promise<T>,
    replay: (body: object) =>
      fetch(`${running.origin}/api/replays`, { method: "POST", headers, body: JSON.stringify(body) }),
  };
}

describe("console: history and replay", () => {
  it("GIVEN archived sign-ups WHEN /api/archive is read THEN each archived topic has its messages, oldest and size", async () => {
    const archive = await api(console_).get<ArchiveOverview>("/api/archive");
    expect(archive.error).toBeUndefined();
    expect(archive.topics.map((t) => t.topic).sort()).toEqual([...topicNames].sort());
    const signupsCard = archive.topics.find((t) => t.topic === "account-signups");
    expect(signupsCard?.messages).toBeGreaterThanOrEqual(signups);
    expect(signupsCard?.bytes).toBeGreaterThan(0);
    expect(Date.parse(signupsCard?.oldest ?? "")).toBeGreaterThanOrEqual(started.getTime() - 60_000);
    expect(signupsCard).toMatchObject({ retentionDays: 30, subject: "accountId" });
  });

  it("GIVEN a dry run's count WHEN a run is asked without it, read-only, or from another origin THEN it is refused and nothing is sent", async () => {
    const dry = (await (
      await api(console_).replay({ consumer: "team-notify", from: "1h", dryRun: true, reprocess: false })
    ).json()) as ReplayJob;
    expect(dry).toMatchObject({ state: "done", dryRun: true, plan: { toSend: signups } });
    const run = { consumer: "team-notify", from: "1h", dryRun: false, reprocess: false };
    expect((await api(console_).replay(run)).status).toBe(400);
    expect((await api(console_).replay({ ...run, confirmCount: signups + 1 })).status).toBe(400);
    expect((await api(readOnlyConsole).replay({ ...run, confirmCount: signups })).status).toBe(403);
    const foreign = await fetch(`${console_.origin}/api/replays`, {
      method: "POST",
      headers: {
        "x-courier-token": console_.token,
        origin: "http://evil.example",
        "content-type": "application/json",
      },
      body: JSON.stringify({ ...run, confirmCount: signups }),
    });
    expect(foreign.status).toBe(403);
    expect(await drainQueue(stack.topology.consumers["team-notify"]?.queueUrl as string)).toEqual([]);
  });

  it("GIVEN the topology page WHEN an operator dry-runs a replay to team-notify, types the count and replays THEN its queue alone gets the sign-ups", async () => {
    browser = await launchChromium();
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    await page.goto(console_.url);
    await page.locator('[data-archive="account-signups"]').waitFor();
    await page.locator('li.lane[data-consumer="team-notify"] button', { hasText: "Replay history" }).click();
    const panel = page.locator('[data-replay="team-notify"]');
    await panel.locator("input").first().fill("1h");
    await panel.getByRole("button", { name: "Dry run" }).click();
    await panel.locator(`.replay-plan[data-to-send="${signups}"]`).waitFor();
    await panel.locator(".confirm input").fill(String(signups));
    await panel.getByRole("button", { name: `Replay ${signups} messages` }).click();
    await panel.locator('.job[data-job-state="done"]').waitFor({ timeout: 30_000 });
    expect(await panel.locator('.job [data-count="sent"]').textContent()).toBe(String(signups));
    const received = await drainQueue(stack.topology.consumers["team-notify"]?.queueUrl as string);
    expect(received).toHaveLength(signups);
    for (const other of ["verification-email", "verification-sms"]) {
      expect(await drainQueue(stack.topology.consumers[other]?.queueUrl as string)).toEqual([]);
    }
  });
});
