/**
 * One sign-up followed by its OpenTelemetry spans, as `npm start` records them: the example API's
 * request, the outbox relay's publish to SNS, verification-email's failed attempt (SES refuses the
 * sender) and the dead letter, the redrive, and the email sent on the second attempt; read back
 * from the local OTLP receiver's spans file, then found again by `traceMessage` with its eventId
 * and with the request's correlation id. Failure modes covered: a hop that starts a trace of its
 * own instead of continuing or linking to the producer's (the journey breaks at SNS, the DLQ or the
 * redrive); an attempt's outcome missing from its span; the side effect (SES) not under the record;
 * spans that never reach the receiver; a journey that reports the DLQ stay after the redrive; the
 * console's "Find a message" (Chromium) not finding it by its eventId, or with serious or critical
 * accessibility violations (axe-core). Its screenshot goes to test/artifacts/ (git-ignored).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { DeleteIdentityCommand, SESClient, VerifyEmailIdentityCommand } from "@aws-sdk/client-ses";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSpanFile, type SpanRecord, traceMessage } from "../../packages/courier/src/cli/index.ts";
import { peekDlq } from "../../packages/courier/src/lib/redrive/peek.ts";
import { redriveSelectively } from "../../packages/courier/src/lib/redrive/selective.ts";
import { startTracing } from "../../packages/courier/src/otel/index.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { LOCAL_MAIL_FROM, type LocalSystem, startLocalSystem } from "../../src/dev/local-system.ts";
import { consumerOf } from "../helpers/example-stack.ts";
import { launchChromium } from "./support/browser.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const run = randomBytes(4).toString("hex");
const email = `otel-${run}@example.com`;
const TRACE_ID = randomBytes(16).toString("hex");
const CALLER_SPAN = randomBytes(8).toString("hex");
const dataDir = mkdtempSync(join(tmpdir(), "courier-otel-journey-"));
let stack: TestStack;
let system: LocalSystem;
let ses: SESClient;
let sqs: SQSClient;
let correlationId = "";
let eventId = "";

const quiet = new Writable({
  write(_chunk, _encoding, done) {
    done();
  },
});

async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  withinMs = 90_000,
) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

async function spans(): Promise<SpanRecord[]> {
  // This process's own spans (the API, the relay, the redrive) go out in batches: flush them first.
  await startTracing().flush();
  const file = system.spans?.spansFile;
  if (!file) throw new Error("the local system recorded no spans");
  return (await readSpanFile(file)).spans;
}

const ofEvent = (all: SpanRecord[]) => all.filter((s) => s.attributes["courier.event_id"] === eventId);
const records = (all: SpanRecord[]) =>
  ofEvent(all)
    .filter((s) => s.attributes["messaging.operation.type"] === "process")
    .sort((a, b) => a.start.localeCompare(b.start));
const childrenOf = (all: SpanRecord[], parent: SpanRecord) =>
  all.filter((s) => s.parentSpanId === parent.spanId);

beforeAll(async () => {
  stack = await deployTestStack("otel-journey");
  system = await startLocalSystem({
    deployment: stack.deployment,
    apiPort: 0,
    dataDir,
    consumers: ["verification-email"],
    workerOutput: quiet,
    workerLogs: "json",
    workerWaitSeconds: 1,
  });
  const aws = localClientConfig({ AWS_ENDPOINT_URL: system.endpoint });
  ses = new SESClient(aws);
  sqs = new SQSClient(aws);
}, 300_000);

afterAll(async () => {
  // The sender is verified again for the files that run after this one on a shared LocalStack.
  await ses?.send(new VerifyEmailIdentityCommand({ EmailAddress: LOCAL_MAIL_FROM })).catch(() => {});
  await system?.stop();
  await stack?.cleanup();
}, 300_000);

describe("one sign-up's journey in spans: API, outbox, SNS, a failed attempt, the DLQ, a redrive, the email", () => {
  it("GIVEN SES refusing the sender WHEN an account is created with a traceparent THEN the API's SERVER span continues the caller's trace and the outbox's PRODUCER span is its child", async () => {
    await ses.send(new DeleteIdentityCommand({ Identity: LOCAL_MAIL_FROM }));
    const res = await fetch(`${system.apiUrl}/accounts`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` },
      body: JSON.stringify({ email, displayName: "Ada" }),
    });
    expect(res.status).toBe(201);
    correlationId = res.headers.get("x-correlation-id") ?? "";
    const published = await until("the outbox's publish span", async () =>
      (await spans()).find(
        (s) => s.kind === "producer" && s.attributes["courier.correlation_id"] === correlationId,
      ),
    );
    eventId = String(published.attributes["courier.event_id"]);
    const all = await spans();
    const server = all.find(
      (s) => s.kind === "server" && s.attributes["courier.correlation_id"] === correlationId,
    );
    expect(server?.traceId).toBe(TRACE_ID);
    expect(server?.parentSpanId).toBe(CALLER_SPAN);
    expect(server?.service).toBe("example-api");
    expect(published).toMatchObject({
      name: "send account-signups",
      traceId: TRACE_ID,
      parentSpanId: server?.spanId,
      attributes: expect.objectContaining({
        "messaging.system": "aws_sns",
        "messaging.destination.name": "account-signups",
        "courier.message_type": "NewAccount",
      }),
    });
    expect(published.attributes["messaging.message.id"]).toEqual(expect.any(String));
  });

  it("GIVEN that message WHEN verification-email fails on it THEN its record span says dead-lettered with the reason, links to the producer, and holds the failed SES call; the DLQ has it", async () => {
    expect(eventId).not.toBe("");
    const [attempt] = await until("the dead-lettered attempt's span", async () => {
      const found = records(await spans());
      return found.length > 0 ? found : undefined;
    });
    const all = await spans();
    const producer = ofEvent(all).find((s) => s.attributes["messaging.operation.name"] === "publish");
    expect(attempt).toMatchObject({
      kind: "consumer",
      service: "verification-email",
      status: "error",
      attributes: expect.objectContaining({
        "courier.consumer": "verification-email",
        "courier.outcome": "dead-lettered",
        "courier.dead_letter.reason": "permanent",
        "courier.error.class": "EmailRejectedError",
        "courier.correlation_id": correlationId,
      }),
    });
    expect(attempt?.links).toEqual([{ traceId: TRACE_ID, spanId: producer?.spanId }]);
    // Its batch: a CONSUMER `process <queue>` span, parent of the record's, linked to the producer too.
    const batch = all.find((s) => s.spanId === attempt?.parentSpanId);
    expect(batch?.name).toBe(
      `process ${consumerOf(system.topology, "verification-email").queueUrl.split("/").at(-1)}`,
    );
    expect(batch?.links).toContainEqual({ traceId: TRACE_ID, spanId: producer?.spanId });
    const calls = childrenOf(all, attempt as SpanRecord).filter((s) => s.kind === "client");
    expect(calls.map((c) => [c.name, c.status])).toContainEqual(["SES.SendEmail", "error"]);
    const peeked = await peekDlq({ sqs, dlqUrl: consumerOf(system.topology, "verification-email").dlqUrl });
    expect(peeked.messages.filter((m) => m.eventId === eventId)).toHaveLength(1);
  });

  it("GIVEN the sender verified again WHEN the DLQ is redriven THEN a redrive span links to the producer and the second attempt's span says processed, with SES.SendEmail under it, and the email is sent", async () => {
    expect(eventId).not.toBe("");
    await ses.send(new VerifyEmailIdentityCommand({ EmailAddress: LOCAL_MAIL_FROM }));
    const verificationEmail = consumerOf(system.topology, "verification-email");
    const summary = await redriveSelectively({
      sqs,
      dlqUrl: verificationEmail.dlqUrl,
      queueUrl: verificationEmail.queueUrl,
    });
    expect(summary.moved).toBeGreaterThanOrEqual(1);
    await until("the processed attempt's span", async () =>
      records(await spans()).find((s) => s.attributes["courier.outcome"] === "processed"),
    );
    const all = await spans();
    const producer = ofEvent(all).find((s) => s.attributes["messaging.operation.name"] === "publish");
    const redrive = ofEvent(all).find((s) => s.attributes["messaging.operation.name"] === "redrive");
    expect(redrive).toMatchObject({
      kind: "producer",
      attributes: expect.objectContaining({ "courier.outcome": "redriven", "courier.redrive.count": 1 }),
      links: [{ traceId: TRACE_ID, spanId: producer?.spanId }],
    });
    const [first, second] = records(all);
    expect(first?.attributes["courier.outcome"]).toBe("dead-lettered");
    expect(second?.attributes["courier.outcome"]).toBe("processed");
    expect(second?.links).toEqual([{ traceId: TRACE_ID, spanId: producer?.spanId }]);
    expect(second?.attributes["messaging.message.id"]).toBe(redrive?.attributes["messaging.message.id"]);
    const calls = childrenOf(all, second as SpanRecord).filter((s) => s.kind === "client");
    expect(calls.map((c) => [c.name, c.status])).toContainEqual(["SES.SendEmail", "unset"]);
    const { messages } = (await (await fetch(system.mailboxUrl)).json()) as {
      messages: Array<{ Destination: { ToAddresses: string[] } }>;
    };
    expect(messages.filter((m) => m.Destination.ToAddresses.includes(email))).toHaveLength(1);
  });

  it("GIVEN the eventId, and then the correlation id WHEN traced locally THEN traceMessage tells the same journey: published, dead-lettered, redriven, processed, with the log lines", async () => {
    expect(eventId).not.toBe("");
    await startTracing().flush();
    const source = {
      kind: "local" as const,
      spansFile: system.spans?.spansFile ?? "",
      logFiles: [system.workerLogFile],
    };
    const journey = await traceMessage({ id: eventId, source, topology: system.topology });
    expect(journey.matchedBy).toBe("eventId");
    const [message] = journey.messages;
    expect(message?.published).toEqual([
      expect.objectContaining({ topic: "account-signups", service: "example-api" }),
    ]);
    const delivery = message?.deliveries.find((d) => d.consumer === "verification-email");
    expect(delivery?.attempts.map((a) => a.outcome)).toEqual(["dead-lettered", "processed"]);
    expect(delivery?.redrives).toHaveLength(1);
    expect(delivery?.state).toBe("processed");
    expect(message?.logLines.map((l) => l.message)).toEqual(
      expect.arrayContaining(["record dead-lettered", "verification email sent"]),
    );
    const byRequest = await traceMessage({ id: correlationId, source, topology: system.topology });
    expect(byRequest.matchedBy).toBe("correlationId");
    expect(byRequest.messages.map((m) => m.eventId)).toEqual([eventId]);
  });

  it("GIVEN the console npm start serves WHEN an operator finds the message by its eventId in Chromium THEN the page shows its journey: published, dead-lettered with the reason, redriven, processed with the email sent", async () => {
    expect(eventId).not.toBe("");
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(error.message));
      await page.goto(system.consoleUrl);
      await page.getByRole("link", { name: "Find a message" }).click();
      await page.getByRole("textbox", { name: "eventId or correlation id", exact: true }).fill(eventId);
      await page.getByRole("button", { name: "Find" }).click();
      const trail = page.locator(`article.trail[data-event-id="${eventId}"]`);
      await trail.waitFor({ timeout: 15_000 });
      await expect(trail.locator(".step.publish").textContent()).resolves.toMatch(
        /published to account-signups by example-api/,
      );
      const delivery = trail.locator('section.delivery[data-consumer="verification-email"]');
      await expect(delivery.locator("h4").textContent()).resolves.toMatch(/verification-email\s+processed/);
      const outcomes = await delivery
        .locator("li.attempt")
        .evaluateAll((items) => items.map((li) => li.getAttribute("data-outcome")));
      expect(outcomes).toEqual(["dead-lettered", "processed"]);
      await expect(delivery.locator("li.attempt.dead-lettered").textContent()).resolves.toMatch(
        /permanent: EmailRejectedError/,
      );
      await expect(delivery.locator("li.step.redrive").textContent()).resolves.toMatch(
        /redriven from the DLQ/,
      );
      await expect(delivery.locator("li.attempt.processed .side-effects").textContent()).resolves.toMatch(
        /SES\.SendEmail/,
      );
      // The address is personal data: masked on the page, as the dead-letter views mask it.
      expect(await trail.textContent()).not.toContain(email);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}console-find-message.png`, fullPage: true });
      await page.evaluate(AXE_SOURCE);
      const violations = await page.evaluate(async () => {
        const axe = (
          globalThis as unknown as {
            axe: {
              run: () => Promise<{
                violations: {
                  id: string;
                  impact: string;
                  nodes: { target: string[]; failureSummary?: string }[];
                }[];
              }>;
            };
          }
        ).axe;
        return (await axe.run()).violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary ?? ""}`),
        }));
      });
      expect(violations.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
