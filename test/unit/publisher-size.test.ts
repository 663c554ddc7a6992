import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineContract } from "../../packages/courier/src/lib/contracts/index.ts";
import {
  chunkForPublishBatch,
  MessageTooLargeError,
  prepareMessage,
  SNS_MAX_PAYLOAD_BYTES,
  snsMessageSize,
} from "../helpers/example-publisher.ts";

// The current contracts cap every field well below 256 KiB, so the limit is exercised with a
// contract that can carry a large field.
const blobContract = defineContract({
  type: "Blob",
  version: 1,
  data: z.object({ blob: z.string() }),
  filterAttributes: () => ({ kind: "blob" }),
});
const source = {
  producer: "api-server",
  now: () => new Date("2025-06-01T12:00:00.000Z"),
  newId: () => "00000000-0000-4000-8000-000000000001",
};
const prepareBlob = (blob: string) => prepareMessage("blobs", blobContract, { blob }, source);
/** The blob length that makes the whole message, attributes included, exactly `bytes` long. */
const blobLengthFor = (bytes: number) => bytes - prepareBlob("").sizeBytes;

describe("SNS message size", () => {
  it("GIVEN a body and an attribute WHEN sized THEN the attribute's name, type and value all count", () => {
    expect(snsMessageSize("ab", { x: { DataType: "String", StringValue: "yz" } })).toBe(2 + 1 + 6 + 2);
  });

  it("GIVEN a body with multi-byte characters WHEN sized THEN it counts UTF-8 bytes, not characters", () => {
    expect(snsMessageSize("é€😀", {})).toBe(2 + 3 + 4);
  });

  it("GIVEN a message of exactly 256 KiB with its attributes WHEN prepared THEN it is accepted", () => {
    const message = prepareBlob("a".repeat(blobLengthFor(SNS_MAX_PAYLOAD_BYTES)));

    expect(message.sizeBytes).toBe(262_144);
  });

  it("GIVEN a message one byte over 256 KiB WHEN prepared THEN MessageTooLargeError names size and limit", () => {
    const tooLarge = () => prepareBlob("a".repeat(blobLengthFor(SNS_MAX_PAYLOAD_BYTES) + 1));

    expect(tooLarge).toThrow(MessageTooLargeError);
    expect(tooLarge).toThrow(
      "is 262145 bytes with its attributes, over the topic's SNS limit of 262144 bytes",
    );
  });

  it("GIVEN a body just under the limit WHEN its attributes push it over THEN it is refused (attributes count)", () => {
    // type (4+6+4), version (7+6+1) and kind (4+6+4) attributes: 42 bytes beyond the body.
    const bodyOnly = Buffer.byteLength(prepareBlob("").body);
    const bodyAtLimit = () => prepareBlob("a".repeat(SNS_MAX_PAYLOAD_BYTES - bodyOnly));

    expect(bodyAtLimit).toThrow(`is ${SNS_MAX_PAYLOAD_BYTES + 42} bytes`);
  });
});

describe("PublishBatch chunking", () => {
  it("GIVEN 25 small messages WHEN chunked THEN calls hold 10, 10 and 5 entries in input order", () => {
    const items = Array.from({ length: 25 }, (_, i) => i);
    const chunks = chunkForPublishBatch(items, () => 100);

    expect(chunks.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(chunks.flat()).toEqual(items);
  });

  it("GIVEN messages of 100 KiB WHEN chunked THEN no call exceeds 256 KiB in all (2 per call)", () => {
    const chunks = chunkForPublishBatch([1, 2, 3, 4, 5], () => 100 * 1024);

    expect(chunks.map((c) => c.length)).toEqual([2, 2, 1]);
  });

  it("GIVEN two messages that fill 256 KiB exactly WHEN chunked THEN they share one call", () => {
    const chunks = chunkForPublishBatch(["a", "b"], () => SNS_MAX_PAYLOAD_BYTES / 2);

    expect(chunks).toEqual([["a", "b"]]);
  });

  it("GIVEN no messages WHEN chunked THEN there are no calls", () => {
    expect(chunkForPublishBatch([], () => 1)).toEqual([]);
  });
});
