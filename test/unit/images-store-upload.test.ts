import { HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import sharp from "sharp";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import * as z from "zod";
import type { ImageUploadedV1 } from "../../src/app/contracts/index.ts";
import { UploadNotFoundError, UploadPublishError } from "../../src/app/images/errors.ts";
import {
  type ImageUploadPublisher,
  republishUpload,
  storeUpload,
} from "../../src/app/images/store-upload.ts";

const BUCKET = "uploads-test";
const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: "us-east-1" });
/** A real JPEG: the stored type is what sharp finds in the bytes. */
let body: Uint8Array;
beforeAll(async () => {
  body = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#888" } })
    .jpeg()
    .toBuffer();
});
const now = () => new Date("2025-06-01T12:00:00.000Z");

/** Records publishes and the order of S3 writes and publishes in one list. */
function recordingPublisher(steps: string[], fail?: Error) {
  const published: ImageUploadedV1[] = [];
  const publisher: ImageUploadPublisher = {
    publish: vi.fn(async (_topic, data) => {
      steps.push("publish");
      if (fail) throw fail;
      published.push(data);
      return { eventId: "8d6f7a2e-4b1c-4a57-9c1d-2f0f3b8e9a10", messageId: "sns-1" };
    }),
  };
  return { publisher, published };
}

beforeEach(() => {
  s3Mock.reset();
});

describe("storeUpload", () => {
  it("GIVEN an upload WHEN stored THEN the original is written under originals/<imageId> before ImageUploaded is published", async () => {
    const steps: string[] = [];
    s3Mock.on(PutObjectCommand).callsFake(() => {
      steps.push("put");
      return { ETag: '"abc"' };
    });
    const { publisher, published } = recordingPublisher(steps);

    const stored = await storeUpload({
      s3,
      publisher,
      bucket: BUCKET,
      imageId: "img-1",
      body,
      contentType: "image/jpeg",
      uploadedBy: "user-1",
      now,
    });

    expect(steps).toEqual(["put", "publish"]);
    expect(stored).toMatchObject({
      imageId: "img-1",
      key: "originals/img-1",
      messageId: "sns-1",
      etag: '"abc"',
    });
    expect(published[0]).toEqual({
      imageId: "img-1",
      bucket: BUCKET,
      key: "originals/img-1",
      contentType: "image/jpeg",
      byteSize: body.byteLength,
      uploadedBy: "user-1",
      uploadedAt: "2025-06-01T12:00:00.000Z",
    });
  });

  it("GIVEN JPEG bytes claimed as image/png WHEN stored THEN the object has the detected type (image/jpeg) and server-side encryption", async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const { publisher } = recordingPublisher([]);

    await storeUpload({
      s3,
      publisher,
      bucket: BUCKET,
      imageId: "img-1",
      body,
      contentType: "image/png",
      uploadedBy: "user-1",
    });

    const put = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      Bucket: BUCKET,
      Key: "originals/img-1",
      ContentType: "image/jpeg",
      ServerSideEncryption: "AES256",
    });
  });

  it("GIVEN no imageId WHEN stored THEN a fresh UUID names the object", async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const { publisher } = recordingPublisher([]);

    const stored = await storeUpload({
      s3,
      publisher,
      bucket: BUCKET,
      body,
      contentType: "image/png",
      uploadedBy: "user-1",
    });

    expect(stored.imageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(stored.key).toBe(`originals/${stored.imageId}`);
  });

  it("GIVEN the publish fails WHEN stored THEN the caller gets an UploadPublishError with the imageId and key, and the object stays", async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const { publisher } = recordingPublisher([], new Error("SNS throttled"));

    const error = await storeUpload({
      s3,
      publisher,
      bucket: BUCKET,
      imageId: "img-1",
      body,
      contentType: "image/jpeg",
      uploadedBy: "u",
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UploadPublishError);
    expect(error).toMatchObject({ imageId: "img-1", key: "originals/img-1", bucket: BUCKET });
    expect((error as Error).message).toContain("SNS throttled");
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it("GIVEN the write fails WHEN stored THEN nothing is published", async () => {
    s3Mock.on(PutObjectCommand).rejects(new Error("S3 unavailable"));
    const steps: string[] = [];
    const { publisher } = recordingPublisher(steps);

    await expect(
      storeUpload({ s3, publisher, bucket: BUCKET, body, contentType: "image/jpeg", uploadedBy: "u" }),
    ).rejects.toThrow("S3 unavailable");
    expect(steps).toEqual([]);
  });

  it("GIVEN a content type that is not a MIME type WHEN stored THEN it is refused before anything is written", async () => {
    const { publisher } = recordingPublisher([]);

    await expect(
      storeUpload({ s3, publisher, bucket: BUCKET, body, contentType: "jpeg please", uploadedBy: "u" }),
    ).rejects.toBeInstanceOf(z.core.$ZodError);
    expect(s3Mock.calls()).toHaveLength(0);
  });
});

