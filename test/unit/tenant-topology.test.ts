/**
 * A tenant per topic (fair delivery per tenant): declared in the topology, checked at synth, set as
 * `MessageGroupId` on a standard topic's messages, kept by the DLQ copy and the redrive. Failure
 * modes covered: a tenant that would regroup a FIFO topic (its order changed by accident), a
 * tenant field the contract lacks or that is not a string (every message silently without a
 * tenant), a publish without the group (SQS serves the flood first), a group id SQS refuses, a FIFO
 * topic's group replaced by the tenant, a DLQ copy or redrive that drops the group, and a redrive
 * to a standard queue with a deduplication id (SQS refuses it: the redrive fails).
 */
import { PublishBatchCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { defineContract, defineTopology, InvalidTopologyError } from "@courier-queue/courier";
import type { SQSRecord } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { deadLetterMessage } from "../../packages/courier/src/lib/consumer/dead-letter.ts";
import {
  tenantGroupId,
  tenantGroupIdOfBody,
  tenantValue,
} from "../../packages/courier/src/lib/publisher/tenant.ts";
import { describeDlqMessage } from "../../packages/courier/src/lib/redrive/dlq-message.ts";
import { nextLineage, outgoingEntry } from "../../packages/courier/src/lib/redrive/outgoing.ts";
import { sendEntry } from "../../packages/courier/src/lib/replay/replay.ts";
import { courierTopology } from "../../src/topology.ts";
import { createPublisher } from "../helpers/example-publisher.ts";
import { dlqMessage, NOW } from "./redrive-fixtures.ts";

const UploadV1 = defineContract({
  type: "Upload",
  version: 1,
  data: z.object({
    uploadId: z.string(),
    owner: z.object({ accountId: z.string(), plan: z.enum(["free", "pro"]) }),
    size: z.number(),
    note: z.string().optional(),
  }),
});
const consumer = { topic: "uploads", handlerEntry: "h.ts" } as const;

function problemsOf(topics: Parameters<typeof defineTopology>[0]["topics"]): string[] {
  try {
    defineTopology({ topics, consumers: { c: { ...consumer, topic: Object.keys(topics)[0] as string } } });
    return [];
  } catch (error) {
    if (error instanceof InvalidTopologyError) return [...error.problems];
    throw error;
  }
}

describe("GIVEN a topology that declares tenants", () => {
  it("WHEN the tenant is a nested string field THEN it is accepted", () => {
    expect(problemsOf({ uploads: { current: UploadV1, tenant: { from: "owner.accountId" } } })).toEqual([]);
  });

  it("WHEN the tenant names a field the contract lacks THEN synth refuses it, naming the contract", () => {
    expect(problemsOf({ uploads: { current: UploadV1, tenant: { from: "owner.teamId" } } })).toEqual([
      'topic "uploads": tenant "owner.teamId" is not a field of Upload v1',
    ]);
  });

  it("WHEN the tenant names a number THEN synth refuses it", () => {
    expect(problemsOf({ uploads: { current: UploadV1, tenant: { from: "size" } } })[0]).toContain(
      "is a number in Upload v1, not a string",
    );
  });

  it("WHEN a FIFO topic's tenant names another field than its ordering THEN synth refuses it (its order would change)", () => {
    const problems = problemsOf({
      uploads: { current: UploadV1, ordering: { groupBy: "uploadId" }, tenant: { from: "owner.accountId" } },
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('tenant "owner.accountId" differs from ordering.groupBy "uploadId"');
  });

  it("WHEN a FIFO topic's tenant is its ordering field THEN it is accepted (nothing changes)", () => {
    expect(
      problemsOf({
        uploads: { current: UploadV1, ordering: { groupBy: "uploadId" }, tenant: { from: "uploadId" } },
      }),
    ).toEqual([]);
  });

  it("WHEN the example topology is read THEN uploads are by their account, resets and exports by account, sign-ups by none", () => {
    expect(courierTopology.topics["image-uploads"].tenant).toEqual({ from: "uploadedBy" });
    expect(courierTopology.topics["password-resets"].tenant).toEqual({ from: "accountId" });
    expect(courierTopology.topics["account-exports"].tenant).toEqual({ from: "accountId" });
    expect(courierTopology.topics["account-signups"]).not.toHaveProperty("tenant");
  });
});

describe("GIVEN a tenant's value", () => {
  const spec = { tenant: { from: "owner.accountId" } };
  it("WHEN it is a valid group id THEN it is the MessageGroupId as it is", () => {
    expect(tenantGroupId(spec, { owner: { accountId: "acct-1" } })).toBe("acct-1");
  });
  it("WHEN it has characters SQS refuses or is over 128 characters THEN the group is its SHA-256, stable", () => {
    const long = "a".repeat(129);
    expect(tenantGroupId(spec, { owner: { accountId: long } })).toMatch(/^[0-9a-f]{64}$/);
    expect(tenantGroupId(spec, { owner: { accountId: "Ada ✓" } })).toBe(
      tenantGroupId(spec, { owner: { accountId: "Ada ✓" } }),
    );
  });
  it("WHEN it is absent or empty THEN there is no group", () => {
    expect(tenantGroupId(spec, { owner: {} })).toBeUndefined();
    expect(tenantValue(spec, { owner: { accountId: "" } })).toBeUndefined();
  });
  it("WHEN the topic is FIFO THEN the tenant never replaces its ordering group", () => {
    expect(tenantGroupId({ ...spec, ordering: { groupBy: "x" } }, { owner: { accountId: "a" } })).toBe(
      undefined,
    );
  });
  it("WHEN a replay has only the body (raw or inside an SNS notification) THEN the helper gives the same group", () => {
    const body = JSON.stringify({
      eventId: "e",
      type: "Upload",
      version: 1,
      data: { owner: { accountId: "a-9" } },
    });
    expect(tenantGroupIdOfBody(spec, body)).toBe("a-9");
    expect(tenantGroupIdOfBody(spec, JSON.stringify({ Type: "Notification", Message: body }))).toBe("a-9");
    expect(tenantGroupIdOfBody(spec, "not json")).toBeUndefined();
  });
});

const snsMock = mockClient(SNSClient);
beforeEach(() => {
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: "m-1" });
  snsMock.on(PublishBatchCommand).callsFake((input: { PublishBatchRequestEntries: { Id: string }[] }) => ({
    Successful: input.PublishBatchRequestEntries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
  }));
});

const upload = (uploadedBy: string) => ({
  imageId: "img-1",
  bucket: "uploads",
  key: "originals/img-1",
  contentType: "image/jpeg",
  byteSize: 10,
  uploadedBy,
  uploadedAt: "2026-12-06T10:00:00.000Z",
});
const publisher = () =>
  createPublisher({
    sns: new SNSClient({ region: "us-east-1" }),
    topicArns: {
      "image-uploads": "arn:aws:sns:us-east-1:000000000000:image-uploads",
      "account-signups": "arn:aws:sns:us-east-1:000000000000:account-signups",
    },
    producer: "t",
  });

describe("GIVEN the standard image-uploads topic with a tenant", () => {
  it("WHEN an upload is published THEN its MessageGroupId is the uploading account, with no deduplication id", async () => {
    await publisher().publish("image-uploads", upload("acct-7"));
    const input = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.MessageGroupId).toBe("acct-7");
    expect(input).not.toHaveProperty("MessageDeduplicationId");
  });

  it("WHEN uploads of two accounts are published in a batch THEN each entry carries its own account", async () => {
    await publisher().publishBatch("image-uploads", [upload("acct-1"), upload("acct-2"), upload("acct-1")]);
    const entries = snsMock.commandCalls(PublishBatchCommand)[0]?.args[0].input.PublishBatchRequestEntries;
    expect(entries?.map((e) => e.MessageGroupId)).toEqual(["acct-1", "acct-2", "acct-1"]);
  });

  it("WHEN a sign-up is published (no tenant declared) THEN it carries no MessageGroupId", async () => {
    await publisher().publish("account-signups", {
      accountId: "acct-1",
      email: "ada@example.com",
      displayName: "Ada",
      locale: "en-US",
      createdAt: "2026-12-06T10:00:00.000Z",
    });
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input).not.toHaveProperty("MessageGroupId");
  });
});

