import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { accountCredential } from "../../src/app/accounts/account-credential.ts";
import { findAccount } from "../../src/app/accounts/account-store.ts";
import { listAccountUploads } from "../../src/app/accounts/account-uploads.ts";
import type { ApiServerDeps } from "../../src/app/api/api-server.ts";
import { createEdgeLimiter, DEFAULT_EDGE_LIMITS } from "../../src/app/api/edge-limits.ts";
import { issueResetToken } from "../../src/app/password-reset/reset-token.ts";
import { issueSmsCode, verificationKey } from "../../src/app/signup/verification-code.ts";
import { call } from "../helpers/api-client.ts";
import { closeApiServers, startApiServer, type TestApi } from "../helpers/api-server.ts";

const key = verificationKey("c".repeat(43));
const PHONE = "+14155550123";
const STRANGER = "127.0.0.2";
const s3Mock = mockClient(S3Client);

type Api = TestApi;

const startApi = (options: Partial<ApiServerDeps> = {}): Promise<Api> =>
  startApiServer(key, {
    exportPublisher: { publish: async () => ({ eventId: "e", messageId: "m" }) } as never,
    auditTrail: async () => [],
    ...options,
  });

beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).resolves({ ETag: '"abc"' });
});
afterEach(closeApiServers);

async function signUp(api: Api, who: string, extra: Record<string, unknown> = {}) {
  const res = await call(api.base, "/accounts", {
    body: { email: `${who}@example.com`, displayName: who, ...extra },
  });
  expect(res.status).toBe(201);
  return { accountId: String(res.json.accountId), credential: String(res.json.credential) };
}

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

/** Every account-scoped route, as a request for `accountId` with `headers`. */
function accountRoutes(api: Api, accountId: string, headers: Record<string, string>) {
  const id = encodeURIComponent(accountId);
  const png = (path: string) =>
    fetch(`${api.base}${path}`, {
      method: "POST",
      headers: { "content-type": "image/png", ...headers },
      body: new Uint8Array([137, 80, 78, 71]),
    });
  return {
    verify: () => call(api.base, `/accounts/${id}/verify`, { body: { code: "123456" }, headers }),
    resend: () =>
      call(api.base, `/accounts/${id}/verification/resend`, { body: { channel: "email" }, headers }),
    audit: () => call(api.base, `/accounts/${id}/audit`, { headers }),
    export: () => call(api.base, `/accounts/${id}/export`, { method: "POST", headers }),
    exportStatus: () =>
      call(api.base, `/accounts/${id}/exports/3270f09d-0507-49d6-94b3-5c7b4d4f5fe6`, { headers }),
    upload: () => png(`/images?uploadedBy=${id}`),
  };
}

async function statuses(routes: Record<string, () => Promise<{ readonly status: number }>>) {
  const answers: Record<string, number> = {};
  for (const [name, send] of Object.entries(routes)) answers[name] = (await send()).status;
  return answers;
}

const everyRoute = (status: number) => ({
  verify: status,
  resend: status,
  audit: status,
  export: status,
  exportStatus: status,
  upload: status,
});

describe("owners only", () => {
  it("GIVEN a sign-up WHEN it succeeds THEN it answers a credential for that account", async () => {
    const api = await startApi();
    const ada = await signUp(api, "ada");
    expect(ada.credential).toBe(accountCredential(key, ada.accountId));
  });

  it("GIVEN no credential WHEN any account route is asked THEN 401, and no upload is filed under the account", async () => {
    const api = await startApi();
    const ada = await signUp(api, "ada");
    expect(await statuses(accountRoutes(api, ada.accountId, {}))).toEqual(everyRoute(401));
    expect(listAccountUploads(api.db, ada.accountId, 10)).toEqual([]);
  });

  it("GIVEN another account's credential WHEN any of this account's routes is asked THEN 403", async () => {
    const api = await startApi();
    const ada = await signUp(api, "ada");
    const eve = await signUp(api, "eve");
    expect(await statuses(accountRoutes(api, ada.accountId, bearer(eve.credential)))).toEqual(
      everyRoute(403),
    );
    expect(listAccountUploads(api.db, ada.accountId, 10)).toEqual([]);
  });

  it("GIVEN a forged credential WHEN an account route is asked THEN 401", async () => {
    const api = await startApi();
    const ada = await signUp(api, "ada");
    const forged = `${Buffer.from(ada.accountId).toString("base64url")}.${"A".repeat(43)}`;
    expect((await accountRoutes(api, ada.accountId, bearer(forged)).audit()).status).toBe(401);
  });

  it("GIVEN the owner's credential WHEN the audit trail is read and an upload filed THEN both are served", async () => {
    const api = await startApi();
    const ada = await signUp(api, "ada");
    const routes = accountRoutes(api, ada.accountId, bearer(ada.credential));
    expect((await routes.audit()).status).toBe(200);
    expect((await routes.upload()).status).toBe(202);
    expect(listAccountUploads(api.db, ada.accountId, 10)).toHaveLength(1);
  });

  it("GIVEN uploads over the per-client budget WHEN one more is posted THEN 429 before anything is stored", async () => {
    const api = await startApi({
      edgeLimiter: createEdgeLimiter({
        ...DEFAULT_EDGE_LIMITS,
        "image-upload": {
          perClient: { points: 2, durationSeconds: 3600 },
          perTarget: { points: 100, durationSeconds: 3600 },
        },
      }),
    });
    const upload = () =>
      fetch(`${api.base}/images`, {
        method: "POST",
        headers: { "content-type": "image/png" },
        body: new Uint8Array([1, 2, 3]),
      });
    expect((await upload()).status).toBe(202);
    expect((await upload()).status).toBe(202);
    expect((await upload()).status).toBe(429);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(2);
  });
});

