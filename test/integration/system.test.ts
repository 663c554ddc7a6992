/**
 * The whole local system, driven through the example API server as a user would: LocalStack with
 * the stack, every consumer in its worker process, dynalite for idempotency, the outbox relay.
 */

import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { archiveWorkerNames } from "@courier-queue/courier/worker";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createAccount, openAccountsDb } from "../../src/app/accounts/account-store.ts";
import { outboxCounts } from "../../src/app/outbox/index.ts";
import { deleteStackOnLocalStack } from "../../src/dev/deploy.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { type LocalSystem, startLocalSystem } from "../../src/dev/local-system.ts";
import { PROJECT_ROOT } from "../../src/dev/localstack.ts";
import { consumerNames } from "../../src/topology.ts";
import { consumerOf } from "../helpers/example-stack.ts";
import { testStackName } from "./support/deploy-test-stack.ts";

interface SesMessage {
  Destination: { ToAddresses: string[] };
  Body: { text_part: string | null; html_part: string | null };
}

const run = randomBytes(4).toString("hex");
const address = (who: string) => `${who}-${run}@example.com`;
const stackName = testStackName("system");
const dataDir = mkdtempSync(join(tmpdir(), "courier-system-"));
let system: LocalSystem;

async function mailTo(endpoint: string, to: string): Promise<SesMessage[]> {
  const res = await fetch(`${endpoint}/_aws/ses`);
  const { messages } = (await res.json()) as { messages: SesMessage[] };
  return messages.filter((m) => m.Destination.ToAddresses.includes(to));
}

/** Polls until `count` mails reached `to`, then waits a quiet period so a late duplicate shows. */
async function settledMail(to: string, count: number, quietMs = 4000): Promise<SesMessage[]> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && (await mailTo(system.endpoint, to)).length < count) {
    await sleep(500);
  }
  await sleep(quietMs);
  return mailTo(system.endpoint, to);
}

function linkIn(mail: SesMessage): URL {
  const match = /(http:\/\/\S+\/verify\?\S+)/.exec(mail.Body.text_part ?? "");
  if (!match?.[1]) throw new Error(`no verification link in: ${mail.Body.text_part}`);
  return new URL(match[1]);
}

beforeAll(async () => {
  // A sign-up committed while no relay ran: the process stopped between the commit and the publish.
  const db = openAccountsDb(join(dataDir, `${stackName}-accounts.db`));
  createAccount(db, { email: address("stranded"), displayName: "Stranded" });
  expect(outboxCounts(db)).toEqual({ pending: 1, sent: 0 });
  db.close();

  system = await startLocalSystem({
    stackName,
    apiPort: 0,
    dataDir,
    workerOutput: process.stderr,
    // The bundles the stack deploys, not the sources: a bundle that cannot load fails this suite.
    bundles: true,
  });
}, 300_000);

afterAll(async () => {
  await system?.stop();
  await deleteStackOnLocalStack(stackName, { endpoint: inject("localstackEndpoint") });
  // This run's synthesized bundles (a copy per test stack name, which is new each run).
  rmSync(join(PROJECT_ROOT, ".courier", "bundles", stackName), { recursive: true, force: true });
}, 300_000);

