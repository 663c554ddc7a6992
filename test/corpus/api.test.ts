/**
 * The bad-input corpus against the example API server, over real HTTP on loopback (S3 mocked with
 * aws-sdk-client-mock, accounts in a temporary SQLite file). Every bad request must get a 4xx with a
 * JSON `error` code naming the problem, never a 500, never a stored account or a published message,
 * and the server must keep answering. Failure modes covered: malformed JSON or encodings crashing a
 * handler (500); a wrong content type parsed anyway; a huge body buffered whole; odd Unicode stored
 * and sent on in emails, SMS or chat; a bad request leaving an outbox row behind.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountCredential } from "../../src/app/accounts/account-credential.ts";
import { openAccountsDb } from "../../src/app/accounts/account-store.ts";
import { createApiServer } from "../../src/app/api/api-server.ts";
import { outboxCounts } from "../../src/app/outbox/index.ts";
import { verificationKey } from "../../src/app/signup/verification-code.ts";
import { apiCases } from "./inputs.ts";

const s3Mock = mockClient(S3Client);
const KEY = verificationKey("c".repeat(43));

/**
 * The credential of the account a path names (in /accounts/:id or ?uploadedBy): the corpus sends
 * bad input as the account's owner, so that what refuses it is the input check, not the owner check.
 */
function ownerOf(path: string): Record<string, string> {
  const url = new URL(path, "http://x");
  const segment = /^\/accounts\/([^/]+)\//.exec(url.pathname)?.[1];
  let id: string | null = url.searchParams.get("uploadedBy");
  try {
    if (segment !== undefined) id = decodeURIComponent(segment);
  } catch {
    return {};
  }
  return id === null ? {} : { authorization: `Bearer ${accountCredential(KEY, id)}` };
}
const published: unknown[] = [];
let base: string;
let dir: string;
let db: ReturnType<typeof openAccountsDb>;
let close: () => Promise<void>;

