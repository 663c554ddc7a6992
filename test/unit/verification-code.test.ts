import { describe, expect, it } from "vitest";
import {
  generateVerificationKey,
  InvalidVerificationKeyError,
  issueEmailToken,
  issueSmsCode,
  VERIFICATION_TTL_SECONDS,
  verificationKey,
  verifyCode,
} from "../../src/app/signup/verification-code.ts";
import { CREATED_AT, OTHER_KEY, SOON_AFTER, TEST_KEY } from "./signup-fixtures.ts";

const ada = { accountId: "acct-0001", address: "ada.lovelace@example.com" };
const adaPhone = { accountId: "acct-0001", address: "+14155550123" };
const AFTER_EXPIRY = new Date(Date.parse(CREATED_AT) + VERIFICATION_TTL_SECONDS * 1000 + 1000);

function emailAttempt(token: string, overrides: { accountId?: string; email?: string } = {}) {
  return { channel: "email" as const, accountId: ada.accountId, email: ada.address, token, ...overrides };
}

function smsAttempt(code: string, overrides: { accountId?: string; phone?: string; issuedAt?: string } = {}) {
  return {
    channel: "sms" as const,
    accountId: adaPhone.accountId,
    phone: adaPhone.address,
    issuedAt: CREATED_AT,
    code,
    ...overrides,
  };
}

