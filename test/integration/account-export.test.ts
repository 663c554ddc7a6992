/**
 * The account export end to end, as `npm start` runs it (startLocalSystem with only the
 * account-export worker): POST /accounts/:id/export builds the manifest of everything the account
 * owns and publishes it through courier's publisher; SNS, SQS and the worker process running the
 * handler module as its Lambda deploys it; the export file in the uploads bucket.
 *
 * Failure modes covered: a busy account's multi-MiB manifest refused for size (or cut), because
 * the API's publisher has no payload store or the worker no COURIER_PAYLOAD_BUCKET (the wiring from
 * the stack's PayloadBucketName output); the manifest altered on the way by reference (items
 * lost, reordered, changed); a small manifest needlessly sent through S3; an upload through the API
 * not listed in its account's export.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  S3Client,
} from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueDepth } from "../../packages/courier/src/deployment/consumer-status.ts";
import { inTransaction } from "../../src/app/accounts/account-store.ts";
import { listAccountUploads, recordAccountUpload } from "../../src/app/accounts/account-uploads.ts";
import type { ExportFile } from "../../src/app/exports/index.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { type LocalSystem, startLocalSystem } from "../../src/dev/local-system.ts";
import { consumerOf, uploadsBucketOf } from "../helpers/example-stack.ts";
import { eventually } from "./event-source-queues.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

let stack: TestStack;
const dataDir = mkdtempSync(join(tmpdir(), "courier-export-"));
const s3 = new S3Client(localClientConfig());
const sqs = new SQSClient(localClientConfig());
const run = randomBytes(4).toString("hex");
let system: LocalSystem;

/** Enough uploads for a manifest of about 5.5 MiB: far over the 256 KiB LocalStack's SNS takes. */
const BUSY_ACCOUNT_UPLOADS = 32_000;

beforeAll(async () => {
  stack = await deployTestStack("account-export");
  system = await startLocalSystem({
    deployment: stack.deployment,
    apiPort: 0,
    dataDir,
    consumers: ["account-export"],
    workerOutput: process.stderr,
    workerWaitSeconds: 2,
  });
}, 300_000);

afterAll(async () => {
  await system?.stop();
  if (system) {
    await emptyBucket(uploadsBucketOf(system.topology));
    if (system.topology.payloadBucket) await emptyBucket(system.topology.payloadBucket);
  }
  await stack?.cleanup();
}, 300_000);

async function listAll(bucket: string, prefix: string): Promise<{ key: string; size: number }[]> {
  const found: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) found.push({ key: o.Key ?? "", size: o.Size ?? 0 });
    token = page.NextContinuationToken;
  } while (token);
  return found;
}

async function emptyBucket(bucket: string): Promise<void> {
  const keys = await listAll(bucket, "");
  for (let i = 0; i < keys.length; i += 1000) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((k) => ({ Key: k.key })) },
      }),
    );
  }
}

async function readJsonObject<T>(bucket: string, key: string): Promise<T> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse((await object.Body?.transformToString("utf8")) ?? "") as T;
}

/** Each account's credential from its sign-up: the export routes answer only the owner. */
const credentials = new Map<string, string>();
const owner = (accountId: string) => ({ authorization: `Bearer ${credentials.get(accountId) ?? ""}` });

