/**
 * The account export's own logic, without AWS: the manifest built from the account service's
 * records, the export file and its status, and the API routes (over real HTTP on loopback, S3
 * mocked with aws-sdk-client-mock, a recording publisher). Failure modes covered: an export of an
 * account that does not exist, or of more objects than one export lists, published anyway; items
 * out of order or not valid for the contract; a file another account could read as its own; a
 * missing file reported as an error rather than pending; an S3 failure reported as pending; an
 * export request not rate limited; a publish failure answered 202; an upload by an account not
 * listed in its export (or an anonymous upload listed).
 */
import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  HeadObjectCommand,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { accountCredential } from "../../src/app/accounts/account-credential.ts";
import { createAccount, inTransaction, openAccountsDb } from "../../src/app/accounts/account-store.ts";
import { listAccountUploads, recordAccountUpload } from "../../src/app/accounts/account-uploads.ts";
import { createApiServer } from "../../src/app/api/api-server.ts";
import { createEdgeLimiter, DEFAULT_EDGE_LIMITS } from "../../src/app/api/edge-limits.ts";
import {
  type AccountExportRequestedV1,
  accountExportRequestedDataV1,
  MAX_EXPORT_ITEMS,
} from "../../src/app/contracts/index.ts";
import {
  AccountNotFoundError,
  buildExportRequest,
  ExportTooLargeError,
  exportFileKey,
  exportStatus,
  writeExportFile,
} from "../../src/app/exports/index.ts";
import { verificationKey } from "../../src/app/signup/verification-code.ts";

const KEY = verificationKey("k".repeat(43));

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: "us-east-1" });
type Db = ReturnType<typeof openAccountsDb>;

function newDb(): Db {
  return openAccountsDb(join(mkdtempSync(join(tmpdir(), "courier-export-")), "accounts.db"));
}

function seed(db: Db, accountId: string, count: number, from = 0): void {
  inTransaction(db, () => {
    for (let i = from; i < from + count; i++) {
      recordAccountUpload(db, {
        accountId,
        imageId: `img-${String(i).padStart(6, "0")}`,
        key: `originals/img-${i}`,
        contentType: i % 2 === 0 ? "image/png" : "image/jpeg",
        byteSize: 1000 + i,
        // Recorded out of order: the manifest lists them by upload time.
        uploadedAt: new Date(Date.UTC(2026, 0, 1) + ((i * 7) % count) * 1000).toISOString(),
      });
    }
  });
}

beforeEach(() => s3Mock.reset());

describe("buildExportRequest", () => {
  it("GIVEN an account with uploads recorded out of order WHEN its export is built THEN the manifest lists every upload by upload time, with the account's record, valid for the contract", () => {
    const db = newDb();
    const account = createAccount(db, {
      email: "ada@example.com",
      displayName: "Ada",
      phone: "+14155550123",
    });
    seed(db, account.accountId, 50);
    seed(db, "someone-else", 3);
    const request = buildExportRequest(db, account.accountId, {
      exportId: "3f1c0c1e-8d7a-4f6e-9a51-7f0b2a9d4c11",
      now: () => new Date("2026-02-01T00:00:00.000Z"),
    });
    expect(accountExportRequestedDataV1.parse(request)).toEqual(request);
    expect(request.account).toMatchObject({ email: "ada@example.com", phone: "+14155550123" });
    expect(request.items).toHaveLength(50);
    const times = request.items.map((i) => i.createdAt);
    expect(times).toEqual([...times].sort());
    expect(request.items.every((i) => i.id.startsWith("img-") && i.kind === "image")).toBe(true);
  });

  it("GIVEN no such account WHEN an export is built THEN AccountNotFoundError", () => {
    expect(() => buildExportRequest(newDb(), "nobody")).toThrow(AccountNotFoundError);
  });

  it("GIVEN an account with one object more than an export lists WHEN its export is built THEN ExportTooLargeError; exactly the maximum is built", () => {
    const db = newDb();
    const account = createAccount(db, { email: "busy@example.com", displayName: "Busy" });
    seed(db, account.accountId, MAX_EXPORT_ITEMS);
    expect(buildExportRequest(db, account.accountId).items).toHaveLength(MAX_EXPORT_ITEMS);
    seed(db, account.accountId, 1, MAX_EXPORT_ITEMS);
    expect(() => buildExportRequest(db, account.accountId)).toThrow(ExportTooLargeError);
  }, 60_000);
});

