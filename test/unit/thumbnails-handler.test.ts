/**
 * The thin thumbnails handler as Lambda runs it: module imported with the environment the stack
 * sets, invoked with an SQS event. S3 and SQS are answered by aws-sdk-client-mock, which patches
 * the client classes, so the handler's own module-scope clients are covered.
 * Failure modes: a missing setting found only at the first message, a rejected image retried
 * (or taking its batch down) instead of dead-lettered with its reason.
 */

import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FAILURE_ATTRIBUTE } from "../../packages/courier/src/lib/consumer/failure-attributes.ts";
import { LOCAL_DEPLOY_SETTINGS } from "../../src/app/deployment/local-run.ts";
import { exampleConsumerEnvironment as consumerEnvironment } from "../helpers/example-environment.ts";
import { confirmSqsBatches, sentMessages } from "../helpers/sqs-batch-mock.ts";
import { sqsRecord } from "../helpers/sqs-record.ts";
import { solid, truncatedJpeg } from "./images-fixtures.ts";

const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);
const savedEnv = { ...process.env };
const context = { awsRequestId: "req-1", getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

beforeEach(() => {
  vi.resetModules();
  s3.reset();
  sqs.reset();
  sqs.onAnyCommand().resolves({});
  confirmSqsBatches(sqs);
  s3.on(HeadObjectCommand).rejects(
    new S3ServiceException({ name: "NotFound", $fault: "client", $metadata: { httpStatusCode: 404 } }),
  );
  s3.on(PutObjectCommand).resolves({});
  process.env = {
    ...savedEnv,
    AWS_REGION: "us-east-1",
    POWERTOOLS_LOG_LEVEL: "SILENT",
    POWERTOOLS_METRICS_DISABLED: "true",
    ...consumerEnvironment(
      "thumbnails",
      {
        queueUrl: "http://sqs.local/000000000000/thumbnails",
        dlqUrl: "http://sqs.local/000000000000/thumbnails-dlq",
        secretArns: {},
        uploadsBucket: "uploads",
      },
      LOCAL_DEPLOY_SETTINGS,
    ),
  };
});

afterEach(() => {
  process.env = { ...savedEnv };
});

function record(imageId: string): SQSRecord {
  const body = JSON.stringify({
    eventId: randomUUID(),
    type: "ImageUploaded",
    version: 1,
    occurredAt: "2025-06-01T12:00:00.000Z",
    producer: "api",
    data: {
      imageId,
      bucket: "uploads",
      key: `originals/${imageId}`,
      contentType: "image/jpeg",
      byteSize: 1000,
      uploadedBy: "user-1",
      uploadedAt: "2025-06-01T12:00:00.000Z",
    },
  });
  return sqsRecord(body, { messageId: `m-${imageId}`, receiptHandle: `r-${imageId}`, queue: "thumbnails" });
}

function stored(body: Buffer): GetObjectCommandOutput {
  return {
    $metadata: {},
    ETag: '"etag-1"',
    ContentLength: body.length,
    Body: Readable.from([body]) as unknown as GetObjectCommandOutput["Body"],
  };
}

async function invoke(records: SQSRecord[]): Promise<SQSBatchResponse> {
  const { handler } = await import("../../lambdas/thumbnails/handler.ts");
  return handler({ Records: records } as SQSEvent, context);
}

describe("thumbnails handler", () => {
  it("GIVEN no UPLOADS_BUCKET WHEN the module loads THEN the cold start fails naming the setting", async () => {
    delete process.env.UPLOADS_BUCKET;

    await expect(import("../../lambdas/thumbnails/handler.ts")).rejects.toThrow(/UPLOADS_BUCKET/);
  });

  it("GIVEN a good image and a corrupt one in one batch WHEN handled THEN the good one is rendered, the corrupt one dead-lettered with its reason and marked failed beside its renditions, and no record is retried", async () => {
    s3.on(GetObjectCommand, { Key: "originals/good" }).resolves(
      stored(await solid(900, 600).jpeg().toBuffer()),
    );
    s3.on(GetObjectCommand, { Key: "originals/bad" }).resolves(stored(await truncatedJpeg()));

    const response = await invoke([record("good"), record("bad")]);

    expect(response.batchItemFailures).toEqual([]);
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(puts.sort()).toEqual([
      "renditions/bad/failed.json",
      "renditions/good/medium.webp",
      "renditions/good/thumb.webp",
    ]);
    const dlq = sentMessages(sqs);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]?.QueueUrl).toBe("http://sqs.local/000000000000/thumbnails-dlq");
    const reason = JSON.parse(dlq[0]?.MessageAttributes?.[FAILURE_ATTRIBUTE]?.StringValue ?? "{}");
    expect(reason).toMatchObject({ errorClass: "ImageRejectedError", kind: "permanent" });
    expect(reason.message).toMatch(/^corrupt: /);
  });

  it("GIVEN S3 fails with 503 WHEN handled THEN the record is reported for retry, not dead-lettered", async () => {
    s3.on(GetObjectCommand).rejects(
      new S3ServiceException({ name: "SlowDown", $fault: "server", $metadata: { httpStatusCode: 503 } }),
    );

    const response = await invoke([record("slow")]);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m-slow" }]);
    expect(sentMessages(sqs)).toHaveLength(0);
  });
});
