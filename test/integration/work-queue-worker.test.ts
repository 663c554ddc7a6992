/**
 * Worker mode end to end: the real `courier work` CLI, as a separate process, against a private
 * copy of the deployed stack on LocalStack, running the team-notify handler module exactly as its
 * Lambda deploys it. Failure modes covered: a worker whose environment lacks its function's
 * settings or AWS endpoint, a handler module that is not loaded through TypeScript, sign-ups that
 * never reach the webhook or reach it twice, a SIGTERM that does not stop the workers gracefully
 * (non-zero exit, no summary, messages left behind), a configuration error that is not reported
 * as one line naming the setting, and a deployed bundle that cannot load (`--bundles`) not reported
 * as a BundleImportError naming the consumer and the cause.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SNSClient } from "@aws-sdk/client-sns";
import { undeployedArchiverNames, workerConsumer } from "@courier-queue/courier/worker";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { NewAccountV1 } from "../../src/app/contracts/index.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { PROJECT_ROOT } from "../../src/dev/localstack.ts";
import { type TopicName, topicNames } from "../../src/topology.ts";
import { createPublisher, type Publisher } from "../helpers/example-publisher.ts";
import { consumerOf, topicOf } from "../helpers/example-stack.ts";
import { startWebhookRecorder, type WebhookRecorder } from "../helpers/webhook-recorder.ts";
import { eventually, eventuallyEmpty, messagesLeft } from "./event-source-queues.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const CLI = new URL("../../bin/courier.mjs", import.meta.url).pathname;

let stack: TestStack;
let publisher: Publisher;
let webhook: WebhookRecorder;

beforeAll(async () => {
  stack = await deployTestStack("work");
  webhook = await startWebhookRecorder();
  publisher = createPublisher({
    sns: new SNSClient(localClientConfig()),
    topicArns: Object.fromEntries(topicNames.map((t) => [t, topicOf(stack.topology, t).arn])) as Record<
      TopicName,
      string
    >,
    producer: "work-queue-worker-test",
  });
});

afterAll(async () => {
  await webhook?.close();
  await stack?.cleanup();
});

interface CliRun {
  readonly child: ChildProcess;
  readonly lines: () => Record<string, unknown>[];
  readonly stderr: () => string;
  readonly exit: Promise<number | null>;
}

function courierWork(args: string[], env: Record<string, string>): CliRun {
  const child = spawn(process.execPath, [CLI, "work", ...args, "--local"], {
    env: { ...process.env, AWS_ENDPOINT_URL: inject("localstackEndpoint"), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    lines: () =>
      stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stderr: () => stderr,
    exit,
  };
}

function signup(): NewAccountV1 {
  const id = randomUUID().slice(0, 8);
  return {
    accountId: `acc_${id}`,
    email: `user-${id}@example.com`,
    displayName: "Worker Test",
    locale: "en-GB",
    createdAt: new Date().toISOString(),
  };
}

describe("courier work: worker mode", () => {
  it("GIVEN courier work team-notify running WHEN sign-ups are published and then SIGTERM arrives THEN each reaches the webhook once and the worker exits 0 with a summary", async () => {
    const consumer = consumerOf(stack.topology, "team-notify");
    const run = courierWork(
      ["team-notify", "--stack", stack.topology.stackName, "--json", "--interval", "1"],
      {
        TEAM_WEBHOOK_URL: webhook.url,
      },
    );
    try {
      await eventually(() => run.lines().some((l) => l.event === "started"), "the worker to start", 120_000);
      const started = run.lines().find((l) => l.event === "started");
      expect(started).toMatchObject({ consumer: "team-notify", queueUrl: consumer.queueUrl, concurrency: 2 });

      const eventIds: string[] = [];
      for (let i = 0; i < 5; i++)
        eventIds.push((await publisher.publish("account-signups", signup())).eventId);
      await eventually(() => eventIds.every((id) => webhook.eventIds.includes(id)), "five webhook calls");
      await eventuallyEmpty(consumer.queueUrl);

      run.child.kill("SIGTERM");
      expect(await run.exit).toBe(0);
      const stopped = run.lines().find((l) => l.event === "stopped") as
        | { consumers: { consumer: string; processed: number; failed: number }[] }
        | undefined;
      expect(stopped?.consumers).toEqual([
        expect.objectContaining({ consumer: "team-notify", processed: 5, failed: 0 }),
      ]);
      expect(webhook.eventIds.filter((id) => eventIds.includes(id))).toHaveLength(5);
      expect(await messagesLeft(consumer.dlqUrl)).toBe(0);
    } finally {
      if (run.child.exitCode === null) run.child.kill("SIGKILL");
    }
  });

  it("GIVEN an invalid setting for a consumer WHEN courier work starts it THEN it exits non-zero with one line naming the setting", async () => {
    const run = courierWork(["team-notify", "--stack", stack.topology.stackName], {
      TEAM_WEBHOOK_URL: "not a url",
    });
    try {
      expect(await run.exit).toBe(1);
      const last = run
        .stderr()
        .split("\n")
        .filter((l) => l.startsWith("courier:"))
        .at(-1);
      expect(last).toMatch(/^courier: team-notify worker failed: .*TEAM_WEBHOOK_URL/);
    } finally {
      if (run.child.exitCode === null) run.child.kill("SIGKILL");
    }
  });

  it("GIVEN --bundles pointing at an assembly whose team-notify bundle imports a module its asset lacks WHEN courier work starts it THEN it exits 1 with one line naming BundleImportError, the consumer and the missing module", async () => {
    // An assembly laid out as `cdk synth` writes one, inside the project as --bundles expects.
    const dir = join(PROJECT_ROOT, ".courier", `broken-assembly-${randomUUID().slice(0, 8)}`);
    const hash = "b".repeat(64);
    mkdirSync(join(dir, `asset.${hash}`), { recursive: true });
    writeFileSync(
      join(dir, `asset.${hash}`, "index.mjs"),
      'import missing from "courier-left-out-dependency";\nexport const handler = async () => missing;\n',
    );
    writeFileSync(
      join(dir, "manifest.json"),
      JSON.stringify({
        version: "55.0.0",
        artifacts: {
          "app.assets": { type: "cdk:asset-manifest", properties: { file: "app.assets.json" } },
          app: { type: "aws:cloudformation:stack", properties: { templateFile: "app.template.json" } },
        },
      }),
    );
    writeFileSync(
      join(dir, "app.template.json"),
      JSON.stringify({
        Resources: {
          TeamNotify: {
            Type: "AWS::Lambda::Function",
            Properties: {
              Handler: "index.handler",
              Code: { S3Key: `${hash}.zip` },
              Environment: { Variables: { COURIER_CONSUMER: "team-notify" } },
            },
          },
        },
      }),
    );
    writeFileSync(
      join(dir, "app.assets.json"),
      JSON.stringify({ files: { [hash]: { source: { path: `asset.${hash}`, packaging: "zip" } } } }),
    );
    const run = courierWork(["team-notify", "--stack", stack.topology.stackName, "--bundles", dir], {
      TEAM_WEBHOOK_URL: webhook.url,
    });
    try {
      expect(await run.exit).toBe(1);
      const last = run
        .stderr()
        .split("\n")
        .filter((l) => l.startsWith("courier:"))
        .at(-1);
      expect(last).toMatch(
        /^courier: team-notify worker failed: BundleImportError: the bundle of team-notify \(.*asset\.b+\/index\.mjs\) cannot load: .*courier-left-out-dependency/,
      );
    } finally {
      if (run.child.exitCode === null) run.child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("GIVEN no consumer named WHEN courier work --local starts THEN every consumer in the stack's manifest, and every topic's archiver, polls its own queue, and SIGTERM exits 0", async () => {
    const run = courierWork(["--stack", stack.topology.stackName, "--json", "--interval", "1"], {
      TEAM_WEBHOOK_URL: webhook.url,
    });
    try {
      // LocalStack runs no function: each topic's archiver runs as a worker too (archive:<topic>).
      const names = [...Object.keys(stack.topology.consumers), ...undeployedArchiverNames(stack.topology)];
      expect(undeployedArchiverNames(stack.topology)).toHaveLength(topicNames.length);
      const started = () => run.lines().filter((l) => l.event === "started");
      await eventually(() => started().length === names.length, "every consumer to start", 120_000);
      expect(
        started()
          .map((l) => l.consumer)
          .sort(),
      ).toEqual([...names].sort());
      for (const line of started()) {
        expect(line.queueUrl).toBe(workerConsumer(stack.topology, String(line.consumer)).queueUrl);
      }
      run.child.kill("SIGTERM");
      expect(await run.exit).toBe(0);
    } finally {
      if (run.child.exitCode === null) run.child.kill("SIGKILL");
    }
  });

  it("GIVEN a consumer the stack lacks WHEN courier work starts THEN it exits 2 with one line listing the stack's consumers", async () => {
    const run = courierWork(["invoice", "--stack", stack.topology.stackName], {});
    try {
      expect(await run.exit).toBe(2);
      expect(run.stderr()).toMatch(
        /courier: unknown consumer "invoice" in stack ".*"; its consumers: verification-email/,
      );
    } finally {
      if (run.child.exitCode === null) run.child.kill("SIGKILL");
    }
  });
});
