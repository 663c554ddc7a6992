/**
 * `courier pause` / `courier resume` on AWS, as recorded requests (LocalStack here runs no Lambda,
 * so it has no event source mapping to disable). Failure modes covered: the mapping left enabled
 * (Lambda keeps draining a paused consumer), the workers' tag not set or not removed, a pause that
 * tags before the mapping is disabled (a failed disable would leave the consumer running unseen),
 * and a paused consumer shown as running.
 */
import { LambdaClient, UpdateEventSourceMappingCommand } from "@aws-sdk/client-lambda";
import {
  GetQueueAttributesCommand,
  ListQueueTagsCommand,
  SQSClient,
  TagQueueCommand,
  UntagQueueCommand,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { statusTable } from "../../packages/courier/src/cli/commands/status.ts";
import {
  PAUSE_TAG,
  readQueuePause,
  setConsumerPaused,
} from "../../packages/courier/src/deployment/consumer-pause.ts";
import { consumerStatuses } from "../../packages/courier/src/deployment/consumer-status.ts";
import { topologyFromOutputs } from "../../packages/courier/src/deployment/deployed-topology.ts";
import { manifestOutputs } from "./manifest-fixtures.ts";

const sqsMock = mockClient(SQSClient);
const lambdaMock = mockClient(LambdaClient);
const sqs = new SQSClient({ region: "eu-west-1" });
const lambda = new LambdaClient({ region: "eu-west-1" });
const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/courier-VerificationEmailQueue";
const MAPPING = "5b0f2f6e-3c1a-4a7e-9d7a-2f1e9c0a1b2c";
const consumer = { name: "verification-email", queueUrl: QUEUE_URL, eventSourceMappingId: MAPPING };
const NOW = new Date("2026-11-28T10:00:00.000Z");

beforeEach(() => {
  sqsMock.reset();
  lambdaMock.reset();
  sqsMock.on(TagQueueCommand).resolves({});
  sqsMock.on(UntagQueueCommand).resolves({});
});

describe("GIVEN a consumer deployed with a Lambda event source mapping", () => {
  it("WHEN paused THEN the mapping is disabled, then the queue is tagged for the workers", async () => {
    const order: string[] = [];
    lambdaMock.on(UpdateEventSourceMappingCommand).callsFake(() => {
      order.push("mapping");
      return { UUID: MAPPING, State: "Disabling" };
    });
    sqsMock.on(TagQueueCommand).callsFake(() => {
      order.push("tag");
      return {};
    });
    const result = await setConsumerPaused({ sqs, lambda, consumer, paused: true, now: NOW });
    expect(lambdaMock.commandCalls(UpdateEventSourceMappingCommand)[0]?.args[0].input).toEqual({
      UUID: MAPPING,
      Enabled: false,
    });
    expect(sqsMock.commandCalls(TagQueueCommand)[0]?.args[0].input).toEqual({
      QueueUrl: QUEUE_URL,
      Tags: { [PAUSE_TAG]: NOW.toISOString() },
    });
    expect(order).toEqual(["mapping", "tag"]);
    expect(result).toEqual({
      consumer: "verification-email",
      paused: true,
      eventSourceMapping: { uuid: MAPPING, state: "Disabling" },
    });
  });

  it("WHEN resumed THEN the tag is removed, then the mapping is enabled", async () => {
    const order: string[] = [];
    sqsMock.on(UntagQueueCommand).callsFake(() => {
      order.push("untag");
      return {};
    });
    lambdaMock.on(UpdateEventSourceMappingCommand).callsFake(() => {
      order.push("mapping");
      return { UUID: MAPPING, State: "Enabling" };
    });
    const result = await setConsumerPaused({ sqs, lambda, consumer, paused: false });
    expect(lambdaMock.commandCalls(UpdateEventSourceMappingCommand)[0]?.args[0].input).toEqual({
      UUID: MAPPING,
      Enabled: true,
    });
    expect(sqsMock.commandCalls(UntagQueueCommand)[0]?.args[0].input).toEqual({
      QueueUrl: QUEUE_URL,
      TagKeys: [PAUSE_TAG],
    });
    expect(order).toEqual(["untag", "mapping"]);
    expect(result.eventSourceMapping?.state).toBe("Enabling");
  });

  it("WHEN Lambda refuses the disable THEN the error surfaces and the queue is not tagged", async () => {
    lambdaMock.on(UpdateEventSourceMappingCommand).rejects(new Error("AccessDeniedException: not allowed"));
    await expect(setConsumerPaused({ sqs, lambda, consumer, paused: true })).rejects.toThrow(/AccessDenied/);
    expect(sqsMock.commandCalls(TagQueueCommand)).toHaveLength(0);
  });
});

describe("GIVEN a consumer without a mapping (LocalStack, or workers only)", () => {
  it("WHEN paused THEN only the queue is tagged and no Lambda client is needed", async () => {
    const result = await setConsumerPaused({
      sqs,
      consumer: { name: "thumbnails", queueUrl: QUEUE_URL },
      paused: true,
      now: NOW,
    });
    expect(result).toEqual({ consumer: "thumbnails", paused: true });
    expect(sqsMock.commandCalls(TagQueueCommand)).toHaveLength(1);
  });
});

describe("GIVEN a queue's tags", () => {
  it("WHEN the pause tag is there THEN the consumer reads as paused since its value; else as running", async () => {
    sqsMock.on(ListQueueTagsCommand).resolves({ Tags: { [PAUSE_TAG]: NOW.toISOString(), team: "growth" } });
    expect(await readQueuePause(sqs, QUEUE_URL)).toEqual({ paused: true, since: NOW.toISOString() });
    sqsMock.on(ListQueueTagsCommand).resolves({ Tags: { team: "growth" } });
    expect(await readQueuePause(sqs, QUEUE_URL)).toEqual({ paused: false });
  });

  it("WHEN status renders a paused consumer THEN its row says PAUSED", () => {
    const counts = { visible: 3, inFlight: 0, delayed: 0 };
    const table = statusTable([
      {
        consumer: "verification-email",
        queue: counts,
        dlq: { visible: 0, inFlight: 0, delayed: 0 },
        oldestAgeSeconds: 40,
        dlqOldestAgeSeconds: 0,
        paused: true,
      },
      {
        consumer: "team-notify",
        queue: counts,
        dlq: { visible: 0, inFlight: 0, delayed: 0 },
        oldestAgeSeconds: 40,
        dlqOldestAgeSeconds: 0,
        paused: false,
      },
    ]);
    const row = (consumer: string) => table.split("\n").find((line) => line.startsWith(`${consumer} `)) ?? "";
    expect(row("verification-email")).toMatch(/ PAUSED\b/);
    expect(row("team-notify")).toMatch(/ running\b/);
    expect(row("team-notify")).not.toMatch(/PAUSED/);
  });
});

describe("GIVEN a deployed stack whose consumers have event source mappings", () => {
  const topology = topologyFromOutputs(
    "pause-status",
    manifestOutputs("pause-status", {
      topics: [{ name: "orders" }],
      consumers: ["invoice", "ledger"].map((name) => ({
        name,
        topic: "orders",
        eventSourceMappingId: `esm-${name}`,
      })),
    }),
  );

  it("WHEN a mapping was disabled by hand (no tag) THEN status reads that consumer as paused and the others as running", async () => {
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    sqsMock.on(ListQueueTagsCommand).resolves({ Tags: {} });
    const asked: string[] = [];
    const statuses = await consumerStatuses({
      sqs,
      topology,
      mappingState: async (uuid) => {
        asked.push(uuid);
        return uuid === "esm-ledger" ? "Disabled" : "Enabled";
      },
    });
    const byName = Object.fromEntries(statuses.map((s) => [s.consumer, s]));
    expect(byName.ledger).toMatchObject({ paused: true, eventSourceMapping: "Disabled" });
    expect(byName.invoice).toMatchObject({ paused: false, eventSourceMapping: "Enabled" });
    expect(asked).toContain("esm-invoice");
  });
});
