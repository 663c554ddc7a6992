import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HeadObjectCommand, NotFound, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findAccount, openAccountsDb } from "../../src/app/accounts/account-store.ts";
import { createApiServer } from "../../src/app/api/api-server.ts";
import { outboxCounts } from "../../src/app/outbox/index.ts";
import { issueEmailToken, issueSmsCode, verificationKey } from "../../src/app/signup/verification-code.ts";

const key = verificationKey("k".repeat(43));
const s3Mock = mockClient(S3Client);
let base: string;
let close: () => Promise<void>;
let db: ReturnType<typeof openAccountsDb>;
let published: unknown[];

beforeEach(async () => {
  s3Mock.reset();
  published = [];
  db = openAccountsDb(join(mkdtempSync(join(tmpdir(), "courier-api-")), "accounts.db"));
  const server = createApiServer({
    db,
    verificationKey: async () => key,
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
afterEach(async () => {
  await close();
});

const post = (path: string, body: unknown, type = "application/json", headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": type, ...headers },
    body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
  });

describe("example API server", () => {
  it("GIVEN a valid sign-up WHEN POST /accounts THEN 201 with the id, and the NewAccount waits in the outbox", async () => {
    const res = await post("/accounts", { email: "ada@example.com", displayName: "Ada", locale: "en-GB" });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { accountId: string };
    expect(findAccount(db, body.accountId)?.email).toBe("ada@example.com");
    expect(outboxCounts(db).pending).toBe(1);
  });

  it("GIVEN a sign-up with a bad phone and an unknown field WHEN POST /accounts THEN 400 naming both", async () => {
    const res = await post("/accounts", {
      email: "ada@example.com",
      displayName: "Ada",
      phone: "123",
      admin: true,
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; details: { fields: { path: string }[] } };
    expect(body.error).toBe("invalid_request");
    expect(body.details.fields.map((f) => f.path)).toEqual(expect.arrayContaining(["phone"]));
    expect(outboxCounts(db).pending).toBe(0);
  });

  it("GIVEN malformed JSON or a wrong content type WHEN POST /accounts THEN 400 / 415", async () => {
    expect((await post("/accounts", "{not json")).status).toBe(400);
    expect((await post("/accounts", "email=a", "application/x-www-form-urlencoded")).status).toBe(415);
  });

  it("GIVEN an email already registered WHEN signing up again THEN 409", async () => {
    await post("/accounts", { email: "ada@example.com", displayName: "Ada" });
    expect((await post("/accounts", { email: "ada@example.com", displayName: "Ada" })).status).toBe(409);
  });

  it("GIVEN the token from the email WHEN POST /accounts/:id/verify THEN 200 and the account is verified; a tampered one gets 422", async () => {
    const created = (await (
      await post("/accounts", { email: "ada@example.com", displayName: "Ada" })
    ).json()) as {
      accountId: string;
      createdAt: string;
      credential: string;
    };
    const owner = { authorization: `Bearer ${created.credential}` };
    const { code } = issueEmailToken(
      key,
      { accountId: created.accountId, address: "ada@example.com" },
      created.createdAt,
    );
    const tampered = `${code.slice(0, -2)}${code.endsWith("AA") ? "BB" : "AA"}`;
    const verify = (token: string) =>
      post(`/accounts/${created.accountId}/verify`, { token }, undefined, owner);
    expect((await verify(tampered)).status).toBe(422);
    expect(findAccount(db, created.accountId)?.verifiedAt).toBeUndefined();
    expect((await verify(code)).status).toBe(200);
    expect(findAccount(db, created.accountId)?.verifiedAt).toBeDefined();
  });

  it("GIVEN the SMS code WHEN POST /accounts/:id/verify with { code } THEN 200, the phone verified and the email not (an SMS code once verified the address too)", async () => {
    const created = (await (
      await post("/accounts", { email: "bob@example.com", displayName: "Bob", phone: "+14155550123" })
    ).json()) as { accountId: string; createdAt: string; credential: string };
    const { code } = issueSmsCode(
      key,
      { accountId: created.accountId, address: "+14155550123" },
      created.createdAt,
    );
    const res = await post(`/accounts/${created.accountId}/verify`, { code }, undefined, {
      authorization: `Bearer ${created.credential}`,
    });
    expect(res.status).toBe(200);
    expect(findAccount(db, created.accountId)?.phoneVerifiedAt).toBeDefined();
    expect(findAccount(db, created.accountId)?.verifiedAt).toBeUndefined();
  });

  it("GIVEN the emailed link WHEN opened (GET /verify) THEN an HTML page says verified; a forged token or unknown account gets a page saying why, escaped", async () => {
    const created = (await (
      await post("/accounts", { email: "eve@example.com", displayName: "Eve" })
    ).json()) as { accountId: string; createdAt: string };
    const { code } = issueEmailToken(
      key,
      { accountId: created.accountId, address: "eve@example.com" },
      created.createdAt,
    );
    const open = (query: string) => fetch(`${base}/verify?${query}`);
    const forged = await open(`accountId=${created.accountId}&token=${code.slice(0, -2)}xx`);
    expect(forged.status).toBe(400);
    expect(forged.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await forged.text()).toContain("does not match this account");
    const unknown = await open(`accountId=${encodeURIComponent("<b>x</b>")}&token=${code}`);
    expect(await unknown.text()).toContain("no account has this id");
    const good = await open(`accountId=${created.accountId}&token=${code}`);
    expect(good.status).toBe(200);
    expect(await good.text()).toContain("<h1>Email address verified</h1>");
    expect(findAccount(db, created.accountId)?.verifiedAt).toBeDefined();
  });

  it("GIVEN an account route without a credential, an unknown route or a wrong method THEN 401 / 404 / 405", async () => {
    expect((await post("/accounts/nope/verify", { token: "v1.1.x" })).status).toBe(401);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
    expect((await fetch(`${base}/accounts`)).status).toBe(405);
  });

  it("GIVEN an image WHEN POST /images THEN the original is stored, ImageUploaded published, 202", async () => {
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"abc"' });
    const res = await post("/images", new Uint8Array([1, 2, 3]), "image/png");
    expect(res.status).toBe(202);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
    expect(published).toHaveLength(1);
  });

  it("GIVEN an upload over the cap or not an image type WHEN POST /images THEN 413 / 415 and nothing stored", async () => {
    expect((await post("/images", new Uint8Array(2048), "image/png")).status).toBe(413);
    expect((await post("/images", "text", "text/plain")).status).toBe(415);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it("GIVEN renditions missing or present WHEN GET /images/:id THEN 202 pending / 200 with keys", async () => {
    s3Mock.on(HeadObjectCommand).rejects(new NotFound({ message: "not found", $metadata: {} }));
    s3Mock.on(HeadObjectCommand, { Key: "originals/img-1" }).resolves({});
    expect((await fetch(`${base}/images/img-1`)).status).toBe(202);
    s3Mock.reset();
    s3Mock.on(HeadObjectCommand).resolves({});
    const ready = await fetch(`${base}/images/img-1`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ renditions: { thumb: "renditions/img-1/thumb.webp" } });
  });
});
