/**
 * Synth-time validation: props that would deploy a broken consumer fail while the app is built,
 * with an error that names the construct and the rule. No template is synthesized here.
 */
import { fileURLToPath } from "node:url";
import { Duration, Stack } from "aws-cdk-lib";
import * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { describe, expect, it } from "vitest";
import { CourierStack } from "../../cdk/stacks/courier-stack.ts";
import {
  ConsumerFunction,
  type ConsumerFunctionProps,
} from "../../packages/courier/src/cdk/consumer-function.ts";
import { ConsumerQueue, type ConsumerQueueProps } from "../../packages/courier/src/cdk/consumer-queue.ts";
import { InvalidConstructPropsError } from "../../packages/courier/src/cdk/errors.ts";
import { RedriveFunction } from "../../packages/courier/src/cdk/redrive-function.ts";
import { consumers } from "../../src/topology.ts";
import { appWithoutBundling, TEST_SETTINGS } from "./fixtures.ts";

const ENTRY = fileURLToPath(new URL("../../lambdas/team-notify/handler.ts", import.meta.url));

function queueIn(overrides: Partial<ConsumerQueueProps>): () => ConsumerQueue {
  const stack = new Stack(appWithoutBundling(), "validation");
  const topic = new sns.Topic(stack, "Topic");
  return () =>
    new ConsumerQueue(stack, "Orders", { topic, visibilityTimeout: Duration.seconds(180), ...overrides });
}

function functionIn(overrides: Partial<ConsumerFunctionProps>): () => ConsumerFunction {
  const stack = new Stack(appWithoutBundling(), "validation");
  const queue = new sqs.Queue(stack, "Queue");
  const deadLetterQueue = new sqs.Queue(stack, "Dlq");
  return () =>
    new ConsumerFunction(stack, "Orders", {
      entry: ENTRY,
      queue,
      deadLetterQueue,
      timeout: Duration.seconds(30),
      queueVisibilityTimeout: Duration.seconds(180),
      ...overrides,
    });
}

