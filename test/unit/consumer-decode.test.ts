import { describe, expect, it } from "vitest";
import { z } from "zod";
import { contractIndex, decodeBody } from "../../packages/courier/src/lib/consumer/decode.ts";
import {
  ConsumerConfigError,
  InvalidDataError,
  MissingEnvelopeError,
  PermanentError,
  UnsupportedMessageError,
} from "../../packages/courier/src/lib/consumer/index.ts";
import { queueAddressesFromEnv } from "../../packages/courier/src/lib/consumer/runtime-config.ts";
import { defineContract } from "../../packages/courier/src/lib/contracts/index.ts";
import { NewAccountV1Contract } from "../../src/app/contracts/index.ts";

// A breaking change during a migration: v2 renames displayName to name. Consumers accept both.
const NewAccountV2Contract = defineContract({
  type: "NewAccount",
  version: 2,
  data: z.object({ accountId: z.string(), email: z.email(), name: z.string().min(1) }),
});
const contracts = contractIndex([NewAccountV1Contract, NewAccountV2Contract]);

const header = {
  eventId: "0b8f0c1e-4a7b-4c1e-9f3a-1d2e3f4a5b6c",
  type: "NewAccount",
  occurredAt: "2025-06-01T12:00:00.000Z",
  producer: "api-server",
};
const v1 = {
  ...header,
  version: 1,
  data: {
    accountId: "a1",
    email: "ada@example.com",
    displayName: "Ada",
    locale: "en-GB",
    createdAt: "2025-06-01T12:00:00.000Z",
  },
};
const v2 = { ...header, version: 2, data: { accountId: "a1", email: "ada@example.com", name: "Ada" } };

describe("decodeBody", () => {
  it("GIVEN a topic accepting v1 and v2 WHEN each arrives THEN each is checked against its own version's contract", () => {
    expect(decodeBody(JSON.stringify(v1), contracts)).toMatchObject({
      contract: NewAccountV1Contract,
      message: v1,
    });
    expect(decodeBody(JSON.stringify(v2), contracts)).toMatchObject({
      contract: NewAccountV2Contract,
      message: v2,
    });
  });

  it("GIVEN v2 data labelled v1 WHEN decoded THEN it is invalid data (a version is not guessed from the shape)", () => {
    const mislabelled = { ...v2, version: 1 };
    expect(() => decodeBody(JSON.stringify(mislabelled), contracts)).toThrow(InvalidDataError);
  });

  it("GIVEN an envelope with fields a contract does not know WHEN decoded THEN unknown data fields are dropped", () => {
    const extra = { ...v2, data: { ...v2.data, internalNote: "do not rely on this" } };
    expect(decodeBody(JSON.stringify(extra), contracts).message.data).toEqual(v2.data);
  });

  it("GIVEN an envelope with a non-UUID eventId WHEN decoded THEN it is a missing envelope naming the field", () => {
    expect(() => decodeBody(JSON.stringify({ ...v1, eventId: "42" }), contracts)).toThrow(
      expect.objectContaining({ name: "MissingEnvelopeError", message: expect.stringMatching(/eventId/) }),
    );
  });

  it("GIVEN a JSON array or number WHEN decoded THEN it is a missing envelope, not a crash", () => {
    expect(() => decodeBody("[1,2]", contracts)).toThrow(MissingEnvelopeError);
    expect(() => decodeBody("42", contracts)).toThrow(MissingEnvelopeError);
  });

  it("GIVEN a version no contract has WHEN decoded THEN the reason lists the accepted versions", () => {
    expect(() => decodeBody(JSON.stringify({ ...v1, version: 3 }), contracts)).toThrow(
      new UnsupportedMessageError(
        "NewAccount v3 is not accepted here; accepted: NewAccount v1, NewAccount v2",
      ),
    );
  });

  it("GIVEN an SNS notification (raw delivery off) WHEN decoded THEN the envelope inside Message is used", () => {
    const notification = JSON.stringify({
      Type: "Notification",
      MessageId: "m",
      Message: JSON.stringify(v2),
    });
    expect(decodeBody(notification, contracts).message).toEqual(v2);
  });

  it("GIVEN an SNS subscription confirmation WHEN decoded THEN it is not taken for a notification", () => {
    const confirmation = JSON.stringify({ Type: "SubscriptionConfirmation", Message: JSON.stringify(v2) });
    expect(() => decodeBody(confirmation, contracts)).toThrow(MissingEnvelopeError);
  });

  it("GIVEN any decoding failure WHEN thrown THEN it is a PermanentError (dead-lettered at once, never retried)", () => {
    for (const body of [
      "",
      "{",
      "{}",
      JSON.stringify({ ...v1, version: 9 }),
      JSON.stringify({ ...v1, data: {} }),
    ]) {
      expect(() => decodeBody(body, contracts)).toThrow(PermanentError);
    }
  });
});

describe("queueAddressesFromEnv", () => {
  it("GIVEN both URLs WHEN parsed THEN they are returned", () => {
    const env = {
      COURIER_QUEUE_URL: "http://127.0.0.1:4566/q",
      COURIER_DLQ_URL: "http://127.0.0.1:4566/dlq",
    };
    expect(queueAddressesFromEnv(env)).toEqual({
      queueUrl: env.COURIER_QUEUE_URL,
      dlqUrl: env.COURIER_DLQ_URL,
    });
  });

  it("GIVEN nothing set WHEN parsed THEN the error names both variables", () => {
    expect(() => queueAddressesFromEnv({})).toThrow(
      new ConsumerConfigError(
        "consumer runtime configuration: COURIER_QUEUE_URL is not set; COURIER_DLQ_URL is not set",
      ),
    );
  });

  it("GIVEN a value that is not a URL WHEN parsed THEN the error names the variable and shows the value", () => {
    expect(() =>
      queueAddressesFromEnv({ COURIER_QUEUE_URL: "my-queue", COURIER_DLQ_URL: "http://x/dlq" }),
    ).toThrow(/COURIER_QUEUE_URL is not a URL \("my-queue"\)/);
  });
});