const request: AccountExportRequestedV1 = {
  exportId: "3f1c0c1e-8d7a-4f6e-9a51-7f0b2a9d4c11",
  accountId: "acc/ü 1",
  requestedAt: "2026-02-01T00:00:00.000Z",
  account: {
    email: "ada@example.com",
    displayName: "Ada",
    locale: "en-GB",
    createdAt: "2026-01-01T00:00:00.000Z",
  },
  items: [
    {
      kind: "image",
      id: "a",
      key: "originals/a",
      contentType: "image/png",
      byteSize: 10,
      createdAt: "2026-01-01T00:00:00.000Z",
    },
    {
      kind: "image",
      id: "b",
      key: "originals/b",
      contentType: "image/jpeg",
      byteSize: 20,
      createdAt: "2026-01-02T00:00:00.000Z",
    },
    {
      kind: "image",
      id: "c",
      key: "originals/c",
      contentType: "image/png",
      byteSize: 5,
      createdAt: "2026-01-03T00:00:00.000Z",
    },
  ],
};

describe("the export file", () => {
  it("GIVEN a request WHEN its file is written THEN it goes under exports/<exportId>.json with the items as they came, a summary per content type, and whose it is (encoded) in its metadata", async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const written = await writeExportFile({ s3, bucket: "uploads" }, request);
    expect(written.key).toBe(`exports/${request.exportId}.json`);
    const put = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put?.Key).toBe(exportFileKey(request.exportId));
    expect(put?.Metadata).toEqual({ "account-id": encodeURIComponent(request.accountId) });
    const file = JSON.parse(String(put?.Body));
    expect(file.items).toEqual(request.items);
    expect(file.summary).toEqual({
      items: 3,
      totalBytes: 35,
      byContentType: { "image/png": { items: 2, bytes: 15 }, "image/jpeg": { items: 1, bytes: 20 } },
    });
  });

  it("GIVEN the file exists for this account, for another one, or not at all WHEN its status is read THEN ready / pending / pending; another S3 error is thrown, not read as pending", async () => {
    s3Mock
      .on(HeadObjectCommand)
      .resolves({ ContentLength: 99, Metadata: { "account-id": encodeURIComponent(request.accountId) } });
    expect(await exportStatus(s3, "uploads", request.accountId, request.exportId)).toEqual({
      status: "ready",
      key: exportFileKey(request.exportId),
      bytes: 99,
    });
    expect(await exportStatus(s3, "uploads", "intruder", request.exportId)).toEqual({ status: "pending" });
    s3Mock.on(HeadObjectCommand).rejects(new NotFound({ message: "not found", $metadata: {} }));
    expect(await exportStatus(s3, "uploads", request.accountId, request.exportId)).toEqual({
      status: "pending",
    });
    s3Mock
      .on(HeadObjectCommand)
      .rejects(
        new S3ServiceException({ name: "SlowDown", $fault: "server", $metadata: { httpStatusCode: 503 } }),
      );
    await expect(exportStatus(s3, "uploads", request.accountId, request.exportId)).rejects.toMatchObject({
      name: "SlowDown",
    });
  });
});

