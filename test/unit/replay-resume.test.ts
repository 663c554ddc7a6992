/**
 * replay() against mocked S3 and SQS: what it does when SQS refuses a message for good, and how a
 * resumed run picks up. Failure modes covered: the checkpoint moving past a message that was never
 * sent (resume would skip it); a resumed run re-sending what the first confirmed; a refused message
 * reported as done; the lineage missing from a sent message.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { type ArchiveEntry, encodeEntries } from "../../packages/courier/src/lib/archive/archive-entry.ts";
import { batchObjectKey, replayCheckpointKey } from "../../packages/courier/src/lib/archive/archive-keys.ts";
import { REPLAY_ATTRIBUTE } from "../../packages/courier/src/lib/consumer/replay-lineage.ts";
import { replay } from "../../packages/courier/src/lib/replay/replay.ts";

const s3 = new S3Client({ region: "us-east-1" });
const sqs = new SQSClient({ region: "us-east-1" });
const s3Mock = mockClient(s3);
const sqsMock = mockClient(sqs);
const BUCKET = "archive";
const now = new Date("2026-12-06T12:30:00.000Z");
const entries: ArchiveEntry[] = Array.from({ length: 25 }, (_, n) => ({
  messageId: `sns-${String(n).padStart(2, "0")}`,
  publishedAt: new Date(now.getTime() - 60_000 + n).toISOString(),
  topic: "account-signups",
  eventId: `event-${n}`,
  type: "NewAccount",
  attributes: { type: { type: "String", value: "NewAccount" } },
  message: JSON.stringify({ eventId: `event-${n}` }),
}));
const objectKey = batchObjectKey("account-signups", new Date(entries[0]?.publishedAt ?? ""), 25, "b1");
const target = { consumer: "team-notify", topic: "account-signups", queueUrl: "https://sqs/q", fifo: false };
const window = { from: new Date(now.getTime() - 3_600_000), to: now };

let objects: Map<string, Uint8Array>;
const body = (bytes: Uint8Array) =>
  ({
    transformToByteArray: async () => bytes,
    transformToString: async () => Buffer.from(bytes).toString("utf8"),
  }) as never;

beforeEach(() => {
  s3Mock.reset();
  sqsMock.reset();
  objects = new Map([[objectKey, encodeEntries(entries)]]);
  s3Mock.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
    Contents: [...objects.keys()].filter((k) => k.startsWith(input.Prefix)).map((Key) => ({ Key, Size: 1 })),
  }));
  s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const bytes = objects.get(input.Key);
    if (!bytes) throw Object.assign(new Error("NoSuchKey"), { name: "NoSuchKey" });
    return { Body: body(bytes) };
  });
  s3Mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    objects.set(input.Key, Buffer.from(String(input.Body)));
    return {};
  });
});

const sentEventIds = (from = 0) =>
  sqsMock
    .commandCalls(SendMessageBatchCommand)
    .slice(from)
    .flatMap((c) => c.args[0].input.Entries ?? [])
    .map((e) => (JSON.parse(e.MessageBody ?? "{}") as { eventId: string }).eventId);

describe("replay: a refused message and a resume", () => {
  it("GIVEN SQS refuses the 13th message three times WHEN replaying THEN the run stops with the checkpoint at the 12th, and the resume sends from the 13th on, once each", async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.filter((e) => e.Id !== "12").map((e) => ({ Id: e.Id })),
      Failed: input.Entries.filter((e) => e.Id === "12").map((e) => ({
        Id: e.Id,
        Code: "InternalError",
        SenderFault: false,
      })),
    }));
    const first = await replay({ s3, sqs, bucket: BUCKET, target, window, runId: "run-1" });
    expect(first).toMatchObject({ done: false, sent: 12, runId: "run-1" });
    const checkpoint = JSON.parse(
      Buffer.from(objects.get(replayCheckpointKey("run-1")) ?? []).toString(),
    ) as {
      cursor: { messageId: string };
      sent: number;
      done: boolean;
    };
    expect(checkpoint).toMatchObject({ sent: 12, done: false, cursor: { messageId: "sns-11" } });

    const callsBefore = sqsMock.commandCalls(SendMessageBatchCommand).length;
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id })),
    }));
    const resumed = await replay({ s3, sqs, bucket: BUCKET, target, resume: "run-1" });
    expect(resumed).toMatchObject({ done: true, sent: 13, alreadySent: 12 });
    expect(sentEventIds(callsBefore)).toEqual(entries.slice(12).map((e) => e.eventId));
    const lineage = sqsMock.commandCalls(SendMessageBatchCommand).at(-1)?.args[0].input.Entries?.[0]
      ?.MessageAttributes?.[REPLAY_ATTRIBUTE]?.StringValue;
    expect(JSON.parse(lineage ?? "{}")).toMatchObject({ runId: "run-1", reprocess: false });
  });

  it("GIVEN a run id that has no checkpoint, or another consumer's WHEN resumed THEN it is refused", async () => {
    await expect(replay({ s3, sqs, bucket: BUCKET, target, resume: "nope" })).rejects.toThrow(
      /no replay checkpoint/,
    );
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [] });
    await replay({ s3, sqs, bucket: BUCKET, target, window, runId: "run-2" }).catch(() => undefined);
    await expect(
      replay({
        s3,
        sqs,
        bucket: BUCKET,
        target: { ...target, consumer: "verification-email" },
        resume: "run-2",
      }),
    ).rejects.toThrow(/replayed to team-notify, not verification-email/);
  });
});
