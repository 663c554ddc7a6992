import type { SendMessageCommandInput } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import {
  chunk,
  MAX_BATCH_PAYLOAD_BYTES,
  payloadBytes,
} from "../../packages/courier/src/lib/consumer/failure-batches.ts";

const message = (bodyBytes: number): SendMessageCommandInput => ({
  QueueUrl: "q",
  MessageBody: "x".repeat(bodyBytes),
  MessageAttributes: { type: { DataType: "String", StringValue: "NewAccount" } },
});

describe("failure batches: splitting", () => {
  it("GIVEN 23 small messages WHEN chunked THEN groups of 10, 10 and 3", () => {
    const groups = chunk(
      Array.from({ length: 23 }, () => message(10)),
      payloadBytes,
      MAX_BATCH_PAYLOAD_BYTES,
    );

    expect(groups.map((g) => g.length)).toEqual([10, 10, 3]);
  });

  it("GIVEN messages of 400 KiB WHEN chunked THEN no group's payload exceeds the 1 MiB limit", () => {
    const groups = chunk(
      Array.from({ length: 5 }, () => message(400 * 1024)),
      payloadBytes,
      MAX_BATCH_PAYLOAD_BYTES,
    );

    expect(groups.map((g) => g.length)).toEqual([2, 2, 1]);
    for (const g of groups)
      expect(g.reduce((n, m) => n + payloadBytes(m), 0)).toBeLessThanOrEqual(MAX_BATCH_PAYLOAD_BYTES);
  });

  it("GIVEN one message over the limit WHEN chunked THEN it goes alone and its neighbours are grouped", () => {
    const groups = chunk(
      [message(10), message(MAX_BATCH_PAYLOAD_BYTES + 1), message(10)],
      payloadBytes,
      MAX_BATCH_PAYLOAD_BYTES,
    );

    expect(groups.map((g) => g.length)).toEqual([1, 1, 1]);
  });

  it("GIVEN a message WHEN sized THEN body, attribute names, types and values count in UTF-8 bytes", () => {
    expect(
      payloadBytes({
        QueueUrl: "q",
        MessageBody: "é",
        MessageAttributes: { a: { DataType: "Binary", BinaryValue: new Uint8Array(3) } },
      }),
    ).toBe(2 + 1 + 6 + 3);
  });
});