describe("verification per channel", () => {
  it("GIVEN an account with someone else's email and one's own phone WHEN the phone's code is verified THEN the email stays unverified and its link can still be re-sent", async () => {
    const api = await startApi();
    const mallory = await signUp(api, "victim", { phone: PHONE });
    const account = findAccount(api.db, mallory.accountId);
    const code = issueSmsCode(
      key,
      { accountId: mallory.accountId, address: PHONE },
      account?.createdAt ?? "",
    ).code;
    const owner = bearer(mallory.credential);
    const verified = await call(api.base, `/accounts/${mallory.accountId}/verify`, {
      body: { code },
      headers: owner,
    });
    expect(verified.json).toMatchObject({ verified: true, channel: "sms" });
    expect(findAccount(api.db, mallory.accountId)?.verifiedAt).toBeUndefined();
    const resend = await call(api.base, `/accounts/${mallory.accountId}/verification/resend`, {
      body: { channel: "email" },
      headers: owner,
    });
    expect(resend.status).toBe(202);
  });

  it("GIVEN an address whose account never verified it WHEN signed up again after the link's lifetime THEN 201; within it, 409", async () => {
    const api = await startApi();
    await signUp(api, "victim", { phone: PHONE });
    const again = () =>
      call(api.base, "/accounts", { body: { email: "victim@example.com", displayName: "Victim" } });
    expect((await again()).status).toBe(409);
    api.clock.ms += 24 * 3600 * 1000 + 1000;
    expect((await again()).status).toBe(201);
  });

  it("GIVEN a holder who re-sends the link every 23 h WHEN the owner signs up after a day THEN 201 (re-sends do not extend the hold)", async () => {
    const api = await startApi();
    const mallory = await signUp(api, "victim", { phone: PHONE });
    for (let day = 0; day < 2; day++) {
      api.clock.ms += 23 * 3600 * 1000;
      const resend = await call(api.base, `/accounts/${mallory.accountId}/verification/resend`, {
        body: { channel: "email" },
        headers: bearer(mallory.credential),
      });
      expect(resend.status).toBe(202);
    }
    const owner = await call(api.base, "/accounts", {
      body: { email: "victim@example.com", displayName: "Victim" },
    });
    expect(owner.status).toBe(201);
  });

  it("GIVEN an address its account verified WHEN signed up again any time later THEN 409", async () => {
    const api = await startApi();
    const ada = await signUp(api, "ada");
    api.db
      .prepare("UPDATE accounts SET verified_at = ? WHERE id = ?")
      .run("2026-11-28T10:00:01.000Z", ada.accountId);
    api.clock.ms += 30 * 24 * 3600 * 1000;
    const again = await call(api.base, "/accounts", {
      body: { email: "ada@example.com", displayName: "Ada" },
    });
    expect(again.status).toBe(409);
  });
});

describe("no lock-out by strangers", () => {
  const newestToken = (api: Api, accountId: string) => {
    const row = api.db
      .prepare("SELECT data FROM outbox WHERE topic = 'password-resets' ORDER BY id DESC LIMIT 1")
      .get() as { data: string };
    const data = JSON.parse(row.data) as { email: string; requestedAt: string };
    return issueResetToken(key, { accountId, email: data.email }, data.requestedAt).token;
  };
  const setPassword = (api: Api, accountId: string, token: string, from = "127.0.0.1") =>
    call(api.base, `/accounts/${accountId}/password`, {
      body: { token, password: "correct horse battery staple" },
      from,
    });

  it("GIVEN a stranger's five wrong reset tokens WHEN the owner uses the emailed link THEN it works; the stranger is the one locked", async () => {
    const api = await startApi();
    const ada = await signUp(api, "ada");
    expect(
      (await call(api.base, `/accounts/${ada.accountId}/password-reset`, { method: "POST" })).status,
    ).toBe(202);
    const right = newestToken(api, ada.accountId);
    const wrong =
      `${right.slice(0, -4)}AAAA` === right ? `${right.slice(0, -4)}BBBB` : `${right.slice(0, -4)}AAAA`;
    for (let i = 0; i < 5; i++) await setPassword(api, ada.accountId, wrong, STRANGER);
    expect((await setPassword(api, ada.accountId, right, STRANGER)).status).toBe(429);

    expect((await setPassword(api, ada.accountId, right)).status).toBe(200);
  });

  it("GIVEN a stranger who spent the account's reset requests WHEN the owner resets with the newest link THEN the owner may request again", async () => {
    const api = await startApi();
    const ada = await signUp(api, "ada");
    const request = (from?: string) =>
      call(api.base, `/accounts/${ada.accountId}/password-reset`, {
        method: "POST",
        ...(from ? { from } : {}),
      });
    for (let i = 0; i < DEFAULT_EDGE_LIMITS["password-reset"].perTarget.points; i++)
      expect((await request(STRANGER)).status).toBe(202);
    expect((await request()).status).toBe(429);

    // Every request mailed the owner a link; the newest works, and gives the budget back.
    expect((await setPassword(api, ada.accountId, newestToken(api, ada.accountId))).status).toBe(200);
    expect((await request()).status).toBe(202);
  });
});
