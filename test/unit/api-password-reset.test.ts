/**
 * Password resets through the example API server, over real HTTP on loopback with accounts in a
 * real SQLite file. Failure modes covered: an earlier reset link still working after a later one;
 * two requests in one millisecond sharing a token; a token oracle (a wrong, superseded, expired or
 * used token answered differently); guessing tokens without limit; a flood of reset emails to one
 * account; a reset request lost or announced without being recorded; an audit trail out of order or
 * an audit store failure leaking as a 500.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { accountCredential } from "../../src/app/accounts/account-credential.ts";
import { openAccountsDb } from "../../src/app/accounts/account-store.ts";
import { resetState } from "../../src/app/accounts/password-resets.ts";
import {
  checkPassword,
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  storePasswordHash,
} from "../../src/app/accounts/passwords.ts";
import type { ApiServerDeps } from "../../src/app/api/api-server.ts";
import { issueResetToken, RESET_TOKEN_TTL_SECONDS } from "../../src/app/password-reset/reset-token.ts";
import type { AuditTrailItem } from "../../src/app/security-audit/audit-table.ts";
import { verificationKey } from "../../src/app/signup/verification-code.ts";
import { call } from "../helpers/api-client.ts";
import { closeApiServers, startApiServer, type TestApi } from "../helpers/api-server.ts";

const key = verificationKey("b".repeat(43));
const NEW_PASSWORD = "correct horse battery staple";
/** The account's own credential: the audit trail answers only its owner. */
const owner = (accountId: string) => ({
  headers: { authorization: `Bearer ${accountCredential(key, accountId)}` },
});

type Api = TestApi;

const startApi = (options: Partial<ApiServerDeps> = {}): Promise<Api> =>
  startApiServer(key, {
    // A cheap scrypt cost keeps these tests quick on a loaded machine; the default cost is tested below.
    hashPassword: (password) => hashPassword(password, { N: 2 ** 10, r: 8, p: 1 }),
    ...options,
  });

afterEach(closeApiServers);

async function signUp(api: Api, who: string): Promise<string> {
  const res = await call(api.base, "/accounts", { body: { email: `${who}@example.com`, displayName: who } });
  expect(res.status).toBe(201);
  return String(res.json.accountId);
}

const requestReset = (api: Api, accountId: string, headers: Record<string, string> = {}) =>
  call(api.base, `/accounts/${accountId}/password-reset`, { method: "POST", headers });

const setPassword = (api: Api, accountId: string, token: string, password = NEW_PASSWORD) =>
  call(api.base, `/accounts/${accountId}/password`, { body: { token, password } });

/** The PasswordResetRequested rows the outbox holds for the account, in commit order. */
function resetRows(api: Api, accountId: string) {
  return (
    api.db
      .prepare("SELECT data, message_group AS g FROM outbox WHERE topic = 'password-resets' ORDER BY id")
      .all() as Array<{ data: string; g: string }>
  )
    .map(
      (row): Record<string, string> => ({
        ...(JSON.parse(row.data) as Record<string, string>),
        group: row.g,
      }),
    )
    .filter((row) => row.accountId === accountId);
}

/** The token the email for the account's n-th request (0-based) carries, as the consumer derives it. */
function tokenOf(api: Api, accountId: string, n: number): string {
  const row = resetRows(api, accountId)[n];
  if (!row) throw new Error(`no reset request #${n}`);
  return issueResetToken(key, { accountId, email: row.email ?? "" }, row.requestedAt ?? "").token;
}

