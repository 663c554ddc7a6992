/**
 * An upload's status from the bucket. Failure modes: a rejected upload reported pending forever, a
 * redriven and then rendered upload still reported failed, an unknown id reported pending, a
 * rejection whose marker could not be written acknowledged anyway.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { ImageRejectedError } from "../../src/app/images/errors.ts";
import { imageStatus, recordingFailure } from "../../src/app/images/image-status.ts";

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: "us-east-1" });
const bucket = "uploads";
const id = "img-1";
const marker = {
  reason: "corrupt",
  message: "corrupt: premature end of JPEG",
  failedAt: "2026-11-28T10:00:00.000Z",
};

const missingHead = () => new NotFound({ message: "not found", $metadata: {} });
/** The part of the SDK's body stream that the status reads. */
const body = (text: string) => ({ transformToString: async () => text }) as never;

function bucketHolding(keys: { original?: boolean; renditions?: boolean; marker?: string }) {
  s3Mock.on(HeadObjectCommand).rejects(missingHead());
  if (keys.original) s3Mock.on(HeadObjectCommand, { Key: `originals/${id}` }).resolves({});
  if (keys.renditions) {
    s3Mock.on(HeadObjectCommand, { Key: `renditions/${id}/thumb.webp` }).resolves({});
    s3Mock.on(HeadObjectCommand, { Key: `renditions/${id}/medium.webp` }).resolves({});
  }
  s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: "no such key", $metadata: {} }));
  if (keys.marker !== undefined)
    s3Mock
      .on(GetObjectCommand, { Key: `renditions/${id}/failed.json` })
      .resolves({ Body: body(keys.marker) });
}

beforeEach(() => {
  s3Mock.reset();
});

describe("imageStatus", () => {
  it("GIVEN both renditions WHEN asked THEN ready with their keys", async () => {
    bucketHolding({ original: true, renditions: true });
    expect(await imageStatus(s3, bucket, id)).toEqual({
      status: "ready",
      renditions: { thumb: `renditions/${id}/thumb.webp`, medium: `renditions/${id}/medium.webp` },
    });
  });

  it("GIVEN a failure marker and no renditions WHEN asked THEN failed with the marker's reason (failure mode: pending forever)", async () => {
    bucketHolding({ original: true, marker: JSON.stringify(marker) });
    expect(await imageStatus(s3, bucket, id)).toEqual({ status: "failed", ...marker });
  });

  it("GIVEN a marker and then renditions (redriven, then rendered) WHEN asked THEN ready (failure mode: failed after a fix)", async () => {
    bucketHolding({ original: true, renditions: true, marker: JSON.stringify(marker) });
    expect((await imageStatus(s3, bucket, id)).status).toBe("ready");
  });

  it("GIVEN only the original WHEN asked THEN pending", async () => {
    bucketHolding({ original: true });
    expect(await imageStatus(s3, bucket, id)).toEqual({ status: "pending" });
  });

  it("GIVEN no original and nothing else WHEN asked THEN not-found, not pending", async () => {
    bucketHolding({});
    expect(await imageStatus(s3, bucket, id)).toEqual({ status: "not-found" });
  });

  it("GIVEN an unreadable marker WHEN asked THEN still failed, saying the marker is unreadable", async () => {
    bucketHolding({ original: true, marker: "{not json" });
    expect(await imageStatus(s3, bucket, id)).toMatchObject({ status: "failed", reason: "unknown" });
  });
});

describe("recordingFailure", () => {
  const deps = { s3, bucket, now: () => new Date("2026-11-28T10:00:00.000Z") };
  const markerWrites = () =>
    s3Mock
      .commandCalls(PutObjectCommand)
      .map((c) => ({ key: c.args[0].input.Key, body: JSON.parse(String(c.args[0].input.Body)) }));

  it("GIVEN a rejected image WHEN the work throws THEN the marker holds the rejection and the error is rethrown", async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const rejection = new ImageRejectedError("corrupt", "premature end of JPEG");
    await expect(
      recordingFailure(deps, id, false, async () => {
        throw rejection;
      }),
    ).rejects.toBe(rejection);
    expect(markerWrites()).toEqual([
      {
        key: `renditions/${id}/failed.json`,
        body: {
          reason: "corrupt",
          message: "corrupt: premature end of JPEG",
          failedAt: "2026-11-28T10:00:00.000Z",
        },
      },
    ]);
  });

  it("GIVEN a transient error before the last try WHEN the work throws THEN no marker (it is still pending)", async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    await expect(
      recordingFailure(deps, id, false, async () => {
        throw new Error("S3 slow down");
      }),
    ).rejects.toThrow("S3 slow down");
    expect(markerWrites()).toEqual([]);
  });

  it("GIVEN a transient error on the last allowed try WHEN the work throws THEN an exhausted marker and the error rethrown", async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    await expect(
      recordingFailure(deps, id, true, async () => {
        throw new Error("S3 slow down");
      }),
    ).rejects.toThrow("S3 slow down");
    expect(markerWrites()[0]?.body).toMatchObject({ reason: "exhausted" });
    expect(markerWrites()[0]?.body.message).toContain("Error: S3 slow down");
  });

  it("GIVEN a rejection whose marker cannot be written WHEN the work throws THEN the S3 error is thrown, so the record is retried rather than acknowledged with a pending status", async () => {
    s3Mock.on(PutObjectCommand).rejects(new Error("AccessDenied"));
    await expect(
      recordingFailure(deps, id, false, async () => {
        throw new ImageRejectedError("corrupt", "x");
      }),
    ).rejects.toThrow("AccessDenied");
  });

  it("GIVEN work that succeeds WHEN run THEN its result and no marker", async () => {
    await expect(recordingFailure(deps, id, true, async () => 7)).resolves.toBe(7);
    expect(markerWrites()).toEqual([]);
  });
});
