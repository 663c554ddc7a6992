/**
 * Per-topic message size rendered: a topic with maxMessageBytes gets SNS's MaximumMessageSize
 * (through the L1, the L2 Topic has no prop for it), every queue behind a raised topic takes SQS's
 * 1 MiB (queue, DLQ, subscription DLQ), topics left at the default keep the template unchanged, and
 * SNS's rules for a raised topic fail the synth rather than the deploy.
 */
import { Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import { describe, expect, it } from "vitest";
import { CourierStack } from "../../cdk/stacks/courier-stack.ts";
import { EncryptedTopic } from "../../packages/courier/src/cdk/encrypted-topic.ts";
import { InvalidConstructPropsError } from "../../packages/courier/src/cdk/errors.ts";
import type { TopologySpec } from "../../packages/courier/src/topology/topology.ts";
import { type ConsumerName, consumers, courierTopology, type TopicName, topics } from "../../src/topology.ts";
import { appWithoutBundling, type CfnTemplate, logicalId, props, TEST_SETTINGS } from "./fixtures.ts";

const raisedTopology: TopologySpec<TopicName, ConsumerName> = {
  topics: { ...topics, "image-uploads": { ...topics["image-uploads"], maxMessageBytes: 1_048_576 } },
  consumers,
  secrets: courierTopology.secrets,
};

describe("per-topic message size in the stack", () => {
  const stack = new CourierStack(appWithoutBundling(), "courier-size", {
    settings: TEST_SETTINGS,
    topology: raisedTopology,
  });
  const json = Template.fromStack(stack).toJSON() as CfnTemplate;

  it("GIVEN image-uploads raised to 1 MiB WHEN synthesized THEN its topic has MaximumMessageSize 1048576 and account-signups none", () => {
    expect(props(json, logicalId(stack.courier.topic("image-uploads").topic))).toMatchObject({
      MaximumMessageSize: 1_048_576,
    });
    expect(props(json, logicalId(stack.courier.topic("account-signups").topic))).not.toHaveProperty(
      "MaximumMessageSize",
    );
  });

  it("GIVEN a raised topic WHEN synthesized THEN its consumer's queue, DLQ and subscription DLQ take 1 MiB; other consumers' queues keep SQS's default", () => {
    const thumbnails = stack.courier.consumerQueue("thumbnails");
    for (const queue of [
      thumbnails.queue,
      thumbnails.deadLetterQueue,
      thumbnails.subscriptionDeadLetterQueue,
    ]) {
      expect(props(json, logicalId(queue))).toMatchObject({ MaximumMessageSize: 1_048_576 });
    }
    const email = stack.courier.consumerQueue("verification-email");
    expect(props(json, logicalId(email.queue))).not.toHaveProperty("MaximumMessageSize");
    expect(props(json, logicalId(email.deadLetterQueue))).not.toHaveProperty("MaximumMessageSize");
  });
});

describe("SNS's rules for a raised topic, at synth time", () => {
  it("GIVEN a raised topic with an email subscription WHEN synthesized THEN the synth fails naming the protocol", () => {
    const stack = new Stack(appWithoutBundling(), "raised-email");
    const topic = new EncryptedTopic(stack, "Docs", { maxMessageBytes: 524_288 });
    topic.topic.addSubscription(new subscriptions.EmailSubscription("ops@example.com"));
    expect(() => Template.fromStack(stack)).toThrow(
      /takes only SQS, Lambda or Firehose subscriptions; .* is email/,
    );
  });

  it("GIVEN a raised topic with 101 subscriptions WHEN synthesized THEN the synth fails; a default topic with 101 does not", () => {
    const build = (maxMessageBytes?: number) => {
      const stack = new Stack(appWithoutBundling(), "many");
      const topic = new EncryptedTopic(stack, "Docs", maxMessageBytes ? { maxMessageBytes } : {});
      for (let i = 0; i < 101; i += 1) {
        new sns.Subscription(stack, `S${i}`, {
          topic: topic.topic,
          protocol: sns.SubscriptionProtocol.LAMBDA,
          endpoint: `arn:aws:lambda:eu-west-1:111111111111:function:f${i}`,
        });
      }
      return () => Template.fromStack(stack);
    };
    expect(build(1_048_576)).toThrow(/at most 100 subscriptions; it has 101/);
    expect(build()).not.toThrow();
  });

  it("GIVEN maxMessageBytes 1023 WHEN the topic is constructed THEN InvalidConstructPropsError names the range", () => {
    const stack = new Stack(appWithoutBundling(), "tiny");
    const error = (() => {
      try {
        new EncryptedTopic(stack, "Docs", { maxMessageBytes: 1023 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidConstructPropsError);
    expect(String(error)).toMatch(/from 1024 to 1048576/);
  });

  it("GIVEN a topology topic raised past 1 MiB WHEN the stack is built THEN it is refused before anything is built", () => {
    const topology = {
      ...raisedTopology,
      topics: { ...topics, "image-uploads": { ...topics["image-uploads"], maxMessageBytes: 2_000_000 } },
    };
    expect(
      () => new CourierStack(appWithoutBundling(), "too-big", { settings: TEST_SETTINGS, topology }),
    ).toThrow(/topic "image-uploads": maxMessageBytes must be a whole number from 1024 to 1048576/);
  });
});