describe("POST /accounts/:id/password-reset", () => {
  it("GIVEN an account WHEN a reset is requested THEN 202 and one PasswordResetRequested outbox row grouped by the account, with the client's address and user agent", async () => {
    const api = await startApi();
    const id = await signUp(api, "ada");
    const res = await requestReset(api, id, { "user-agent": "Firefox/140" });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ accountId: id, accepted: true });
    expect(resetRows(api, id)).toEqual([
      {
        accountId: id,
        email: "ada@example.com",
        requestedAt: "2026-11-28T10:00:00.000Z",
        ip: "127.0.0.1",
        userAgent: "Firefox/140",
        group: id,
      },
    ]);
    // The request's trace rides with the row, so both consumers log the request's correlation id.
    const stored = api.db.prepare("SELECT trace FROM outbox WHERE topic = 'password-resets'").get() as {
      trace: string;
    };
    expect(JSON.parse(stored.trace).correlationId).toBe(res.headers["x-correlation-id"]);
  });

  it("GIVEN an unknown account or a body with fields WHEN a reset is requested THEN 404 or 400 and nothing enqueued", async () => {
    const api = await startApi();
    const id = await signUp(api, "bob");
    expect((await requestReset(api, "no-such-account")).status).toBe(404);
    const withBody = await call(api.base, `/accounts/${id}/password-reset`, { body: { email: "x@y.z" } });
    expect(withBody.status).toBe(400);
    expect(withBody.json.error).toBe("invalid_request");
    expect(resetRows(api, id)).toEqual([]);
  });

  it("GIVEN two requests in the same millisecond WHEN recorded THEN their request times differ, so their tokens do (failure mode: two links that both work)", async () => {
    const api = await startApi();
    const id = await signUp(api, "cleo");
    expect((await requestReset(api, id)).status).toBe(202);
    expect((await requestReset(api, id)).status).toBe(202);
    const [first, second] = resetRows(api, id);
    expect(Date.parse(second?.requestedAt ?? "") - Date.parse(first?.requestedAt ?? "")).toBe(1);
    expect(tokenOf(api, id, 0)).not.toBe(tokenOf(api, id, 1));
  });

  it("GIVEN the per-account budget (3 an hour) is spent WHEN a 4th reset is requested THEN 429 rate_limited with Retry-After and no 4th row (failure mode: reset emails flood one inbox)", async () => {
    const api = await startApi();
    const id = await signUp(api, "dan");
    for (let i = 0; i < 3; i++) expect((await requestReset(api, id)).status).toBe(202);
    const refused = await requestReset(api, id);
    expect(refused.status).toBe(429);
    expect(refused.json.error).toBe("rate_limited");
    expect(refused.json.details).toEqual({ scope: "target" });
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    expect(resetRows(api, id)).toHaveLength(3);
    // Another account is not affected.
    expect((await requestReset(api, await signUp(api, "dan2"))).status).toBe(202);
  });
});

describe("POST /accounts/:id/password", () => {
  it("GIVEN two resets in a row WHEN each token is tried THEN only the second changes the password (failure mode: an earlier link still works)", async () => {
    const api = await startApi();
    const id = await signUp(api, "eve");
    await requestReset(api, id);
    api.clock.ms += 1000;
    await requestReset(api, id);
    const old = await setPassword(api, id, tokenOf(api, id, 0), "first new password!");
    expect(old.status).toBe(422);
    expect(old.json.error).toBe("token_invalid");
    expect(await checkPassword(api.db, id, "first new password!")).toBe(false);
    const newest = await setPassword(api, id, tokenOf(api, id, 1));
    expect(newest.status).toBe(200);
    expect(newest.json).toEqual({ accountId: id, passwordChanged: true });
    expect(await checkPassword(api.db, id, NEW_PASSWORD)).toBe(true);
    expect(await checkPassword(api.db, id, "first new password!")).toBe(false);
  });

  it("GIVEN a wrong, a superseded, an expired, a used and a never-requested token WHEN tried THEN every answer is the same 422 token_invalid but for the attempts left (failure mode: a token oracle)", async () => {
    const api = await startApi({ maxResetFailures: 10 });
    const id = await signUp(api, "fay");
    const never = await setPassword(api, id, `r1.${api.clock.ms}.${"A".repeat(43)}`);
    await requestReset(api, id);
    const superseded = tokenOf(api, id, 0);
    api.clock.ms += 1000;
    await requestReset(api, id);
    const wrong = await setPassword(api, id, `r1.${api.clock.ms}.${"A".repeat(43)}`);
    const old = await setPassword(api, id, superseded);
    expect((await setPassword(api, id, tokenOf(api, id, 1))).status).toBe(200);
    const used = await setPassword(api, id, tokenOf(api, id, 1), "another password!!");
    api.clock.ms += 5000;
    await requestReset(api, id);
    api.clock.ms += RESET_TOKEN_TTL_SECONDS * 1000;
    const expired = await setPassword(api, id, tokenOf(api, id, 2));
    const answers = [never, wrong, old, used, expired];
    for (const answer of answers) {
      expect(answer.status).toBe(422);
      expect(answer.json.error).toBe("token_invalid");
      expect(answer.json.message).toBe(never.json.message);
      expect(Object.keys(answer.json.details ?? {})).toEqual(["attemptsLeft"]);
    }
    expect(await checkPassword(api.db, id, NEW_PASSWORD)).toBe(true);
  });

  it("GIVEN 5 tokens that do not work WHEN the right token comes next THEN 429 reset_locked with Retry-After, and only a new request's token works (failure mode: guessing without limit)", async () => {
    const api = await startApi();
    const id = await signUp(api, "gus");
    await requestReset(api, id);
    const right = tokenOf(api, id, 0);
    const lefts: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await setPassword(api, id, `r1.${api.clock.ms}.${String(i).repeat(43)}`);
      expect(res.status).toBe(422);
      lefts.push(res.json.details?.attemptsLeft);
    }
    expect(lefts).toEqual([4, 3, 2, 1, 0]);
    const locked = await setPassword(api, id, right);
    expect(locked.status).toBe(429);
    expect(locked.json.error).toBe("reset_locked");
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
    expect(await checkPassword(api.db, id, NEW_PASSWORD)).toBe(false);
    api.clock.ms += 1000;
    expect((await requestReset(api, id)).status).toBe(202);
    expect(resetState(api.db, id).lockedAt).toBeUndefined();
    expect((await setPassword(api, id, tokenOf(api, id, 1))).status).toBe(200);
  });

  it("GIVEN a malformed token or a too-short password WHEN posted THEN 400 and no attempt counted", async () => {
    const api = await startApi();
    const id = await signUp(api, "hal");
    await requestReset(api, id);
    const malformed = await setPassword(api, id, "not-a-token");
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toBe("token_malformed");
    const short = await setPassword(api, id, tokenOf(api, id, 0), "short");
    expect(short.status).toBe(400);
    expect(short.json.error).toBe("invalid_request");
    expect(resetState(api.db, id).failures).toBe(0);
    expect((await setPassword(api, id, tokenOf(api, id, 0))).status).toBe(200);
  });
});