describe("GIVEN a dead-lettered message of a tenant on a standard queue", () => {
  const record = {
    messageId: "m-1",
    receiptHandle: "r",
    body: "{}",
    attributes: { MessageGroupId: "acct-7", ApproximateReceiveCount: "5" },
    messageAttributes: {},
  } as unknown as SQSRecord;
  const reason = {
    errorClass: "Error",
    message: "x",
    consumer: "thumbnails",
    receiveCount: 5,
    failedAt: NOW.toISOString(),
    kind: "exhausted" as const,
    messageId: "m-1",
  };

  it("WHEN the runtime sends its DLQ copy THEN the copy keeps the tenant's group, without a deduplication id", () => {
    const input = deadLetterMessage(record, reason, "https://sqs/q-dlq", []);
    expect(input.MessageGroupId).toBe("acct-7");
    expect(input).not.toHaveProperty("MessageDeduplicationId");
  });

  it("WHEN the selective mover sends it back to a standard queue THEN it keeps its group and has no deduplication id", () => {
    const described = describeDlqMessage(dlqMessage({ id: "m-1", body: "{}", groupId: "acct-7" }));
    const outgoing = outgoingEntry(described, nextLineage(described, NOW), "e0", { fifo: false });
    if (!outgoing.ok) throw new Error(outgoing.reason);
    expect(outgoing.entry.MessageGroupId).toBe("acct-7");
    expect(outgoing.entry).not.toHaveProperty("MessageDeduplicationId");
  });

  it("WHEN the selective mover sends a FIFO DLQ's message back THEN it keeps group and gets a deduplication id", () => {
    const described = describeDlqMessage(dlqMessage({ id: "m-1", body: "{}", groupId: "acct-7" }));
    const outgoing = outgoingEntry(described, nextLineage(described, NOW), "e0", { fifo: true });
    if (!outgoing.ok) throw new Error(outgoing.reason);
    expect(outgoing.entry.MessageDeduplicationId).toBeDefined();
  });
});

