/**
 * Per-tenant controls on LocalStack (fair delivery per tenant, item 4): `courier tenant pause`,
 * `quarantine`, `release` and `list` (the CLI in a child process against a deployed stack copy)
 * while the consumer runtime runs the thumbnails queue under the local event source, fair tenants
 * on. Failure modes covered: a paused tenant's messages processed anyway, lost, or dead-lettered by
 * their receive count; other tenants held with it; a quarantined tenant's messages processed, or
 * dead-lettered without the reason `tenant-quarantined`; a release that does not let paused
 * messages flow; the CLI accepting a consumer whose topic has no tenant.
 * Not shown here: the Lambda side (its role's ListQueueTags and SendMessage on its own queue are
 * CDK assertions, test/cdk/tenant-fairness.test.ts), as LocalStack runs no function here.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Logger } from "@aws-lambda-powertools/logger";
import { SNSClient } from "@aws-sdk/client-sns";
import { type Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createConsumerHandler } from "../../packages/courier/src/lib/consumer/define-consumer.ts";
import { FAILURE_ATTRIBUTE } from "../../packages/courier/src/lib/consumer/failure-attributes.ts";
import { type LocalEventSource, startEventSource } from "../../packages/courier/src/worker/event-source.ts";
import { ImageUploadedV1Contract } from "../../src/app/contracts/index.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { topicNames } from "../../src/topology.ts";
import { createPublisher, type Publisher } from "../helpers/example-publisher.ts";
import { consumerOf, topicOf } from "../helpers/example-stack.ts";
import { eventually, messagesLeft } from "./event-source-queues.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const endpoint = inject("localstackEndpoint");
const clientConfig = { ...localClientConfig(), endpoint };
const sqs = new SQSClient(clientConfig);
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A short park for the test: a paused tenant's record is looked at again every 2 s. */
const PARK_SECONDS = 2;

let stack: TestStack | undefined;
let publisher: Publisher;
let source: LocalEventSource | undefined;
const handled: string[] = [];

function courier(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["bin/courier.mjs", ...args, "--local", "--stack", stack?.topology.stackName ?? ""],
      { cwd: repoRoot, env: { ...process.env, AWS_ENDPOINT_URL: endpoint } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  stack = await deployTestStack("tenant-controls");
  const topology = stack.topology;
  publisher = createPublisher({
    sns: new SNSClient(clientConfig),
    topicArns: Object.fromEntries(topicNames.map((t) => [t, topicOf(topology, t).arn])),
    producer: "tenant-controls-test",
  });
  const thumbnails = consumerOf(topology, "thumbnails");
  // The package's runtime with the thumbnails consumer's spec; the handler records instead of rendering.
  const handler = createConsumerHandler({
    spec: {
      name: "thumbnails",
      accepts: [ImageUploadedV1Contract],
      maxReceiveCount: thumbnails.maxReceiveCount,
      backoff: thumbnails.backoff,
      timeoutSeconds: thumbnails.timeoutSeconds,
      tenants: true,
    },
    sqs,
    queueUrl: thumbnails.queueUrl,
    dlqUrl: thumbnails.dlqUrl,
    pausedTenantDelaySeconds: PARK_SECONDS,
    logger: new Logger({ serviceName: "thumbnails", logLevel: "SILENT" }),
    metrics: { addMetric: () => undefined, publishStoredMetrics: () => undefined },
    tenantMetrics: {
      addDimension: () => undefined,
      addMetric: () => undefined,
      publishStoredMetrics: () => undefined,
    },
    handle: (message) => {
      handled.push(message.data.imageId);
    },
  });
  source = await startEventSource({
    sqs,
    queueUrl: thumbnails.queueUrl,
    handler,
    functionName: "thumbnails",
    batchSize: thumbnails.batchSize,
    maxBatchingWindowSeconds: 0,
    timeoutSeconds: thumbnails.timeoutSeconds,
    concurrency: 2,
    waitTimeSeconds: 1,
    fairTenants: true,
  });
}, 300_000);

