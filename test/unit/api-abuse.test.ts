/**
 * Abuse resistance of the example API server, over real HTTP on loopback with accounts in a real
 * SQLite file (S3 is not involved). Failure modes covered: brute-forcing a six-digit SMS code;
 * concurrent guesses slipping past the limit; a lock forgotten on restart; a correct code accepted
 * after the lock; an old code or link still valid after a re-send; a sign-up flood from one address
 * (and one that forges X-Forwarded-For); a flood to one phone number from many addresses.
 */
import { mkdtempSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { S3Client } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import { accountCredential } from "../../src/app/accounts/account-credential.ts";
import { findAccount, openAccountsDb } from "../../src/app/accounts/account-store.ts";
import { codeState } from "../../src/app/accounts/verification-attempts.ts";
import { type ApiServerDeps, createApiServer } from "../../src/app/api/api-server.ts";
import { createEdgeLimiter, DEFAULT_EDGE_LIMITS } from "../../src/app/api/edge-limits.ts";
import { outboxCounts } from "../../src/app/outbox/index.ts";
import { issueEmailToken, issueSmsCode, verificationKey } from "../../src/app/signup/verification-code.ts";
import { call } from "../helpers/api-client.ts";

const key = verificationKey("a".repeat(43));
const PHONE = "+14155550123";
/** The account's own credential, as sign-up answers it: these tests act as the owner. */
const owner = (accountId: string) => ({ authorization: `Bearer ${accountCredential(key, accountId)}` });
const open: Array<() => Promise<void>> = [];

interface Api {
  readonly base: string;
  readonly db: DatabaseSync;
  readonly dbPath: string;
  close(): Promise<void>;
}

async function startApi(options: Partial<ApiServerDeps> & { dbPath?: string } = {}): Promise<Api> {
  const dbPath = options.dbPath ?? join(mkdtempSync(join(tmpdir(), "courier-abuse-")), "accounts.db");
  const db = openAccountsDb(dbPath);
  const server: Server = createApiServer({
    db,
    verificationKey: async () => key,
    s3: new S3Client({ region: "us-east-1" }),
    uploadsBucket: "uploads",
    imagePublisher: { publish: async () => ({ eventId: "e", messageId: "m" }) },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    db.close();
  };
  open.push(close);
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, db, dbPath, close };
}

afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

async function signUp(api: Api, who: string, extra: Record<string, unknown> = {}, from = "127.0.0.1") {
  const res = await call(api.base, "/accounts", {
    body: { email: `${who}@example.com`, displayName: who, phone: PHONE, ...extra },
    from,
  });
  return res;
}

function smsCodeNow(api: Api, accountId: string): string {
  const account = findAccount(api.db, accountId);
  const issuedAt = codeState(api.db, accountId, "sms").issuedAt ?? account?.createdAt ?? "";
  return issueSmsCode(key, { accountId, address: PHONE }, issuedAt).code;
}

/** A six-digit code that is not `right`. */
const wrongCode = (right: string, i: number) => {
  const n = (Number(right) + 1 + i) % 1_000_000;
  return String(n).padStart(6, "0");
};

describe("attempt limits on verification codes", () => {
  it("GIVEN 1,000 wrong SMS codes for one account WHEN posted THEN 5 are checked (422) and 995 refused 429 with Retry-After, and the right code then fails too", async () => {
    const api = await startApi();
    const { json } = await signUp(api, "ada");
    const accountId = String(json.accountId);
    const right = smsCodeNow(api, accountId);
    const statuses: number[] = [];
    let retryAfter: string | string[] | undefined;
    for (let i = 0; i < 1000; i++) {
      const res = await call(api.base, `/accounts/${accountId}/verify`, {
        headers: owner(accountId),
        body: { code: wrongCode(right, i) },
      });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers["retry-after"];
    }
    expect(statuses.slice(0, 5)).toEqual([422, 422, 422, 422, 422]);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);

    const withRightCode = await call(api.base, `/accounts/${accountId}/verify`, {
      headers: owner(accountId),
      body: { code: right },
    });
    expect(withRightCode.status).toBe(429);
    expect(withRightCode.json.error).toBe("code_locked");
    expect(findAccount(api.db, accountId)?.verifiedAt).toBeUndefined();
  }, 60_000);

  it("GIVEN a locked code WHEN a new one is re-sent THEN the old right code fails and the new one verifies", async () => {
    const api = await startApi();
    const accountId = String((await signUp(api, "bea")).json.accountId);
    const old = smsCodeNow(api, accountId);
    for (let i = 0; i < 5; i++)
      await call(api.base, `/accounts/${accountId}/verify`, {
        headers: owner(accountId),
        body: { code: wrongCode(old, i) },
      });
    const pendingBefore = outboxCounts(api.db).pending;

    const resent = await call(api.base, `/accounts/${accountId}/verification/resend`, {
      headers: owner(accountId),
      body: { channel: "sms" },
    });
    expect(resent.status).toBe(202);
    expect(outboxCounts(api.db).pending).toBe(pendingBefore + 1);

    // Re-sent within the same second as the sign-up: still a different code.
    const fresh = smsCodeNow(api, accountId);
    expect(fresh).not.toBe(old);
    const withOld = await call(api.base, `/accounts/${accountId}/verify`, {
      headers: owner(accountId),
      body: { code: old },
    });
    expect(withOld.status).toBe(422);
    const withFresh = await call(api.base, `/accounts/${accountId}/verify`, {
      headers: owner(accountId),
      body: { code: fresh },
    });
    expect(withFresh.status).toBe(200);
  });

  it("GIVEN 50 wrong codes posted at once WHEN they race THEN exactly 5 are compared and 45 refused", async () => {
    const api = await startApi();
    const accountId = String((await signUp(api, "cy")).json.accountId);
    const right = smsCodeNow(api, accountId);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(api.base, `/accounts/${accountId}/verify`, {
          headers: owner(accountId),
          body: { code: wrongCode(right, i) },
        }),
      ),
    );
    const count = (status: number) => answers.filter((a) => a.status === status).length;
    expect({ compared: count(422), refused: count(429) }).toEqual({ compared: 5, refused: 45 });
  });

  it("GIVEN a code locked before a restart WHEN the server restarts on the same database THEN it is still locked", async () => {
    const first = await startApi();
    const accountId = String((await signUp(first, "dee")).json.accountId);
    const right = smsCodeNow(first, accountId);
    for (let i = 0; i < 5; i++)
      await call(first.base, `/accounts/${accountId}/verify`, {
        headers: owner(accountId),
        body: { code: wrongCode(right, i) },
      });
    await first.close();

    const second = await startApi({ dbPath: first.dbPath });
    const res = await call(second.base, `/accounts/${accountId}/verify`, {
      headers: owner(accountId),
      body: { code: right },
    });
    expect(res.status).toBe(429);
    expect(res.json.error).toBe("code_locked");
  });

  it("GIVEN an email re-send WHEN the first link is used THEN it is refused and the new link verifies", async () => {
    const api = await startApi();
    const accountId = String((await signUp(api, "eve", { phone: undefined })).json.accountId);
    const account = findAccount(api.db, accountId);
    const firstLink = issueEmailToken(
      key,
      { accountId, address: "eve@example.com" },
      account?.createdAt ?? "",
    );
    expect(
      (
        await call(api.base, `/accounts/${accountId}/verification/resend`, {
          headers: owner(accountId),
          body: { channel: "email" },
        })
      ).status,
    ).toBe(202);
    const issuedAt = codeState(api.db, accountId, "email").issuedAt ?? "";
    const secondLink = issueEmailToken(key, { accountId, address: "eve@example.com" }, issuedAt);

    const withFirst = await call(api.base, `/accounts/${accountId}/verify`, {
      headers: owner(accountId),
      body: { token: firstLink.code },
    });
    expect(withFirst.status).toBe(422);
    const withSecond = await call(api.base, `/accounts/${accountId}/verify`, {
      headers: owner(accountId),
      body: { token: secondLink.code },
    });
    expect(withSecond.status).toBe(200);
  });

  it("GIVEN wrong SMS codes up to the lock WHEN the email link is used THEN it still verifies (limits are per channel)", async () => {
    const api = await startApi();
    const accountId = String((await signUp(api, "fay")).json.accountId);
    const right = smsCodeNow(api, accountId);
    for (let i = 0; i < 6; i++)
      await call(api.base, `/accounts/${accountId}/verify`, {
        headers: owner(accountId),
        body: { code: wrongCode(right, i) },
      });
    const account = findAccount(api.db, accountId);
    const link = issueEmailToken(key, { accountId, address: "fay@example.com" }, account?.createdAt ?? "");
    expect(
      (
        await call(api.base, `/accounts/${accountId}/verify`, {
          headers: owner(accountId),
          body: { token: link.code },
        })
      ).status,
    ).toBe(200);
  });

  it("GIVEN malformed codes WHEN posted THEN they are refused 400 without counting toward the lock", async () => {
    const api = await startApi();
    const accountId = String((await signUp(api, "gus")).json.accountId);
    for (let i = 0; i < 10; i++) {
      expect(
        (
          await call(api.base, `/accounts/${accountId}/verify`, {
            headers: owner(accountId),
            body: { code: "12ab" },
          })
        ).status,
      ).toBe(400);
    }
    expect(codeState(api.db, accountId, "sms").failures).toBe(0);
  });
});

