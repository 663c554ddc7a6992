/**
 * Publishing to the FIFO password-resets topic. Failure modes covered: a message without a group
 * (SNS refuses it), a deduplication id other than the eventId (a republish would not be
 * deduplicated), a group id SNS refuses (spaces, non-ASCII), a later message of a group published
 * after an earlier one failed (order broken), an ordering on a field the contract lacks.
 */
import { PublishBatchCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { messageGroupIdFor } from "../../packages/courier/src/lib/publisher/ordering.ts";
import { PasswordResetRequestedV1Contract } from "../../src/app/contracts/index.ts";
import { createPublisher, createTopicPublisher } from "../helpers/example-publisher.ts";

const snsMock = mockClient(SNSClient);
const ARN = "arn:aws:sns:us-east-1:000000000000:password-resets.fifo";
beforeEach(() => {
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: "m-1", SequenceNumber: "1" });
});

const publisher = () =>
  createPublisher({
    sns: new SNSClient({ region: "us-east-1" }),
    topicArns: { "password-resets": ARN },
    producer: "t",
  });
const reset = (accountId: string, n = 0) => ({
  accountId,
  email: "ada@example.com",
  requestedAt: new Date(Date.UTC(2026, 10, 28, 8, 0, n)).toISOString(),
});

describe("GIVEN the FIFO password-resets topic", () => {
  it("WHEN a reset is published THEN its group is the account and its deduplication id the eventId", async () => {
    const { eventId } = await publisher().publish("password-resets", reset("acct-1"));
    const input = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.MessageGroupId).toBe("acct-1");
    expect(input?.MessageDeduplicationId).toBe(eventId);
  });

  it("WHEN the same event is published twice with --event-id THEN both carry the same deduplication id", async () => {
    const identity = {
      eventId: "3f1c2b8e-4d5a-4e6f-9a7b-1c2d3e4f5a6b",
      occurredAt: "2026-11-28T08:00:00.000Z",
    };
    await publisher().publish("password-resets", reset("acct-1"), identity);
    await publisher().publish("password-resets", reset("acct-1"), identity);
    const ids = snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input.MessageDeduplicationId);
    expect(ids).toEqual([identity.eventId, identity.eventId]);
  });

  it("WHEN the account id has characters SNS refuses in a group id THEN the group is its SHA-256, stable per account", async () => {
    await publisher().publish("password-resets", reset("Ada Lovelace ✓"));
    const group = snsMock.commandCalls(PublishCommand)[0]?.args[0].input.MessageGroupId;
    expect(group).toMatch(/^[0-9a-f]{64}$/);
    expect(messageGroupIdFor("Ada Lovelace ✓")).toBe(group);
    expect(messageGroupIdFor("acct-1")).toBe("acct-1");
  });

  it("WHEN a batch's first chunk fails for one group THEN that group's later messages are not sent, other groups are", async () => {
    snsMock
      .on(PublishBatchCommand)
      .callsFake((input: { PublishBatchRequestEntries: Array<{ Id: string; MessageGroupId: string }> }) => ({
        Successful: input.PublishBatchRequestEntries.filter(
          (e) => !(e.MessageGroupId === "a" && e.Id === "0"),
        ).map((e) => ({
          Id: e.Id,
          MessageId: `m-${e.Id}`,
        })),
        Failed: input.PublishBatchRequestEntries.filter((e) => e.MessageGroupId === "a" && e.Id === "0").map(
          (e) => ({
            Id: e.Id,
            Code: "InternalError",
            SenderFault: false,
          }),
        ),
      }));
    // 12 items: the first chunk holds 10, so a3 (index 10) and b (index 11) go in the second.
    const items = [
      reset("a", 0),
      ...Array.from({ length: 9 }, (_, i) => reset("b", i + 1)),
      reset("a", 10),
      reset("b", 11),
    ];
    const results = await publisher().publishBatch("password-resets", items);
    expect(results[0]?.ok).toBe(false);
    expect(results[10]).toMatchObject({ ok: false, error: { code: "GroupStopped" } });
    expect(results[11]?.ok).toBe(true);
    const second =
      snsMock.commandCalls(PublishBatchCommand)[1]?.args[0].input.PublishBatchRequestEntries ?? [];
    expect(second.map((e) => e.MessageGroupId)).toEqual(["b"]);
  });

  it("WHEN a topic orders by a field its contract lacks THEN creating the publisher throws naming it", () => {
    const topics = {
      resets: {
        name: "resets",
        description: "x",
        current: PasswordResetRequestedV1Contract,
        accepts: [PasswordResetRequestedV1Contract],
        ordering: { groupBy: "tenantId" },
      },
    };
    expect(() =>
      createTopicPublisher({ topics, sns: new SNSClient({}), topicArns: { resets: ARN }, producer: "t" }),
    ).toThrow(/orders by "tenantId", which is not a field of PasswordResetRequested v1/);
  });
});