describe("verification codes (HMAC-derived, stateless)", () => {
  it("GIVEN one sign-up WHEN its codes are derived twice (a redelivery) THEN they are identical", () => {
    // Failure mode: a redelivered event sends a second, different code that confuses or locks out the user.
    expect(issueEmailToken(TEST_KEY, ada, CREATED_AT).code).toBe(
      issueEmailToken(TEST_KEY, ada, CREATED_AT).code,
    );
    expect(issueSmsCode(TEST_KEY, adaPhone, CREATED_AT).code).toBe(
      issueSmsCode(TEST_KEY, adaPhone, CREATED_AT).code,
    );
  });

  it("GIVEN 500 different accounts WHEN their SMS codes are derived THEN they look random (distinct, all digits used)", () => {
    // Failure mode: codes guessable from the account (a counter, a hash of the id without a key, a constant).
    const codes = Array.from(
      { length: 500 },
      (_, i) => issueSmsCode(TEST_KEY, { accountId: `acct-${i}`, address: "+14155550123" }, CREATED_AT).code,
    );
    expect(codes.every((code) => /^\d{6}$/.test(code))).toBe(true);
    // 500 draws from 10^6 values collide with probability ~12%: allow a few, not a pattern.
    expect(new Set(codes).size).toBeGreaterThanOrEqual(495);
    const firstDigits = new Set(codes.map((code) => code[0]));
    expect(firstDigits.size).toBe(10);
  });

  it("GIVEN the same account and time WHEN the key differs THEN the code differs", () => {
    // Failure mode: the key does not enter the derivation, so anyone can compute codes.
    expect(issueEmailToken(TEST_KEY, ada, CREATED_AT).code).not.toBe(
      issueEmailToken(OTHER_KEY, ada, CREATED_AT).code,
    );
  });

  it("GIVEN an issued email token WHEN it is checked for its account before expiry THEN it is valid", () => {
    const issued = issueEmailToken(TEST_KEY, ada, CREATED_AT);
    expect(verifyCode(TEST_KEY, emailAttempt(issued.code), SOON_AFTER)).toEqual({
      status: "valid",
      expiresAt: issued.expiresAt,
    });
  });

  it("GIVEN an issued email token WHEN the address on record differs only in case THEN it is still valid", () => {
    const issued = issueEmailToken(TEST_KEY, ada, CREATED_AT);
    const result = verifyCode(
      TEST_KEY,
      emailAttempt(issued.code, { email: "Ada.Lovelace@EXAMPLE.com" }),
      SOON_AFTER,
    );
    expect(result.status).toBe("valid");
  });

  it("GIVEN an issued SMS code WHEN it is checked with the account's createdAt before expiry THEN it is valid", () => {
    const issued = issueSmsCode(TEST_KEY, adaPhone, CREATED_AT);
    expect(verifyCode(TEST_KEY, smsAttempt(issued.code), SOON_AFTER).status).toBe("valid");
  });

  it("GIVEN an email token WHEN it is checked after 24 h THEN it is expired", () => {
    // Failure mode: an old link confirms an address long after the account was created.
    const issued = issueEmailToken(TEST_KEY, ada, CREATED_AT);
    expect(verifyCode(TEST_KEY, emailAttempt(issued.code), AFTER_EXPIRY)).toEqual({
      status: "expired",
      expiresAt: issued.expiresAt,
    });
  });

  it("GIVEN an SMS code WHEN it is checked after 24 h THEN it is expired", () => {
    const issued = issueSmsCode(TEST_KEY, adaPhone, CREATED_AT);
    expect(verifyCode(TEST_KEY, smsAttempt(issued.code), AFTER_EXPIRY).status).toBe("expired");
  });

  it("GIVEN an email token WHEN its expiry is pushed later by hand THEN it is a mismatch, not valid", () => {
    // Failure mode: the expiry travels in clear and is not covered by the MAC.
    const issued = issueEmailToken(TEST_KEY, ada, CREATED_AT);
    const [version, expiry, tag] = issued.code.split(".");
    const extended = `${version}.${Number(expiry) + 365 * 24 * 3600}.${tag}`;
    expect(verifyCode(TEST_KEY, emailAttempt(extended), AFTER_EXPIRY).status).toBe("mismatch");
  });

  it("GIVEN an email token WHEN one character of its MAC is changed THEN it is a mismatch", () => {
    const issued = issueEmailToken(TEST_KEY, ada, CREATED_AT);
    const last = issued.code.at(-2) === "A" ? "B" : "A";
    const tampered = `${issued.code.slice(0, -2)}${last}${issued.code.slice(-1)}`;
    expect(verifyCode(TEST_KEY, emailAttempt(tampered), SOON_AFTER).status).toBe("mismatch");
  });

  it("GIVEN one account's email token WHEN it is presented for another account THEN it is a mismatch", () => {
    // Failure mode: a code confirms an account it was not sent for.
    const issued = issueEmailToken(TEST_KEY, ada, CREATED_AT);
    expect(
      verifyCode(TEST_KEY, emailAttempt(issued.code, { accountId: "acct-0002" }), SOON_AFTER).status,
    ).toBe("mismatch");
  });

  it("GIVEN an email token WHEN the account's address has changed since THEN it is a mismatch", () => {
    const issued = issueEmailToken(TEST_KEY, ada, CREATED_AT);
    const result = verifyCode(
      TEST_KEY,
      emailAttempt(issued.code, { email: "mallory@example.com" }),
      SOON_AFTER,
    );
    expect(result.status).toBe("mismatch");
  });

  it("GIVEN one account's SMS code WHEN it is presented for another account THEN it is a mismatch", () => {
    const issued = issueSmsCode(TEST_KEY, adaPhone, CREATED_AT);
    expect(verifyCode(TEST_KEY, smsAttempt(issued.code, { accountId: "acct-0002" }), SOON_AFTER).status).toBe(
      "mismatch",
    );
  });

  it("GIVEN an SMS code WHEN it is presented with a later createdAt THEN it is a mismatch (no extending the expiry)", () => {
    const issued = issueSmsCode(TEST_KEY, adaPhone, CREATED_AT);
    const later = smsAttempt(issued.code, { issuedAt: "2026-03-05T12:00:00.000Z" });
    expect(verifyCode(TEST_KEY, later, SOON_AFTER).status).toBe("mismatch");
  });

  it("GIVEN a token issued with another key WHEN it is checked THEN it is a mismatch", () => {
    const issued = issueEmailToken(OTHER_KEY, ada, CREATED_AT);
    expect(verifyCode(TEST_KEY, emailAttempt(issued.code), SOON_AFTER).status).toBe("mismatch");
  });

  it("GIVEN an expired token that was forged WHEN it is checked THEN it is a mismatch, not expired", () => {
    // Failure mode: "expired" is told about codes the key never issued, leaking the check order.
    const forged = `v1.1700000000.${"A".repeat(43)}`;
    expect(verifyCode(TEST_KEY, emailAttempt(forged), AFTER_EXPIRY).status).toBe("mismatch");
  });

  it.each([
    ["an empty token", ""],
    ["a token without its MAC", "v1.1772452800"],
    ["a token of an unknown version", `v9.1772452800.${"A".repeat(43)}`],
    ["a token with a short MAC", "v1.1772452800.abc"],
  ])("GIVEN %s WHEN it is checked THEN it is malformed", (_label, token) => {
    expect(verifyCode(TEST_KEY, emailAttempt(token), SOON_AFTER).status).toBe("malformed");
  });

  it.each([
    ["five digits", "12345"],
    ["seven digits", "1234567"],
    ["letters", "12a456"],
  ])("GIVEN an SMS code of %s WHEN it is checked THEN it is malformed", (_label, code) => {
    expect(verifyCode(TEST_KEY, smsAttempt(code), SOON_AFTER).status).toBe("malformed");
  });

  it("GIVEN key material shorter than 32 bytes WHEN a key is made from it THEN it is refused", () => {
    // Failure mode: a short or empty secret makes every code brute-forceable.
    expect(() => verificationKey("short")).toThrow(InvalidVerificationKeyError);
  });

  it("GIVEN two generated keys WHEN compared THEN they differ and carry 32 random bytes", () => {
    const a = generateVerificationKey();
    const b = generateVerificationKey();
    expect(a).not.toBe(b);
    expect(Buffer.from(a, "base64url")).toHaveLength(32);
  });
});
