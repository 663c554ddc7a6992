import { describe, expect, it } from "vitest";
import { anyEnvelopeSchema } from "../../packages/courier/src/lib/contracts/index.ts";
import {
  type ImageUploadedV1,
  ImageUploadedV1Contract,
  type NewAccountV1,
  NewAccountV1Contract,
} from "../../src/app/contracts/index.ts";

const newAccount: NewAccountV1 = {
  accountId: "acc_123",
  email: "ada@example.com",
  displayName: "Ada Lovelace",
  phone: "+14155550123",
  locale: "en-US",
  createdAt: "2025-01-02T03:04:05.000Z",
};

const imageUploaded: ImageUploadedV1 = {
  imageId: "img_42",
  bucket: "courier-uploads",
  key: "originals/img_42.jpg",
  contentType: "image/jpeg",
  byteSize: 123_456,
  uploadedBy: "acc_123",
  uploadedAt: "2025-01-02T03:04:05+02:00",
};

function envelopeOf<T>(type: string, version: number, data: T) {
  return {
    eventId: "3f1c2b8e-4d5a-4e6f-9a7b-1c2d3e4f5a6b",
    type,
    version,
    occurredAt: "2025-01-02T03:04:05.000Z",
    producer: "api-server",
    data,
  };
}

/** The paths of the fields a schema rejects, so a test names the field it expects to fail. */
function failingPaths(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }): string[] {
  return (result.error?.issues ?? []).map((issue) => issue.path.map(String).join("."));
}

describe("NewAccount v1 contract", () => {
  it("GIVEN a complete sign-up WHEN parsed THEN it is accepted unchanged", () => {
    expect(NewAccountV1Contract.data.parse(newAccount)).toEqual(newAccount);
  });

  it("GIVEN a sign-up without a phone WHEN parsed THEN it is accepted (phone is optional)", () => {
    const { phone: _phone, ...withoutPhone } = newAccount;
    expect(NewAccountV1Contract.data.safeParse(withoutPhone).success).toBe(true);
  });

  it.each([
    ["a local number without country code", "4155550123"],
    ["a leading zero country code", "+04155550123"],
    ["spaces and dashes", "+1 415-555-0123"],
    ["more than 15 digits", "+1234567890123456"],
  ])("GIVEN a phone that is %s WHEN parsed THEN phone is rejected as not E.164", (_case, phone) => {
    const result = NewAccountV1Contract.data.safeParse({ ...newAccount, phone });
    expect(failingPaths(result)).toEqual(["phone"]);
  });

  it.each([
    ["no @", "ada.example.com"],
    ["no domain", "ada@"],
    ["spaces", "ada lovelace@example.com"],
  ])("GIVEN an email with %s WHEN parsed THEN email is rejected", (_case, email) => {
    const result = NewAccountV1Contract.data.safeParse({ ...newAccount, email });
    expect(failingPaths(result)).toEqual(["email"]);
  });

  it.each([
    ["a date only", "2025-01-02"],
    ["free text", "yesterday"],
    ["no time zone", "2025-01-02T03:04:05"],
  ])(
    "GIVEN createdAt as %s WHEN parsed THEN createdAt is rejected as not an ISO datetime",
    (_case, createdAt) => {
      const result = NewAccountV1Contract.data.safeParse({ ...newAccount, createdAt });
      expect(failingPaths(result)).toEqual(["createdAt"]);
    },
  );

  it("GIVEN a locale that is not a BCP 47 tag WHEN parsed THEN locale is rejected", () => {
    const result = NewAccountV1Contract.data.safeParse({ ...newAccount, locale: "english please" });
    expect(failingPaths(result)).toEqual(["locale"]);
  });

  it("GIVEN a blank displayName WHEN parsed THEN displayName is rejected", () => {
    const result = NewAccountV1Contract.data.safeParse({ ...newAccount, displayName: "   " });
    expect(failingPaths(result)).toEqual(["displayName"]);
  });

  it("GIVEN a sign-up missing accountId WHEN parsed THEN accountId is reported missing", () => {
    const { accountId: _id, ...withoutId } = newAccount;
    expect(failingPaths(NewAccountV1Contract.data.safeParse(withoutId))).toEqual(["accountId"]);
  });

  it("GIVEN a sign-up with a phone WHEN its filter attributes are derived THEN hasPhone is 'true'", () => {
    expect(NewAccountV1Contract.filterAttributes(newAccount)).toEqual({
      hasPhone: "true",
      purpose: "signup",
    });
  });

  it("GIVEN a sign-up without a phone WHEN its filter attributes are derived THEN hasPhone is 'false'", () => {
    const { phone: _phone, ...withoutPhone } = newAccount;
    expect(NewAccountV1Contract.filterAttributes(withoutPhone)).toEqual({
      hasPhone: "false",
      purpose: "signup",
    });
  });

  it("GIVEN an SMS code re-send WHEN its filter attributes are derived THEN it is for verification-sms only", () => {
    const resend = { ...newAccount, resendChannel: "sms" as const, codeIssuedAt: newAccount.createdAt };
    expect(NewAccountV1Contract.filterAttributes(resend)).toEqual({
      hasPhone: "true",
      purpose: "resend-sms",
    });
  });

  it("GIVEN an email code re-send for an account with a phone WHEN its filter attributes are derived THEN no SMS is wanted", () => {
    const resend = { ...newAccount, resendChannel: "email" as const, codeIssuedAt: newAccount.createdAt };
    expect(NewAccountV1Contract.filterAttributes(resend)).toEqual({
      hasPhone: "false",
      purpose: "resend-email",
    });
  });
});

