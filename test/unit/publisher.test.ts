import {
  PublishBatchCommand,
  type PublishBatchCommandInput,
  PublishCommand,
  type PublishCommandInput,
  SNSClient,
} from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import type { NewAccountV1 } from "../../src/app/contracts/index.ts";
import type { TopicName } from "../../src/topology.ts";
import {
  createPublisher,
  InvalidMessageError,
  PublishFailedError,
  type TopicData,
  UnknownTopicError,
} from "../helpers/example-publisher.ts";

const snsMock = mockClient(SNSClient);

const topicArns: Record<TopicName, string> = {
  "account-signups": "arn:aws:sns:us-east-1:000000000000:account-signups",
  "image-uploads": "arn:aws:sns:us-east-1:000000000000:image-uploads",
  "password-resets": "arn:aws:sns:us-east-1:000000000000:password-resets.fifo",
  "account-exports": "arn:aws:sns:us-east-1:000000000000:account-exports",
};
const fixedNow = new Date("2025-06-01T12:00:00.000Z");

const signup: NewAccountV1 = {
  accountId: "acc_1",
  email: "ada@example.com",
  displayName: "Ada Lovelace",
  phone: "+14155550123",
  locale: "en-GB",
  createdAt: "2025-06-01T11:59:59.000Z",
};
const { phone: _phone, ...signupWithoutPhone } = signup;

