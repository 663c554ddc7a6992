/**
 * The example API's side of a trace: an incoming traceparent is continued (an invalid one starts a
 * new trace), the request is logged with its correlation id, the client gets that id back, and the
 * messages the request causes carry the trace, through the outbox too. Failure modes: a bad header
 * crashing a request; a request whose messages cannot be tied to it; a token logged from a query.
 */
import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseTraceparent, type TraceContext } from "../../packages/courier/src/lib/trace/trace-context.ts";
import { openAccountsDb } from "../../src/app/accounts/account-store.ts";
import { type ApiRequestLog, createApiServer } from "../../src/app/api/api-server.ts";
import { createOutboxRelay, type OutboxMessage } from "../../src/app/outbox/index.ts";
import { verificationKey } from "../../src/app/signup/verification-code.ts";

const INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const s3Mock = mockClient(S3Client);
let base: string;
let close: () => Promise<void>;
let db: ReturnType<typeof openAccountsDb>;
let logged: ApiRequestLog[];
let imageTraces: Array<TraceContext | undefined>;

beforeEach(async () => {
  s3Mock.reset();
  s3Mock.onAnyCommand().resolves({ ETag: '"e"' });
  logged = [];
  imageTraces = [];
  db = openAccountsDb(join(mkdtempSync(join(tmpdir(), "courier-api-trace-")), "accounts.db"));
  const server = createApiServer({
    db,
    verificationKey: async () => verificationKey("k".repeat(43)),
    s3: new S3Client({ region: "us-east-1" }),
    uploadsBucket: "uploads",
    imagePublisher: {
      publish: async (_topic, _data, options) => {
        imageTraces.push(options?.trace);
        return { eventId: "e-1", messageId: "m-1" };
      },
    },
    requestLog: (entry) => logged.push(entry),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});
afterEach(async () => {
  await close();
  db.close();
});

const signUp = (headers: Record<string, string> = {}) =>
  fetch(`${base}/accounts`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ email: `u-${Math.random()}@example.com`, displayName: "Ada" }),
  });

/** What the outbox relay hands the publisher for every pending row. */
async function relayed(): Promise<OutboxMessage[]> {
  const messages: OutboxMessage[] = [];
  const relay = createOutboxRelay({
    db,
    publish: async (message) => {
      messages.push(message);
      return { messageId: `m-${messages.length}` };
    },
  });
  await relay.runOnce();
  return messages;
}

describe("the example API and trace context", () => {
  it("GIVEN a sign-up with a traceparent WHEN POST /accounts THEN the trace continues: logged, the correlation id returned, and the outbox publishes with both", async () => {
    const res = await signUp({ traceparent: INCOMING });
    expect(res.status).toBe(201);
    const correlationId = res.headers.get("x-correlation-id");
    expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);

    expect(logged).toEqual([
      expect.objectContaining({ method: "POST", path: "/accounts", status: 201, correlationId }),
    ]);
    const traceparent = logged[0]?.traceparent ?? "";
    expect(parseTraceparent(traceparent)).toMatchObject({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      sampled: true,
    });

    const [message] = await relayed();
    expect(message?.trace).toEqual({ traceparent, correlationId });
  });

  it.each([
    ["garbage", "not-a-traceparent"],
    ["all zeros", "00-00000000000000000000000000000000-0000000000000000-00"],
    ["upper-case hex", INCOMING.toUpperCase()],
    ["8 KiB long", `${INCOMING}-${"a".repeat(8192)}`],
  ])(
    "GIVEN an invalid traceparent (%s) WHEN POST /accounts THEN 201 with a new trace, never an error (failure mode: crash on a bad header)",
    async (_name, header) => {
      const res = await signUp({ traceparent: header });
      expect(res.status).toBe(201);
      expect(parseTraceparent(logged[0]?.traceparent)?.traceId).not.toBe("4bf92f3577b34da6a3ce929d0e0e4736");
      expect((await relayed())[0]?.trace?.correlationId).toBe(res.headers.get("x-correlation-id"));
    },
  );

  it("GIVEN a safe x-correlation-id from the client WHEN a request is served THEN it is kept; an unsafe one is replaced", async () => {
    expect((await signUp({ "x-correlation-id": "checkout-42" })).headers.get("x-correlation-id")).toBe(
      "checkout-42",
    );
    const replaced = (await signUp({ "x-correlation-id": "a b <script>" })).headers.get("x-correlation-id");
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("GIVEN a refused request WHEN answered THEN it still has a correlation id and a log line", async () => {
    const res = await fetch(`${base}/no-such-route`);
    expect(res.status).toBe(404);
    expect(logged[0]).toMatchObject({ status: 404, correlationId: res.headers.get("x-correlation-id") });
  });

  it("GIVEN the emailed link WHEN GET /verify?accountId&token THEN the log line keeps the path, never the token", async () => {
    await fetch(`${base}/verify?accountId=a&token=secret-token-value`);
    expect(logged[0]?.path).toBe("/verify");
    expect(JSON.stringify(logged)).not.toContain("secret-token-value");
  });

  it("GIVEN an image upload WHEN POST /images THEN the ImageUploaded publish gets the request's trace", async () => {
    const res = await fetch(`${base}/images`, {
      method: "POST",
      headers: { "content-type": "image/jpeg", traceparent: INCOMING },
      body: new Uint8Array([0xff, 0xd8, 0xff]),
    });
    expect(res.status).toBe(202);
    expect(imageTraces[0]?.correlationId).toBe(res.headers.get("x-correlation-id"));
    expect(imageTraces[0]?.traceparent).toContain("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  it("GIVEN an outbox row written before trace contexts existed (no trace) WHEN relayed THEN it publishes without one (the publisher starts a new trace)", async () => {
    db.prepare(
      "INSERT INTO outbox (topic, event_id, occurred_at, data) VALUES ('account-signups', 'e-old', '2025-01-01T00:00:00Z', '{}')",
    ).run();
    const [message] = await relayed();
    expect(message?.eventId).toBe("e-old");
    expect(message?.trace).toBeUndefined();
  });
});
