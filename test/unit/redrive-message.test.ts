import { describe, expect, it } from "vitest";
import { FAILURE_ATTRIBUTE } from "../../packages/courier/src/lib/consumer/failure-attributes.ts";
import { ageSeconds, describeDlqMessage } from "../../packages/courier/src/lib/redrive/dlq-message.ts";
import {
  DurationFormatError,
  parseDurationSeconds,
} from "../../packages/courier/src/lib/redrive/duration.ts";
import {
  batchesWithinLimits,
  MAX_BATCH_PAYLOAD_BYTES,
} from "../../packages/courier/src/lib/redrive/outgoing.ts";
import { dlqMessage, failureOf, NOW } from "./redrive-fixtures.ts";

describe("reading a DLQ message", () => {
  it("GIVEN a message dead-lettered by the runtime WHEN described THEN the reason shows its error class and message", () => {
    const described = describeDlqMessage(
      dlqMessage({ id: "a", failure: { errorClass: "ZodError", message: "email: invalid" } }),
    );

    expect(described.errorClass).toBe("ZodError");
    expect(described.reason).toBe("ZodError (permanent): email: invalid");
  });

  it("GIVEN a message without courier.failure WHEN described THEN the reason says SQS moved it after the source's receives", () => {
    const described = describeDlqMessage(dlqMessage({ id: "a" }), { sourceMaxReceiveCount: 5 });

    expect(described.errorClass).toBe("unknown");
    expect(described.reason).toBe("unknown: moved by SQS after 5 receives");
  });

  it("GIVEN a failure recorded before the message's last redrive WHEN described THEN it is not reported as the current reason", () => {
    const message = dlqMessage({
      id: "a",
      failure: { errorClass: "TimeoutError", failedAt: "2026-02-01T00:00:00.000Z" },
      lineage: { originalMessageId: "x", redriveCount: 1, lastRedriveAt: "2026-02-02T00:00:00.000Z" },
    });

    const described = describeDlqMessage(message, { sourceMaxReceiveCount: 5 });

    expect(described.errorClass).toBe("unknown");
    expect(described.reason).toContain("before its last redrive: TimeoutError");
  });

  it("GIVEN an SNS notification body (raw delivery off) WHEN described THEN type and eventId come from the wrapped envelope", () => {
    const message = dlqMessage({
      id: "a",
      body: JSON.stringify({
        Type: "Notification",
        Message: JSON.stringify({ eventId: "e-9", type: "ImageUploaded", version: 1 }),
      }),
    });
    delete message.MessageAttributes?.type;

    const described = describeDlqMessage(message);

    expect(described).toMatchObject({ type: "ImageUploaded", eventId: "e-9" });
  });

  it("GIVEN a body that is not JSON and no type attribute WHEN described THEN type and eventId are absent, not a crash", () => {
    const message = dlqMessage({ id: "a", body: "not json {" });
    delete message.MessageAttributes?.type;

    const described = describeDlqMessage(message);

    expect(described.type).toBeUndefined();
    expect(described.eventId).toBeUndefined();
  });

  it("GIVEN a malformed courier.failure WHEN described THEN it is treated as unknown rather than trusted", () => {
    const message = dlqMessage({ id: "a" });
    message.MessageAttributes = {
      ...message.MessageAttributes,
      [FAILURE_ATTRIBUTE]: { DataType: "String", StringValue: "{oops" },
    };

    expect(describeDlqMessage(message).errorClass).toBe("unknown");
  });

  it("GIVEN a failure earlier than the DLQ send time WHEN measuring age THEN the earlier time counts", () => {
    const message = dlqMessage({
      id: "a",
      sentAt: new Date(NOW.getTime() - 60_000),
      failure: failureOf({ failedAt: new Date(NOW.getTime() - 600_000).toISOString() }),
    });

    expect(ageSeconds(describeDlqMessage(message), NOW)).toBe(600);
  });
});

describe("send batches", () => {
  it("GIVEN 25 small entries WHEN batching THEN batches hold at most 10 entries", () => {
    const sizes = batchesWithinLimits(Array.from({ length: 25 }, () => ({ bytes: 100 }))).map(
      (b) => b.length,
    );

    expect(sizes).toEqual([10, 10, 5]);
  });

  it("GIVEN entries whose sizes sum past 1 MiB WHEN batching THEN a batch closes before the payload limit", () => {
    const big = { bytes: 400_000 };

    const batches = batchesWithinLimits([big, big, big]);

    expect(batches.map((b) => b.length)).toEqual([2, 1]);
    expect(batches.every((b) => b.reduce((n, e) => n + e.bytes, 0) <= MAX_BATCH_PAYLOAD_BYTES)).toBe(true);
  });
});

describe("durations", () => {
  it.each([
    ["90s", 90],
    ["30m", 1800],
    ["2h", 7200],
    ["1d", 86400],
    ["1h30m", 5400],
    ["45", 45],
  ])("GIVEN %s WHEN parsed THEN it is %i seconds", (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });

  it.each(["", "2w", "h", "-5m", "1.5h"])(
    "GIVEN %j WHEN parsed THEN a typed error quotes the input",
    (text) => {
      expect(() => parseDurationSeconds(text)).toThrow(DurationFormatError);
    },
  );
});
