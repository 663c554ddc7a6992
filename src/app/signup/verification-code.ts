/**
 * Verification codes for a new account's email address and phone number.
 *
 * Choice: a code is DERIVED, not stored. It is an HMAC-SHA256, keyed by a secret kept in Secrets
 * Manager, over (purpose, channel, accountId, normalised address, expiry). The account service
 * holds the same key and recomputes the MAC to check a code, so:
 * - there is no code store to write, replicate, expire or leak (DynamoDB is not even available in
 *   the local run), and no race between "email sent" and "code stored";
 * - a redelivered or redriven sign-up event derives the very same code from the very same inputs,
 *   so the side effect is idempotent where it matters: a duplicate email or SMS repeats the same
 *   code rather than racing a second one that invalidates the first;
 * - the code is bound to the account AND the address, so it cannot confirm another account or an
 *   address changed since; and to its expiry, so an old code cannot be replayed after 24 h.
 * The unpredictability comes from the key: 32+ bytes from a CSPRNG (Secrets Manager's
 * GenerateSecretString, or `generateVerificationKey()` here, which uses crypto.randomBytes); the
 * MAC makes codes indistinguishable from random to anyone without it. Math.random is never used.
 * The price: a code cannot be revoked on its own (rotate the key, or mark the account verified,
 * which makes any further code moot), and rotating the key voids codes in flight unless the
 * verifier also tries the previous key version (Secrets Manager's AWSPREVIOUS stage).
 *
 * The expiry is `issuedAt + ttl` where issuedAt is the account's `createdAt` from the event, so it
 * is the same on every delivery. The email link token carries its expiry in clear (covered by
 * the MAC), so checking a link needs only the account record; a 6-digit SMS code has no room for
 * it, so the verifier passes the account's createdAt (which the account service has) instead.
 * A 6-digit code has 10^6 values: the account service must limit attempts per account.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** How long a code stays valid after the account was created. */
export const VERIFICATION_TTL_SECONDS = 24 * 60 * 60;

/** Below this, the key has too little entropy to stand in for random codes. */
export const MIN_KEY_BYTES = 32;

export const SMS_CODE_DIGITS = 6;

const TOKEN_VERSION = "v1";
/** Domain separation: the key must not produce MACs that mean anything else. */
const PURPOSE = "courier.verification.v1";

export type VerificationChannel = "email" | "sms";

/** The HMAC key; a distinct type so a raw secret string is not passed by mistake. */
export interface VerificationKey {
  readonly bytes: Buffer;
}

export class InvalidVerificationKeyError extends Error {
  override readonly name = "InvalidVerificationKeyError";
}

export function verificationKey(material: Buffer | string): VerificationKey {
  const bytes = typeof material === "string" ? Buffer.from(material, "utf8") : Buffer.from(material);
  if (bytes.length < MIN_KEY_BYTES) {
    throw new InvalidVerificationKeyError(
      `verification key has ${bytes.length} bytes; at least ${MIN_KEY_BYTES} are required`,
    );
  }
  return { bytes };
}

/** A fresh key from the CSPRNG, base64url, for local stacks and tests. */
export function generateVerificationKey(): string {
  return randomBytes(MIN_KEY_BYTES).toString("base64url");
}

/** What both the issuer and the verifier bind a code to. */
export interface CodeSubject {
  readonly accountId: string;
  /** The email address (for "email") or E.164 phone number (for "sms") being verified. */
  readonly address: string;
}

function normaliseAddress(channel: VerificationChannel, address: string): string {
  // Emails compare case-insensitively in practice; phones are E.164 already, trimming is enough.
  return channel === "email" ? address.trim().toLowerCase() : address.trim();
}

function mac(key: VerificationKey, channel: VerificationChannel, subject: CodeSubject, expiresAt: number) {
  // A JSON array is an unambiguous encoding: no field can bleed into the next.
  const input = JSON.stringify([
    PURPOSE,
    channel,
    subject.accountId,
    normaliseAddress(channel, subject.address),
    expiresAt,
  ]);
  return createHmac("sha256", key.bytes).update(input, "utf8").digest();
}

/** Expiry in whole Unix seconds, so it survives the round trip through a link. */
export function expiryFor(issuedAt: Date | string, ttlSeconds = VERIFICATION_TTL_SECONDS): number {
  const issued = typeof issuedAt === "string" ? Date.parse(issuedAt) : issuedAt.getTime();
  if (Number.isNaN(issued)) throw new RangeError(`issuedAt is not a valid time: ${String(issuedAt)}`);
  return Math.floor(issued / 1000) + ttlSeconds;
}

