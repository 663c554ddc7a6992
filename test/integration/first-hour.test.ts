/**
 * A new user's first hour, through the example API of the whole local system on LocalStack (as
 * `npm start` runs it, readable output on): statuses that tell the truth, the emailed link's page,
 * and a line per handled message. Failure modes: a rejected upload reported `pending` forever, a
 * redriven upload that stays `failed`, a link answered with JSON or with request text as markup,
 * a handled message with no outcome.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RecordOutcome } from "../../packages/courier/src/lib/consumer/outcomes.ts";
import { redriveSelectively } from "../../packages/courier/src/lib/redrive/selective.ts";
import { formatOutcomeLine } from "../../packages/courier/src/worker/outcome-line.ts";
import { createAccount } from "../../src/app/accounts/account-store.ts";
import { issueEmailToken } from "../../src/app/signup/verification-code.ts";
import { verificationKeyFromSecret } from "../../src/app/signup/verification-key.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { type LocalSystem, startLocalSystem } from "../../src/dev/local-system.ts";
import { consumerOf, uploadsBucketOf, verificationSecretArnOf } from "../helpers/example-stack.ts";
import { truncatedJpeg } from "../unit/images-fixtures.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const run = randomBytes(4).toString("hex");
let stack: TestStack;
const dataDir = mkdtempSync(join(tmpdir(), "courier-first-hour-"));
let system: LocalSystem;
const outcomes: RecordOutcome[] = [];

beforeAll(async () => {
  stack = await deployTestStack("first-hour");
  system = await startLocalSystem({
    deployment: stack.deployment,
    apiPort: 0,
    dataDir,
    consumers: ["verification-email", "thumbnails"],
    workerOutput: process.stderr,
    workerLogs: "readable",
    onOutcome: (outcome) => {
      outcomes.push(outcome);
      process.stderr.write(`${formatOutcomeLine(outcome, { colour: false })}\n`);
    },
  });
}, 300_000);

afterAll(async () => {
  await system?.stop();
  await stack?.cleanup();
}, 300_000);

async function upload(body: Buffer): Promise<string> {
  const res = await fetch(`${system.apiUrl}/images`, {
    method: "POST",
    headers: { "content-type": "image/jpeg" },
    body,
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { imageId: string }).imageId;
}

interface ImageStatus {
  readonly status: string;
  readonly [key: string]: unknown;
}

/** Polls GET /images/:id until its status is not `pending`, or the deadline passes. */
async function settledStatus(
  imageId: string,
  withinMs: number,
): Promise<{ http: number; body: ImageStatus }> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const res = await fetch(`${system.apiUrl}/images/${imageId}`);
    const body = (await res.json()) as ImageStatus;
    if (body.status !== "pending" || Date.now() > deadline) return { http: res.status, body };
    await new Promise((r) => setTimeout(r, 500));
  }
}

const jpeg = () =>
  sharp({ create: { width: 800, height: 600, channels: 3, background: "#3366aa" } })
    .jpeg()
    .toBuffer();

describe("image statuses that tell the truth", () => {
  it("GIVEN a truncated JPEG WHEN uploaded THEN GET /images/:id answers failed with the thumbnailer's reason within 30 s, and a dead-lettered line was reported (failure mode: pending forever)", async () => {
    const imageId = await upload(await truncatedJpeg());
    const pendingAtFirst = await fetch(`${system.apiUrl}/images/${imageId}`);
    expect([200, 202]).toContain(pendingAtFirst.status);

    const { http, body } = await settledStatus(imageId, 30_000);
    expect(http).toBe(200);
    expect(body).toMatchObject({ imageId, status: "failed", reason: "corrupt" });
    expect(String(body.message)).toMatch(/^corrupt: /);
    // The status is read from S3; the worker reports its outcome line after the handler returns,
    // so on a busy machine the line can trail the status by a moment.
    await vi.waitFor(
      () =>
        expect(
          outcomes.some(
            (o) =>
              o.consumer === "thumbnails" &&
              o.outcome === "dead-lettered" &&
              o.errorMessage.startsWith("corrupt"),
          ),
        ).toBe(true),
      { timeout: 10_000, interval: 100 },
    );
  });

  it("GIVEN a valid JPEG WHEN uploaded THEN GET /images/:id answers ready with both renditions, and a processed line was reported", async () => {
    const imageId = await upload(await jpeg());
    const { http, body } = await settledStatus(imageId, 60_000);
    expect(http).toBe(200);
    expect(body).toEqual({
      imageId,
      status: "ready",
      renditions: { thumb: `renditions/${imageId}/thumb.webp`, medium: `renditions/${imageId}/medium.webp` },
    });
    await vi.waitFor(
      () => expect(outcomes.some((o) => o.consumer === "thumbnails" && o.outcome === "processed")).toBe(true),
      { timeout: 10_000, interval: 100 },
    );
  });

  it("GIVEN a rejected upload WHEN its original is fixed and its dead letter redriven THEN it becomes ready (failure mode: failed for good after a fix)", async () => {
    const imageId = await upload(await truncatedJpeg());
    expect((await settledStatus(imageId, 30_000)).body.status).toBe("failed");

    const aws = localClientConfig({ AWS_ENDPOINT_URL: system.endpoint });
    await new S3Client(aws).send(
      new PutObjectCommand({
        Bucket: uploadsBucketOf(system.topology),
        Key: `originals/${imageId}`,
        Body: await jpeg(),
        ContentType: "image/jpeg",
      }),
    );
    const thumbnails = consumerOf(system.topology, "thumbnails");
    const summary = await redriveSelectively({
      sqs: new SQSClient(aws),
      dlqUrl: thumbnails.dlqUrl,
      queueUrl: thumbnails.queueUrl,
    });
    expect(summary.moved).toBeGreaterThanOrEqual(1);

    const deadline = Date.now() + 60_000;
    let body: ImageStatus = { status: "failed" };
    while (Date.now() < deadline && body.status !== "ready") {
      body = (await (await fetch(`${system.apiUrl}/images/${imageId}`)).json()) as ImageStatus;
      if (body.status !== "ready") await new Promise((r) => setTimeout(r, 500));
    }
    expect(body).toMatchObject({ imageId, status: "ready" });
  });

  it("GIVEN an image id nobody uploaded WHEN GET /images/:id THEN 404, not pending", async () => {
    const res = await fetch(`${system.apiUrl}/images/never-uploaded-${run}`);
    expect(res.status).toBe(404);
  });
});

