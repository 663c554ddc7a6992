import { Readable } from "node:stream";
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import sharp from "sharp";
import { beforeEach, describe, expect, it } from "vitest";
import { PermanentError } from "../../packages/courier/src/lib/consumer/index.ts";
import type { ImageUploadedV1 } from "../../src/app/contracts/index.ts";
import type { ImageLimits } from "../../src/app/images/config.ts";
import type { ImageRejectedError } from "../../src/app/images/errors.ts";
import { makeThumbnails } from "../../src/app/images/thumbnails.ts";
import { solid, truncatedJpeg } from "./images-fixtures.ts";

const BUCKET = "uploads-test";
const ETAG = '"0123456789abcdef"';
const limits: ImageLimits = { maxInputBytes: 1024 * 1024, maxInputPixels: 50_000_000, failOn: "warning" };
const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: "us-east-1" });
const deps = { s3, bucket: BUCKET, limits };

function upload(overrides: Partial<ImageUploadedV1> = {}): ImageUploadedV1 {
  return {
    imageId: "img-1",
    bucket: BUCKET,
    key: "originals/img-1",
    contentType: "image/jpeg",
    byteSize: 1000,
    uploadedBy: "user-1",
    uploadedAt: "2025-06-01T12:00:00.000Z",
    ...overrides,
  };
}

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
  });
}

/** A GetObject answer whose body is a real stream, as the SDK gives it on Node. */
function objectWith(body: Buffer, etag = ETAG): GetObjectCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    ETag: etag,
    ContentLength: body.length,
    Body: Readable.from([body]) as unknown as GetObjectCommandOutput["Body"],
  };
}

function putsByKey() {
  return new Map(
    s3Mock.commandCalls(PutObjectCommand).map((call) => [call.args[0].input.Key, call.args[0].input]),
  );
}

beforeEach(() => {
  s3Mock.reset();
  // No renditions yet unless a test says otherwise.
  s3Mock.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
  s3Mock.on(PutObjectCommand).resolves({});
});

describe("makeThumbnails", () => {
  it("GIVEN a stored JPEG WHEN processed THEN both renditions are written under deterministic keys as WebP", async () => {
    s3Mock.on(GetObjectCommand).resolves(objectWith(await solid(2000, 1500).jpeg().toBuffer()));

    const outcome = await makeThumbnails(deps, upload());

    expect(outcome.status).toBe("rendered");
    const puts = putsByKey();
    expect([...puts.keys()].sort()).toEqual(["renditions/img-1/medium.webp", "renditions/img-1/thumb.webp"]);
    expect(puts.get("renditions/img-1/thumb.webp")?.ContentType).toBe("image/webp");
    expect(puts.get("renditions/img-1/thumb.webp")?.Bucket).toBe(BUCKET);
  });

  it("GIVEN a stored JPEG WHEN processed THEN each rendition's metadata carries its dimensions and the source ETag", async () => {
    s3Mock.on(GetObjectCommand).resolves(objectWith(await solid(2000, 1500).jpeg().toBuffer()));

    await makeThumbnails(deps, upload());

    const puts = putsByKey();
    expect(puts.get("renditions/img-1/thumb.webp")?.Metadata).toMatchObject({
      width: "256",
      height: "256",
      "source-etag": "0123456789abcdef",
    });
    expect(puts.get("renditions/img-1/medium.webp")?.Metadata).toMatchObject({
      width: "1280",
      height: "960",
      "source-etag": "0123456789abcdef",
    });
  });

  it("GIVEN a stored JPEG WHEN processed THEN the written body decodes to the dimensions in its metadata", async () => {
    s3Mock.on(GetObjectCommand).resolves(objectWith(await solid(2000, 1500).jpeg().toBuffer()));

    await makeThumbnails(deps, upload());

    const medium = putsByKey().get("renditions/img-1/medium.webp");
    const decoded = await sharp(medium?.Body as Buffer).metadata();
    expect([decoded.width, decoded.height]).toEqual([1280, 960]);
  });

  it("GIVEN both renditions already name the original's ETag WHEN redelivered THEN nothing is rendered or written", async () => {
    const original = objectWith(await solid(2000, 1500).jpeg().toBuffer());
    s3Mock.on(GetObjectCommand).resolves(original);
    s3Mock
      .on(HeadObjectCommand)
      .resolves({ Metadata: { width: "256", height: "256", "source-etag": "0123456789abcdef" } });

    const outcome = await makeThumbnails(deps, upload());

    expect(outcome.status).toBe("skipped");
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect((original.Body as unknown as Readable).destroyed).toBe(true);
  });

  it("GIVEN only one rendition is current WHEN processed THEN both are written again", async () => {
    s3Mock.on(GetObjectCommand).resolves(objectWith(await solid(600, 400).png().toBuffer()));
    s3Mock
      .on(HeadObjectCommand, { Key: "renditions/img-1/thumb.webp" })
      .resolves({ Metadata: { "source-etag": "0123456789abcdef" } });

    const outcome = await makeThumbnails(deps, upload());

    expect(outcome.status).toBe("rendered");
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(2);
  });

  it("GIVEN renditions of an older original (other ETag) WHEN processed THEN they are replaced", async () => {
    s3Mock.on(GetObjectCommand).resolves(objectWith(await solid(600, 400).png().toBuffer()));
    s3Mock.on(HeadObjectCommand).resolves({ Metadata: { "source-etag": "an-older-etag" } });

    const outcome = await makeThumbnails(deps, upload());

    expect(outcome.status).toBe("rendered");
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(2);
  });
});

