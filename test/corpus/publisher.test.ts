/**
 * The bad-input corpus against the publisher (SNS mocked with aws-sdk-client-mock). Failure modes
 * covered: a malformed, mistyped, oversized or odd-Unicode message reaching SNS; an untyped error
 * (TypeError, ZodError) escaping instead of the publisher's own; an error that does not say which
 * field or topic is wrong; one bad item sinking a batch of good ones.
 */
import { PublishBatchCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineContract } from "../../packages/courier/src/lib/contracts/index.ts";
import type { TopicName } from "../../src/topology.ts";
import {
  createPublisher,
  InvalidMessageError,
  MessageTooLargeError,
  PublisherError,
  prepareMessage,
  SNS_MAX_PAYLOAD_BYTES,
  type TopicData,
  UnknownTopicError,
} from "../helpers/example-publisher.ts";
import { oversizedBodies, publisherCases, validSignup } from "./inputs.ts";

const snsMock = mockClient(SNSClient);
const topicArns: Record<TopicName, string> = {
  "account-signups": "arn:aws:sns:us-east-1:000000000000:account-signups",
  "image-uploads": "arn:aws:sns:us-east-1:000000000000:image-uploads",
  "password-resets": "arn:aws:sns:us-east-1:000000000000:password-resets.fifo",
  "account-exports": "arn:aws:sns:us-east-1:000000000000:account-exports",
};
const ERROR_CLASSES = { InvalidMessageError, UnknownTopicError };

beforeEach(() => {
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: "m-1" });
  snsMock.on(PublishBatchCommand).callsFake((input: { PublishBatchRequestEntries: { Id: string }[] }) => ({
    Successful: input.PublishBatchRequestEntries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
    Failed: [],
  }));
});

const publisher = () =>
  createPublisher({ sns: new SNSClient({ region: "us-east-1" }), topicArns, producer: "corpus" });

describe("GIVEN the publisher and the bad-input corpus", () => {
  it.each(publisherCases)(
    "WHEN publishing $name THEN a typed $error names the problem and nothing reaches SNS",
    async (c) => {
      const topic = (c.topic ?? "account-signups") as "account-signups";
      const error = await publisher()
        .publish(topic, c.data as TopicData<"account-signups">)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(ERROR_CLASSES[c.error]);
      expect((error as Error).name).toBe(c.error);
      for (const word of c.mentions) expect((error as Error).message).toContain(word);
      expect(snsMock.calls()).toHaveLength(0);
    },
  );

  it.each(oversizedBodies)(
    "WHEN a message of $name is prepared THEN MessageTooLargeError gives its size and the limit",
    ({ text }) => {
      // The sign-up contract bounds every field, so its messages cannot reach 256 KiB; a contract
      // without bounds shows the size check itself, counted in UTF-8 bytes, not characters.
      const unbounded = defineContract({ type: "Note", version: 1, data: z.object({ text: z.string() }) });
      const source = {
        producer: "corpus",
        now: () => new Date(),
        newId: () => "6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f",
      };
      const error = (() => {
        try {
          prepareMessage("notes", unbounded, { text }, source);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(MessageTooLargeError);
      const { sizeBytes, limitBytes, message } = error as MessageTooLargeError;
      expect(limitBytes).toBe(SNS_MAX_PAYLOAD_BYTES);
      expect(sizeBytes).toBeGreaterThan(SNS_MAX_PAYLOAD_BYTES);
      expect(sizeBytes).toBeGreaterThanOrEqual(Buffer.byteLength(text, "utf8"));
      expect(message).toContain(`${sizeBytes} bytes`);
      expect(message).toContain(`${SNS_MAX_PAYLOAD_BYTES} bytes`);
    },
  );

  it("WHEN one batch mixes every bad input of the corpus with good sign-ups THEN the good ones are published and each bad one fails alone, typed", async () => {
    const bad = publisherCases.filter((c) => c.topic === undefined).map((c) => c.data);
    const good = [
      validSignup({ accountId: "good-1" }),
      validSignup({ accountId: "good-2", phone: undefined }),
    ];
    const items = [good[0], ...bad, good[1]] as TopicData<"account-signups">[];
    const results = await publisher().publishBatch("account-signups", items);

    expect(results).toHaveLength(items.length);
    expect(results[0]?.ok).toBe(true);
    expect(results.at(-1)?.ok).toBe(true);
    const failures = results.slice(1, -1);
    for (const r of failures) {
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toBeInstanceOf(PublisherError);
        expect(r.error.name).toBe("InvalidMessageError");
      }
    }
    const sent = snsMock
      .commandCalls(PublishBatchCommand)
      .flatMap((call) => call.args[0].input.PublishBatchRequestEntries ?? []);
    expect(sent.map((e) => JSON.parse(e.Message ?? "{}").data.accountId)).toEqual(["good-1", "good-2"]);
  });
});
