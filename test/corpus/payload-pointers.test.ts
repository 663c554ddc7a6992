/**
 * The bad-pointer corpus against the consumer runtime with payload resolution (SQS and S3 mocked
 * with aws-sdk-client-mock). Every bad pointer is dead-lettered at once with a reason naming the
 * problem, the pointer body and its ExtendedPayloadSize kept as they came (so a redrive after the
 * fix resolves), the handler never called, and S3 read only where the location is allowed and
 * never past the declared size. Failure modes: a crash or a whole-batch failure on a bad pointer;
 * a read from a bucket or prefix the consumer is not given; an unbounded read; a pointer retried
 * until maxReceiveCount instead of dead-lettered with its reason.
 */
import { Readable } from "node:stream";
import { Logger } from "@aws-lambda-powertools/logger";
import { GetObjectCommand, NoSuchKey, S3Client } from "@aws-sdk/client-s3";
import { type SendMessageCommandInput, SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  type ConsumerMetrics,
  createConsumerHandler,
  FAILURE_ATTRIBUTE,
  type FailureReason,
} from "../../packages/courier/src/lib/consumer/index.ts";
import {
  createPayloadResolver,
  encodePointer,
} from "../../packages/courier/src/lib/payload-offloading/index.ts";
import { NewAccountV1Contract } from "../../src/app/contracts/index.ts";
import { confirmSqsBatches, sentMessages } from "../helpers/sqs-batch-mock.ts";
import { sqsRecord } from "../helpers/sqs-record.ts";
import {
  POINTER_BUCKET,
  POINTER_CAP_BYTES,
  POINTER_PREFIX,
  pointerCases,
  validEnvelope,
  validSignup,
} from "./inputs.ts";

const creds = { region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } };
const sqs = new SQSClient(creds);
const sqsMock = mockClient(sqs);
const s3 = new S3Client(creds);
const s3Mock = mockClient(s3);
const context = { getRemainingTimeInMillis: () => 25_000 } as unknown as Context;
const noMetrics = {
  addMetric: () => undefined,
  publishStoredMetrics: () => undefined,
} as unknown as ConsumerMetrics;
const DLQ_URL = "http://sqs.local/000000000000/verification-email-dlq";

beforeEach(() => {
  sqsMock.reset();
  s3Mock.reset();
  sqsMock.onAnyCommand().resolves({});
  confirmSqsBatches(sqsMock);
});

/** A stream of `bytes` bytes in 64 KiB chunks that counts what was pulled from it. */
function countedStream(bytes: number) {
  const state = { pulledBytes: 0 };
  const stream = Readable.from(
    (function* () {
      for (let sent = 0; sent < bytes; sent += 65_536) {
        const size = Math.min(65_536, bytes - sent);
        state.pulledBytes += size;
        yield Buffer.alloc(size, 120);
      }
    })(),
  );
  return { stream, state };
}

function consumer(withPayloads = true) {
  const handled: string[] = [];
  const handler = createConsumerHandler({
    spec: {
      name: "verification-email",
      accepts: [NewAccountV1Contract],
      maxReceiveCount: 5,
      backoff: { baseSeconds: 2, maxSeconds: 300 },
      timeoutSeconds: 30,
    },
    sqs,
    queueUrl: "http://sqs.local/000000000000/verification-email",
    dlqUrl: DLQ_URL,
    logger: new Logger({ serviceName: "corpus", logLevel: "SILENT" }),
    metrics: noMetrics,
    ...(withPayloads
      ? {
          payloads: createPayloadResolver({
            s3,
            locations: [{ bucket: POINTER_BUCKET, prefix: POINTER_PREFIX }],
            maxBytes: POINTER_CAP_BYTES,
          }),
        }
      : {}),
    handle: (message) => {
      handled.push(message.data.accountId);
    },
  });
  return { handler, handled };
}

const pointerRecord = (body: string, declaredSize: string) =>
  sqsRecord(body, {
    messageAttributes: {
      ExtendedPayloadSize: {
        stringValue: declaredSize,
        dataType: "Number",
        stringListValues: [],
        binaryListValues: [],
      },
      type: { stringValue: "NewAccount", dataType: "String", stringListValues: [], binaryListValues: [] },
    },
  });