describe("makeThumbnails and the message's key", () => {
  it("GIVEN a message whose key names another object WHEN processed THEN only originals/<imageId> is read (failure mode: the message chose what the function reads)", async () => {
    s3Mock.on(GetObjectCommand).resolves(objectWith(await solid(200, 150).jpeg().toBuffer()));
    s3Mock.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    s3Mock.on(PutObjectCommand).resolves({});
    await makeThumbnails(deps, upload({ key: "exports/someone-else.json" }));
    expect(s3Mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      "originals/img-1",
    ]);
  });
});

describe("makeThumbnails on permanent failures", () => {
  it("GIVEN the original is missing (NoSuchKey) WHEN processed THEN it is a PermanentError naming the missing object", async () => {
    s3Mock.on(GetObjectCommand).rejects(s3Error("NoSuchKey", 404));

    const error = await makeThumbnails(deps, upload()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PermanentError);
    expect((error as ImageRejectedError).reason).toBe("missing-object");
    expect((error as Error).message).toContain(`s3://${BUCKET}/originals/img-1`);
  });

  it("GIVEN the message declares more bytes than the cap WHEN processed THEN it is rejected before any S3 call", async () => {
    const error = await makeThumbnails(deps, upload({ byteSize: limits.maxInputBytes + 1 })).catch(
      (e: unknown) => e,
    );

    expect((error as ImageRejectedError).reason).toBe("too-large");
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it("GIVEN the message understates the size but ContentLength is over the cap WHEN processed THEN it is rejected unread", async () => {
    const big = objectWith(Buffer.alloc(16));
    s3Mock.on(GetObjectCommand).resolves({ ...big, ContentLength: limits.maxInputBytes + 1 });

    const error = await makeThumbnails(deps, upload()).catch((e: unknown) => e);

    expect((error as ImageRejectedError).reason).toBe("too-large");
    expect((big.Body as unknown as Readable).destroyed).toBe(true);
  });

  it("GIVEN a truncated JPEG in S3 WHEN processed THEN it is a PermanentError (corrupt) and nothing is written", async () => {
    s3Mock.on(GetObjectCommand).resolves(objectWith(await truncatedJpeg()));

    const error = await makeThumbnails(deps, upload()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PermanentError);
    expect((error as ImageRejectedError).reason).toBe("corrupt");
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it("GIVEN a message naming another bucket WHEN processed THEN it is rejected without reading it", async () => {
    const error = await makeThumbnails(deps, upload({ bucket: "someone-elses" })).catch((e: unknown) => e);

    expect((error as ImageRejectedError).reason).toBe("wrong-bucket");
    expect(s3Mock.calls()).toHaveLength(0);
  });
});

describe("makeThumbnails on retryable failures", () => {
  it("GIVEN S3 answers 503 on GetObject WHEN processed THEN the error is not permanent, so the runtime retries it", async () => {
    s3Mock.on(GetObjectCommand).rejects(s3Error("SlowDown", 503));

    const error = await makeThumbnails(deps, upload()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(S3ServiceException);
    expect(error).not.toBeInstanceOf(PermanentError);
  });

  it("GIVEN the rendition HEAD fails with 500 WHEN processed THEN it is retryable and the original's body is released", async () => {
    const original = objectWith(await solid(64, 64).png().toBuffer());
    s3Mock.on(GetObjectCommand).resolves(original);
    s3Mock.on(HeadObjectCommand).rejects(s3Error("InternalError", 500));

    const error = await makeThumbnails(deps, upload()).catch((e: unknown) => e);

    expect(error).not.toBeInstanceOf(PermanentError);
    expect((original.Body as unknown as Readable).destroyed).toBe(true);
  });

  it("GIVEN a rendition PutObject fails with a network error WHEN processed THEN the error is retryable", async () => {
    s3Mock.on(GetObjectCommand).resolves(objectWith(await solid(64, 64).png().toBuffer()));
    s3Mock.on(PutObjectCommand).rejects(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));

    const error = await makeThumbnails(deps, upload()).catch((e: unknown) => e);

    expect((error as Error).message).toBe("read ECONNRESET");
    expect(error).not.toBeInstanceOf(PermanentError);
  });
});