beforeAll(async () => {
  s3Mock.onAnyCommand().resolves({ ETag: '"etag"' });
  dir = mkdtempSync(join(tmpdir(), "courier-corpus-api-"));
  db = openAccountsDb(join(dir, "accounts.db"));
  const server = createApiServer({
    db,
    verificationKey: async () => KEY,
    s3: new S3Client({ region: "us-east-1" }),
    uploadsBucket: "uploads",
    imagePublisher: {
      publish: async (_topic, data) => {
        published.push(data);
        return { eventId: "e-1", messageId: "m-1" };
      },
    },
    maxUploadBytes: 1024,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});

afterAll(async () => {
  await close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function send(c: (typeof apiCases)[number]): Promise<Response> {
  // A Uint8Array body gets no Content-Type from fetch; a string would get text/plain.
  const body = typeof c.body === "string" ? new TextEncoder().encode(c.body) : c.body;
  return fetch(`${base}${c.path}`, {
    method: c.method,
    headers: { ...(c.contentType ? { "content-type": c.contentType } : {}), ...ownerOf(c.path) },
    ...(body !== undefined ? { body } : {}),
  });
}

describe("GIVEN the example API server and the bad-input corpus", () => {
  it.each(apiCases)(
    "WHEN it receives $name THEN it answers $status $error as JSON (the emailed link: an HTML page) and stores nothing",
    async (c) => {
      const res = await send(c);
      expect(res.status).toBe(c.status);
      if (c.page) {
        expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
        const html = await res.text();
        expect(html).toContain(c.page);
        // Nothing from the request comes back as markup.
        expect(html).not.toMatch(/<(script|img)\b/i);
        expect(outboxCounts(db).pending).toBe(0);
        return;
      }
      expect(res.headers.get("content-type")).toContain("application/json");
      const answer = (await res.json()) as {
        error: string;
        message: string;
        details?: { fields: { path: string }[] };
      };
      expect(answer.error).toBe(c.error);
      expect(answer.message.length).toBeGreaterThan(0);
      if (c.fields)
        expect(answer.details?.fields.map((f) => f.path)).toEqual(expect.arrayContaining([...c.fields]));
      expect(outboxCounts(db).pending).toBe(0);
      expect(published).toEqual([]);
      expect(s3Mock.commandCalls(PutObjectCommand)).toEqual([]);
    },
  );

  it("WHEN the whole corpus has been sent THEN the server still creates an account from a good request", async () => {
    const res = await fetch(`${base}/accounts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "grace@example.com", displayName: "Grace Hopper", locale: "en-US" }),
    });
    expect(res.status).toBe(201);
    expect(outboxCounts(db).pending).toBe(1);
  });
});

/**
 * Refusals that need state: the same request is fine until an attacker has sent enough of them.
 * Each case primes a fresh server, then checks the refusing request gets 429 (with Retry-After)
 * or 413 as JSON naming the error, and adds no account, outbox row or lock-lifting side effect.
 */
describe("GIVEN the example API server and the abuse refusals of the corpus", () => {
  interface AbuseCase {
    readonly name: string;
    /** Requests sent first (each may be accepted or refused). */
    readonly prime: (base: string, accountId: string) => Promise<void>;
    readonly send: (base: string, accountId: string) => Promise<Response>;
    readonly status: number;
    readonly error: string;
  }
  const json = (base: string, path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...ownerOf(path) },
      body: JSON.stringify(body),
    });
  const times = async (n: number, send: (i: number) => Promise<Response>) => {
    for (let i = 0; i < n; i++) await (await send(i)).arrayBuffer();
  };
  const cases: AbuseCase[] = [
    {
      name: "the 6th wrong SMS code for one account",
      prime: (base, id) => times(5, () => json(base, `/accounts/${id}/verify`, { code: "000000" })),
      send: (base, id) => json(base, `/accounts/${id}/verify`, { code: "000001" }),
      status: 429,
      error: "code_locked",
    },
    {
      name: "the 6th wrong email token for one account",
      prime: (base, id) =>
        times(5, () => json(base, `/accounts/${id}/verify`, { token: `v1.9999999999.${"A".repeat(43)}` })),
      send: (base, id) => json(base, `/accounts/${id}/verify`, { token: `v1.9999999999.${"B".repeat(43)}` }),
      status: 429,
      error: "code_locked",
    },
    {
      name: "the 21st sign-up from one address within the hour",
      prime: (base) =>
        times(19, (i) => json(base, "/accounts", { email: `flood-${i}@example.com`, displayName: "F" })),
      send: (base) => json(base, "/accounts", { email: "flood-x@example.com", displayName: "F" }),
      status: 429,
      error: "rate_limited",
    },
    {
      name: "the 4th code re-send to one phone within the hour",
      prime: (base, id) =>
        times(3, () => json(base, `/accounts/${id}/verification/resend`, { channel: "sms" })),
      send: (base, id) => json(base, `/accounts/${id}/verification/resend`, { channel: "sms" }),
      status: 429,
      error: "rate_limited",
    },
  ];

  it.each(cases)(
    "WHEN it receives $name THEN it answers $status $error as JSON and stores nothing more",
    async (c) => {
      const caseDir = mkdtempSync(join(tmpdir(), "courier-corpus-abuse-"));
      const caseDb = openAccountsDb(join(caseDir, "accounts.db"));
      const server = createApiServer({
        db: caseDb,
        verificationKey: async () => KEY,
        s3: new S3Client({ region: "us-east-1" }),
        uploadsBucket: "uploads",
        imagePublisher: { publish: async () => ({ eventId: "e", messageId: "m" }) },
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const caseBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const created = await json(caseBase, "/accounts", {
          email: "ada@example.com",
          displayName: "Ada",
          phone: "+14155550123",
        });
        const { accountId } = (await created.json()) as { accountId: string };
        await c.prime(caseBase, accountId);
        const before = outboxCounts(caseDb).pending;
        const res = await c.send(caseBase, accountId);
        expect(res.status).toBe(c.status);
        expect(res.headers.get("content-type")).toContain("application/json");
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(((await res.json()) as { error: string }).error).toBe(c.error);
        expect(outboxCounts(caseDb).pending).toBe(before);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        caseDb.close();
        rmSync(caseDir, { recursive: true, force: true });
      }
    },
  );
});