describe("the local system through the example API", () => {
  it("GIVEN npm start with bundles (this suite's default) WHEN the workers start THEN every consumer runs its synthesized bundle, and each started", async () => {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && system.workers.states.some((s) => !s.started && !s.exited))
      await sleep(250);
    // Every consumer, and every topic's archiver (`archive:<topic>`): each is a function that deploys.
    expect(Object.keys(system.bundles ?? {}).sort()).toEqual(
      [...consumerNames, ...archiveWorkerNames(system.topology)].sort(),
    );
    for (const path of Object.values(system.bundles ?? {})) {
      expect(path).toMatch(/\/\.courier\/bundles\/[^/]+\/asset\.[0-9a-f]{64}\/index\.mjs$/);
    }
    expect(system.workers.states.filter((s) => !s.started || s.failure).map((s) => s.consumer)).toEqual([]);
  });

  it("GIVEN npm start WHEN the printed console address is opened THEN it serves the page, and nothing without its token", async () => {
    // The printed address opens the page once with the token in it (the page keeps it); the API
    // answers only requests that carry it.
    const { origin } = new URL(system.consoleUrl);
    const page = await fetch(system.consoleUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("courier console");
    const token = /name="courier-token" content="([^"]+)"/.exec(html)?.[1] ?? "";
    expect(token).not.toBe("");
    expect((await fetch(`${origin}/api/overview`, { headers: { "x-courier-token": token } })).status).toBe(
      200,
    );
    expect((await fetch(`${origin}/api/overview`)).status).toBe(401);
  });

  it("GIVEN a sign-up WHEN POST /accounts THEN 201 at once, one email arrives, and its link verifies the account", async () => {
    const email = address("ada");
    const res = await fetch(`${system.apiUrl}/accounts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, displayName: "Ada", phone: "+14155550123" }),
    });
    expect(res.status).toBe(201);
    const { accountId, credential } = (await res.json()) as { accountId: string; credential: string };

    const mails = await settledMail(email, 1);
    expect(mails).toHaveLength(1);
    const link = linkIn(mails[0] as SesMessage);
    expect(link.searchParams.get("accountId")).toBe(accountId);

    const verify = await fetch(`${system.apiUrl}/accounts/${accountId}/verify`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${credential}` },
      body: JSON.stringify({ token: link.searchParams.get("token") }),
    });
    expect(verify.status).toBe(200);
    expect(await verify.json()).toEqual({ accountId, verified: true, channel: "email" });
  });

  it("GIVEN a sign-up committed before the process stopped WHEN the system restarts THEN its NewAccount is published exactly once (failure mode: lost message)", async () => {
    const mails = await settledMail(address("stranded"), 1);
    expect(mails).toHaveLength(1);
    expect(outboxCounts(system.db).pending).toBe(0);
  });

  it("GIVEN the same event delivered twice to verification-email WHEN both are processed THEN one email is sent (failure mode: duplicate side effect)", async () => {
    const email = address("twice");
    const envelope = {
      eventId: randomUUID(),
      type: "NewAccount",
      version: 1,
      occurredAt: new Date().toISOString(),
      producer: "system-test",
      data: {
        accountId: `acc-${run}`,
        email,
        displayName: "Twice",
        locale: "en-US",
        createdAt: new Date().toISOString(),
      },
    };
    const sqs = new SQSClient(localClientConfig({ AWS_ENDPOINT_URL: system.endpoint }));
    const queueUrl = consumerOf(system.topology, "verification-email").queueUrl;
    for (let i = 0; i < 2; i++) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(envelope) }));
    }
    // Wait for both deliveries to be processed (the queue drains), then count mail.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const line = (await system.consumerLines()).find((l) => l.consumer === "verification-email");
      if (line?.queueDepth === 0 || Date.now() > deadline) break;
      await sleep(500);
    }
    const mails = await settledMail(email, 1);
    expect(mails).toHaveLength(1);
  });

  it("GIVEN an image upload WHEN POST /images THEN 202, and GET /images/:id soon lists both renditions", async () => {
    const jpeg = await sharp({ create: { width: 1600, height: 1200, channels: 3, background: "#3366aa" } })
      .jpeg()
      .toBuffer();
    const res = await fetch(`${system.apiUrl}/images`, {
      method: "POST",
      headers: { "content-type": "image/jpeg" },
      body: jpeg,
    });
    expect(res.status).toBe(202);
    const { imageId } = (await res.json()) as { imageId: string };
    const deadline = Date.now() + 90_000;
    let status = 0;
    let body: unknown;
    while (Date.now() < deadline) {
      const got = await fetch(`${system.apiUrl}/images/${imageId}`);
      status = got.status;
      body = await got.json();
      if (status === 200) break;
      await sleep(500);
    }
    expect(status).toBe(200);
    expect(body).toEqual({
      imageId,
      status: "ready",
      renditions: { thumb: `renditions/${imageId}/thumb.webp`, medium: `renditions/${imageId}/medium.webp` },
    });
  });
});