function thrownBy(build: () => unknown): Error {
  try {
    build();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the construct to throw, and it did not");
}

describe("GIVEN ConsumerFunction props", () => {
  it("WHEN they are valid THEN the construct builds (the fixtures themselves are not the failure)", () => {
    expect(functionIn({})).not.toThrow();
  });

  it("WHEN the queue's visibility timeout is below 6 × the function timeout THEN it throws a typed error with both figures", () => {
    const build = functionIn({
      timeout: Duration.seconds(30),
      queueVisibilityTimeout: Duration.seconds(179),
    });
    const error = thrownBy(build);
    expect(error).toBeInstanceOf(InvalidConstructPropsError);
    expect(error.message).toMatch(
      /^validation\/Orders: queue visibility timeout \(179 s\) must be at least 6 × .*\(30 s\) = 180 s/,
    );
  });

  it("WHEN the visibility timeout is exactly 6 × the function timeout THEN it is accepted", () => {
    expect(
      functionIn({ timeout: Duration.seconds(30), queueVisibilityTimeout: Duration.seconds(180) }),
    ).not.toThrow();
  });

  it.each([1, 1001, 2.5])(
    "WHEN maxConcurrency is %s THEN it throws naming the 2..1000 range",
    (maxConcurrency) => {
      expect(functionIn({ maxConcurrency })).toThrow(/maxConcurrency must be a whole number from 2 to 1000/);
    },
  );

  it.each([2, 1000])("WHEN maxConcurrency is %s (a bound) THEN it is accepted", (maxConcurrency) => {
    expect(functionIn({ maxConcurrency })).not.toThrow();
  });

  it.each([0, 10_001])("WHEN batchSize is %s THEN it throws naming the 1..10000 range", (batchSize) => {
    expect(functionIn({ batchSize, maxBatchingWindow: Duration.seconds(1) })).toThrow(
      /batchSize must be a whole number from 1 to 10000/,
    );
  });

  it("WHEN the batching window exceeds 300 s THEN it throws", () => {
    expect(functionIn({ maxBatchingWindow: Duration.seconds(301) })).toThrow(
      /maxBatchingWindow must be at most 300 s/,
    );
  });
});

describe("GIVEN ConsumerQueue props", () => {
  it("WHEN they are valid THEN the construct builds", () => {
    expect(queueIn({})).not.toThrow();
  });

  it.each([0, -1, 1.5])("WHEN maxReceiveCount is %s THEN it throws", (maxReceiveCount) => {
    expect(queueIn({ maxReceiveCount })).toThrow(/maxReceiveCount must be a whole number of at least 1/);
  });

  it.each([
    ["equal to", Duration.days(14)],
    ["above", Duration.days(15)],
  ])("WHEN the source retention is %s the DLQ's THEN it throws", (_case, retentionPeriod) => {
    expect(queueIn({ retentionPeriod, deadLetterRetentionPeriod: Duration.days(14) })).toThrow(
      /source retention .* must be below the DLQ retention/,
    );
  });

  it("WHEN the filter policy names an attribute the publisher does not set THEN it throws naming it", () => {
    const build = queueIn({
      filterAttributeNames: ["type", "version", "hasPhone"],
      filterPolicy: { phone: sns.SubscriptionFilter.stringFilter({ allowlist: ["true"] }) },
    });
    expect(build).toThrow(/filter policy names attribute "phone".*\(it sets: type, version, hasPhone\)/);
  });

  it("WHEN the filter policy names only attributes the publisher sets THEN it is accepted", () => {
    const build = queueIn({
      filterAttributeNames: ["type", "version", "hasPhone"],
      filterPolicy: {
        hasPhone: sns.SubscriptionFilter.stringFilter({ allowlist: ["true"] }),
        type: sns.SubscriptionFilter.stringFilter({ allowlist: ["NewAccount"] }),
      },
    });
    expect(build).not.toThrow();
  });
});

describe("GIVEN RedriveFunction props", () => {
  it("WHEN no pair is given THEN it throws", () => {
    const stack = new Stack(appWithoutBundling(), "validation");
    expect(() => new RedriveFunction(stack, "Redrive", { entry: ENTRY, pairs: [] })).toThrow(
      /pairs is empty/,
    );
  });

  it("WHEN a consumer is listed twice THEN it throws naming it", () => {
    const stack = new Stack(appWithoutBundling(), "validation");
    const queue = new sqs.Queue(stack, "Queue");
    const deadLetterQueue = new sqs.Queue(stack, "Dlq");
    const pair = { name: "orders", queue, deadLetterQueue };
    expect(() => new RedriveFunction(stack, "Redrive", { entry: ENTRY, pairs: [pair, pair] })).toThrow(
      /pair "orders" is listed twice/,
    );
  });
});

describe("GIVEN the stack rendered from a topology with a mistake", () => {
  // The topology object is mutable at run time; each test restores what it changed.
  const teamNotify = consumers["team-notify"] as {
    -readonly [K in keyof (typeof consumers)["team-notify"]]: unknown;
  };

  it("WHEN a consumer's visibility timeout is below 6 × its timeout THEN building the stack throws naming it", () => {
    const saved = teamNotify.visibilityTimeoutSeconds;
    teamNotify.visibilityTimeoutSeconds = 60;
    try {
      expect(() => new CourierStack(appWithoutBundling(), "courier", { settings: TEST_SETTINGS })).toThrow(
        /courier\/Courier\/topology: consumer "team-notify": visibilityTimeoutSeconds 60 is under 6 × timeoutSeconds \(180\)/,
      );
    } finally {
      teamNotify.visibilityTimeoutSeconds = saved;
    }
  });

  it("WHEN a consumer filters on an attribute its topic's contract does not set THEN building the stack throws", () => {
    const withFilter = teamNotify as { filterPolicy?: Record<string, readonly string[]> };
    const saved = withFilter.filterPolicy;
    withFilter.filterPolicy = { country: ["NZ"] };
    try {
      expect(() => new CourierStack(appWithoutBundling(), "courier", { settings: TEST_SETTINGS })).toThrow(
        /courier\/Courier\/TeamNotifyQueue: filter policy names attribute "country".*\(it sets: type, version, hasPhone, purpose\)/,
      );
    } finally {
      if (saved === undefined) delete withFilter.filterPolicy;
      else withFilter.filterPolicy = saved;
    }
  });

  it.each([
    ["mailFrom", { mailFrom: "not an address" }, /mailFrom must be an email address/],
    ["verifyUrlBase", { verifyUrlBase: "ftp://example.com" }, /verifyUrlBase must be an http\(s\) URL/],
    ["teamWebhookUrl", { teamWebhookUrl: "hooks" }, /teamWebhookUrl must be an http\(s\) URL/],
    [
      "teamWebhookSecretArn",
      { teamWebhookSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:team-webhook" },
      /teamWebhookSecretArn must be a complete Secrets Manager secret ARN/,
    ],
  ])(
    "WHEN the deploy setting %s is malformed THEN building the stack throws naming it",
    (_key, bad, message) => {
      expect(
        () => new CourierStack(appWithoutBundling(), "courier", { settings: { ...TEST_SETTINGS, ...bad } }),
      ).toThrow(message);
    },
  );
});

describe("GIVEN a FIFO topic or queue", () => {
  function fifoQueueFunction(overrides: Partial<ConsumerFunctionProps>): () => ConsumerFunction {
    const stack = new Stack(appWithoutBundling(), "validation");
    const queue = new sqs.Queue(stack, "Queue", { fifo: true });
    const deadLetterQueue = new sqs.Queue(stack, "Dlq", { fifo: true });
    return () =>
      new ConsumerFunction(stack, "Orders", {
        entry: ENTRY,
        queue,
        deadLetterQueue,
        timeout: Duration.seconds(30),
        queueVisibilityTimeout: Duration.seconds(180),
        ...overrides,
      });
  }

  it("WHEN a FIFO queue's consumer has batch size 10 and no window THEN it builds", () => {
    expect(fifoQueueFunction({ batchSize: 10, maxBatchingWindow: Duration.seconds(0) })).not.toThrow();
  });

  it("WHEN a FIFO queue's consumer asks for batches of 11 THEN it throws naming Lambda's FIFO limit of 10", () => {
    const error = thrownBy(fifoQueueFunction({ batchSize: 11 }));
    expect(error).toBeInstanceOf(InvalidConstructPropsError);
    expect(error.message).toMatch(/batchSize must be a whole number from 1 to 10 on a FIFO queue, got 11/);
  });

  it("WHEN a FIFO queue's consumer asks for a batching window THEN it throws saying FIFO takes none", () => {
    const error = thrownBy(fifoQueueFunction({ maxBatchingWindow: Duration.seconds(1) }));
    expect(error).toBeInstanceOf(InvalidConstructPropsError);
    expect(error.message).toMatch(/FIFO queue's event source takes no batching window/);
  });

  it("WHEN a queue subscribes to a FIFO topic THEN it and its DLQ are FIFO, dedup per message group", () => {
    const stack = new Stack(appWithoutBundling(), "validation");
    const topic = new sns.Topic(stack, "Topic", { fifo: true });
    const queue = new ConsumerQueue(stack, "Orders", { topic, visibilityTimeout: Duration.seconds(180) });
    expect(queue.fifo).toBe(true);
    expect(queue.queue.fifo).toBe(true);
    expect(queue.deadLetterQueue.fifo).toBe(true);
  });

  it("WHEN a standard queue is asked for on a FIFO topic THEN it throws: SNS FIFO delivers only to FIFO queues", () => {
    const stack = new Stack(appWithoutBundling(), "validation");
    const topic = new sns.Topic(stack, "Topic", { fifo: true });
    const error = thrownBy(
      () =>
        new ConsumerQueue(stack, "Orders", { topic, fifo: false, visibilityTimeout: Duration.seconds(180) }),
    );
    expect(error).toBeInstanceOf(InvalidConstructPropsError);
    expect(error.message).toMatch(/FIFO topic, which delivers only to FIFO queues/);
  });

  it("WHEN a FIFO queue is asked for on a standard topic THEN it throws: no message group would be set", () => {
    const error = thrownBy(queueIn({ fifo: true }));
    expect(error).toBeInstanceOf(InvalidConstructPropsError);
    expect(error.message).toMatch(/FIFO queue cannot subscribe to a standard topic/);
  });
});
