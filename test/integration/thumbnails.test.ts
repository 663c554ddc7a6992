/**
 * Thumbnails end to end on LocalStack: a private copy of the courier stack (its uploads bucket,
 * image-uploads topic, thumbnails queue and DLQ), `storeUpload()` with the real publisher, and the
 * thumbnails handler module driven by the local event source exactly as Lambda's SQS mapping would.
 * Failure modes covered: renditions missing or with wrong dimensions, EXIF orientation lost on the
 * way through S3, a corrupt upload retried instead of dead-lettered (or dead-lettered without its
 * reason), a redelivery that re-renders, a failed publish that loses the upload.
 */

import { setTimeout as sleep } from "node:timers/promises";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { type Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { DeployedTopology } from "../../packages/courier/src/deployment/deployed-topology.ts";
import {
  FAILURE_ATTRIBUTE,
  type FailureReason,
} from "../../packages/courier/src/lib/consumer/failure-attributes.ts";
import { LocalEventSource } from "../../packages/courier/src/worker/event-source.ts";
import { LOCAL_DEPLOY_SETTINGS } from "../../src/app/deployment/local-run.ts";
import { republishUpload, storeUpload, UploadPublishError } from "../../src/app/images/index.ts";
import { localClientConfig, localEndpoint } from "../../src/dev/local-aws-config.ts";
import { consumers } from "../../src/topology.ts";
import { exampleConsumerEnvironment as consumerEnvironment } from "../helpers/example-environment.ts";
import { createPublisher, type Publisher } from "../helpers/example-publisher.ts";
import { consumerOf, topicOf, uploadsBucketOf } from "../helpers/example-stack.ts";
import { jpegWithOrientation6, solid, truncatedJpeg } from "../unit/images-fixtures.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

/** LocalStack on two busy cores can be slow; conditions are polled up to this long. */
const DEADLINE_MS = 90_000;

const clientConfig = localClientConfig();
const s3 = new S3Client(clientConfig);
const sqs = new SQSClient(clientConfig);
let stack: TestStack | undefined;
let topology: DeployedTopology;
let publisher: Publisher;
let eventSource: LocalEventSource | undefined;

beforeAll(async () => {
  stack = await deployTestStack("thumbnails");
  topology = stack.topology;
  publisher = createPublisher({
    sns: new SNSClient(clientConfig),
    topicArns: {
      "account-signups": topicOf(topology, "account-signups").arn,
      "image-uploads": topicOf(topology, "image-uploads").arn,
    },
    producer: "thumbnails-it",
  });

  // The handler module builds its clients from the default chain at import, as on Lambda: give it
  // the environment the stack would, pointed at LocalStack.
  const thumbnails = consumerOf(topology, "thumbnails");
  vi.stubEnv("AWS_ENDPOINT_URL", localEndpoint());
  vi.stubEnv("AWS_REGION", clientConfig.region);
  vi.stubEnv("AWS_ACCESS_KEY_ID", clientConfig.credentials.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", clientConfig.credentials.secretAccessKey);
  vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
  vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "true");
  const env = consumerEnvironment(
    "thumbnails",
    {
      queueUrl: thumbnails.queueUrl,
      dlqUrl: thumbnails.dlqUrl,
      secretArns: topology.secretArns,
      uploadsBucket: uploadsBucketOf(topology),
    },
    LOCAL_DEPLOY_SETTINGS,
  );
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  const { handler } = await import("../../lambdas/thumbnails/handler.ts");

  const spec = consumers.thumbnails;
  eventSource = new LocalEventSource({
    sqs,
    queueUrl: thumbnails.queueUrl,
    handler,
    functionName: "thumbnails",
    batchSize: spec.batchSize,
    maxBatchingWindowSeconds: spec.maxBatchingWindowSeconds,
    timeoutSeconds: spec.timeoutSeconds,
    memoryMb: spec.memoryMb,
    concurrency: 1,
    waitTimeSeconds: 2,
    onError: () => {},
  });
  await eventSource.start();
});

afterAll(async () => {
  await eventSource?.stop();
  vi.unstubAllEnvs();
  if (!topology) return;
  await emptyBucket(uploadsBucketOf(topology));
  await stack?.cleanup();
});

/** The stack copy's bucket is ours alone; CloudFormation cannot delete it while it holds objects. */
async function emptyBucket(bucket: string): Promise<void> {
  for (;;) {
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    if (Contents.length === 0) return;
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: Contents.map((o) => ({ Key: o.Key })) },
      }),
    );
  }
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${DEADLINE_MS} ms waiting for ${what}`);
    await sleep(500);
  }
}

async function head(key: string): Promise<HeadObjectCommandOutput | undefined> {
  return s3
    .send(new HeadObjectCommand({ Bucket: uploadsBucketOf(topology), Key: key }))
    .catch((error: unknown) => {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
        return undefined;
      throw error;
    });
}

async function bothRenditions(imageId: string) {
  return eventually(`renditions of ${imageId}`, async () => {
    const [thumb, medium] = await Promise.all([
      head(`renditions/${imageId}/thumb.webp`),
      head(`renditions/${imageId}/medium.webp`),
    ]);
    return thumb && medium ? { thumb, medium } : undefined;
  });
}

async function decodedSize(key: string): Promise<[number | undefined, number | undefined, string]> {
  const object = await s3.send(new GetObjectCommand({ Bucket: uploadsBucketOf(topology), Key: key }));
  const metadata = await sharp(
    Buffer.from(await (object.Body?.transformToByteArray() ?? new Uint8Array())),
  ).metadata();
  return [metadata.width, metadata.height, metadata.format];
}

/** Receives from the DLQ until a message about `imageId` arrives (others are left for their own test). */
async function deadLettered(imageId: string): Promise<Message> {
  return eventually(`a dead-lettered message for ${imageId}`, async () => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: consumerOf(topology, "thumbnails").dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
        VisibilityTimeout: 1,
        MessageAttributeNames: ["All"],
      }),
    );
    return Messages.find((m) => (m.Body ?? "").includes(imageId));
  });
}

describe("thumbnails on LocalStack", () => {
  it("GIVEN storeUpload of a 3000×2000 JPEG WHEN the consumer runs THEN both renditions are in S3 with the expected dimensions", async () => {
    const body = await solid(3000, 2000).jpeg().toBuffer();

    const stored = await storeUpload({
      s3,
      publisher,
      bucket: uploadsBucketOf(topology),
      body,
      contentType: "image/jpeg",
      uploadedBy: "acc_it",
    });
    const { thumb, medium } = await bothRenditions(stored.imageId);

    expect(thumb.Metadata).toMatchObject({
      width: "256",
      height: "256",
      "source-etag": stored.etag?.replaceAll('"', ""),
    });
    expect(medium.Metadata).toMatchObject({ width: "1280", height: "853" });
    expect(thumb.ContentType).toBe("image/webp");
    expect(await decodedSize(`renditions/${stored.imageId}/medium.webp`)).toEqual([1280, 853, "webp"]);
  });

  it("GIVEN storeUpload of a JPEG with EXIF orientation 6 WHEN the consumer runs THEN the medium rendition is upright (portrait)", async () => {
    const stored = await storeUpload({
      s3,
      publisher,
      bucket: uploadsBucketOf(topology),
      body: await jpegWithOrientation6(),
      contentType: "image/jpeg",
      uploadedBy: "acc_it",
    });

    const { medium } = await bothRenditions(stored.imageId);

    expect(medium.Metadata).toMatchObject({ width: "200", height: "400" });
    expect(await decodedSize(`renditions/${stored.imageId}/medium.webp`)).toEqual([200, 400, "webp"]);
  });

  it("GIVEN a corrupt (truncated) upload WHEN the consumer runs THEN it reaches the DLQ at once with its reason and no rendition is written", async () => {
    const stored = await storeUpload({
      s3,
      publisher,
      bucket: uploadsBucketOf(topology),
      body: await truncatedJpeg(),
      contentType: "image/jpeg",
      uploadedBy: "acc_it",
    });

    const message = await deadLettered(stored.imageId);

    const reason = JSON.parse(
      message.MessageAttributes?.[FAILURE_ATTRIBUTE]?.StringValue ?? "{}",
    ) as FailureReason;
    expect(reason).toMatchObject({
      errorClass: "ImageRejectedError",
      kind: "permanent",
      consumer: "thumbnails",
      receiveCount: 1,
    });
    expect(reason.message).toMatch(/^corrupt: .*premature end/i);
    expect(await head(`renditions/${stored.imageId}/thumb.webp`)).toBeUndefined();
    expect(await head(`renditions/${stored.imageId}/medium.webp`)).toBeUndefined();
  });

  it("GIVEN renditions already made WHEN the upload is announced again THEN the consumer skips it and the renditions are not rewritten", async () => {
    const stored = await storeUpload({
      s3,
      publisher,
      bucket: uploadsBucketOf(topology),
      body: await solid(800, 600).png().toBuffer(),
      contentType: "image/png",
      uploadedBy: "acc_it",
    });
    const first = await bothRenditions(stored.imageId);

    // S3's LastModified has one-second precision: wait until a rewrite would show a later one.
    const firstWrite = first.medium.LastModified?.getTime() ?? Date.now();
    await eventually("a second to pass since the first write", async () =>
      Date.now() > firstWrite + 2_000 ? true : undefined,
    );
    const processedBefore = eventSource?.stats.succeeded ?? 0;

    await republishUpload({ s3, publisher, bucket: uploadsBucketOf(topology), imageId: stored.imageId });
    // Succeeded means the handler finished the record and the event source deleted it.
    await eventually("the republished message to be processed", async () =>
      (eventSource?.stats.succeeded ?? 0) > processedBefore ? true : undefined,
    );

    const again = await bothRenditions(stored.imageId);
    expect(again.thumb.ETag).toBe(first.thumb.ETag);
    expect(again.thumb.LastModified).toEqual(first.thumb.LastModified);
    expect(again.medium.LastModified).toEqual(first.medium.LastModified);
  });

  it("GIVEN the publish fails after the original is stored WHEN republishUpload runs later THEN the renditions follow", async () => {
    const broken = createPublisher({
      sns: new SNSClient(clientConfig),
      topicArns: {
        "account-signups": topicOf(topology, "account-signups").arn,
        "image-uploads": `${topicOf(topology, "image-uploads").arn}-does-not-exist`,
      },
      producer: "thumbnails-it",
    });
    const body = await solid(640, 480).jpeg().toBuffer();

    const error = await storeUpload({
      s3,
      publisher: broken,
      bucket: uploadsBucketOf(topology),
      body,
      contentType: "image/jpeg",
      uploadedBy: "acc_it",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadPublishError);
    const { imageId, key } = error as UploadPublishError;
    expect(await head(key)).toBeDefined();

    await republishUpload({ s3, publisher, bucket: uploadsBucketOf(topology), imageId });

    const { medium } = await bothRenditions(imageId);
    expect(medium.Metadata).toMatchObject({ width: "640", height: "480" });
  });
});