describe("the export routes of the example API", () => {
  let base: string;
  let close: () => Promise<void>;
  let db: Db;
  let published: AccountExportRequestedV1[];
  let failPublish: boolean;
  let correlationIds: (string | undefined)[];

  async function start(withPublisher = true): Promise<void> {
    db = newDb();
    published = [];
    correlationIds = [];
    failPublish = false;
    const server = createApiServer({
      db,
      verificationKey: async () => KEY,
      s3,
      uploadsBucket: "uploads",
      imagePublisher: { publish: async () => ({ eventId: "e-1", messageId: "m-1" }) },
      ...(withPublisher
        ? {
            exportPublisher: {
              publish: async (_topic, data, options) => {
                if (failPublish) throw new Error("SNS is down");
                published.push(data);
                correlationIds.push(options?.trace?.correlationId);
                return { eventId: "e-2", messageId: "m-2" };
              },
            },
          }
        : {}),
      edgeLimiter: createEdgeLimiter(),
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  }
  afterEach(async () => close?.());

  /** The account's own credential: these requests come from its owner. */
  const owner = (accountId: string) => ({ authorization: `Bearer ${accountCredential(KEY, accountId)}` });
  const exportOf = (accountId: string, body?: string) =>
    fetch(`${base}/accounts/${encodeURIComponent(accountId)}/export`, {
      method: "POST",
      headers: { ...owner(accountId), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body } : {}),
    });

  it("GIVEN an account with uploads WHEN POST /accounts/:id/export THEN 202 with the export id and item count, and the manifest is published", async () => {
    await start();
    const account = createAccount(db, { email: "ada@example.com", displayName: "Ada" });
    seed(db, account.accountId, 4);
    const res = await exportOf(account.accountId);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { exportId: string; items: number; status: string };
    expect(body.items).toBe(4);
    expect(body.status).toBe(`/accounts/${account.accountId}/exports/${body.exportId}`);
    expect(published).toHaveLength(1);
    expect(published[0]?.exportId).toBe(body.exportId);
    expect(published[0]?.items).toHaveLength(4);
    // The request's trace goes with the message: the correlation id the API answered with.
    expect(correlationIds).toEqual([res.headers.get("x-correlation-id")]);
  });

  it("GIVEN an unknown account, or a request with a body WHEN POST /accounts/:id/export THEN 404 / 400 and nothing published", async () => {
    await start();
    expect((await exportOf("nobody")).status).toBe(404);
    const account = createAccount(db, { email: "ada@example.com", displayName: "Ada" });
    const withBody = await exportOf(account.accountId, '{"all":true}');
    expect(withBody.status).toBe(400);
    expect(((await withBody.json()) as { error: string }).error).toBe("unexpected_body");
    expect(published).toEqual([]);
  });

  it("GIVEN an account that asked for its export as often as a day allows WHEN it asks again THEN 429 with Retry-After, nothing published", async () => {
    await start();
    const account = createAccount(db, { email: "ada@example.com", displayName: "Ada" });
    const allowed = DEFAULT_EDGE_LIMITS["account-export"].perTarget.points;
    for (let i = 0; i < allowed; i++) expect((await exportOf(account.accountId)).status).toBe(202);
    const refused = await exportOf(account.accountId);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(published).toHaveLength(allowed);
  });

  it("GIVEN the publish fails, or the server has no export publisher WHEN POST /accounts/:id/export THEN 503, never 202", async () => {
    await start();
    const account = createAccount(db, { email: "ada@example.com", displayName: "Ada" });
    failPublish = true;
    const failed = await exportOf(account.accountId);
    expect(failed.status).toBe(503);
    expect(((await failed.json()) as { error: string }).error).toBe("publish_failed");
    await close();
    await start(false);
    const other = createAccount(db, { email: "bob@example.com", displayName: "Bob" });
    expect((await exportOf(other.accountId)).status).toBe(503);
  });

  it("GIVEN an export id that is not a UUID, a file not yet written, or written WHEN GET /accounts/:id/exports/:exportId THEN 400 / 202 pending / 200 ready", async () => {
    await start();
    const account = createAccount(db, { email: "ada@example.com", displayName: "Ada" });
    const statusOf = (exportId: string) =>
      fetch(`${base}/accounts/${account.accountId}/exports/${exportId}`, {
        headers: owner(account.accountId),
      });
    expect((await statusOf("not-a-uuid")).status).toBe(400);
    s3Mock.on(HeadObjectCommand).rejects(new NotFound({ message: "not found", $metadata: {} }));
    const pending = await statusOf(request.exportId);
    expect(pending.status).toBe(202);
    expect(await pending.json()).toMatchObject({ status: "pending" });
    s3Mock
      .on(HeadObjectCommand)
      .resolves({ ContentLength: 1234, Metadata: { "account-id": encodeURIComponent(account.accountId) } });
    const ready = await statusOf(request.exportId);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: "ready",
      bytes: 1234,
      key: exportFileKey(request.exportId),
    });
  });

  it("GIVEN uploads by an account (with its credential) and by nobody in particular WHEN POST /images THEN only the account's is recorded for its export", async () => {
    await start();
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"abc"' });
    const account = createAccount(db, { email: "ada@example.com", displayName: "Ada" });
    const upload = (uploadedBy?: string) =>
      fetch(`${base}/images${uploadedBy ? `?uploadedBy=${encodeURIComponent(uploadedBy)}` : ""}`, {
        method: "POST",
        headers: { "content-type": "image/png", ...(uploadedBy ? owner(uploadedBy) : {}) },
        body: new Uint8Array([137, 80, 78, 71]),
      });
    const mine = (await (await upload(account.accountId)).json()) as { imageId: string };
    expect((await upload()).status).toBe(202);
    // A genuine credential for an id with no account: the upload is refused, not filed.
    expect((await upload("not-an-account")).status).toBe(404);
    const listed = listAccountUploads(db, account.accountId, 10);
    expect(listed.map((u) => u.imageId)).toEqual([mine.imageId]);
    expect(listed[0]).toMatchObject({
      // The type sharp detects, not the client's claim: four bytes of a PNG signature are no image.
      contentType: "application/octet-stream",
      byteSize: 4,
      key: `originals/${mine.imageId}`,
    });
    expect(listAccountUploads(db, "anonymous", 10)).toEqual([]);
  });
});
