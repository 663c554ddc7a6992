/**
 * Resolving a pointer: only from the locations the consumer is given, never more than the cap.
 * Failure modes: unknown bucket and key outside the prefix refused with no S3 call; a declared or
 * actual size over the cap refused without reading it all; an object whose size differs from the
 * declared size; a missing object. Each is a PermanentError (dead-lettered with its reason).
 */
import { Readable } from "node:stream";
import { GetObjectCommand, NoSuchKey, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { PermanentError } from "../../packages/courier/src/lib/consumer/errors.ts";
import {
  createPayloadResolver,
  encodePointer,
  PayloadLocationRefusedError,
  PayloadMissingError,
  PayloadSizeMismatchError,
  PayloadTooLargeError,
} from "../../packages/courier/src/lib/payload-offloading/index.ts";

const s3 = mockClient(S3Client);
const BUCKET = "courier-payloads";
const resolve = createPayloadResolver({
  s3: s3 as unknown as S3Client,
  locations: [{ bucket: BUCKET, prefix: "account-exports/" }],
  maxBytes: 1000,
});
const pointer = (key: string, bucket = BUCKET) => encodePointer({ bucket, key });
/** A body stream of `chunks` chunks of `size` bytes that counts how many were pulled. */
function countedBody(chunks: number, size: number) {
  const state = { pulled: 0 };
  const stream = Readable.from(
    (function* () {
      for (let i = 0; i < chunks; i += 1) {
        state.pulled += 1;
        yield Buffer.alloc(size, 97);
      }
    })(),
  );
  return { body: stream, state };
}

beforeEach(() => s3.reset());

describe("payload resolver", () => {
  it("GIVEN a pointer inside the prefix WHEN resolved THEN the object's text is returned", async () => {
    const { body } = countedBody(2, 50);
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key: "account-exports/e1" }).resolves({
      Body: body,
      ContentLength: 100,
    } as never);
    await expect(resolve(pointer("account-exports/e1"), 100)).resolves.toBe("a".repeat(100));
  });

  it("GIVEN a pointer to another bucket WHEN resolved THEN PayloadLocationRefusedError and no S3 call", async () => {
    const error = await resolve(pointer("account-exports/e1", "attacker-bucket"), 10).catch((e) => e);
    expect(error).toBeInstanceOf(PayloadLocationRefusedError);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/bucket "attacker-bucket", which is not a payload bucket/);
    expect(s3.calls()).toHaveLength(0);
  });

  it.each([
    "image-uploads/x",
    "account-exports/../secrets/x",
    "account-exports//x",
    "account-exports/./x",
    "account-exportsX",
  ])("GIVEN key %s outside the payload prefix WHEN resolved THEN refused with no S3 call", async (key) => {
    await expect(resolve(pointer(key), 10)).rejects.toThrow(/outside the payload prefix/);
    expect(s3.calls()).toHaveLength(0);
  });

  it("GIVEN a declared size over the cap WHEN resolved THEN PayloadTooLargeError and no S3 call", async () => {
    await expect(resolve(pointer("account-exports/e1"), 1001)).rejects.toThrow(PayloadTooLargeError);
    expect(s3.calls()).toHaveLength(0);
  });

  it("GIVEN an object larger than the cap while the message declares a small size WHEN resolved THEN refused from its length, body not read", async () => {
    const { body, state } = countedBody(100, 1000);
    s3.on(GetObjectCommand).resolves({ Body: body, ContentLength: 100_000 } as never);
    await expect(resolve(pointer("account-exports/e1"), 10)).rejects.toThrow(
      /100000 bytes, over this consumer's cap of 1000/,
    );
    expect(state.pulled).toBe(0);
  });

  it("GIVEN an object whose size differs from ExtendedPayloadSize WHEN resolved THEN PayloadSizeMismatchError", async () => {
    const { body } = countedBody(1, 60);
    s3.on(GetObjectCommand).resolves({ Body: body, ContentLength: 60 } as never);
    await expect(resolve(pointer("account-exports/e1"), 50)).rejects.toThrow(PayloadSizeMismatchError);
  });

  it("GIVEN an object streamed without a length that runs past the declared size WHEN resolved THEN the read stops at the first chunk beyond it", async () => {
    const { body, state } = countedBody(1000, 100);
    s3.on(GetObjectCommand).resolves({ Body: body } as never);
    await expect(resolve(pointer("account-exports/e1"), 150)).rejects.toThrow(
      /larger than the 150 bytes the message declares; read stopped/,
    );
    expect(state.pulled).toBeLessThanOrEqual(3);
  });

  it("GIVEN the object is missing WHEN resolved THEN PayloadMissingError naming the location", async () => {
    s3.on(GetObjectCommand).rejects(
      new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} }),
    );
    const error = await resolve(pointer("account-exports/gone"), 10).catch((e) => e);
    expect(error).toBeInstanceOf(PayloadMissingError);
    expect(error.message).toContain(`s3://${BUCKET}/account-exports/gone does not exist`);
  });

  it("GIVEN S3 throttles WHEN resolved THEN the error is not permanent (the record is retried)", async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error("slow down"), { name: "SlowDown" }));
    const error = await resolve(pointer("account-exports/e1"), 10).catch((e) => e);
    expect(error).not.toBeInstanceOf(PermanentError);
  });
});