describe("ImageUploaded v1 contract", () => {
  it("GIVEN a complete upload WHEN parsed THEN it is accepted unchanged", () => {
    expect(ImageUploadedV1Contract.data.parse(imageUploaded)).toEqual(imageUploaded);
  });

  it("GIVEN a negative byteSize WHEN parsed THEN byteSize is rejected", () => {
    const result = ImageUploadedV1Contract.data.safeParse({ ...imageUploaded, byteSize: -1 });
    expect(failingPaths(result)).toEqual(["byteSize"]);
  });

  it("GIVEN a fractional byteSize WHEN parsed THEN byteSize is rejected", () => {
    const result = ImageUploadedV1Contract.data.safeParse({ ...imageUploaded, byteSize: 1.5 });
    expect(failingPaths(result)).toEqual(["byteSize"]);
  });

  it("GIVEN a contentType that is not a MIME type WHEN parsed THEN contentType is rejected", () => {
    const result = ImageUploadedV1Contract.data.safeParse({ ...imageUploaded, contentType: "jpeg" });
    expect(failingPaths(result)).toEqual(["contentType"]);
  });

  it("GIVEN an imageId with a slash WHEN parsed THEN imageId is rejected (it becomes an S3 key part)", () => {
    const result = ImageUploadedV1Contract.data.safeParse({ ...imageUploaded, imageId: "a/b" });
    expect(failingPaths(result)).toEqual(["imageId"]);
  });

  it("GIVEN an uploadedAt that is not a datetime WHEN parsed THEN uploadedAt is rejected", () => {
    const result = ImageUploadedV1Contract.data.safeParse({
      ...imageUploaded,
      uploadedAt: "2025-13-45T00:00:00Z",
    });
    expect(failingPaths(result)).toEqual(["uploadedAt"]);
  });

  it("GIVEN an upload WHEN its filter attributes are derived THEN contentType is set", () => {
    expect(ImageUploadedV1Contract.filterAttributes(imageUploaded)).toEqual({ contentType: "image/jpeg" });
  });
});

describe("message envelope", () => {
  it("GIVEN a well-formed NewAccount envelope WHEN parsed by its contract THEN it is accepted", () => {
    const envelope = envelopeOf("NewAccount", 1, newAccount);
    expect(NewAccountV1Contract.envelope.parse(envelope)).toEqual(envelope);
  });

  it("GIVEN an eventId that is not a UUID WHEN parsed THEN eventId is rejected", () => {
    const envelope = { ...envelopeOf("NewAccount", 1, newAccount), eventId: "evt-1" };
    expect(failingPaths(NewAccountV1Contract.envelope.safeParse(envelope))).toEqual(["eventId"]);
  });

  it("GIVEN an occurredAt that is not a datetime WHEN parsed THEN occurredAt is rejected", () => {
    const envelope = { ...envelopeOf("NewAccount", 1, newAccount), occurredAt: "now" };
    expect(failingPaths(NewAccountV1Contract.envelope.safeParse(envelope))).toEqual(["occurredAt"]);
  });

  it("GIVEN an empty producer WHEN parsed THEN producer is rejected", () => {
    const envelope = { ...envelopeOf("NewAccount", 1, newAccount), producer: "" };
    expect(failingPaths(NewAccountV1Contract.envelope.safeParse(envelope))).toEqual(["producer"]);
  });

  it("GIVEN an ImageUploaded envelope WHEN parsed by the NewAccount contract THEN type is rejected", () => {
    const envelope = envelopeOf("ImageUploaded", 1, newAccount);
    expect(failingPaths(NewAccountV1Contract.envelope.safeParse(envelope))).toEqual(["type"]);
  });

  it("GIVEN a NewAccount envelope of version 2 WHEN parsed by the v1 contract THEN version is rejected", () => {
    const envelope = envelopeOf("NewAccount", 2, newAccount);
    expect(failingPaths(NewAccountV1Contract.envelope.safeParse(envelope))).toEqual(["version"]);
  });

  it("GIVEN an envelope whose data breaks the contract WHEN parsed THEN the data field path is reported", () => {
    const envelope = envelopeOf("NewAccount", 1, { ...newAccount, email: "nope" });
    expect(failingPaths(NewAccountV1Contract.envelope.safeParse(envelope))).toEqual(["data.email"]);
  });

  it("GIVEN any envelope WHEN parsed by the generic schema THEN data is passed through unchecked", () => {
    const envelope = envelopeOf("SomethingElse", 7, { anything: true });
    expect(anyEnvelopeSchema.parse(envelope)).toEqual(envelope);
  });
});
