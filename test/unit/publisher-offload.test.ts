/**
 * The publisher's side of offloading (SNS and S3 mocked): over an offloading topic's limit the body
 * goes to the payload bucket first and the pointer is published with the message's own attributes
 * (filter policies keep working) plus ExtendedPayloadSize; within the limit nothing changes.
 * Failure modes: a pointer published before its object exists; filter attributes dropped from the
 * pointer; an S3 failure reported as sent; a large message on a topic without a store sent anyway.
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineContract, type TopicSpec } from "../../packages/courier/src/lib/contracts/index.ts";
import { decodePointer } from "../../packages/courier/src/lib/payload-offloading/index.ts";
import {
  createTopicPublisher,
  MessageTooLargeError,
  type PublisherOptions,
  PublishFailedError,
} from "../../packages/courier/src/lib/publisher/index.ts";

const docContract = defineContract({
  type: "Doc",
  version: 1,
  data: z.object({ region: z.string(), text: z.string() }),
  filterAttributes: (d: { region: string }) => ({ region: d.region }),
});
const spec: TopicSpec = {
  name: "docs",
  description: "documents",
  current: docContract,
  accepts: [docContract],
  offloadLargePayloads: true,
};
const EVENT_ID = "00000000-0000-4000-8000-00000000000a";
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const order: string[] = [];

beforeEach(() => {
  sns.reset();
  s3.reset();
  order.length = 0;
  sns.on(PublishCommand).callsFake(() => {
    order.push("publish");
    return { MessageId: "m-1" };
  });
  s3.on(PutObjectCommand).callsFake(() => {
    order.push("put");
    return {};
  });
});

const publisher = (overrides: Partial<PublisherOptions<{ docs: TopicSpec }>> = {}) =>
  createTopicPublisher({
    topics: { docs: spec },
    sns: sns as unknown as SNSClient,
    topicArns: { docs: "arn:aws:sns:eu-west-1:111111111111:docs" },
    producer: "test",
    newId: () => EVENT_ID,
    payloadStore: { s3: s3 as unknown as S3Client, bucket: "courier-payloads" },
    ...overrides,
  });

describe("publishing by reference", () => {
  it("GIVEN a 5 MiB document on an offloading topic WHEN published THEN the body is put under the topic's prefix first, then a pointer with region and ExtendedPayloadSize is published", async () => {
    const text = "x".repeat(5 * 1024 * 1024);
    await publisher().publish("docs", { region: "eu", text });
    expect(order).toEqual(["put", "publish"]);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ Bucket: "courier-payloads", Key: `docs/${EVENT_ID}` });
    const stored = JSON.parse(Buffer.from(put?.Body as Uint8Array).toString("utf8"));
    expect(stored).toMatchObject({ eventId: EVENT_ID, type: "Doc", data: { region: "eu", text } });
    const published = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(decodePointer(published?.Message ?? "")).toEqual({
      bucket: "courier-payloads",
      key: `docs/${EVENT_ID}`,
    });
    expect(published?.MessageAttributes).toEqual({
      type: { DataType: "String", StringValue: "Doc" },
      version: { DataType: "String", StringValue: "1" },
      region: { DataType: "String", StringValue: "eu" },
      ExtendedPayloadSize: {
        DataType: "Number",
        StringValue: String((put?.Body as Uint8Array | undefined)?.byteLength),
      },
    });
  });

  it("GIVEN a small document on an offloading topic WHEN published THEN it goes inline and S3 is not called", async () => {
    await publisher().publish("docs", { region: "eu", text: "short" });
    expect(order).toEqual(["publish"]);
    expect(JSON.parse(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? "")).toMatchObject({
      data: { text: "short" },
    });
  });

  it("GIVEN S3 refuses the put WHEN published THEN PublishFailedError and nothing is published", async () => {
    s3.on(PutObjectCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDenied" }));
    const error = await publisher()
      .publish("docs", { region: "eu", text: "x".repeat(300_000) })
      .catch((e) => e);
    expect(error).toBeInstanceOf(PublishFailedError);
    expect(error.code).toBe("AccessDenied");
    expect(sns.calls()).toHaveLength(0);
  });

  it("GIVEN an offloading topic but a publisher without a payload store WHEN a large message is published THEN MessageTooLargeError and no call", async () => {
    const error = await publisher({ payloadStore: undefined })
      .publish("docs", { region: "eu", text: "x".repeat(300_000) })
      .catch((e) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect(sns.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  it("GIVEN a batch mixing a large and a small document WHEN published THEN the large one goes by reference and both succeed", async () => {
    sns
      .onAnyCommand()
      .callsFake((input: { PublishBatchRequestEntries: Array<{ Id: string; Message: string }> }) => ({
        Successful: input.PublishBatchRequestEntries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
      }));
    let n = 0;
    const results = await publisher({
      newId: () => `00000000-0000-4000-8000-00000000000${++n}`,
    }).publishBatch("docs", [
      { region: "eu", text: "x".repeat(400_000) },
      { region: "us", text: "small" },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });
});
