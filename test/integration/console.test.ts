/**
 * The operator console end to end: `startConsole` against a private copy of the stack on
 * LocalStack, a consumer running through the real runtime and local event source, and the page
 * in a real browser (Debian's Chromium through playwright-core).
 *
 * Failure modes covered:
 * - a consumer of the topology missing from the page;
 * - a poison pill not showing under its cause (or showing late: the bound is 10 s from publish);
 * - a dry run whose count differs from the group, or that moves something;
 * - a redrive after the fix that leaves the group, or makes the consumer process a message twice
 *   or not at all;
 * - a message body carrying script or an onerror attribute that runs (a dialog, a console error,
 *   a global set, an element made from it);
 * - a delete that runs without the typed count, or deletes more than it named;
 * - requests without the token answered; state changes from another origin accepted; --read-only
 *   still offering actions;
 * - serious or critical accessibility violations (axe-core) on the main views.
 * Screenshots of each main view go to test/artifacts/ (git-ignored).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningConsole, startConsole } from "../../packages/courier/src/console/server.ts";
import {
  localStackPeek,
  oldestAgeFromPeek,
  queueDepth,
} from "../../packages/courier/src/deployment/consumer-status.ts";
import { type LocalEventSource, startEventSource } from "../../packages/courier/src/worker/event-source.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { defineConsumer, PermanentError } from "../helpers/example-consumer.ts";
import { createPublisher } from "../helpers/example-publisher.ts";
import { launchChromium } from "./support/browser.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const CONSUMER = "verification-email";
const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

class TemplateMissingError extends PermanentError {
  override readonly name = "TemplateMissingError";
}
class AccountClosedError extends PermanentError {
  override readonly name = "AccountClosedError";
}

let stack: TestStack | undefined;
let console_: RunningConsole | undefined;
let readOnlyConsole: RunningConsole | undefined;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let source: LocalEventSource | undefined;
const sqs = new SQSClient(localClientConfig());

/** The consumer's fault, switched off by the "fix"; and what it processed, per eventId. */
let templatesDeployed = false;
const processed = new Map<string, number>();
const pageProblems: string[] = [];

const publisher = () =>
  createPublisher({
    sns: new SNSClient(localClientConfig()),
    topicArns: {
      "account-signups": stack?.topology.topics["account-signups"]?.arn ?? "",
      "image-uploads": stack?.topology.topics["image-uploads"]?.arn ?? "",
    },
    producer: "console-e2e",
  });

function signUp(accountId: string, displayName = "Ada Lovelace") {
  return {
    accountId,
    email: `${accountId}@example.com`,
    displayName,
    phone: "+14155550123",
    locale: "de-DE",
    createdAt: new Date().toISOString(),
  };
}

