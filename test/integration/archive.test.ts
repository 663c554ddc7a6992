/**
 * A topic's archive on LocalStack: the deployed stack's archive queues, subscribed to the topics,
 * drained by the package's archiver run as the `archive:<topic>` workers (as `npm start` runs them),
 * into the deployed archive bucket. Failure modes covered: a published message missing from the
 * archive or archived twice (standard and FIFO topics); the publish time, SNS MessageId or
 * attributes lost (raw delivery on the archive subscription); a FIFO group's order lost; an erased
 * account's messages still readable; an offloaded message archived without its subject, or its
 * payload left behind by erasure. The retention lifecycle is held by test/cdk/archive.test.ts:
 * LocalStack 4.14's CloudFormation creates the bucket without the template's LifecycleConfiguration
 * (GetBucketLifecycleConfiguration answers NoSuchLifecycleConfiguration), so it cannot be read here.
 */
import { randomUUID } from "node:crypto";
import { HeadObjectCommand, NotFound, S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { localTarget } from "../../packages/courier/src/deployment/aws-target.ts";
import {
  archiveStats,
  eraseSubject,
  readWindow,
} from "../../packages/courier/src/lib/archive/archive-store.ts";
import { erasedKey, subjectHash } from "../../packages/courier/src/lib/archive/index.ts";
import { startWorkers } from "../../packages/courier/src/worker/start.ts";
import type { WorkerPool } from "../../packages/courier/src/worker/worker.ts";
import { workerTarget } from "../../packages/courier/src/worker/worker-target.ts";
import { LOCALSTACK_MAX_PUBLISH_BYTES } from "../../src/app/deployment/local-run.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { type TopicName, topicNames } from "../../src/topology.ts";
import { createPublisher, type Publisher } from "../helpers/example-publisher.ts";
import { topicOf } from "../helpers/example-stack.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

let stack: TestStack;
let publisher: Publisher;
let workers: WorkerPool;
let bucket: string;
const s3 = new S3Client(localClientConfig());
const started = new Date(Date.now() - 1_000);

beforeAll(async () => {
  stack = await deployTestStack("archive");
  bucket = stack.topology.manifest.archiveBucket as string;
  publisher = createPublisher({
    sns: new SNSClient(localClientConfig()),
    topicArns: Object.fromEntries(topicNames.map((t) => [t, topicOf(stack.topology, t).arn])) as Record<
      TopicName,
      string
    >,
    producer: "archive-test",
    // account-exports offloads: a manifest over LocalStack's 256 KiB publish limit goes by reference.
    payloadStore: { s3, bucket: stack.topology.payloadBucket as string },
    maxMessageBytesCeiling: LOCALSTACK_MAX_PUBLISH_BYTES,
  });
  workers = startWorkers({
    topology: stack.topology,
    consumers: ["archive:account-signups", "archive:password-resets", "archive:account-exports"],
    target: workerTarget(localTarget({ ...process.env, AWS_ENDPOINT_URL: inject("localstackEndpoint") })),
    waitTimeSeconds: 1,
    output: process.stderr,
  });
}, 240_000);

afterAll(async () => {
  await workers?.stop();
  await stack?.cleanup();
});

/** Polls until `probe` returns a value, or fails naming what it waited for. */
async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const location = (topic: TopicName) => ({ s3, bucket, topic });

function signup(accountId: string) {
  return {
    accountId,
    email: `${accountId}@example.com`,
    displayName: "Archive Test",
    locale: "en-GB",
    createdAt: new Date().toISOString(),
  };
}

describe("archive", () => {
  const accounts = Array.from({ length: 25 }, () => `acc_${randomUUID().slice(0, 8)}`);
  const resetAccounts = accounts.slice(0, 3);
  const published = {
    signups: new Map<string, string>(),
    resets: [] as { eventId: string; accountId: string }[],
  };

  it("GIVEN 25 sign-ups on a standard topic WHEN the archiver drains THEN each is archived once, with its SNS MessageId, publish time, attributes and envelope", async () => {
    for (const accountId of accounts) {
      const { eventId, messageId } = await publisher.publish("account-signups", signup(accountId));
      published.signups.set(eventId, messageId);
    }
    const window = () => readWindow(location("account-signups"), started, new Date(Date.now() + 60_000));
    const entries = await until(async () => {
      const found = (await window()).filter((e) => e.eventId && published.signups.has(e.eventId));
      return found.length >= published.signups.size ? found : undefined;
    }, "25 archived sign-ups");
    expect(entries.map((e) => e.eventId).sort()).toEqual([...published.signups.keys()].sort());
    for (const entry of entries) {
      expect(entry.messageId).toBe(published.signups.get(entry.eventId as string));
      expect(Date.parse(entry.publishedAt)).toBeGreaterThanOrEqual(started.getTime());
      expect(entry.attributes.type).toEqual({ type: "String", value: "NewAccount" });
      expect(JSON.parse(entry.message)).toMatchObject({ eventId: entry.eventId, type: "NewAccount" });
      expect(entry.subject).toMatch(/^[0-9a-f]{64}$/);
    }
    const stats = await archiveStats(location("account-signups"));
    expect(stats.messages).toBeGreaterThanOrEqual(25);
    expect(stats.oldest).toBeDefined();
  });

  it("GIVEN 12 password resets on a FIFO topic (3 accounts) WHEN archived THEN each is there once with its group and SNS sequence number, in publish order per group", async () => {
    for (let i = 0; i < 12; i++) {
      const accountId = resetAccounts[i % 3] as string;
      const { eventId } = await publisher.publish("password-resets", {
        accountId,
        email: `${accountId}@example.com`,
        requestedAt: new Date().toISOString(),
      });
      published.resets.push({ eventId, accountId });
    }
    const ids = new Set(published.resets.map((r) => r.eventId));
    const entries = await until(async () => {
      const found = (
        await readWindow(location("password-resets"), started, new Date(Date.now() + 60_000))
      ).filter((e) => e.eventId && ids.has(e.eventId));
      return found.length >= ids.size ? found : undefined;
    }, "12 archived password resets");
    expect(entries).toHaveLength(12);
    for (const accountId of resetAccounts) {
      const mine = entries.filter((e) => e.groupId === accountId).map((e) => e.eventId);
      expect(mine).toEqual(published.resets.filter((r) => r.accountId === accountId).map((r) => r.eventId));
    }
    expect(entries.every((e) => e.sequenceNumber !== undefined)).toBe(true);
  });

  it("GIVEN an account's archived sign-up WHEN its subject is erased THEN its message is gone from the archive, the others stay, and the ledger holds its hash only", async () => {
    const erased = accounts[0] as string;
    const result = await eraseSubject(s3, bucket, ["account-signups", "password-resets"], erased);
    // Its sign-up and its 4 password resets.
    expect(result.messagesRemoved).toBe(5);
    const left = await readWindow(location("account-signups"), started, new Date(Date.now() + 60_000));
    const hash = subjectHash(erased);
    expect(left.some((e) => e.subject === hash)).toBe(false);
    expect(left.filter((e) => e.eventId && published.signups.has(e.eventId))).toHaveLength(24);
    const resets = await readWindow(location("password-resets"), started, new Date(Date.now() + 60_000));
    expect(resets.some((e) => e.groupId === erased)).toBe(false);
    expect(resets.filter((e) => e.groupId === resetAccounts[1])).toHaveLength(4);
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: erasedKey(hash) })),
    ).resolves.toBeDefined();
    expect(JSON.stringify(left)).not.toContain(erased);
  });

  it("GIVEN an account export offloaded to the payload bucket WHEN archived and its account erased THEN the entry keeps the pointer with the envelope's subject, and erasure deletes the payload too", async () => {
    const accountId = `acc_${randomUUID().slice(0, 8)}`;
    const createdAt = new Date().toISOString();
    const items = Array.from({ length: 3_000 }, (_, n) => ({
      kind: "image" as const,
      id: `img_${n}`,
      key: `originals/${accountId}/img_${n}-${"x".repeat(40)}`,
      contentType: "image/jpeg",
      byteSize: 1_000 + n,
      createdAt,
    }));
    const { eventId } = await publisher.publish("account-exports", {
      exportId: randomUUID(),
      accountId,
      requestedAt: createdAt,
      account: { email: `${accountId}@example.com`, displayName: "Archive Test", locale: "en-GB", createdAt },
      items,
    });
    const entry = await until(async () => {
      const found = await readWindow(location("account-exports"), started, new Date(Date.now() + 60_000));
      return found.find((e) => e.eventId === eventId);
    }, "the offloaded export in the archive");
    expect(entry.message).toContain("software.amazon.payloadoffloading.PayloadS3Pointer");
    expect(entry.subject).toBe(subjectHash(accountId));
    expect(entry.payload?.bucket).toBe(stack.topology.payloadBucket);

    const result = await eraseSubject(s3, bucket, ["account-exports"], accountId);
    expect(result).toMatchObject({ messagesRemoved: 1, payloadsDeleted: 1 });
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: entry.payload?.bucket, Key: entry.payload?.key })),
    ).rejects.toBeInstanceOf(NotFound);
  });
});
