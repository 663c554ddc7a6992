/**
 * Abuse resistance of the whole local system, through the example API as an attacker would use it:
 * LocalStack with the stack, verification-sms in its worker process, dynalite holding the idempotency
 * table (and the SMS cap's counters), SMS read back from LocalStack's record of sent messages.
 * Failure modes covered: SMS pumping (many sign-ups to one number send one SMS each); a brute-forced
 * SMS code; a lock that a re-send cannot lift (the user locked out for good).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { peekDlq } from "../../packages/courier/src/lib/redrive/peek.ts";
import { EDGE_LIMITS_ENV } from "../../src/app/api/edge-limits.ts";
import { SMS_RATE_LIMITED } from "../../src/app/signup/sms-cap.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { type LocalSystem, startLocalSystem } from "../../src/dev/local-system.ts";
import { exampleNeeds } from "../../src/topology.ts";
import { call } from "../helpers/api-client.ts";
import { consumerOf } from "../helpers/example-stack.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const run = randomBytes(3).toString("hex");
let stack: TestStack;
const dataDir = mkdtempSync(join(tmpdir(), "courier-abuse-"));
const declaredCap = exampleNeeds["verification-sms"].smsCap;
if (!declaredCap) throw new Error("exampleNeeds declares no smsCap for verification-sms");
const cap = declaredCap;
// Numbers unique to this run (LocalStack keeps every SMS it recorded while it runs).
const digits = () => String(Number.parseInt(run, 16) % 10_000_000).padStart(7, "0");
const PUMPED = `+1415${digits()}`;
const VICTIM = `+1628${digits()}`;
let system: LocalSystem;
let savedLimits: string | undefined;

interface SentSms {
  readonly PhoneNumber: string;
  readonly Message: string;
}

async function smsTo(phone: string): Promise<SentSms[]> {
  const response = await fetch(`${system.smsUrl}?phoneNumber=${encodeURIComponent(phone)}`);
  const { sms_messages } = (await response.json()) as { sms_messages: Record<string, SentSms[]> };
  return sms_messages[phone] ?? [];
}

/** Polls until `check` holds; the deadline is generous, so no pass or fail hangs on timing. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  deadlineMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  // The API's own per-phone limit (5 a day) would stop this flood first; raised here so that the
  // sender's cap is shown holding on its own, as it must when something gets past the API.
  savedLimits = process.env[EDGE_LIMITS_ENV];
  process.env[EDGE_LIMITS_ENV] = JSON.stringify({
    signup: {
      perClient: { points: 1000, durationSeconds: 3600 },
      perTarget: { points: 1000, durationSeconds: 3600 },
    },
  });
  stack = await deployTestStack("abuse");
  system = await startLocalSystem({
    deployment: stack.deployment,
    apiPort: 0,
    dataDir,
    consumers: ["verification-sms"],
    workerOutput: process.stderr,
  });
}, 300_000);

afterAll(async () => {
  if (savedLimits === undefined) delete process.env[EDGE_LIMITS_ENV];
  else process.env[EDGE_LIMITS_ENV] = savedLimits;
  await system?.stop();
  await stack?.cleanup();
}, 300_000);

describe("abuse resistance of the local system through the example API", () => {
  it(`GIVEN 50 sign-ups to one phone WHEN the consumer drains them THEN at most the cap (${cap.perNumberPerDay}) of SMS are sent and the rest dead-lettered with reason ${SMS_RATE_LIMITED}`, async () => {
    for (let i = 0; i < 50; i++) {
      const res = await call(system.apiUrl, "/accounts", {
        body: { email: `pump-${run}-${i}@example.com`, displayName: `Pump ${i}`, phone: PUMPED },
      });
      expect(res.status).toBe(201);
    }
    const dlqUrl = consumerOf(system.topology, "verification-sms").dlqUrl;
    const sqs = new SQSClient(localClientConfig({ ...process.env, AWS_ENDPOINT_URL: system.endpoint }));
    const refused = await eventually("47 sign-ups dead-lettered", async () => {
      const peeked = await peekDlq({ sqs, dlqUrl, max: 100, waitTimeSeconds: 1 });
      const mine = peeked.messages.filter((m) => m.body.includes(PUMPED));
      return mine.length >= 50 - cap.perNumberPerDay ? mine : undefined;
    });
    expect(refused).toHaveLength(50 - cap.perNumberPerDay);
    for (const message of refused) {
      expect(message.errorClass).toBe("SmsRateLimitedError");
      expect(message.failure?.message).toMatch(new RegExp(`^${SMS_RATE_LIMITED}: the number`));
      expect(message.failure?.kind).toBe("permanent");
    }
    expect(await smsTo(PUMPED)).toHaveLength(cap.perNumberPerDay);
  }, 300_000);

  it("GIVEN 1,000 wrong codes for an account WHEN posted THEN it locks after 5, the texted code fails, and only the code of a re-sent SMS verifies", async () => {
    const created = await call(system.apiUrl, "/accounts", {
      body: { email: `victim-${run}@example.com`, displayName: "Victim", phone: VICTIM },
    });
    expect(created.status).toBe(201);
    const accountId = String(created.json.accountId);
    // The owner's credential from sign-up: the verify routes answer only the account's owner.
    const headers = { authorization: `Bearer ${String(created.json.credential)}` };
    const first = await eventually("the first SMS", async () => (await smsTo(VICTIM))[0]);
    const texted = /^(\d{6}) /.exec(first.Message)?.[1] ?? "";
    expect(texted).toMatch(/^\d{6}$/);

    const statuses = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const wrong = String((Number(texted) + 1 + i) % 1_000_000).padStart(6, "0");
      const res = await call(system.apiUrl, `/accounts/${accountId}/verify`, {
        headers,
        body: { code: wrong },
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 422: 5, 429: 995 });
    const withTexted = await call(system.apiUrl, `/accounts/${accountId}/verify`, {
      headers,
      body: { code: texted },
    });
    expect(withTexted.status).toBe(429);

    const resent = await call(system.apiUrl, `/accounts/${accountId}/verification/resend`, {
      headers,
      body: { channel: "sms" },
    });
    expect(resent.status).toBe(202);
    const second = await eventually("the re-sent SMS", async () => (await smsTo(VICTIM))[1]);
    const fresh = /^(\d{6}) /.exec(second.Message)?.[1] ?? "";
    expect(fresh).not.toBe(texted);
    expect(
      (await call(system.apiUrl, `/accounts/${accountId}/verify`, { headers, body: { code: texted } }))
        .status,
    ).toBe(422);
    expect(
      (await call(system.apiUrl, `/accounts/${accountId}/verify`, { headers, body: { code: fresh } })).status,
    ).toBe(200);
  }, 300_000);
});