describe("rate limits at the edge", () => {
  it("GIVEN a burst of 100 sign-ups from one address WHEN sent THEN 20 are created and 80 refused 429 with Retry-After, while another address is served", async () => {
    const api = await startApi();
    const answers = [];
    for (let i = 0; i < 100; i++) answers.push(await signUp(api, `burst-${i}`, { phone: undefined }));
    const created = answers.filter((a) => a.status === 201).length;
    const limited = answers.filter((a) => a.status === 429);
    expect({ created, limited: limited.length }).toEqual({
      created: DEFAULT_EDGE_LIMITS.signup.perClient.points,
      limited: 100 - DEFAULT_EDGE_LIMITS.signup.perClient.points,
    });
    expect(
      limited.every((a) => a.json.error === "rate_limited" && Number(a.headers["retry-after"]) > 0),
    ).toBe(true);
    expect(outboxCounts(api.db).pending).toBe(created);

    const other = await signUp(api, "neighbour", { phone: undefined }, "127.0.0.2");
    expect(other.status).toBe(201);
  });

  it("GIVEN a flood that forges X-Forwarded-For WHEN no proxy is trusted THEN the socket address is limited all the same", async () => {
    const api = await startApi();
    const statuses = [];
    for (let i = 0; i < 30; i++) {
      const res = await call(api.base, "/accounts", {
        body: { email: `forged-${i}@example.com`, displayName: "F" },
        headers: { "x-forwarded-for": `203.0.113.${i}` },
      });
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 429).length).toBe(30 - DEFAULT_EDGE_LIMITS.signup.perClient.points);
  });

  it("GIVEN one trusted proxy WHEN clients differ in the address it appends THEN each gets its own budget", async () => {
    const api = await startApi({
      trustedProxyHops: 1,
      edgeLimiter: createEdgeLimiter({
        ...DEFAULT_EDGE_LIMITS,
        signup: { ...DEFAULT_EDGE_LIMITS.signup, perClient: { points: 1, durationSeconds: 3600 } },
      }),
    });
    const viaProxy = (i: number, client: string) =>
      call(api.base, "/accounts", {
        body: { email: `proxied-${i}@example.com`, displayName: "P" },
        // A forged first entry: the client cannot choose what the proxy appends after it.
        headers: { "x-forwarded-for": `198.51.100.7, ${client}` },
      });
    expect((await viaProxy(1, "192.0.2.1")).status).toBe(201);
    expect((await viaProxy(2, "192.0.2.1")).status).toBe(429);
    expect((await viaProxy(3, "192.0.2.2")).status).toBe(201);
  });

  it("GIVEN sign-ups to one phone from many addresses WHEN the per-target budget is spent THEN further ones are refused", async () => {
    const api = await startApi();
    const statuses = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await signUp(api, `phone-${i}`, {}, `127.0.0.${10 + i}`)).status);
    const limit = DEFAULT_EDGE_LIMITS.signup.perTarget.points;
    expect(statuses).toEqual([...Array(limit).fill(201), ...Array(8 - limit).fill(429)]);
  });

  it("GIVEN an account WHEN it asks for more code re-sends than the per-target budget THEN the extra ones are refused 429 and send nothing", async () => {
    const api = await startApi();
    const accountId = String((await signUp(api, "hal")).json.accountId);
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      statuses.push(
        (
          await call(api.base, `/accounts/${accountId}/verification/resend`, {
            headers: owner(accountId),
            body: { channel: "sms" },
          })
        ).status,
      );
    }
    const limit = DEFAULT_EDGE_LIMITS["code-resend"].perTarget.points;
    expect(statuses).toEqual([...Array(limit).fill(202), ...Array(5 - limit).fill(429)]);
    expect(outboxCounts(api.db).pending).toBe(1 + limit);
  });
});