describe("storeUpload and the client's claimed type", () => {
  it("GIVEN SVG bytes claimed as image/svg+xml WHEN stored THEN the object and the message say application/octet-stream (failure mode: a client-chosen document type kept)", async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const { publisher, published } = recordingPublisher([]);
    const svg = new TextEncoder().encode(
      '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    );

    await storeUpload({
      s3,
      publisher,
      bucket: BUCKET,
      body: svg,
      contentType: "image/svg+xml",
      uploadedBy: "u",
    });

    expect(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.ContentType).toBe(
      "application/octet-stream",
    );
    expect(published[0]?.contentType).toBe("application/octet-stream");
  });
});

describe("republishUpload", () => {
  it("GIVEN a stored original whose publish failed WHEN republished THEN the same ImageUploaded data is published again", async () => {
    const steps: string[] = [];
    s3Mock.on(PutObjectCommand).resolves({});
    const failing = recordingPublisher(steps, new Error("SNS down"));
    const stored = await storeUpload({
      s3,
      publisher: failing.publisher,
      bucket: BUCKET,
      imageId: "img-1",
      body,
      contentType: "image/jpeg",
      uploadedBy: "Zoë Ω",
      now,
    }).catch((e: unknown) => e as UploadPublishError);
    const metadata = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.Metadata;
    s3Mock.on(HeadObjectCommand).resolves({
      ContentType: "image/jpeg",
      ContentLength: body.byteLength,
      Metadata: metadata,
      ETag: '"abc"',
    });
    const healthy = recordingPublisher(steps);

    const republished = await republishUpload({
      s3,
      publisher: healthy.publisher,
      bucket: BUCKET,
      imageId: (stored as UploadPublishError).imageId,
    });

    expect(healthy.published[0]).toEqual({
      imageId: "img-1",
      bucket: BUCKET,
      key: "originals/img-1",
      contentType: "image/jpeg",
      byteSize: body.byteLength,
      uploadedBy: "Zoë Ω",
      uploadedAt: "2025-06-01T12:00:00.000Z",
    });
    expect(republished.messageId).toBe("sns-1");
  });

  it("GIVEN no original under the imageId WHEN republished THEN UploadNotFoundError and nothing is published", async () => {
    s3Mock
      .on(HeadObjectCommand)
      .rejects(
        new S3ServiceException({ name: "NotFound", $fault: "client", $metadata: { httpStatusCode: 404 } }),
      );
    const steps: string[] = [];
    const { publisher } = recordingPublisher(steps);

    await expect(republishUpload({ s3, publisher, bucket: BUCKET, imageId: "gone" })).rejects.toBeInstanceOf(
      UploadNotFoundError,
    );
    expect(steps).toEqual([]);
  });

  it("GIVEN the publish fails again WHEN republished THEN it is an UploadPublishError again, to retry later", async () => {
    s3Mock
      .on(HeadObjectCommand)
      .resolves({ ContentType: "image/png", ContentLength: 10, Metadata: {}, LastModified: now() });
    const { publisher } = recordingPublisher([], new Error("still down"));

    await expect(republishUpload({ s3, publisher, bucket: BUCKET, imageId: "img-1" })).rejects.toBeInstanceOf(
      UploadPublishError,
    );
  });
});
