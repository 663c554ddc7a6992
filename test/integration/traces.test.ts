/**
 * One request followed to its side effects on LocalStack, as `npm start` runs the system (JSON
 * logs, as on Lambda): a sign-up with a `traceparent` header, the API's log line, each sign-up
 * consumer's log lines, a dead letter (the team's webhook refuses the post), the DLQ peek, and the
 * same ids again once the message is redriven and handled. Failure modes: a consumer's lines that
 * cannot be tied to the request; a trace lost on the way through SNS, the DLQ or a redrive.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { peekDlq } from "../../packages/courier/src/lib/redrive/peek.ts";
import { redriveSelectively } from "../../packages/courier/src/lib/redrive/selective.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { type LocalSystem, startLocalSystem } from "../../src/dev/local-system.ts";
import { consumerOf } from "../helpers/example-stack.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const run = randomBytes(4).toString("hex");
let stack: TestStack;
const dataDir = mkdtempSync(join(tmpdir(), "courier-traces-"));
const TRACE_ID = `${randomBytes(16).toString("hex")}`;
const INCOMING = `00-${TRACE_ID}-${randomBytes(8).toString("hex")}-01`;
const SIGNUP_CONSUMERS = ["verification-email", "verification-sms", "team-notify"] as const;

let system: LocalSystem;
const systemLines: string[] = [];
/** The workers' JSON log lines (Powertools), parsed; EMF blobs included. */
const workerLines: Array<Record<string, unknown>> = [];
let pending = "";
const workerOutput = new Writable({
  write(chunk, _encoding, done) {
    process.stderr.write(chunk);
    pending += String(chunk);
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      try {
        if (line.startsWith("{")) workerLines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a JSON line (a stack trace, a warning): not what this test reads.
      }
    }
    done();
  },
});

let correlationId = "";

/** Lines of one consumer that carry the request's correlation id. */
const linesOf = (consumer: string, message?: string) =>
  workerLines.filter(
    (l) => l.service === consumer && l.correlationId === correlationId && (!message || l.message === message),
  );

async function until(what: string, check: () => boolean | Promise<boolean>, withinMs = 90_000) {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

beforeAll(async () => {
  stack = await deployTestStack("traces");
  system = await startLocalSystem({
    deployment: stack.deployment,
    apiPort: 0,
    dataDir,
    consumers: [...SIGNUP_CONSUMERS],
    workerOutput,
    workerLogs: "json",
    log: (line) => systemLines.push(line),
  });
}, 300_000);

afterAll(async () => {
  await system?.stop();
  await stack?.cleanup();
}, 300_000);

describe("one sign-up followed from the API to every consumer, a dead letter and a redrive", () => {
  it("GIVEN a sign-up with a traceparent WHEN POST /accounts THEN the response names a correlation id and the API logs it with the continued trace", async () => {
    // The team's webhook refuses posts for now: team-notify dead-letters this sign-up at once.
    system.webhook.answerWith(403);
    const res = await fetch(`${system.apiUrl}/accounts`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: INCOMING },
      body: JSON.stringify({ email: `trace-${run}@example.com`, displayName: "Ada", phone: "+14155550188" }),
    });
    expect(res.status).toBe(201);
    correlationId = res.headers.get("x-correlation-id") ?? "";
    expect(correlationId).not.toBe("");
    const apiLine = systemLines.find((l) => l.startsWith("api: POST /accounts 201"));
    expect(apiLine).toContain(`correlationId=${correlationId}`);
    expect(apiLine).toContain(`traceparent=00-${TRACE_ID}-`);
  });

  it("GIVEN that sign-up WHEN each sign-up consumer handles it THEN each one's log lines carry its correlation id and trace id", async () => {
    expect(correlationId).not.toBe("");
    await until(
      "every sign-up consumer's line",
      () =>
        linesOf("verification-email", "verification email sent").length > 0 &&
        linesOf("verification-sms", "verification SMS sent").length > 0 &&
        linesOf("team-notify", "record dead-lettered").length > 0,
    );
    for (const consumer of SIGNUP_CONSUMERS) {
      for (const line of linesOf(consumer)) {
        expect(line.traceparent, consumer).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
      }
    }
    // The metric context too: the EMF line of the batch lists it as metadata, not as a dimension.
    const emf = workerLines.filter(
      (l) => l._aws !== undefined && String(l.correlationIds ?? "").includes(correlationId),
    );
    expect(emf.length).toBeGreaterThan(0);
    for (const blob of emf) {
      const dimensions = (
        blob._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][] }> }
      ).CloudWatchMetrics[0]?.Dimensions.flat();
      expect(dimensions).not.toContain("correlationIds");
    }
  });

  it("GIVEN the dead-lettered copy WHEN peeked THEN it names the correlation id; WHEN redriven after the webhook is mended THEN team-notify's lines carry it again", async () => {
    expect(correlationId).not.toBe("");
    const sqs = new SQSClient(localClientConfig({ AWS_ENDPOINT_URL: system.endpoint }));
    const teamNotify = consumerOf(system.topology, "team-notify");
    const peeked = await peekDlq({ sqs, dlqUrl: teamNotify.dlqUrl });
    const ours = peeked.messages.filter((m) => m.correlationId === correlationId);
    expect(ours).toHaveLength(1);
    expect(ours[0]?.errorClass).toBe("WebhookRejectedError");

    system.webhook.answerWith(200);
    const summary = await redriveSelectively({
      sqs,
      dlqUrl: teamNotify.dlqUrl,
      queueUrl: teamNotify.queueUrl,
    });
    expect(summary.moved).toBeGreaterThanOrEqual(1);
    await until(
      "team-notify's line after the redrive",
      () => linesOf("team-notify", "team notified").length > 0,
    );
    const [handled] = linesOf("team-notify", "team notified");
    expect(handled?.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-`));
    expect(system.webhook.posts.length).toBeGreaterThanOrEqual(1);
  });
});