describe("GIVEN a replay of a standard topic with tenants (issue 24's replay)", () => {
  const lineage = {
    runId: "run-1",
    from: "2026-12-06T00:00:00.000Z",
    to: "2026-12-06T01:00:00.000Z",
    reprocess: false,
  };
  const target = { consumer: "thumbnails", topic: "image-uploads", queueUrl: "https://sqs/q", fifo: false };
  const entry = (groupId?: string) => ({
    messageId: "sns-1",
    publishedAt: "2026-12-06T00:10:00.000Z",
    topic: "image-uploads",
    attributes: {},
    message: JSON.stringify({
      eventId: "e-1",
      type: "ImageUploaded",
      version: 1,
      data: { uploadedBy: "acct-9" },
    }),
    ...(groupId ? { groupId } : {}),
  });

  it("WHEN the archived entry has its group THEN the copy goes with it as MessageGroupId, without a deduplication id", () => {
    const sent = sendEntry(entry("acct-9") as never, 0, target, lineage);
    expect(sent.MessageGroupId).toBe("acct-9");
    expect(sent).not.toHaveProperty("MessageDeduplicationId");
  });

  it("WHEN an entry was archived without its group THEN the tenant is read from the body", () => {
    expect(sendEntry(entry() as never, 0, { ...target, tenant: "uploadedBy" }, lineage).MessageGroupId).toBe(
      "acct-9",
    );
    expect(sendEntry(entry() as never, 0, target, lineage)).not.toHaveProperty("MessageGroupId");
  });
});
