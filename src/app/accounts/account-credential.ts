/**
 * The credential the example API issues an account at sign-up, and every account-scoped route
 * requires (`Authorization: Bearer <credential>`): `<accountId, base64url>.<mac>`, an HMAC-SHA256
 * over the account id with the verification key (base64url: any id fits in a header). Stateless, like the codes: nothing to store or look up,
 * and the server tells "not a credential" (401) from "another account's credential" (403) without
 * a query. It never expires and cannot be revoked one by one (rotating the key revokes them all):
 * a production API would issue sessions with an expiry instead; this shows the check, not a login.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { VerificationKey } from "../signup/verification-code.ts";

const PURPOSE = "courier-example/account-credential/v1";

function mac(key: VerificationKey, accountId: string): Buffer {
  // A JSON array is an unambiguous encoding: no field can bleed into the next.
  return createHmac("sha256", key.bytes)
    .update(JSON.stringify([PURPOSE, accountId]), "utf8")
    .digest();
}

export function accountCredential(key: VerificationKey, accountId: string): string {
  return `${Buffer.from(accountId, "utf8").toString("base64url")}.${mac(key, accountId).toString("base64url")}`;
}

export type CredentialCheck =
  | { readonly status: "missing" }
  | { readonly status: "invalid" }
  /** A genuine credential, of the account named. */
  | { readonly status: "valid"; readonly accountId: string };

/** Reads `Authorization: Bearer <credential>` and checks its MAC in constant time. */
export function checkCredential(key: VerificationKey, authorization: string | undefined): CredentialCheck {
  const match = /^Bearer ([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{43})$/.exec(authorization?.trim() ?? "");
  if (!authorization) return { status: "missing" };
  if (!match) return { status: "invalid" };
  const [, encodedId = "", presented = ""] = match;
  const accountId = Buffer.from(encodedId, "base64url").toString("utf8");
  const expected = mac(key, accountId);
  const given = Buffer.from(presented, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { status: "invalid" };
  return { status: "valid", accountId };
}
