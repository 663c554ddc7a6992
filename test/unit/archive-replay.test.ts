/**
 * The archive's and replay's pure parts. Failure modes covered: a batch key the window listing
 * cannot parse (its messages never replayed); a notification's MessageId, publish time, attributes,
 * group or subject lost; a filter policy evaluated differently from SNS (a replay sending what the
 * subscription never delivered, or withholding what it did); "30d" or an ISO time misread; a
 * reprocessing replay not scoped to its run, or live traffic scoped.
 */
import { describe, expect, it } from "vitest";
import {
  decodeEntries,
  encodeEntries,
  entryFromRecord,
  subjectHash,
} from "../../packages/courier/src/lib/archive/archive-entry.ts";
import { batchObjectKey, parseBatchObjectKey } from "../../packages/courier/src/lib/archive/archive-keys.ts";
import { archiveSettingsOf, publishOrder } from "../../packages/courier/src/lib/archive/archive-store.ts";
import {
  idempotencyScopeOf,
  REPLAY_ATTRIBUTE,
  replayLineageOf,
} from "../../packages/courier/src/lib/consumer/replay-lineage.ts";
import { filterPolicyAccepts } from "../../packages/courier/src/lib/replay/filter-policy.ts";
import { parseReplayTime } from "../../packages/courier/src/lib/replay/time.ts";
import { sqsRecord } from "../helpers/sqs-record.ts";

const notification = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    Type: "Notification",
    MessageId: "sns-1",
    TopicArn: "arn:aws:sns:us-east-1:000000000000:account-signups",
    Message: JSON.stringify({ eventId: "e-1", type: "NewAccount", version: 1, data: { accountId: "acc_1" } }),
    Timestamp: "2026-12-06T10:15:00.000Z",
    MessageAttributes: {
      type: { Type: "String", Value: "NewAccount" },
      hasPhone: { Type: "String", Value: "true" },
    },
    ...extra,
  });

describe("archive entries and keys", () => {
  it("GIVEN a batch key WHEN parsed THEN its hour, first publish time and count come back", () => {
    const at = new Date("2026-12-06T10:15:00.123Z");
    const key = batchObjectKey("account-signups", at, 42, "b1");
    expect(key).toBe("archive/account-signups/dt=2026-12-06/hh=10/1796552100123-42-b1.jsonl.gz");
    expect(parseBatchObjectKey(key)).toEqual({
      key,
      hour: new Date("2026-12-06T10:00:00.000Z"),
      firstPublishedAt: at,
      count: 42,
    });
    expect(parseBatchObjectKey("archive/_erased/abc")).toBeUndefined();
  });

  it("GIVEN an SNS notification record WHEN archived THEN MessageId, publish time, attributes, envelope fields, group and subject hash are kept", () => {
    const record = sqsRecord(notification({ SequenceNumber: "10000000000000000001" }));
    (record.attributes as unknown as Record<string, string>).MessageGroupId = "acc_1";
    const entry = entryFromRecord(record, "account-signups", "accountId");
    expect(entry).toMatchObject({
      messageId: "sns-1",
      publishedAt: "2026-12-06T10:15:00.000Z",
      eventId: "e-1",
      type: "NewAccount",
      version: 1,
      groupId: "acc_1",
      sequenceNumber: "10000000000000000001",
      subject: subjectHash("acc_1"),
      attributes: { hasPhone: { type: "String", value: "true" } },
    });
    expect(decodeEntries(encodeEntries([entry]), "k")).toEqual([entry]);
  });

  it("GIVEN a body that is no notification WHEN archived THEN it is kept as it came, with SQS's id", () => {
    const entry = entryFromRecord(sqsRecord("not json", { messageId: "sqs-9" }), "t");
    expect(entry).toMatchObject({ messageId: "sqs-9", message: "not json" });
  });

  it("GIVEN FIFO entries WHEN ordered THEN SNS sequence numbers decide, as big integers", () => {
    const base = { topic: "t", attributes: {}, message: "", publishedAt: "2026-12-06T10:00:00.000Z" };
    const a = { ...base, messageId: "a", sequenceNumber: "9" };
    const b = { ...base, messageId: "b", sequenceNumber: "10" };
    expect([b, a].sort(publishOrder).map((e) => e.messageId)).toEqual(["a", "b"]);
  });

  it("GIVEN topic settings WHEN resolved THEN the archive is on for 30 days by default and off only when false", () => {
    expect(archiveSettingsOf({})).toEqual({ retentionDays: 30 });
    expect(archiveSettingsOf({ archive: { retentionDays: 7, subject: "accountId" } })).toEqual({
      retentionDays: 7,
      subject: "accountId",
    });
    expect(archiveSettingsOf({ archive: false })).toBeUndefined();
  });
});

describe("replay selection", () => {
  const attributes = {
    purpose: { type: "String", value: "signup" },
    tags: { type: "String.Array", value: '["a","b"]' },
  };

  it("GIVEN a filter policy WHEN evaluated THEN every named attribute must hold an allowed value, as SNS does", () => {
    expect(filterPolicyAccepts(undefined, attributes)).toBe(true);
    expect(filterPolicyAccepts({ purpose: ["signup"] }, attributes)).toBe(true);
    expect(filterPolicyAccepts({ purpose: ["resend-email"] }, attributes)).toBe(false);
    expect(filterPolicyAccepts({ hasPhone: ["true"] }, attributes)).toBe(false);
    expect(filterPolicyAccepts({ tags: ["b"] }, attributes)).toBe(true);
  });

  it("GIVEN --from values WHEN parsed THEN a duration counts back from now and an ISO time is taken as is", () => {
    const now = new Date("2026-12-06T12:00:00.000Z");
    expect(parseReplayTime("30d", now).toISOString()).toBe("2026-11-06T12:00:00.000Z");
    expect(parseReplayTime("1h30m", now).toISOString()).toBe("2026-12-06T10:30:00.000Z");
    expect(parseReplayTime("2026-12-01T00:00:00Z", now).toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(() => parseReplayTime("yesterday", now)).toThrow(/neither an ISO 8601 time nor a duration/);
  });

  it("GIVEN a record WHEN its replay lineage is read THEN only a reprocessing replay gets a run-scoped idempotency key", () => {
    const lineage = (reprocess: boolean) => ({
      [REPLAY_ATTRIBUTE]: {
        dataType: "String",
        stringValue: JSON.stringify({ runId: "r1", from: "a", to: "b", reprocess }),
      },
    });
    expect(idempotencyScopeOf({ messageAttributes: {} })).toBeUndefined();
    expect(idempotencyScopeOf({ messageAttributes: lineage(false) })).toBeUndefined();
    expect(idempotencyScopeOf({ messageAttributes: lineage(true) })).toBe("replay:r1");
    expect(replayLineageOf({ messageAttributes: lineage(true) })).toEqual({
      runId: "r1",
      from: "a",
      to: "b",
      reprocess: true,
    });
  });
});