const reasonOf = (send: SendMessageCommandInput | undefined): FailureReason =>
  JSON.parse(send?.MessageAttributes?.[FAILURE_ATTRIBUTE]?.StringValue ?? "null") as FailureReason;

describe("GIVEN the consumer runtime resolving payload pointers and the bad-pointer corpus", () => {
  it.each(pointerCases)(
    "WHEN a record holds $name THEN it is dead-lettered at once with a $errorClass reason, pointer and size attribute untouched",
    async (c) => {
      const { stream, state } = countedStream(c.object && c.object !== "missing" ? c.object.bytes : 0);
      if (c.object === "missing") {
        s3Mock
          .on(GetObjectCommand)
          .rejects(new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} }));
      } else if (c.object) {
        s3Mock
          .on(GetObjectCommand)
          .resolves({ Body: stream, ContentLength: c.object.contentLength } as never);
      }
      const { handler, handled } = consumer();
      const bad = pointerRecord(c.body, c.declaredSize);
      const response = await handler({ Records: [bad] }, context);

      expect(response.batchItemFailures).toEqual([]);
      expect(handled).toEqual([]);
      const sends = sentMessages(sqsMock);
      expect(sends).toHaveLength(1);
      expect(sends[0]?.QueueUrl).toBe(DLQ_URL);
      expect(sends[0]?.MessageBody).toBe(c.body);
      expect(sends[0]?.MessageAttributes?.ExtendedPayloadSize).toEqual({
        DataType: "Number",
        StringValue: c.declaredSize,
      });
      const reason = reasonOf(sends[0]);
      expect(reason).toMatchObject({ errorClass: c.errorClass, kind: "permanent", messageId: bad.messageId });
      for (const word of c.mentions) expect(reason.message).toContain(word);
      expect(s3Mock.calls().length > 0).toBe(c.readsS3);
      // Never more than one chunk past the declared size is pulled from S3.
      expect(state.pulledBytes).toBeLessThanOrEqual((Number(c.declaredSize) || 0) + 65_536);
    },
  );

  it("WHEN a good pointer sits in a batch with every bad one THEN the good one is resolved and handled, each bad one dead-lettered", async () => {
    const envelope = JSON.stringify(validEnvelope(validSignup({ accountId: "by-reference" })));
    const key = `${POINTER_PREFIX}good`;
    s3Mock.on(GetObjectCommand, { Bucket: POINTER_BUCKET, Key: key }).callsFake(() => ({
      Body: Readable.from([Buffer.from(envelope)]),
      ContentLength: Buffer.byteLength(envelope),
    }));
    s3Mock
      .on(GetObjectCommand, { Key: `${POINTER_PREFIX}expired` })
      .rejects(new NoSuchKey({ message: "gone", $metadata: {} }));
    const { handler, handled } = consumer();
    const good = pointerRecord(
      encodePointer({ bucket: POINTER_BUCKET, key }),
      String(Buffer.byteLength(envelope)),
    );
    const bad = pointerCases
      .filter((c) => !c.object || c.object === "missing")
      .map((c) => pointerRecord(c.body, c.declaredSize));
    const response = await handler({ Records: [...bad.slice(0, 3), good, ...bad.slice(3)] }, context);
    expect(response.batchItemFailures).toEqual([]);
    expect(handled).toEqual(["by-reference"]);
    expect(sentMessages(sqsMock)).toHaveLength(bad.length);
  });

  it("WHEN a consumer given no payload locations receives a pointer THEN it is dead-lettered without any S3 call", async () => {
    const { handler, handled } = consumer(false);
    const body = encodePointer({ bucket: POINTER_BUCKET, key: `${POINTER_PREFIX}x` });
    await handler({ Records: [pointerRecord(body, "300000")] }, context);
    expect(handled).toEqual([]);
    const reason = reasonOf(sentMessages(sqsMock)[0]);
    expect(reason).toMatchObject({ errorClass: "PayloadLocationRefusedError", kind: "permanent" });
    expect(reason.message).toContain("this consumer reads none");
    expect(s3Mock.calls()).toHaveLength(0);
  });
});