async function signUp(who: string): Promise<string> {
  const res = await fetch(`${system.apiUrl}/accounts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: `${who}-${run}@example.com`, displayName: who }),
  });
  expect(res.status).toBe(201);
  const { accountId, credential } = (await res.json()) as { accountId: string; credential: string };
  credentials.set(accountId, credential);
  return accountId;
}

/**
 * The account's uploads as the account service records them (what POST /images records). Written
 * synchronously in the process that also runs the API server: the pause after it lets the timers
 * that came due meanwhile run (the server's and the client's keep-alive expiry), so the next fetch
 * does not pick a pooled connection the server is about to close (ECONNRESET, seen in the bench).
 */
async function seedUploads(accountId: string, count: number): Promise<void> {
  const start = Date.parse("2026-01-01T00:00:00.000Z");
  inTransaction(system.db, () => {
    for (let i = 0; i < count; i++) {
      const imageId = randomUUID();
      recordAccountUpload(system.db, {
        accountId,
        imageId,
        key: `originals/${imageId}`,
        contentType: i % 3 === 0 ? "image/png" : "image/jpeg",
        byteSize: 50_000 + ((i * 7919) % 900_000),
        uploadedAt: new Date(start + i * 1000).toISOString(),
      });
    }
  });
  await sleep(200);
}

interface Requested {
  exportId: string;
  items: number;
  status: string;
}

async function requestExport(accountId: string): Promise<Requested> {
  const res = await fetch(`${system.apiUrl}/accounts/${accountId}/export`, {
    method: "POST",
    headers: owner(accountId),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as Requested;
}

/** Polls GET /accounts/:id/exports/:exportId until the worker has written the file. */
async function readyExport(requested: Requested): Promise<{ key: string; bytes: number }> {
  let ready: { key: string; bytes: number } | undefined;
  await eventually(
    async () => {
      const accountId = requested.status.split("/")[2] ?? "";
      const res = await fetch(`${system.apiUrl}${requested.status}`, { headers: owner(accountId) });
      if (res.status !== 200) return false;
      ready = (await res.json()) as { key: string; bytes: number };
      return true;
    },
    "the export file",
    120_000,
  );
  if (!ready) throw new Error("unreachable");
  return ready;
}

/** The manifest's items as the account service lists them, in the contract's shape. */
function expectedItems(accountId: string) {
  return listAccountUploads(system.db, accountId, 1_000_000).map((u) => ({
    kind: "image",
    id: u.imageId,
    key: u.key,
    contentType: u.contentType,
    byteSize: u.byteSize,
    createdAt: u.uploadedAt,
  }));
}

describe("account export through the local system", () => {
  it("GIVEN a busy account whose manifest is over 5 MiB WHEN POST /accounts/:id/export THEN 202, the manifest goes through the payload bucket, and the worker writes the export file with every item intact", async () => {
    const accountId = await signUp("busy");
    await seedUploads(accountId, BUSY_ACCOUNT_UPLOADS);
    const payloadBucket = system.topology.payloadBucket;
    expect(payloadBucket).toBeDefined();
    if (!payloadBucket) return;

    const requested = await requestExport(accountId);
    expect(requested.items).toBe(BUSY_ACCOUNT_UPLOADS);
    const ready = await readyExport(requested);

    // By reference: the body is in the payload bucket under the topic's prefix, and is this export.
    const offloaded = await listAll(payloadBucket, "account-exports/");
    const bodies = await Promise.all(
      offloaded.map(async (o) => ({
        ...o,
        envelope: await readJsonObject<{ data: { exportId: string } }>(payloadBucket, o.key),
      })),
    );
    const ours = bodies.filter((b) => b.envelope.data.exportId === requested.exportId);
    expect(ours).toHaveLength(1);
    expect(ours[0]?.size).toBeGreaterThan(5 * 1024 * 1024);

    const file = await readJsonObject<ExportFile>(uploadsBucketOf(system.topology), ready.key);
    expect(file.exportId).toBe(requested.exportId);
    expect(file.accountId).toBe(accountId);
    expect(file.account.email).toBe(`busy-${run}@example.com`);
    const items = expectedItems(accountId);
    expect(file.items).toHaveLength(BUSY_ACCOUNT_UPLOADS);
    expect(file.items).toEqual(items);
    expect(file.summary.items).toBe(BUSY_ACCOUNT_UPLOADS);
    expect(file.summary.totalBytes).toBe(items.reduce((sum, i) => sum + i.byteSize, 0));
    expect(await queueDepth(sqs, consumerOf(system.topology, "account-export").dlqUrl)).toBe(0);
  }, 300_000);

  it("GIVEN an account with an upload through POST /images and a few more WHEN it asks for its export THEN the small manifest goes inline (nothing new in the payload bucket) and lists the upload", async () => {
    const accountId = await signUp("light");
    const image = await sharp({
      create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 10, b: 10 } },
    })
      .jpeg()
      .toBuffer();
    const upload = await fetch(`${system.apiUrl}/images?uploadedBy=${encodeURIComponent(accountId)}`, {
      method: "POST",
      headers: { "content-type": "image/jpeg", ...owner(accountId) },
      body: image,
    });
    expect(upload.status).toBe(202);
    const { imageId } = (await upload.json()) as { imageId: string };
    await seedUploads(accountId, 2);
    const payloadBucket = system.topology.payloadBucket ?? "";
    const before = (await listAll(payloadBucket, "")).map((o) => o.key);

    const requested = await requestExport(accountId);
    const ready = await readyExport(requested);

    expect((await listAll(payloadBucket, "")).map((o) => o.key)).toEqual(before);
    const file = await readJsonObject<ExportFile>(uploadsBucketOf(system.topology), ready.key);
    expect(file.items).toEqual(expectedItems(accountId));
    expect(file.items.map((i) => i.id)).toContain(imageId);
    expect(file.items.find((i) => i.id === imageId)).toMatchObject({
      key: `originals/${imageId}`,
      contentType: "image/jpeg",
      byteSize: image.byteLength,
    });
  }, 300_000);
});
