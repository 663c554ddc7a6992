/**
 * `courier status` figures from SQS attributes and LocalStack's side-effect-free listing.
 * Failure modes covered: in-flight or delayed messages counted as queued, a DLQ read from the wrong
 * queue, an unknown age shown as zero, an age computed from the newest message instead of the oldest.
 */

import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  consumerStatuses,
  oldestAgeFromCloudWatch,
  oldestAgeFromPeek,
  oldestAgeSeconds,
  type PeekSentTimestamps,
} from "../../packages/courier/src/deployment/consumer-status.ts";
import { topologyFromOutputs } from "../../packages/courier/src/deployment/deployed-topology.ts";
import { manifestOutputs } from "./manifest-fixtures.ts";

const sqsMock = mockClient(SQSClient);
const cloudwatchMock = mockClient(CloudWatchClient);
const NOW = 1_800_000_000_000;

// A team's stack, not courier's example: what status reads comes from its manifest alone.
const consumerNames = ["invoice", "ledger", "refund-ledger"];
const topology = topologyFromOutputs(
  "status-test",
  manifestOutputs("status-test", {
    topics: [{ name: "orders" }, { name: "refunds" }],
    consumers: consumerNames.map((name) => ({
      name,
      topic: name === "refund-ledger" ? "refunds" : "orders",
      queueUrl: `http://q/${name}`,
      queueArn: `arn:q:${name}`,
      dlqUrl: `http://q/${name}-dlq`,
      dlqArn: `arn:q:${name}-dlq`,
    })),
    manifest: { payloadBucket: "payload-bucket" },
  }),
);

function attributes(visible: number, inFlight: number, delayed: number) {
  return {
    Attributes: {
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
    },
  };
}

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(GetQueueAttributesCommand).resolves(attributes(0, 0, 0));
});

describe("consumer status", () => {
  it("GIVEN visible, in-flight and delayed messages WHEN read THEN each is counted in its own column", async () => {
    sqsMock.on(GetQueueAttributesCommand, { QueueUrl: "http://q/invoice" }).resolves(attributes(7, 3, 2));
    sqsMock.on(GetQueueAttributesCommand, { QueueUrl: "http://q/invoice-dlq" }).resolves(attributes(4, 0, 0));
    const [status] = await consumerStatuses({
      sqs: new SQSClient({}),
      topology,
      oldestAge: oldestAgeFromPeek(async () => []),
      consumers: ["invoice"],
    });
    expect(status?.queue).toEqual({ visible: 7, inFlight: 3, delayed: 2 });
    expect(status?.dlq).toEqual({ visible: 4, inFlight: 0, delayed: 0 });
  });

  it("GIVEN listed send times WHEN read THEN the age is that of the oldest message, per queue", async () => {
    const peek: PeekSentTimestamps = async (url) =>
      url === "http://q/ledger" ? [NOW - 5_000, NOW - 90_000, NOW - 1_000] : [NOW - 3_600_000];
    const [status] = await consumerStatuses({
      sqs: new SQSClient({}),
      topology,
      oldestAge: oldestAgeFromPeek(peek),
      now: () => NOW,
      consumers: ["ledger"],
    });
    expect(status?.oldestAgeSeconds).toBe(90);
    expect(status?.dlqOldestAgeSeconds).toBe(3_600);
  });

  it("GIVEN an endpoint without a listing API WHEN read THEN the age is null (n/a), not zero", async () => {
    const [status] = await consumerStatuses({
      sqs: new SQSClient({}),
      topology,
      oldestAge: oldestAgeFromPeek(async () => undefined),
      consumers: ["refund-ledger"],
    });
    expect(status?.oldestAgeSeconds).toBeNull();
    expect(status?.dlqOldestAgeSeconds).toBeNull();
  });

  it("GIVEN no consumer filter WHEN read THEN every consumer of the topology is reported, in order", async () => {
    const statuses = await consumerStatuses({ sqs: new SQSClient({}), topology });
    expect(statuses.map((s) => s.consumer)).toEqual(consumerNames);
  });
});

describe("oldest age on AWS (CloudWatch)", () => {
  beforeEach(() => cloudwatchMock.reset());

  it("GIVEN datapoints newest first WHEN read THEN the newest maximum is the age, for that queue's name", async () => {
    cloudwatchMock
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: "age", Values: [42.7, 900] }] });
    const age = await oldestAgeFromCloudWatch(new CloudWatchClient({ region: "us-east-1" }))(
      "https://sqs.eu-west-1.amazonaws.com/123/courier-Thumbnails",
      NOW,
    );
    expect(age).toBe(42);
    const query = cloudwatchMock.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries?.[0];
    expect(query?.MetricStat?.Metric?.Dimensions).toEqual([
      { Name: "QueueName", Value: "courier-Thumbnails" },
    ]);
    expect(query?.MetricStat?.Metric?.MetricName).toBe("ApproximateAgeOfOldestMessage");
  });

  it("GIVEN no datapoint (an idle, empty queue) WHEN read THEN 0", async () => {
    cloudwatchMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: "age", Values: [] }] });
    expect(
      await oldestAgeFromCloudWatch(new CloudWatchClient({ region: "us-east-1" }))("https://q/x", NOW),
    ).toBe(0);
  });

  it("GIVEN CloudWatch refuses (no permission) WHEN read THEN null (n/a), not zero", async () => {
    cloudwatchMock.on(GetMetricDataCommand).rejects(new Error("AccessDenied"));
    expect(
      await oldestAgeFromCloudWatch(new CloudWatchClient({ region: "us-east-1" }))("https://q/x", NOW),
    ).toBeNull();
  });
});

describe("oldestAgeSeconds", () => {
  it("GIVEN an empty listing WHEN computed THEN 0", () => {
    expect(oldestAgeSeconds([], NOW)).toBe(0);
  });

  it("GIVEN a send time in the future (clock skew) WHEN computed THEN 0, never negative", () => {
    expect(oldestAgeSeconds([NOW + 5_000], NOW)).toBe(0);
  });
});
