/**
 * Reset tokens: only the account's newest request's token works. Failure modes covered: an older
 * token still working after a newer request; a token for another account or address; a forged or
 * truncated token; a token past its hour; sortable sequence numbers out of order as text.
 */
import { describe, expect, it } from "vitest";
import { issueResetToken, verifyResetToken } from "../../src/app/password-reset/reset-token.ts";
import { sortableSequence } from "../../src/app/security-audit/audit-table.ts";
import { generateVerificationKey, verificationKey } from "../../src/app/signup/verification-code.ts";

const key = verificationKey(generateVerificationKey());
const subject = { accountId: "acct-1", email: "ada@example.com" };
const first = "2026-11-28T08:00:00.000Z";
const second = "2026-11-28T08:00:05.000Z";
const soon = new Date("2026-11-28T08:10:00.000Z");

describe("GIVEN two reset requests for one account", () => {
  const older = issueResetToken(key, subject, first).token;
  const newer = issueResetToken(key, subject, second).token;

  it("WHEN the newest token is presented THEN it is valid", () => {
    expect(verifyResetToken(key, { ...subject, token: newer, newestRequestedAt: second }, soon)).toEqual({
      status: "valid",
    });
  });

  it("WHEN the older token is presented THEN it is superseded", () => {
    expect(verifyResetToken(key, { ...subject, token: older, newestRequestedAt: second }, soon)).toEqual({
      status: "superseded",
    });
  });

  it("WHEN the newest token is presented after its hour THEN it is expired", () => {
    const late = new Date("2026-11-28T09:00:05.000Z");
    expect(verifyResetToken(key, { ...subject, token: newer, newestRequestedAt: second }, late)).toEqual({
      status: "expired",
    });
  });

  it("WHEN it is presented for another account or address THEN it is a mismatch", () => {
    const other = { accountId: "acct-2", email: "ada@example.com" };
    expect(verifyResetToken(key, { ...other, token: newer, newestRequestedAt: second }, soon).status).toBe(
      "mismatch",
    );
    const moved = { accountId: "acct-1", email: "eve@example.com" };
    expect(verifyResetToken(key, { ...moved, token: newer, newestRequestedAt: second }, soon).status).toBe(
      "mismatch",
    );
  });

  it("WHEN its request time is edited to the newest THEN the MAC no longer matches", () => {
    const forged = older.replace(String(Date.parse(first)), String(Date.parse(second)));
    expect(verifyResetToken(key, { ...subject, token: forged, newestRequestedAt: second }, soon).status).toBe(
      "mismatch",
    );
  });

  it("WHEN the token is truncated THEN it is malformed", () => {
    expect(
      verifyResetToken(key, { ...subject, token: newer.slice(0, -2), newestRequestedAt: second }, soon)
        .status,
    ).toBe("malformed");
  });

  it("WHEN the same request is issued twice (a redelivery) THEN the token is the same", () => {
    expect(issueResetToken(key, subject, second).token).toBe(newer);
  });
});

describe("GIVEN SNS sequence numbers of different lengths", () => {
  it("WHEN padded THEN text order is numeric order", () => {
    const numbers = ["99", "100", "10000000000000000001", "9"];
    const sorted = numbers.map(sortableSequence).sort();
    expect(sorted.map((s) => s.replace(/^0+/, ""))).toEqual(["9", "99", "100", "10000000000000000001"]);
  });

  it("WHEN it is not a decimal number THEN it is refused", () => {
    expect(() => sortableSequence("12a")).toThrow(RangeError);
  });
});
