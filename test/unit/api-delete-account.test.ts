/**
 * DELETE /accounts/:id in the example API: the owner erases the account's archived history first
 * (courier's eraseSubject, injected), then its rows. Failure modes covered: another account (or no
 * credential) deleting it; rows deleted while the archive still holds the account's messages (an
 * erase failure must leave the account in place to retry); the eraser not called with the account.
 */
import { afterEach, describe, expect, it } from "vitest";
import { findAccount } from "../../src/app/accounts/account-store.ts";
import type { ApiServerDeps } from "../../src/app/api/api-server.ts";
import { verificationKey } from "../../src/app/signup/verification-code.ts";
import { call } from "../helpers/api-client.ts";
import { closeApiServers, startApiServer, type TestApi } from "../helpers/api-server.ts";

const key = verificationKey("d".repeat(43));
afterEach(closeApiServers);

const startApi = (options: Partial<ApiServerDeps> = {}): Promise<TestApi> => startApiServer(key, options);

async function signUp(api: TestApi, who: string) {
  const res = await call(api.base, "/accounts", {
    body: { email: `${who}@example.com`, displayName: who },
  });
  expect(res.status).toBe(201);
  return { accountId: String(res.json.accountId), credential: String(res.json.credential) };
}
const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

describe("DELETE /accounts/:id", () => {
  it("GIVEN the owner's credential WHEN it deletes the account THEN its archive is erased first and its rows are gone", async () => {
    const erased: string[] = [];
    const api = await startApi({
      eraseArchive: async (accountId) => {
        erased.push(accountId);
        return { messagesRemoved: 3 };
      },
    });
    const { accountId, credential } = await signUp(api, "ada");
    const res = await call(api.base, `/accounts/${accountId}`, {
      method: "DELETE",
      headers: bearer(credential),
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ accountId, deleted: true, archive: { erased: true, messagesRemoved: 3 } });
    expect(erased).toEqual([accountId]);
    expect(findAccount(api.db, accountId)).toBeUndefined();
  });

  it("GIVEN another account's credential or none WHEN it asks to delete THEN 403 / 401 and nothing is erased", async () => {
    const erased: string[] = [];
    const api = await startApi({ eraseArchive: async (id) => (erased.push(id), { messagesRemoved: 0 }) });
    const ada = await signUp(api, "ada");
    const eve = await signUp(api, "eve");
    const path = `/accounts/${ada.accountId}`;
    expect((await call(api.base, path, { method: "DELETE", headers: bearer(eve.credential) })).status).toBe(
      403,
    );
    expect((await call(api.base, path, { method: "DELETE" })).status).toBe(401);
    expect(erased).toEqual([]);
    expect(findAccount(api.db, ada.accountId)).toBeDefined();
  });

  it("GIVEN the archive cannot be erased WHEN the owner deletes THEN 503 and the account stays, to retry", async () => {
    const api = await startApi({
      eraseArchive: async () => {
        throw new Error("S3 unavailable");
      },
    });
    const { accountId, credential } = await signUp(api, "ada");
    const res = await call(api.base, `/accounts/${accountId}`, {
      method: "DELETE",
      headers: bearer(credential),
    });
    expect(res.status).toBe(503);
    expect(findAccount(api.db, accountId)).toBeDefined();
  });
});
