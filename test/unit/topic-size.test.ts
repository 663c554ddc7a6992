/**
 * Per-topic message size: the publisher holds each topic to its own `maxMessageBytes` (SNS's
 * MaximumMessageSize), counted as SNS counts (UTF-8 body plus every attribute's name, type and
 * value), and the topology refuses a size SNS would refuse.
 */
import { SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineContract, type TopicSpec } from "../../packages/courier/src/lib/contracts/index.ts";
import type { ConsumerSpec, TopologySpec } from "../../packages/courier/src/topology/topology.ts";
import { topicSizeProblems } from "../../packages/courier/src/topology/topology-problems.ts";
import { courierTopology } from "../../src/topology.ts";

const { topics, consumers, secrets } = courierTopology;

import {
  createTopicPublisher,
  MessageTooLargeError,
  maxMessageBytesProblem,
  prepareMessage,
  SNS_MAX_PAYLOAD_BYTES,
  SNS_MAX_RAISED_PAYLOAD_BYTES,
  topicMaxMessageBytes,
} from "../../packages/courier/src/lib/publisher/index.ts";

const docContract = defineContract({
  type: "Doc",
  version: 1,
  data: z.object({ text: z.string() }),
  filterAttributes: () => ({ kind: "doc" }),
});
const source = {
  producer: "test",
  now: () => new Date("2026-01-01T00:00:00.000Z"),
  newId: () => "00000000-0000-4000-8000-000000000001",
};
const emptySize = prepareMessage("docs", docContract, { text: "" }, source).sizeBytes;
/** A document whose message, attributes included, is exactly `bytes` long. */
const docOf = (bytes: number) => ({ text: "a".repeat(bytes - emptySize) });

const raised: TopicSpec = {
  name: "docs",
  description: "documents",
  current: docContract,
  accepts: [docContract],
  maxMessageBytes: SNS_MAX_RAISED_PAYLOAD_BYTES,
};

describe("a topic's size limit", () => {
  it("GIVEN a topic without maxMessageBytes WHEN its limit is asked THEN it is SNS's default 262,144", () => {
    expect(topicMaxMessageBytes({})).toBe(262_144);
    expect(topicMaxMessageBytes(raised)).toBe(1_048_576);
  });

  it("GIVEN sizes outside 1,024..1,048,576 or fractional WHEN checked THEN each is a problem; the ends are fine", () => {
    for (const bad of [1023, 1_048_577, 2048.5, 0])
      expect(maxMessageBytesProblem(bad)).toMatch(/1024 to 1048576/);
    for (const good of [1024, 262_144, 1_048_576]) expect(maxMessageBytesProblem(good)).toBeUndefined();
  });

  it("GIVEN a raised topic WHEN a 1 MiB message (body plus attributes) is published THEN it is sent; one byte more is MessageTooLargeError naming the topic's limit", async () => {
    const sns = mockClient(SNSClient);
    sns.onAnyCommand().resolves({ MessageId: "m-1" });
    const publisher = createTopicPublisher({
      topics: { docs: raised },
      sns: sns as unknown as SNSClient,
      topicArns: { docs: "arn:aws:sns:eu-west-1:111111111111:docs" },
      producer: "test",
      newId: source.newId,
      // docOf sizes the body exactly; a trace context would add its own bytes.
      stampTrace: false,
    });
    await expect(publisher.publish("docs", docOf(SNS_MAX_RAISED_PAYLOAD_BYTES))).resolves.toMatchObject({
      messageId: "m-1",
    });
    const refused = await publisher.publish("docs", docOf(SNS_MAX_RAISED_PAYLOAD_BYTES + 1)).catch((e) => e);
    expect(refused).toBeInstanceOf(MessageTooLargeError);
    expect(refused).toMatchObject({ sizeBytes: 1_048_577, limitBytes: 1_048_576 });
    expect(sns.calls()).toHaveLength(1);
  });

  it("GIVEN a default topic WHEN a message of 256 KiB + 1 is published THEN it is refused before any SNS call", async () => {
    const sns = mockClient(SNSClient);
    const publisher = createTopicPublisher({
      topics: { docs: { ...raised, maxMessageBytes: undefined } },
      sns: sns as unknown as SNSClient,
      topicArns: { docs: "arn:aws:sns:eu-west-1:111111111111:docs" },
      producer: "test",
      newId: source.newId,
    });
    const refused = await publisher.publish("docs", docOf(SNS_MAX_PAYLOAD_BYTES + 1)).catch((e) => e);
    expect(refused).toMatchObject({ name: "MessageTooLargeError", limitBytes: SNS_MAX_PAYLOAD_BYTES });
    expect(sns.calls()).toHaveLength(0);
  });

  it("GIVEN a raised topic WHEN a batch of three 400 KiB messages is published THEN each PublishBatch call holds at most the topic's 1 MiB", async () => {
    const sns = mockClient(SNSClient);
    sns.onAnyCommand().callsFake((input: { PublishBatchRequestEntries: Array<{ Id: string }> }) => ({
      Successful: input.PublishBatchRequestEntries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
    }));
    let n = 0;
    const publisher = createTopicPublisher({
      topics: { docs: raised },
      sns: sns as unknown as SNSClient,
      topicArns: { docs: "arn:aws:sns:eu-west-1:111111111111:docs" },
      producer: "test",
      newId: () => `00000000-0000-4000-8000-00000000000${++n}`,
    });
    const results = await publisher.publishBatch(
      "docs",
      [1, 2, 3].map(() => docOf(400 * 1024)),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(
      sns
        .calls()
        .map(
          (c) =>
            (c.args[0].input as { PublishBatchRequestEntries: unknown[] }).PublishBatchRequestEntries.length,
        ),
    ).toEqual([2, 1]);
  });
});

describe("topology size rules (synth time)", () => {
  const withTopic = (patch: Partial<TopicSpec>, extraConsumers = 0): TopologySpec => {
    const extra: Record<string, ConsumerSpec<string>> = {};
    for (let i = 0; i < extraConsumers; i += 1) {
      extra[`copy-${i}`] = { ...consumers["team-notify"], name: `copy-${i}` };
    }
    return {
      topics: { ...topics, "account-signups": { ...topics["account-signups"], ...patch } },
      consumers: { ...consumers, ...extra },
      secrets,
    };
  };

  it("GIVEN a topic raised to 2 MiB WHEN the topology is checked THEN the problem names the topic and the range", () => {
    expect(topicSizeProblems(withTopic({ maxMessageBytes: 2 * 1_048_576 }))).toEqual([
      expect.stringMatching(
        /^topic "account-signups": maxMessageBytes must be a whole number from 1024 to 1048576/,
      ),
    ]);
  });

  it("GIVEN a raised topic with 101 subscriptions WHEN checked THEN SNS's 100-subscription rule is the problem; 100 pass", () => {
    // account-signups has 3 consumers of its own.
    expect(topicSizeProblems(withTopic({ maxMessageBytes: 1_048_576 }, 98))).toEqual([
      expect.stringContaining("at most 100 subscriptions (all SQS, Lambda or Firehose); it has 101"),
    ]);
    expect(topicSizeProblems(withTopic({ maxMessageBytes: 1_048_576 }, 97))).toEqual([]);
  });

  it("GIVEN a default-size topic with 101 subscriptions WHEN checked THEN there is no problem (the rule is for raised topics)", () => {
    expect(topicSizeProblems(withTopic({}, 98))).toEqual([]);
  });
});