export interface IssuedCode {
  /** For "email": the link token `v1.<expiry>.<mac>`; for "sms": six digits. */
  readonly code: string;
  readonly expiresAt: Date;
}

/** The link token for an email address: carries its own expiry. */
export function issueEmailToken(
  key: VerificationKey,
  subject: CodeSubject,
  issuedAt: Date | string,
  ttlSeconds = VERIFICATION_TTL_SECONDS,
): IssuedCode {
  const expiresAt = expiryFor(issuedAt, ttlSeconds);
  const tag = mac(key, "email", subject, expiresAt).toString("base64url");
  return { code: `${TOKEN_VERSION}.${expiresAt}.${tag}`, expiresAt: new Date(expiresAt * 1000) };
}

function digitsFrom(tag: Buffer): string {
  // 64 bits mod 10^6: the modulo bias is below 10^-13, unlike HOTP's 31-bit truncation.
  const value = tag.readBigUInt64BE(0) % 10n ** BigInt(SMS_CODE_DIGITS);
  return value.toString().padStart(SMS_CODE_DIGITS, "0");
}

/** The six-digit code for a phone number. */
export function issueSmsCode(
  key: VerificationKey,
  subject: CodeSubject,
  issuedAt: Date | string,
  ttlSeconds = VERIFICATION_TTL_SECONDS,
): IssuedCode {
  const expiresAt = expiryFor(issuedAt, ttlSeconds);
  return {
    code: digitsFrom(mac(key, "sms", subject, expiresAt)),
    expiresAt: new Date(expiresAt * 1000),
  };
}

export type VerificationResult =
  | { readonly status: "valid"; readonly expiresAt: Date }
  | { readonly status: "expired"; readonly expiresAt: Date }
  | { readonly status: "mismatch" }
  | { readonly status: "malformed"; readonly reason: string };

export type VerificationAttempt =
  | {
      readonly channel: "email";
      readonly accountId: string;
      /** The account's email address on record, not one taken from the request. */
      readonly email: string;
      /** The `token` query parameter of the link. */
      readonly token: string;
    }
  | {
      readonly channel: "sms";
      readonly accountId: string;
      /** The account's phone number on record. */
      readonly phone: string;
      /** The digits the user typed. */
      readonly code: string;
      /** The account's createdAt: the SMS code's expiry is derived from it. */
      readonly issuedAt: Date | string;
      readonly ttlSeconds?: number;
    };

const EMAIL_TOKEN_PATTERN = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;
const SMS_CODE_PATTERN = new RegExp(`^\\d{${SMS_CODE_DIGITS}}$`);

/**
 * Checks a code for the API server. The MAC is compared in constant time and before the expiry,
 * so "expired" is only ever said of a code this key really issued.
 */
export function verifyCode(
  key: VerificationKey,
  attempt: VerificationAttempt,
  now: Date = new Date(),
): VerificationResult {
  let expected: Buffer;
  let presented: Buffer;
  let expiresAt: number;
  if (attempt.channel === "email") {
    const match = EMAIL_TOKEN_PATTERN.exec(attempt.token.trim());
    if (!match?.[1] || !match[2]) return { status: "malformed", reason: "token is not v1.<expiry>.<mac>" };
    expiresAt = Number(match[1]);
    presented = Buffer.from(match[2], "base64url");
    expected = mac(key, "email", { accountId: attempt.accountId, address: attempt.email }, expiresAt);
  } else {
    const code = attempt.code.trim();
    if (!SMS_CODE_PATTERN.test(code)) {
      return { status: "malformed", reason: `code is not ${SMS_CODE_DIGITS} digits` };
    }
    try {
      expiresAt = expiryFor(attempt.issuedAt, attempt.ttlSeconds);
    } catch {
      return { status: "malformed", reason: "issuedAt is not a valid time" };
    }
    presented = Buffer.from(code, "utf8");
    const subject = { accountId: attempt.accountId, address: attempt.phone };
    expected = Buffer.from(digitsFrom(mac(key, "sms", subject, expiresAt)), "utf8");
  }
  // Lengths are fixed by the patterns above, so timingSafeEqual cannot throw on a length mismatch.
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    return { status: "mismatch" };
  }
  const expiry = new Date(expiresAt * 1000);
  return now.getTime() >= expiry.getTime()
    ? { status: "expired", expiresAt: expiry }
    : { status: "valid", expiresAt: expiry };
}
