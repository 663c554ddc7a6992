import { randomUUID } from "node:crypto";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  IDEMPOTENCY_PARTITION_KEY,
  IDEMPOTENCY_TTL_ATTRIBUTE,
  oncePerEvent,
} from "../../packages/courier/src/lib/idempotency/once-per-event.ts";
import { onceWhereConfigured } from "../../src/app/signup/once-where-configured.ts";
import { ensureIdempotencyTable, ensureLocalDynamo, type LocalDynamo } from "../../src/dev/dynamodb-local.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";

// Real DynamoDB API (dynalite on loopback), real Powertools persistence: no mocks.
let dynamo: LocalDynamo;
const table = `idempotency-test-${randomUUID().slice(0, 8)}`;

function store() {
  const { region, credentials } = localClientConfig();
  return new DynamoDBPersistenceLayer({
    tableName: table,
    keyAttr: IDEMPOTENCY_PARTITION_KEY,
    expiryAttr: IDEMPOTENCY_TTL_ATTRIBUTE,
    awsSdkV3Client: new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials }),
  });
}

beforeAll(async () => {
  dynamo = await ensureLocalDynamo();
  await ensureIdempotencyTable(dynamo.endpoint, table);
});
afterAll(async () => {
  await dynamo.close();
});

describe("side effects once per event (Powertools idempotency on a DynamoDB-API server)", () => {
  it("GIVEN the same event delivered twice WHEN the effect runs THEN it takes effect once (failure mode: duplicate email on redelivery)", async () => {
    let sent = 0;
    const send = oncePerEvent(
      async (_input: { eventId: string; to: string }) => {
        sent += 1;
        return { messageId: `mail-${sent}` };
      },
      { persistenceStore: store(), consumer: "verification-email" },
    );
    const event = { eventId: randomUUID(), to: "ada@example.com" };
    const first = await send(event);
    const second = await send(event);
    expect(sent).toBe(1);
    expect(second).toEqual(first);
  });

  it("GIVEN an effect that failed WHEN the event is retried THEN the effect runs again (failure mode: a failure remembered as done)", async () => {
    let attempts = 0;
    const send = oncePerEvent(
      async (_input: { eventId: string }) => {
        attempts += 1;
        if (attempts === 1) throw new Error("SES throttled");
        return "sent";
      },
      { persistenceStore: store(), consumer: "verification-email" },
    );
    const event = { eventId: randomUUID() };
    await expect(send(event)).rejects.toThrow("SES throttled");
    await expect(send(event)).resolves.toBe("sent");
    await expect(send(event)).resolves.toBe("sent");
    expect(attempts).toBe(2);
  });

  it("GIVEN two consumers of one event WHEN both run THEN each effect happens once (keys are per consumer)", async () => {
    const calls: string[] = [];
    const persistenceStore = store();
    const email = oncePerEvent(async (_: { eventId: string }) => calls.push("email"), {
      persistenceStore,
      consumer: "verification-email",
    });
    const sms = oncePerEvent(async (_: { eventId: string }) => calls.push("sms"), {
      persistenceStore,
      consumer: "verification-sms",
    });
    const event = { eventId: randomUUID() };
    await email(event);
    await sms(event);
    await email(event);
    await sms(event);
    expect(calls.sort()).toEqual(["email", "sms"]);
  });

  it("GIVEN a sign-up effect behind the table WHEN an event is delivered twice THEN the first call reports deduplicated false and the repeat true (failure mode: logs claiming every send was a duplicate)", async () => {
    const { region, credentials } = localClientConfig();
    const saved = { ...process.env };
    // The SDK client inside reads these from the process environment, as on Lambda.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    });
    try {
      let sent = 0;
      const sendOnce = onceWhereConfigured(
        "verification-email",
        async (_: { eventId: string }) => ({ sent: ++sent }),
        { IDEMPOTENCY_TABLE: table },
      );
      const ctx = { remainingTimeMs: () => 30_000 };
      const event = { eventId: randomUUID() };
      const first = await sendOnce(event, ctx);
      const repeat = await sendOnce(event, ctx);
      expect(first).toEqual({ result: { sent: 1 }, deduplicated: false });
      expect(repeat).toEqual({ result: { sent: 1 }, deduplicated: true });
    } finally {
      process.env = saved;
    }
  });
});