describe("password hashes", () => {
  it("GIVEN the default scrypt cost WHEN a password is hashed THEN the hash names its parameters, and only the same password matches", async () => {
    const db = openAccountsDb(join(mkdtempSync(join(tmpdir(), "courier-hash-")), "accounts.db"));
    const hash = await hashPassword(NEW_PASSWORD);
    expect(hash.startsWith(`scrypt$${DEFAULT_SCRYPT_PARAMS.N}$8$1$`)).toBe(true);
    storePasswordHash(db, "acct", hash, new Date());
    expect(await checkPassword(db, "acct", NEW_PASSWORD)).toBe(true);
    expect(await checkPassword(db, "acct", `${NEW_PASSWORD}!`)).toBe(false);
    expect(await checkPassword(db, "other", NEW_PASSWORD)).toBe(false);
    db.close();
  }, 60_000);
});

describe("GET /accounts/:id/audit", () => {
  const entry = (sequenceNumber: string, eventId: string): AuditTrailItem => ({
    accountId: "x",
    sequenceNumber,
    eventId,
    type: "PasswordResetRequested",
    occurredAt: "2026-11-28T10:00:00.000Z",
    recordedAt: "2026-11-28T10:00:01.000Z",
    detail: { requestedAt: "2026-11-28T10:00:00.000Z", ip: "127.0.0.1" },
  });

  it("GIVEN an audit trail WHEN read THEN 200 with its entries in the store's (sequence) order", async () => {
    const asked: string[] = [];
    const api = await startApi({
      auditTrail: async (accountId) => {
        asked.push(accountId);
        return [entry("10", "e-1"), entry("20", "e-2")];
      },
    });
    const id = await signUp(api, "ida");
    const res = await call(api.base, `/accounts/${id}/audit`, owner(id));
    expect(res.status).toBe(200);
    expect(asked).toEqual([id]);
    expect((res.json.entries as Array<{ eventId: string }>).map((e) => e.eventId)).toEqual(["e-1", "e-2"]);
    expect((res.json.entries as unknown[])[0]).toEqual({
      sequenceNumber: "10",
      eventId: "e-1",
      type: "PasswordResetRequested",
      occurredAt: "2026-11-28T10:00:00.000Z",
      recordedAt: "2026-11-28T10:00:01.000Z",
      detail: { requestedAt: "2026-11-28T10:00:00.000Z", ip: "127.0.0.1" },
    });
  });

  it("GIVEN the audit store fails or none is configured WHEN read THEN 503 audit_unavailable, not a 500; an unknown account is 404", async () => {
    const failing = await startApi({
      auditTrail: async () => {
        throw new Error("ResourceNotFoundException: table gone");
      },
    });
    const id = await signUp(failing, "jo");
    const res = await call(failing.base, `/accounts/${id}/audit`, owner(id));
    expect(res.status).toBe(503);
    expect(res.json.error).toBe("audit_unavailable");
    expect(res.text).not.toContain("table gone");
    expect((await call(failing.base, "/accounts/nobody/audit", owner("nobody"))).status).toBe(404);
    const none = await startApi();
    const other = await signUp(none, "kim");
    expect((await call(none.base, `/accounts/${other}/audit`, owner(other))).status).toBe(503);
  });
});