describe("the emailed link's page", () => {
  interface SesMessage {
    Destination: { ToAddresses: string[] };
    Body: { text_part: string | null };
  }

  async function linkFor(email: string): Promise<URL> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const { messages } = (await (await fetch(system.mailboxUrl)).json()) as { messages: SesMessage[] };
      const mail = messages.find((m) => m.Destination.ToAddresses.includes(email));
      const match = /(http:\/\/\S+\/verify\?\S+)/.exec(mail?.Body.text_part ?? "");
      if (match?.[1]) return new URL(match[1]);
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`no verification mail reached ${email}`);
  }

  const open = async (query: string) => {
    const res = await fetch(`${system.apiUrl}/verify?${query}`);
    return { status: res.status, type: res.headers.get("content-type"), html: await res.text() };
  };

  it("GIVEN the link from the real email WHEN opened THEN an HTML page says the address is verified", async () => {
    const email = `page-${run}@example.com`;
    const res = await fetch(`${system.apiUrl}/accounts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, displayName: "Page" }),
    });
    expect(res.status).toBe(201);
    const link = await linkFor(email);
    const page = await open(link.search.slice(1));
    expect(page.status).toBe(200);
    expect(page.type).toBe("text/html; charset=utf-8");
    expect(page.html).toContain("<h1>Email address verified</h1>");
  });

  it("GIVEN a genuine link issued more than 24 h ago WHEN opened THEN an HTML page says it expired", async () => {
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    const email = `old-${run}@example.com`;
    const account = createAccount(system.db, { email, displayName: "Old" }, { now: () => twoDaysAgo });
    const secrets = new SecretsProvider({
      awsSdkV3Client: new SecretsManagerClient(localClientConfig({ AWS_ENDPOINT_URL: system.endpoint })),
    });
    const key = await verificationKeyFromSecret(secrets, verificationSecretArnOf(system.topology))();
    const { code } = issueEmailToken(
      key,
      { accountId: account.accountId, address: email },
      account.createdAt,
    );
    const page = await open(`accountId=${account.accountId}&token=${encodeURIComponent(code)}`);
    expect(page.status).toBe(410);
    expect(page.type).toBe("text/html; charset=utf-8");
    expect(page.html).toContain("<h1>This link has expired</h1>");
  });

  it("GIVEN a forged token and markup in the parameters WHEN opened THEN an HTML page says the link is invalid and why, with no request text as markup (failure mode: HTML injection)", async () => {
    const email = `forged-${run}@example.com`;
    const created = (await (
      await fetch(`${system.apiUrl}/accounts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, displayName: "Forged" }),
      })
    ).json()) as { accountId: string };
    const forgedToken = `v1.${Math.floor(Date.now() / 1000) + 3600}.${"A".repeat(43)}`;
    const forged = await open(`accountId=${created.accountId}&token=${forgedToken}`);
    expect(forged.status).toBe(400);
    expect(forged.type).toBe("text/html; charset=utf-8");
    expect(forged.html).toContain("<h1>This link is not valid</h1>");
    expect(forged.html).toContain("does not match this account");

    const hostile = `<script>alert(1)</script>`;
    const injected = await open(
      `accountId=${encodeURIComponent(hostile)}&token=${encodeURIComponent(hostile)}`,
    );
    expect(injected.status).toBe(400);
    expect(injected.html).not.toContain("<script>");
    expect(injected.html).toContain("This link is not valid");
  });
});