async function screenshot(name: string) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}console-${name}.png`, fullPage: true });
}

async function axeViolations(): Promise<{ id: string; impact: string; nodes: number }[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run: () => Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> };
      }
    ).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
}

const group = (causeStart: string) => page.locator("li.group").filter({ hasText: causeStart });

beforeAll(async () => {
  expect(localClientConfig().endpoint).toBe(inject("localstackEndpoint"));
  stack = await deployTestStack("console");
  const deployed = stack.topology.consumers[CONSUMER];
  if (!deployed) throw new Error(`stack ${stack.topology.stackName} has no consumer ${CONSUMER}`);
  const spec = deployed;
  source = await startEventSource({
    sqs,
    queueUrl: deployed.queueUrl,
    queueArn: deployed.queueArn,
    functionName: CONSUMER,
    batchSize: spec.batchSize,
    maxBatchingWindowSeconds: 0,
    timeoutSeconds: spec.timeoutSeconds,
    concurrency: 2,
    waitTimeSeconds: 1,
    handler: defineConsumer({
      name: CONSUMER,
      sqs,
      queueUrl: deployed.queueUrl,
      dlqUrl: deployed.dlqUrl,
      metrics: { addMetric: () => undefined, publishStoredMetrics: () => undefined } as never,
      handle: (message) => {
        const { accountId } = message.data;
        if (accountId.startsWith("closed-")) throw new AccountClosedError(`account ${accountId} is closed`);
        if (!templatesDeployed) {
          throw new TemplateMissingError(`template verification-email/de-DE is missing for ${accountId}`);
        }
        processed.set(message.eventId, (processed.get(message.eventId) ?? 0) + 1);
      },
    }),
  });
  const options = {
    sqs,
    cloudwatch: new CloudWatchClient(localClientConfig()),
    topology: stack.topology,
    endpoint: inject("localstackEndpoint"),
    oldestAge: oldestAgeFromPeek(localStackPeek(inject("localstackEndpoint"))),
    // maxRedrives: the stack manifest's.
  };
  console_ = await startConsole({ ...options, readOnly: false });
  readOnlyConsole = await startConsole({ ...options, readOnly: true });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.on("dialog", (dialog) => {
    pageProblems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on("console", (message) => {
    if (message.type() === "error") pageProblems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => pageProblems.push(`page error: ${error.message}`));
});

afterAll(async () => {
  await browser?.close();
  await console_?.close();
  await readOnlyConsole?.close();
  await source?.stop();
  await stack?.cleanup();
});

describe("courier console", () => {
  it("GIVEN no token WHEN the API is requested THEN 401, and the shell holds no token", async () => {
    const running = console_ as RunningConsole;
    expect(await (await fetch(`${running.origin}/`)).text()).not.toContain(running.token);
    expect((await fetch(`${running.origin}/api/overview`)).status).toBe(401);
    expect((await fetch(`${running.origin}/api/overview?token=${running.token}`)).status).toBe(401);
  });

  it("GIVEN the printed URL WHEN it is opened THEN the topology lists every consumer with its figures", async () => {
    const running = console_ as RunningConsole;
    const response = await page.goto(running.url);
    expect(response?.status()).toBe(200);
    // The one-time code left the address bar; the token went to localStorage, not a cookie.
    await expect.poll(() => page.url()).not.toContain("token=");
    expect(await context.cookies()).toEqual([]);
    const csp = (await response?.allHeaders())?.["content-security-policy"] ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    await page.locator("li.lane").first().waitFor();
    const listed = await page
      .locator("li.lane")
      .evaluateAll((lanes) => lanes.map((lane) => lane.getAttribute("data-consumer")));
    // The deployed stack's consumers, from its manifest.
    expect(listed.sort()).toEqual(Object.keys(stack?.topology.consumers ?? {}).sort());
    await expect.poll(() => page.locator(".freshness").textContent()).toMatch(/figures read \d+s ago/);
    await screenshot("topology");
    const violations = await axeViolations();
    expect(violations.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([]);
  });

  let pills: string[] = [];
  it("GIVEN poison pills WHEN they are published THEN they appear under their cause within 10 s", async () => {
    const published = Date.now();
    const results = await Promise.all(
      ["p1", "p2", "p3"].map((n) => publisher().publish("account-signups", signUp(`poison-${n}`))),
    );
    pills = results.map((r) => r.eventId);
    await page.goto(`${(console_ as RunningConsole).origin}/#/dead-letters/${CONSUMER}`);
    // The account id differs per message; the cause masks it, so the three read as one.
    const cause = "TemplateMissingError: template verification-email/de-DE is missing for <id>";
    await expect
      .poll(
        async () => (await group(cause).count()) > 0 && (await group(cause).locator(".count").innerText()),
        {
          timeout: 10_000 - (Date.now() - published),
          interval: 200,
        },
      )
      .toMatch(/^3/);
    const shownAfterMs = Date.now() - published;
    console.log(`poison pills shown under their cause ${shownAfterMs} ms after publishing`);
    expect(shownAfterMs).toBeLessThan(10_000);
    await screenshot("dead-letters");
  });

  it("GIVEN a group WHEN its redrive is previewed THEN the dry run counts the group and moves nothing", async () => {
    await group("TemplateMissingError")
      .getByRole("button", { name: /Preview redrive of 3 messages/ })
      .click();
    await page.locator('.job[data-job-state="done"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('.job [data-count="moved"]').innerText()).toBe("3");
    expect(await page.locator(".job").innerText()).toContain("nothing moved yet");
    await screenshot("dry-run");
    const deployed = stack?.topology.consumers[CONSUMER];
    expect(await queueDepth(sqs, deployed?.dlqUrl ?? "")).toBe(3);
    expect(processed.size).toBe(0);
  });

  it("GIVEN the fix WHEN the group is redriven THEN it empties and the consumer processes each message once", async () => {
    templatesDeployed = true;
    await page.getByRole("button", { name: "Redrive 3 messages now" }).click();
    await page.locator('.job[data-job-state="done"]:not(:has-text("Dry run"))').waitFor({ timeout: 30_000 });
    expect(await page.locator('.job [data-count="moved"]').innerText()).toBe("3");
    await expect.poll(() => group("TemplateMissingError").count(), { timeout: 15_000 }).toBe(0);
    await expect.poll(() => processed.size, { timeout: 30_000 }).toBe(3);
    // Settle a moment: a duplicate delivery would show as a second count.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect([...processed.keys()].sort()).toEqual([...pills].sort());
    expect([...processed.values()]).toEqual([1, 1, 1]);
    await page.getByRole("button", { name: "Close" }).click();
  });

  it("GIVEN a body carrying script and an onerror attribute WHEN its detail is shown THEN it is text and nothing runs", async () => {
    const hostile = `<script>window.__pwned=1;alert("script")</script><img src=x onerror="window.__pwned=2;alert('img')">`;
    const { eventId } = await publisher().publish("account-signups", signUp("closed-0001", hostile));
    const cause = group("AccountClosedError");
    await cause.waitFor({ timeout: 15_000 });
    await cause.locator("summary").click();
    await cause.getByRole("button", { name: `View message ${eventId}` }).click();
    const body = page.getByTestId("message-body");
    await body.waitFor();
    expect(await body.innerText()).toContain(hostile.replaceAll('"', '\\"'));
    // Masked until revealed.
    expect(await body.innerText()).not.toContain("closed-0001@example.com");
    await page.getByRole("button", { name: "Reveal personal data" }).click();
    await expect.poll(() => body.innerText()).toContain("closed-0001@example.com");
    await screenshot("message");
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator("main img, main script").count()).toBe(0);
    const violations = await axeViolations();
    expect(violations.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([]);
    await page.getByRole("button", { name: "Close" }).click();
  });

  it("GIVEN a group WHEN delete is asked THEN it waits for the typed count and deletes that many", async () => {
    await publisher().publish("account-signups", signUp("closed-0002"));
    const cause = group("AccountClosedError");
    await expect.poll(() => cause.locator(".count").innerText(), { timeout: 15_000 }).toMatch(/^2/);
    await cause.getByRole("button", { name: "Delete…" }).click();
    const remove = cause.getByRole("button", { name: "Delete 2 messages" });
    expect(await remove.isDisabled()).toBe(true);
    await cause.getByLabel(/Type 2 to delete/).fill("3");
    expect(await remove.isDisabled()).toBe(true);
    await cause.getByLabel(/Type 2 to delete/).fill("2");
    await remove.click();
    await page.locator('.job[data-job-state="done"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('.job [data-count="deleted"]').innerText()).toBe("2");
    expect(await queueDepth(sqs, stack?.topology.consumers[CONSUMER]?.dlqUrl ?? "")).toBe(0);
  });

  it("GIVEN a state change WHEN it comes without the header token or from another origin THEN it is refused", async () => {
    const running = console_ as RunningConsole;
    // Another consumer's (empty) DLQ: the accepted dry run must not hold this test's messages.
    const body = JSON.stringify({
      action: "redrive",
      consumer: "thumbnails",
      selection: { messageIds: ["x"] },
      dryRun: true,
    });
    const post = (headers: Record<string, string>) =>
      fetch(`${running.origin}/api/actions`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...headers },
      });
    expect(
      (await post({ cookie: "", "x-courier-token": running.token, origin: "http://evil.example" })).status,
    ).toBe(403);
    expect((await post({ origin: running.origin })).status).toBe(401);
    expect((await post({ origin: running.origin, "x-courier-token": running.token })).status).toBe(202);
  });

  it("GIVEN --read-only WHEN the dead letters are shown THEN no action is offered and actions are refused", async () => {
    const running = readOnlyConsole as RunningConsole;
    await publisher().publish("account-signups", signUp("closed-0003"));
    await page.goto(running.url);
    await page.goto(`${running.origin}/#/dead-letters/${CONSUMER}`);
    await group("AccountClosedError")
      .waitFor({ timeout: 15_000 })
      .catch(async (error: Error) => {
        await screenshot("read-only-failure");
        const triage = await fetch(`${running.origin}/api/consumers/${CONSUMER}/triage`, {
          headers: { "x-courier-token": running.token },
        });
        throw new Error(`${error.message}; triage: ${await triage.text()}`);
      });
    expect(await page.locator(".badge", { hasText: "read-only" }).count()).toBe(1);
    expect(await page.getByRole("button", { name: /Preview redrive|Delete/ }).count()).toBe(0);
    const refused = await fetch(`${running.origin}/api/actions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: running.origin,
        "x-courier-token": running.token,
      },
      body: JSON.stringify({
        action: "redrive",
        consumer: CONSUMER,
        selection: { messageIds: ["x"] },
        dryRun: true,
      }),
    });
    expect(refused.status).toBe(403);
  });

  it("GIVEN the whole session THEN no dialog opened and the page logged no error", () => {
    expect(pageProblems).toEqual([]);
  });
});