/** Deterministic UUIDs, so a test can say which eventId belongs to which item. */
function sequentialIds() {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`;
}

function makePublisher() {
  return createPublisher({
    sns: new SNSClient({ region: "us-east-1" }),
    topicArns,
    producer: "api-server",
    now: () => fixedNow,
    newId: sequentialIds(),
  });
}

function publishInputs(): PublishCommandInput[] {
  return snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input);
}
function batchInputs(): PublishBatchCommandInput[] {
  return snsMock.commandCalls(PublishBatchCommand).map((call) => call.args[0].input);
}

/** Answers every PublishBatch entry as a success with MessageId "msg-<Id>". */
function succeedEveryBatchEntry() {
  snsMock.on(PublishBatchCommand).callsFake((input: PublishBatchCommandInput) => ({
    Successful: (input.PublishBatchRequestEntries ?? []).map((e) => ({ Id: e.Id, MessageId: `msg-${e.Id}` })),
    Failed: [],
  }));
}

function signups(count: number): TopicData<"account-signups">[] {
  return Array.from({ length: count }, (_, i) => ({ ...signup, accountId: `acc_${i}` }));
}

beforeEach(() => {
  snsMock.reset();
});

describe("publish", () => {
  it("GIVEN valid data WHEN published THEN the SNS message body is the filled envelope", async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: "msg-1" });
    await makePublisher().publish("account-signups", signup);

    const input = publishInputs()[0];
    expect(input?.TopicArn).toBe(topicArns["account-signups"]);
    expect(JSON.parse(input?.Message ?? "")).toEqual({
      eventId: "00000000-0000-4000-8000-000000000001",
      type: "NewAccount",
      version: 1,
      occurredAt: "2025-06-01T12:00:00.000Z",
      producer: "api-server",
      // A new trace per publish when the caller gives none (its own tests: publisher-trace.test.ts).
      trace: {
        traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/),
        correlationId: expect.any(String),
      },
      data: signup,
    });
  });

  it("GIVEN no injected id source WHEN published THEN eventId is a fresh random UUID each time", async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: "msg-1" });
    const publisher = createPublisher({
      sns: new SNSClient({ region: "us-east-1" }),
      topicArns,
      producer: "api",
    });
    const first = await publisher.publish("account-signups", signup);
    const second = await publisher.publish("account-signups", signup);

    expect(first.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second.eventId).not.toBe(first.eventId);
  });

  it("GIVEN SNS accepts the message WHEN published THEN it returns the eventId and SNS's MessageId", async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: "msg-abc" });
    const result = await makePublisher().publish("account-signups", signup);

    expect(result).toEqual({ eventId: "00000000-0000-4000-8000-000000000001", messageId: "msg-abc" });
  });

  it("GIVEN a sign-up with a phone WHEN published THEN attributes carry type, version, hasPhone=true and purpose=signup", async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: "msg-1" });
    await makePublisher().publish("account-signups", signup);

    expect(publishInputs()[0]?.MessageAttributes).toEqual({
      type: { DataType: "String", StringValue: "NewAccount" },
      version: { DataType: "String", StringValue: "1" },
      hasPhone: { DataType: "String", StringValue: "true" },
      purpose: { DataType: "String", StringValue: "signup" },
    });
  });

  it("GIVEN a sign-up without a phone WHEN published THEN the hasPhone attribute is 'false'", async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: "msg-1" });
    await makePublisher().publish("account-signups", signupWithoutPhone);

    expect(publishInputs()[0]?.MessageAttributes?.hasPhone).toEqual({
      DataType: "String",
      StringValue: "false",
    });
  });

  it("GIVEN an image upload WHEN published THEN it goes to the image topic with its contentType attribute", async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: "msg-1" });
    await makePublisher().publish("image-uploads", {
      imageId: "img_1",
      bucket: "uploads",
      key: "originals/img_1.png",
      contentType: "image/png",
      byteSize: 10,
      uploadedBy: "acc_1",
      uploadedAt: "2025-06-01T11:00:00Z",
    });

    const input = publishInputs()[0];
    expect(input?.TopicArn).toBe(topicArns["image-uploads"]);
    expect(input?.MessageAttributes?.type?.StringValue).toBe("ImageUploaded");
    expect(input?.MessageAttributes?.contentType?.StringValue).toBe("image/png");
  });

  it("GIVEN an unknown topic WHEN published THEN UnknownTopicError lists the known topics and nothing is sent", async () => {
    const publishing = makePublisher().publish("order-events" as TopicName, signup);

    await expect(publishing).rejects.toBeInstanceOf(UnknownTopicError);
    await expect(publishing).rejects.toThrow(
      'unknown topic "order-events"; known topics: account-signups, image-uploads, password-resets',
    );
    expect(snsMock.calls()).toHaveLength(0);
  });

  it("GIVEN data with two bad fields WHEN published THEN InvalidMessageError lists each path and reason, and nothing is sent", async () => {
    const error = await makePublisher()
      .publish("account-signups", { ...signup, phone: "555-0123", email: "not-an-email" })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidMessageError);
    expect((error as InvalidMessageError).issues.map((i) => i.path).sort()).toEqual(["email", "phone"]);
    expect((error as InvalidMessageError).message).toContain("phone: phone must be in E.164 form");
    expect(snsMock.calls()).toHaveLength(0);
  });

  it("GIVEN data that is not an object WHEN published THEN the issue is reported at (root)", async () => {
    const error = await makePublisher()
      .publish("account-signups", "hello" as unknown as NewAccountV1)
      .catch((e: unknown) => e);

    expect((error as InvalidMessageError).issues.map((i) => i.path)).toEqual(["(root)"]);
  });

  it("GIVEN SNS rejects the call WHEN published THEN PublishFailedError wraps the SDK error with its code", async () => {
    const sdkError = Object.assign(new Error("Topic does not exist"), { name: "NotFoundException" });
    snsMock.on(PublishCommand).rejects(sdkError);

    const error = await makePublisher()
      .publish("account-signups", signup)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PublishFailedError);
    expect((error as PublishFailedError).code).toBe("NotFoundException");
    expect((error as PublishFailedError).cause).toBe(sdkError);
  });

  it("GIVEN SNS answers without a MessageId WHEN published THEN it fails rather than return an empty id", async () => {
    snsMock.on(PublishCommand).resolves({});

    await expect(makePublisher().publish("account-signups", signup)).rejects.toBeInstanceOf(
      PublishFailedError,
    );
  });

  it("GIVEN an empty producer name WHEN the publisher is created THEN it refuses at once", () => {
    expect(() =>
      createPublisher({ sns: new SNSClient({ region: "us-east-1" }), topicArns, producer: "" }),
    ).toThrow(/producer/);
  });
});

describe("publishBatch", () => {
  it("GIVEN 25 items WHEN batch-published THEN they go in PublishBatch calls of 10, 10 and 5, in order", async () => {
    succeedEveryBatchEntry();
    await makePublisher().publishBatch("account-signups", signups(25));

    const calls = batchInputs();
    expect(calls.map((c) => c.PublishBatchRequestEntries?.length)).toEqual([10, 10, 5]);
    const accountIds = calls.flatMap((c) =>
      (c.PublishBatchRequestEntries ?? []).map((e) => JSON.parse(e.Message ?? "").data.accountId),
    );
    expect(accountIds).toEqual(signups(25).map((s) => s.accountId));
  });

  it("GIVEN 25 items all accepted WHEN batch-published THEN each result has its own eventId and MessageId in input order", async () => {
    succeedEveryBatchEntry();
    const results = await makePublisher().publishBatch("account-signups", signups(25));

    expect(results).toHaveLength(25);
    expect(results[0]).toEqual({
      ok: true,
      eventId: "00000000-0000-4000-8000-000000000001",
      messageId: "msg-0",
    });
    expect(results[24]).toEqual({
      ok: true,
      eventId: "00000000-0000-4000-8000-000000000025",
      messageId: "msg-24",
    });
  });

  it("GIVEN batch entries WHEN sent THEN each carries the same attributes a single publish would", async () => {
    succeedEveryBatchEntry();
    await makePublisher().publishBatch("account-signups", [signup, signupWithoutPhone]);

    const entries = batchInputs()[0]?.PublishBatchRequestEntries ?? [];
    expect(entries.map((e) => e.MessageAttributes?.hasPhone?.StringValue)).toEqual(["true", "false"]);
    expect(entries.map((e) => e.MessageAttributes?.type?.StringValue)).toEqual(["NewAccount", "NewAccount"]);
  });

  it("GIVEN SNS fails some entries of a call WHEN batch-published THEN exactly those items fail with SNS's code", async () => {
    snsMock.on(PublishBatchCommand).resolves({
      Successful: [
        { Id: "0", MessageId: "m0" },
        { Id: "2", MessageId: "m2" },
      ],
      Failed: [{ Id: "1", Code: "InternalError", Message: "try again", SenderFault: false }],
    });
    const results = await makePublisher().publishBatch("account-signups", signups(3));

    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    const failed = results[1];
    expect(failed?.ok === false && failed.error).toBeInstanceOf(PublishFailedError);
    expect(failed?.ok === false && (failed.error as PublishFailedError).code).toBe("InternalError");
    expect(failed?.ok === false && (failed.error as PublishFailedError).senderFault).toBe(false);
  });

  it("GIVEN SNS leaves an entry out of both lists WHEN batch-published THEN that item is reported failed, not sent", async () => {
    snsMock.on(PublishBatchCommand).resolves({ Successful: [{ Id: "0", MessageId: "m0" }], Failed: [] });
    const results = await makePublisher().publishBatch("account-signups", signups(2));

    expect(results.map((r) => r.ok)).toEqual([true, false]);
  });

  it("GIVEN the second of three calls throws WHEN batch-published THEN only its 10 items fail and the rest succeed", async () => {
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "ThrottledException" });
    snsMock
      .on(PublishBatchCommand)
      .callsFakeOnce((input: PublishBatchCommandInput) => ({
        Successful: (input.PublishBatchRequestEntries ?? []).map((e) => ({
          Id: e.Id,
          MessageId: `m${e.Id}`,
        })),
      }))
      .rejectsOnce(throttled)
      .callsFake((input: PublishBatchCommandInput) => ({
        Successful: (input.PublishBatchRequestEntries ?? []).map((e) => ({
          Id: e.Id,
          MessageId: `m${e.Id}`,
        })),
      }));
    const results = await makePublisher().publishBatch("account-signups", signups(25));

    const failedIndexes = results.flatMap((r, i) => (r.ok ? [] : [i]));
    expect(failedIndexes).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const error = results[10]?.ok === false ? results[10].error : undefined;
    expect(error).toBeInstanceOf(PublishFailedError);
    expect((error as PublishFailedError).code).toBe("ThrottledException");
    expect((error as PublishFailedError).cause).toBe(throttled);
  });

  it("GIVEN one invalid item among valid ones WHEN batch-published THEN it fails alone and the others are sent", async () => {
    succeedEveryBatchEntry();
    const items = signups(3);
    items[1] = { ...signup, email: "broken" };
    const results = await makePublisher().publishBatch("account-signups", items);

    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(results[1]?.ok === false && results[1].error).toBeInstanceOf(InvalidMessageError);
    expect(batchInputs()[0]?.PublishBatchRequestEntries).toHaveLength(2);
  });

  it("GIVEN only invalid items WHEN batch-published THEN SNS is not called at all", async () => {
    const results = await makePublisher().publishBatch("account-signups", [{ ...signup, phone: "0" }]);

    expect(results[0]?.ok).toBe(false);
    expect(snsMock.calls()).toHaveLength(0);
  });

  it("GIVEN an unknown topic WHEN batch-published THEN it throws UnknownTopicError before any item", async () => {
    await expect(makePublisher().publishBatch("nope" as TopicName, signups(2))).rejects.toBeInstanceOf(
      UnknownTopicError,
    );
    expect(snsMock.calls()).toHaveLength(0);
  });

  it("GIVEN no items WHEN batch-published THEN it returns no results and makes no call", async () => {
    expect(await makePublisher().publishBatch("account-signups", [])).toEqual([]);
    expect(snsMock.calls()).toHaveLength(0);
  });
});

describe("publish with a fixed event identity (the outbox's republish)", () => {
  it("GIVEN an eventId and occurredAt WHEN publishing twice THEN both envelopes carry that identity", async () => {
    const { sns, publisher } = identityFixture();
    const identity = {
      eventId: "6f1c2b9e-8a4d-4c3b-9e2f-1a2b3c4d5e6f",
      occurredAt: "2026-11-27T10:00:00.000Z",
    };
    const first = await publisher.publish("account-signups", identityAccount, identity);
    const second = await publisher.publish("account-signups", identityAccount, identity);
    expect(first.eventId).toBe(identity.eventId);
    expect(second.eventId).toBe(identity.eventId);
    const body = JSON.parse(String(sns.commandCalls(PublishCommand)[1]?.args[0].input.Message));
    expect(body).toMatchObject(identity);
  });

  it("GIVEN an eventId that is not a UUID WHEN publishing THEN it is refused before SNS is called", async () => {
    const { sns, publisher } = identityFixture();
    await expect(
      publisher.publish("account-signups", identityAccount, {
        eventId: "42",
        occurredAt: "2026-11-27T10:00:00Z",
      }),
    ).rejects.toThrow(/UUID/);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });
});

const identityAccount = {
  accountId: "acc-identity",
  email: "ada@example.com",
  displayName: "Ada",
  locale: "en-GB",
  createdAt: "2026-11-27T10:00:00.000Z",
};

function identityFixture() {
  const sns = mockClient(SNSClient);
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: "m-1" });
  const publisher = createPublisher({
    sns: new SNSClient({ region: "us-east-1" }),
    topicArns: {
      "account-signups": "arn:aws:sns:us-east-1:000000000000:signups",
      "image-uploads": "arn:aws:sns:us-east-1:000000000000:images",
    },
    producer: "outbox-test",
  });
  return { sns, publisher };
}
