/**
 * Password reset tokens: an HMAC-SHA256 (the verification key, its own purpose string) over the
 * account, its email address and the request time, with the request time in clear inside the
 * token: `r1.<requestedAtMs>.<mac>`.
 *
 * "Only the newest works" needs one fact the token cannot carry: which request is the account's
 * newest. The account service records it when it accepts a request (the same transaction that
 * writes the outbox row), and `verifyResetToken` compares the token's request time with it. So a
 * token is void the moment a newer request is accepted, whatever order emails arrive in; and the
 * ordered topic makes the last email the user receives the one carrying the working token.
 * Like verification codes, tokens are derived, not stored: every delivery of one event sends the
 * same token, so a redelivered email repeats a link rather than racing a second one.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { VerificationKey } from "../signup/verification-code.ts";

/** How long a reset link works after the request. */
export const RESET_TOKEN_TTL_SECONDS = 60 * 60;

/** Domain separation: a reset MAC must never pass as a verification code, nor the reverse. */
const PURPOSE = "courier.password-reset.v1";
const TOKEN_PATTERN = /^r1\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/;

export interface ResetSubject {
  readonly accountId: string;
  readonly email: string;
}

function mac(key: VerificationKey, subject: ResetSubject, requestedAtMs: number): Buffer {
  const input = JSON.stringify([
    PURPOSE,
    subject.accountId,
    subject.email.trim().toLowerCase(),
    requestedAtMs,
  ]);
  return createHmac("sha256", key.bytes).update(input, "utf8").digest();
}

function millis(time: Date | string): number {
  const ms = typeof time === "string" ? Date.parse(time) : time.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`not a valid time: ${String(time)}`);
  return ms;
}

export interface IssuedResetToken {
  readonly token: string;
  readonly expiresAt: Date;
}

export function issueResetToken(
  key: VerificationKey,
  subject: ResetSubject,
  requestedAt: Date | string,
  ttlSeconds = RESET_TOKEN_TTL_SECONDS,
): IssuedResetToken {
  const requestedAtMs = millis(requestedAt);
  return {
    token: `r1.${requestedAtMs}.${mac(key, subject, requestedAtMs).toString("base64url")}`,
    expiresAt: new Date(requestedAtMs + ttlSeconds * 1000),
  };
}

export type ResetTokenResult =
  | { readonly status: "valid" }
  | { readonly status: "superseded" }
  | { readonly status: "expired" }
  | { readonly status: "mismatch" }
  | { readonly status: "malformed" };

export interface ResetAttempt extends ResetSubject {
  readonly token: string;
  /** The account's newest accepted request, from the account service's own record. */
  readonly newestRequestedAt: Date | string;
}

/** Checks the MAC first (constant time), so "superseded" and "expired" are said only of real tokens. */
export function verifyResetToken(
  key: VerificationKey,
  attempt: ResetAttempt,
  now: Date = new Date(),
  ttlSeconds = RESET_TOKEN_TTL_SECONDS,
): ResetTokenResult {
  const match = TOKEN_PATTERN.exec(attempt.token.trim());
  if (!match?.[1] || !match[2]) return { status: "malformed" };
  const requestedAtMs = Number(match[1]);
  const presented = Buffer.from(match[2], "base64url");
  const expected = mac(key, attempt, requestedAtMs);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    return { status: "mismatch" };
  }
  if (requestedAtMs !== millis(attempt.newestRequestedAt)) return { status: "superseded" };
  if (now.getTime() >= requestedAtMs + ttlSeconds * 1000) return { status: "expired" };
  return { status: "valid" };
}