afterAll(async () => {
  await source?.stop();
  await stack?.cleanup();
});

const upload = (uploadedBy: string, imageId: string) => ({
  imageId,
  bucket: "uploads",
  key: `originals/${imageId}`,
  contentType: "image/jpeg",
  byteSize: 10,
  uploadedBy,
  uploadedAt: new Date().toISOString(),
});

async function publishFor(tenant: string, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => `${tenant}-${randomUUID().slice(0, 8)}`);
  for (const id of ids) await publisher.publish("image-uploads", upload(tenant, id));
  return ids;
}

async function receiveAll(queueUrl: string, expected: number): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + 30_000;
  while (got.length < expected && Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    got.push(...Messages);
  }
  return got;
}

describe("GIVEN the thumbnails consumer running, with the uploading account as tenant", () => {
  it("WHEN `courier tenant pause` holds account A THEN B's uploads flow, A's wait (sent back, never dead-lettered); WHEN released THEN A's are processed once each", async () => {
    const paused = await courier("tenant", "pause", "thumbnails", "acct-paused");
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toContain("thumbnails: tenant acct-paused paused");
    const listed = await courier("tenant", "list", "--json");
    expect(JSON.parse(listed.stdout).consumers).toContainEqual(
      expect.objectContaining({
        consumer: "thumbnails",
        held: [expect.objectContaining({ tenant: "acct-paused", state: "paused" })],
      }),
    );
    await sleep(6_000); // the runtime reads the controls at most every 5 s
    const a = await publishFor("acct-paused", 3);
    const b = await publishFor("acct-flowing", 3);
    await eventually(() => b.every((id) => handled.includes(id)), "B's uploads", 60_000);
    // Several park cycles (2 s each), longer than maxReceiveCount (5) receives would allow.
    await sleep(5 * PARK_SECONDS * 1000 + 3_000);
    expect(handled.filter((id) => a.includes(id))).toEqual([]);
    const thumbnails = consumerOf(stack?.topology as never, "thumbnails");
    expect(await messagesLeft(thumbnails.dlqUrl)).toBe(0);

    const released = await courier("tenant", "release", "thumbnails", "acct-paused");
    expect(released.code, released.stderr).toBe(0);
    await eventually(() => a.every((id) => handled.includes(id)), "A's uploads after the release", 60_000);
    expect(handled.filter((id) => a.includes(id)).sort()).toEqual([...a].sort());
  });

  it("WHEN `courier tenant quarantine` holds account Q THEN Q's uploads go to the DLQ with reason tenant-quarantined and B's flow", async () => {
    const quarantined = await courier("tenant", "quarantine", "thumbnails", "acct-quarantined");
    expect(quarantined.code, quarantined.stderr).toBe(0);
    await sleep(6_000);
    const q = await publishFor("acct-quarantined", 2);
    const b = await publishFor("acct-flowing", 2);
    await eventually(() => b.every((id) => handled.includes(id)), "B's uploads", 60_000);
    const dlqUrl = consumerOf(stack?.topology as never, "thumbnails").dlqUrl;
    const dead = await receiveAll(dlqUrl, 2);
    expect(dead).toHaveLength(2);
    for (const message of dead) {
      const reason = JSON.parse(message.MessageAttributes?.[FAILURE_ATTRIBUTE]?.StringValue ?? "{}");
      expect(reason).toMatchObject({ kind: "tenant-quarantined", errorClass: "TenantQuarantined" });
      // The DLQ copy keeps its tenant, so a redrive after the release keeps it too.
      expect(message.Attributes?.MessageGroupId).toBe("acct-quarantined");
    }
    expect(handled.filter((id) => q.includes(id))).toEqual([]);
    const released = await courier("tenant", "release", "thumbnails", "acct-quarantined");
    expect(released.stdout).toContain("quarantined ones wait in the DLQ");
  });

  it("WHEN a tenant is paused on a consumer whose topic names none THEN the CLI refuses with the reason", async () => {
    const refused = await courier("tenant", "pause", "verification-email", "acct-1");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("names no tenant");
  });
});
