import { Logger } from "@aws-lambda-powertools/logger";
import {
  ChangeMessageVisibilityBatchCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSMessageAttributes, SQSRecord } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, expectTypeOf, it, vi } from "vitest";
import type { ContractEnvelope } from "../../packages/courier/src/lib/contracts/index.ts";
import type { NewAccountV1Contract } from "../../src/app/contracts/index.ts";
import { consumers } from "../../src/topology.ts";
import {
  ConsumerConfigError,
  type ConsumerContext,
  type ConsumerMessage,
  type ConsumerMetrics,
  defineConsumer,
  FAILURE_ATTRIBUTE,
  type FailureReason,
  LINEAGE_ATTRIBUTE,
  PermanentError,
  RetryableError,
} from "../helpers/example-consumer.ts";
import { confirmSqsBatches, sentMessages, visibilityChangesOf } from "../helpers/sqs-batch-mock.ts";

const QUEUE_URL = "http://sqs.local/000000000000/verification-email";
const DLQ_URL = "http://sqs.local/000000000000/verification-email-dlq";
const NOW = Date.parse("2025-06-01T12:00:00.000Z");
const spec = consumers["verification-email"];

const sqs = new SQSClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
const sqsMock = mockClient(sqs);

beforeEach(() => {
  sqsMock.reset();
  sqsMock.onAnyCommand().resolves({});
  confirmSqsBatches(sqsMock);
});

type Message = ConsumerMessage<"verification-email">;

function envelope(overrides: Partial<Message["data"]> = {}, header: Record<string, unknown> = {}) {
  return {
    eventId: crypto.randomUUID(),
    type: "NewAccount",
    version: 1,
    occurredAt: "2025-06-01T11:59:00.000Z",
    producer: "api-server",
    data: {
      accountId: "acct-1",
      email: "ada@example.com",
      displayName: "Ada",
      locale: "en-GB",
      createdAt: "2025-06-01T11:59:00.000Z",
      ...overrides,
    },
    ...header,
  };
}

let sequence = 0;
function sqsRecord(body: string, options: { receiveCount?: number; attributes?: SQSMessageAttributes } = {}) {
  sequence += 1;
  return {
    messageId: `msg-${sequence}`,
    receiptHandle: `receipt-${sequence}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(NOW - 1500),
      SenderId: "AIDAEXAMPLE",
      ApproximateFirstReceiveTimestamp: String(NOW - 1000),
    },
    messageAttributes: options.attributes ?? {
      type: { dataType: "String", stringValue: "NewAccount" },
      version: { dataType: "String", stringValue: "1" },
      hasPhone: { dataType: "String", stringValue: "false" },
    },
    md5OfBody: "ignored",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:verification-email",
    awsRegion: "us-east-1",
  } satisfies SQSRecord;
}

function snsNotification(message: string): string {
  return JSON.stringify({
    Type: "Notification",
    MessageId: "8a1f3a52-0000-4000-8000-000000000001",
    TopicArn: "arn:aws:sns:us-east-1:000000000000:account-signups",
    Message: message,
    Timestamp: "2025-06-01T11:59:00.000Z",
    SignatureVersion: "1",
    Signature: "EXAMPLE",
    SigningCertURL: "https://sns.us-east-1.amazonaws.com/cert.pem",
    UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
  });
}

function lambdaContext(remainingMs = 25_000): Context {
  return { getRemainingTimeInMillis: () => remainingMs } as unknown as Context;
}

function metricsRecorder() {
  const recorded: Array<{ name: string; unit: string; value: number }> = [];
  let published = 0;
  const metrics = {
    addMetric(name: string, unit: string, value: number) {
      recorded.push({ name, unit, value });
      return metrics;
    },
    publishStoredMetrics() {
      published += 1;
    },
  } as unknown as ConsumerMetrics;
  return {
    metrics,
    recorded,
    published: () => published,
    count: (name: string) => recorded.filter((m) => m.name === name).length,
  };
}

type Handle = (message: Message, ctx: ConsumerContext<"verification-email">) => unknown;

function consumerWith(handle: Handle, extra: { random?: () => number; metrics?: ConsumerMetrics } = {}) {
  return defineConsumer({
    name: "verification-email",
    handle,
    sqs,
    queueUrl: QUEUE_URL,
    dlqUrl: DLQ_URL,
    logger: new Logger({ serviceName: "test", logLevel: "SILENT" }),
    metrics: extra.metrics ?? metricsRecorder().metrics,
    random: extra.random ?? (() => 1 - Number.EPSILON),
    now: () => NOW,
  });
}

function dlqSends() {
  return sentMessages(sqsMock);
}

function visibilityChanges() {
  return visibilityChangesOf(sqsMock);
}

function reasonOf(attributes: Record<string, MessageAttributeValue> | undefined): FailureReason {
  return JSON.parse(attributes?.[FAILURE_ATTRIBUTE]?.StringValue ?? "null") as FailureReason;
}

const fail =
  (error: unknown): Handle =>
  () => {
    throw error;
  };

describe("defineConsumer: success", () => {
  it("GIVEN a valid raw-delivery record WHEN the handler succeeds THEN it is acknowledged and SQS is not called", async () => {
    const seen: Message[] = [];
    const handler = consumerWith((message) => {
      seen.push(message);
    });
    const body = envelope();

    const response = await handler({ Records: [sqsRecord(JSON.stringify(body))] }, lambdaContext());

    expect(response.batchItemFailures).toEqual([]);
    expect(seen).toEqual([body]);
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it("GIVEN a record WHEN handled THEN ctx carries consumer, eventId, messageId, receiveCount, the record and the remaining time", async () => {
    let captured: ConsumerContext<"verification-email"> | undefined;
    let remaining = -1;
    const handler = consumerWith((_message, ctx) => {
      captured = ctx;
      remaining = ctx.remainingTimeMs();
    });
    const body = envelope();
    const record = sqsRecord(JSON.stringify(body), { receiveCount: 3 });

    await handler({ Records: [record] }, lambdaContext(12_345));

    expect(captured).toMatchObject({
      consumer: "verification-email",
      eventId: body.eventId,
      messageId: record.messageId,
      receiveCount: 3,
      record,
    });
    expect(remaining).toBe(12_345);
  });

  it("GIVEN a record WHEN the handler logs THEN the log line carries eventId and messageId", async () => {
    const lines: string[] = [];
    // Powertools writes JSON lines to stdout; capture them for this one test.
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const handler = defineConsumer({
        name: "verification-email",
        sqs,
        queueUrl: QUEUE_URL,
        dlqUrl: DLQ_URL,
        logger: new Logger({ serviceName: "verification-email", logLevel: "INFO" }),
        metrics: metricsRecorder().metrics,
        handle: (_message, ctx) => ctx.logger.info("sending verification"),
      });
      const body = envelope();
      const record = sqsRecord(JSON.stringify(body));

      await handler({ Records: [record] }, lambdaContext());

      const logged = lines
        .flatMap((chunk) => chunk.split("\n"))
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line))
        .find((entry) => entry.message === "sending verification");
      expect(logged).toMatchObject({ eventId: body.eventId, messageId: record.messageId });
    } finally {
      write.mockRestore();
    }
  });

  it("GIVEN raw delivery off WHEN the body is an SNS notification THEN the envelope inside Message is handled", async () => {
    const seen: Message[] = [];
    const handler = consumerWith((message) => {
      seen.push(message);
    });
    const body = envelope();

    const response = await handler(
      { Records: [sqsRecord(snsNotification(JSON.stringify(body)), { attributes: {} })] },
      lambdaContext(),
    );

    expect(response.batchItemFailures).toEqual([]);
    expect(seen).toEqual([body]);
  });

  it("GIVEN processed records WHEN the batch ends THEN one processed count and each record's age are published", async () => {
    const recorder = metricsRecorder();
    const handler = consumerWith(() => undefined, { metrics: recorder.metrics });

    await handler(
      { Records: [sqsRecord(JSON.stringify(envelope())), sqsRecord(JSON.stringify(envelope()))] },
      lambdaContext(),
    );

    expect(recorder.recorded.filter((m) => m.name === "Processed")).toEqual([
      { name: "Processed", unit: "Count", value: 2 },
    ]);
    expect(recorder.recorded.filter((m) => m.name === "AgeAtProcessing")).toEqual([
      { name: "AgeAtProcessing", unit: "Milliseconds", value: 1500 },
      { name: "AgeAtProcessing", unit: "Milliseconds", value: 1500 },
    ]);
    expect(recorder.published()).toBe(1);
  });

  it("GIVEN handle's parameter WHEN typed THEN it is the accepted contract's envelope", () => {
    expectTypeOf<Message>().toEqualTypeOf<ContractEnvelope<typeof NewAccountV1Contract>>();
  });
});

describe("defineConsumer: retryable failures", () => {
  it("GIVEN a handler that throws WHEN the record is not on its last receive THEN its visibility is set by backoff and it is reported", async () => {
    const handler = consumerWith(fail(new Error("SES throttled")));
    const record = sqsRecord(JSON.stringify(envelope()), { receiveCount: 2 });

    const response = await handler({ Records: [record] }, lambdaContext());

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(visibilityChanges()).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 4 },
    ]);
    expect(dlqSends()).toEqual([]);
  });

  it("GIVEN successive receives of a failing record WHEN each fails THEN the delay grows and stops at maxSeconds", async () => {
    const handler = consumerWith(fail(new RetryableError("webhook 503")));
    const counts = [1, 2, 3, 4];
    // Receive counts past maxReceiveCount are dead-lettered, so the cap is checked with a bigger base below.
    for (const receiveCount of counts) {
      await handler({ Records: [sqsRecord(JSON.stringify(envelope()), { receiveCount })] }, lambdaContext());
    }
    expect(visibilityChanges().map((input) => input.VisibilityTimeout)).toEqual([2, 4, 8, 16]);
    expect(spec.backoff).toEqual({ baseSeconds: 2, maxSeconds: 300 });
  });

  it("GIVEN jitter WHEN a record fails THEN the delay is drawn from [0, ceiling] by the injected random source", async () => {
    const handler = consumerWith(fail(new Error("boom")), { random: () => 0.5 });

    await handler({ Records: [sqsRecord(JSON.stringify(envelope()), { receiveCount: 4 })] }, lambdaContext());

    // ceiling 16 s: floor(0.5 × 17) = 8
    expect(visibilityChanges()[0]?.VisibilityTimeout).toBe(8);
  });

  it("GIVEN ChangeMessageVisibility fails WHEN a record fails THEN it is still reported (retried after the queue's timeout)", async () => {
    sqsMock.on(ChangeMessageVisibilityBatchCommand).rejects(new Error("throttled"));
    const handler = consumerWith(fail(new Error("boom")));
    const record = sqsRecord(JSON.stringify(envelope()));

    const response = await handler({ Records: [record] }, lambdaContext());

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
  });

  it("GIVEN every record of a batch fails WHEN handled THEN all are reported in a response, not thrown", async () => {
    const handler = consumerWith(fail(new Error("down")));
    const records = [sqsRecord(JSON.stringify(envelope())), sqsRecord(JSON.stringify(envelope()))];

    const response = await handler({ Records: records }, lambdaContext());

    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      records.map((r) => r.messageId).sort(),
    );
    expect(visibilityChanges()).toHaveLength(2);
  });

  it("GIVEN a failing record WHEN retried THEN the retried metric is counted", async () => {
    const recorder = metricsRecorder();
    const handler = consumerWith(fail(new Error("boom")), { metrics: recorder.metrics });

    await handler({ Records: [sqsRecord(JSON.stringify(envelope()))] }, lambdaContext());

    expect(recorder.count("Retried")).toBe(1);
    expect(recorder.count("Processed")).toBe(0);
  });
});

describe("defineConsumer: permanent failures", () => {
  it("GIVEN a handler that throws PermanentError WHEN handled THEN the original body and attributes go to the DLQ with the reason, and it is acknowledged", async () => {
    const handler = consumerWith(fail(new PermanentError("mailbox does not exist")));
    const body = `${JSON.stringify(envelope())}  `; // trailing spaces: the copy must be byte for byte
    const record = sqsRecord(body, { receiveCount: 2 });

    const response = await handler({ Records: [record] }, lambdaContext());

    expect(response.batchItemFailures).toEqual([]);
    expect(visibilityChanges()).toEqual([]);
    const [sent] = dlqSends();
    expect(sent?.QueueUrl).toBe(DLQ_URL);
    expect(sent?.MessageBody).toBe(body);
    expect(sent?.MessageAttributes).toMatchObject({
      type: { DataType: "String", StringValue: "NewAccount" },
      version: { DataType: "String", StringValue: "1" },
      hasPhone: { DataType: "String", StringValue: "false" },
    });
    expect(reasonOf(sent?.MessageAttributes)).toEqual({
      errorClass: "PermanentError",
      message: "mailbox does not exist",
      consumer: "verification-email",
      receiveCount: 2,
      failedAt: new Date(NOW).toISOString(),
      kind: "permanent",
      messageId: record.messageId,
    });
  });

  it("GIVEN a subclass of PermanentError WHEN thrown THEN the reason names the subclass", async () => {
    class RecipientRejectedError extends PermanentError {
      override readonly name = "RecipientRejectedError";
    }
    const handler = consumerWith(fail(new RecipientRejectedError("bounced")));

    await handler({ Records: [sqsRecord(JSON.stringify(envelope()))] }, lambdaContext());

    expect(reasonOf(dlqSends()[0]?.MessageAttributes).errorClass).toBe("RecipientRejectedError");
  });

  it.each([
    ["not JSON", () => "{not json", "MalformedBodyError", /not JSON/],
    [
      "JSON without an envelope",
      () => JSON.stringify({ accountId: "acct-1" }),
      "MissingEnvelopeError",
      /eventId/,
    ],
    [
      "an unknown version",
      () => JSON.stringify(envelope({}, { version: 7 })),
      "UnsupportedMessageError",
      /NewAccount v7 is not accepted here; accepted: NewAccount v1/,
    ],
    [
      "an unknown type",
      () => JSON.stringify(envelope({}, { type: "PasswordReset" })),
      "UnsupportedMessageError",
      /PasswordReset v1/,
    ],
    [
      "invalid data",
      () => JSON.stringify(envelope({ email: "not-an-address" })),
      "InvalidDataError",
      /email/,
    ],
    [
      "an SNS notification whose Message is not JSON",
      () => snsNotification("oops"),
      "MalformedBodyError",
      /SNS notification Message is not JSON/,
    ],
  ])(
    "GIVEN a body that is %s WHEN received THEN it goes to the DLQ at once with its reason and is acknowledged",
    async (_what, makeBody, errorClass, messagePattern) => {
      let called = false;
      const handler = consumerWith(() => {
        called = true;
      });
      const body = makeBody();
      const record = sqsRecord(body);

      const response = await handler({ Records: [record] }, lambdaContext());

      expect(response.batchItemFailures).toEqual([]);
      expect(called).toBe(false);
      const [sent] = dlqSends();
      expect(sent?.MessageBody).toBe(body);
      const reason = reasonOf(sent?.MessageAttributes);
      expect(reason).toMatchObject({ errorClass, kind: "permanent", receiveCount: 1 });
      expect(reason.message).toMatch(messagePattern);
    },
  );

  it("GIVEN a handler that always throws WHEN the record is on its last allowed receive THEN it is dead-lettered as exhausted, not retried", async () => {
    const handler = consumerWith(fail(new TypeError("cannot read properties of undefined")));
    const record = sqsRecord(JSON.stringify(envelope()), { receiveCount: spec.maxReceiveCount });

    const response = await handler({ Records: [record] }, lambdaContext());

    expect(response.batchItemFailures).toEqual([]);
    expect(visibilityChanges()).toEqual([]);
    expect(reasonOf(dlqSends()[0]?.MessageAttributes)).toMatchObject({
      errorClass: "TypeError",
      kind: "exhausted",
      receiveCount: spec.maxReceiveCount,
    });
  });

  it("GIVEN the DLQ send fails WHEN a record is dead-lettered THEN it is reported as failed, never lost", async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error("KMS access denied"));
    const recorder = metricsRecorder();
    const handler = consumerWith(fail(new PermanentError("bad input")), { metrics: recorder.metrics });
    const record = sqsRecord(JSON.stringify(envelope()));

    const response = await handler({ Records: [record] }, lambdaContext());

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(recorder.count("DeadLetterFailed")).toBe(1);
    expect(recorder.count("DeadLettered")).toBe(0);
  });

  it("GIVEN a dead-lettered record WHEN the batch ends THEN the dead-lettered metric is counted", async () => {
    const recorder = metricsRecorder();
    const handler = consumerWith(fail(new PermanentError("no")), { metrics: recorder.metrics });

    await handler({ Records: [sqsRecord(JSON.stringify(envelope()))] }, lambdaContext());

    expect(recorder.count("DeadLettered")).toBe(1);
    expect(recorder.count("Processed")).toBe(0);
  });

  it("GIVEN a long error message WHEN dead-lettered THEN the reason's message is truncated to 512 characters", async () => {
    const handler = consumerWith(fail(new PermanentError("x".repeat(5000))));

    await handler({ Records: [sqsRecord(JSON.stringify(envelope()))] }, lambdaContext());

    const reason = reasonOf(dlqSends()[0]?.MessageAttributes);
    expect(reason.message.length).toBe(512);
    expect(reason.message.endsWith("…")).toBe(true);
  });

  it("GIVEN a thrown non-Error WHEN dead-lettered THEN the reason still names its kind and value", async () => {
    const handler = consumerWith(fail("plain string"));
    const record = sqsRecord(JSON.stringify(envelope()), { receiveCount: spec.maxReceiveCount });

    await handler({ Records: [record] }, lambdaContext());

    expect(reasonOf(dlqSends()[0]?.MessageAttributes)).toMatchObject({
      errorClass: "string",
      message: "plain string",
    });
  });
});

describe("defineConsumer: DLQ message attributes", () => {
  const manyAttributes = (): SQSMessageAttributes => {
    const attributes: SQSMessageAttributes = {};
    for (let i = 0; i < 6; i += 1) attributes[`extra${i}`] = { dataType: "String", stringValue: `v${i}` };
    attributes.type = { dataType: "String", stringValue: "NewAccount" };
    attributes.version = { dataType: "String", stringValue: "1" };
    attributes.hasPhone = { dataType: "String", stringValue: "true" };
    attributes[LINEAGE_ATTRIBUTE] = {
      dataType: "String",
      stringValue: '{"originalMessageId":"m0","redriveCount":1}',
    };
    return attributes;
  };

  it("GIVEN an original with 10 attributes WHEN dead-lettered THEN 10 are sent: lineage and the contract's kept, the reason added", async () => {
    const handler = consumerWith(fail(new PermanentError("no")));

    await handler(
      { Records: [sqsRecord(JSON.stringify(envelope()), { attributes: manyAttributes() })] },
      lambdaContext(),
    );

    const attributes = dlqSends()[0]?.MessageAttributes ?? {};
    expect(Object.keys(attributes)).toHaveLength(10);
    expect(Object.keys(attributes)).toEqual(
      expect.arrayContaining([FAILURE_ATTRIBUTE, LINEAGE_ATTRIBUTE, "type", "version", "hasPhone"]),
    );
    expect(attributes[LINEAGE_ATTRIBUTE]?.StringValue).toBe('{"originalMessageId":"m0","redriveCount":1}');
  });

  it("GIVEN a redriven message with an old failure reason WHEN dead-lettered again THEN the reason is replaced, not duplicated", async () => {
    const handler = consumerWith(fail(new PermanentError("second time")));
    const attributes: SQSMessageAttributes = {
      [FAILURE_ATTRIBUTE]: { dataType: "String", stringValue: '{"message":"first time"}' },
    };

    await handler({ Records: [sqsRecord(JSON.stringify(envelope()), { attributes })] }, lambdaContext());

    expect(reasonOf(dlqSends()[0]?.MessageAttributes).message).toBe("second time");
  });

  it("GIVEN a binary attribute WHEN dead-lettered THEN its bytes are kept", async () => {
    const handler = consumerWith(fail(new PermanentError("no")));
    const attributes: SQSMessageAttributes = {
      signature: { dataType: "Binary", binaryValue: Buffer.from([1, 2, 255]).toString("base64") },
    };

    await handler({ Records: [sqsRecord(JSON.stringify(envelope()), { attributes })] }, lambdaContext());

    const sent = dlqSends()[0]?.MessageAttributes?.signature;
    expect(sent?.DataType).toBe("Binary");
    expect([...(sent?.BinaryValue ?? [])]).toEqual([1, 2, 255]);
  });
});

describe("defineConsumer: isolation within a batch", () => {
  it("GIVEN a batch with a throwing, a poison and a good record WHEN handled THEN only the throwing one is reported and the good one is processed", async () => {
    const processed: string[] = [];
    const handler = consumerWith((message) => {
      if (message.data.displayName === "Throws") throw new Error("transient");
      processed.push(message.eventId);
    });
    const good = envelope({ displayName: "Good" });
    const before = sqsRecord(JSON.stringify(envelope({ displayName: "Before" })));
    const throwing = sqsRecord(JSON.stringify(envelope({ displayName: "Throws" })));
    const poison = sqsRecord("\u0000garbage");
    const after = sqsRecord(JSON.stringify(good));

    const response = await handler({ Records: [before, throwing, poison, after] }, lambdaContext());

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: throwing.messageId }]);
    expect(processed).toHaveLength(2);
    expect(processed).toContain(good.eventId);
    expect(dlqSends().map((input) => input.MessageBody)).toEqual([poison.body]);
    expect(visibilityChanges().map((input) => input.ReceiptHandle)).toEqual([throwing.receiptHandle]);
  });

  it("GIVEN slow records WHEN a batch is handled THEN they run concurrently (batch time is the slowest, not the sum)", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const handler = consumerWith(async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
    });
    const records = Array.from({ length: 5 }, () => sqsRecord(JSON.stringify(envelope())));

    await handler({ Records: records }, lambdaContext());

    expect(maxInFlight).toBe(5);
  });
  it("GIVEN processInParallel false WHEN a batch is handled THEN records run one at a time", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const handler = defineConsumer({
      name: "verification-email",
      sqs,
      queueUrl: QUEUE_URL,
      dlqUrl: DLQ_URL,
      logger: new Logger({ logLevel: "SILENT" }),
      metrics: metricsRecorder().metrics,
      processInParallel: false,
      handle: async () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
      },
    });
    const records = Array.from({ length: 5 }, () => sqsRecord(JSON.stringify(envelope())));

    await handler({ Records: records }, lambdaContext());

    expect(maxInFlight).toBe(1);
  });
});

describe("defineConsumer: configuration", () => {
  it("GIVEN no queue URLs passed and COURIER_DLQ_URL unset WHEN the first batch arrives THEN it fails naming the variable", async () => {
    const handler = defineConsumer({
      name: "verification-email",
      sqs,
      env: { COURIER_QUEUE_URL: QUEUE_URL },
      logger: new Logger({ logLevel: "SILENT" }),
      metrics: metricsRecorder().metrics,
      handle: () => undefined,
    });

    const attempt = handler({ Records: [sqsRecord(JSON.stringify(envelope()))] }, lambdaContext());

    await expect(attempt).rejects.toThrow(ConsumerConfigError);
    await expect(attempt).rejects.toThrow(/COURIER_DLQ_URL is not set/);
  });

  it("GIVEN queue URLs in the environment WHEN a record fails THEN those URLs are used", async () => {
    const handler = defineConsumer({
      name: "verification-email",
      sqs,
      env: { COURIER_QUEUE_URL: QUEUE_URL, COURIER_DLQ_URL: DLQ_URL },
      logger: new Logger({ logLevel: "SILENT" }),
      metrics: metricsRecorder().metrics,
      handle: fail(new PermanentError("no")),
    });

    await handler({ Records: [sqsRecord(JSON.stringify(envelope()))] }, lambdaContext());

    expect(dlqSends()[0]?.QueueUrl).toBe(DLQ_URL);
  });

  it("GIVEN an unknown consumer name WHEN defined THEN it throws listing the known consumers", () => {
    expect(() =>
      defineConsumer({ name: "nope" as "verification-email", sqs, handle: () => undefined }),
    ).toThrow(/unknown consumer "nope"; known consumers: verification-email/);
  });
});

describe("defineConsumer: any thrown value fails only its record", () => {
  // A rejected promise with no reason reaches the runtime as `undefined`, like `throw undefined`.
  const cases: Array<{ what: string; handle: () => unknown; errorClass: string; message: RegExp }> = [
    {
      what: "undefined",
      handle: () => {
        throw undefined;
      },
      errorClass: "undefined",
      message: /undefined was thrown/,
    },
    {
      what: "null",
      handle: () => {
        throw null;
      },
      errorClass: "null",
      message: /null was thrown/,
    },
    {
      what: "a string",
      handle: () => {
        throw "quota exceeded";
      },
      errorClass: "string",
      message: /^quota exceeded$/,
    },
    {
      what: "a number",
      handle: () => {
        throw 42;
      },
      errorClass: "number",
      message: /^42$/,
    },
    {
      what: "a frozen object",
      handle: () => {
        throw Object.freeze({ code: "E_FROZEN" });
      },
      errorClass: "object",
      message: /^\{"code":"E_FROZEN"\}$/,
    },
    {
      what: "a promise rejected without a reason",
      handle: () => Promise.reject(),
      errorClass: "undefined",
      message: /promise rejected without a reason/,
    },
  ];

  for (const c of cases) {
    it(`GIVEN a handler that throws ${c.what} between healthy neighbours WHEN the batch is handled THEN only that record is reported`, async () => {
      const processed: string[] = [];
      const handler = consumerWith((message, ctx) => {
        if (message.data.displayName === "Bad") return c.handle();
        processed.push(ctx.messageId);
      });
      const before = sqsRecord(JSON.stringify(envelope({ displayName: "Before" })));
      const bad = sqsRecord(JSON.stringify(envelope({ displayName: "Bad" })));
      const after = sqsRecord(JSON.stringify(envelope({ displayName: "After" })));

      const response = await handler({ Records: [before, bad, after] }, lambdaContext());

      expect(response.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
      expect(processed).toEqual([before.messageId, after.messageId]);
    });

    it(`GIVEN a handler that throws ${c.what} on the last receive WHEN dead-lettered THEN the reason says what was thrown`, async () => {
      const handler = consumerWith((message) =>
        message.data.displayName === "Bad" ? c.handle() : undefined,
      );
      const good = sqsRecord(JSON.stringify(envelope({ displayName: "Good" })));
      const bad = sqsRecord(JSON.stringify(envelope({ displayName: "Bad" })), {
        receiveCount: spec.maxReceiveCount,
      });

      const response = await handler({ Records: [good, bad] }, lambdaContext());

      expect(response.batchItemFailures).toEqual([]);
      const sends = dlqSends();
      expect(sends.map((s) => s.MessageBody)).toEqual([bad.body]);
      const reason = reasonOf(sends[0]?.MessageAttributes);
      expect(reason.errorClass).toBe(c.errorClass);
      expect(reason.message).toMatch(c.message);
    });
  }

  it("GIVEN two invocations WHEN the first response is changed THEN the second is a new object, unaffected", async () => {
    const handler = consumerWith(fail(new Error("down")));
    const first = await handler({ Records: [sqsRecord(JSON.stringify(envelope()))] }, lambdaContext());
    first.batchItemFailures.push({ itemIdentifier: "tampered" });

    const record = sqsRecord(JSON.stringify(envelope()));
    const second = await handler({ Records: [record] }, lambdaContext());

    expect(second).not.toBe(first);
    expect(second.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
  });

  it("GIVEN an event without Records WHEN invoked THEN it fails with a clear error", async () => {
    const handler = consumerWith(() => undefined);

    await expect(handler({} as never, lambdaContext())).rejects.toThrow(/no Records array/);
  });
});

describe("defineConsumer: batched SQS calls for failures", () => {
  const tenRecords = (receiveCount = 1) =>
    Array.from({ length: 10 }, () => sqsRecord(JSON.stringify(envelope()), { receiveCount }));

  it("GIVEN all 10 records of a batch fail WHEN retried THEN one ChangeMessageVisibilityBatch carries the 10 delays", async () => {
    const records = tenRecords(3);
    const handler = consumerWith(fail(new Error("down")));

    const response = await handler({ Records: records }, lambdaContext());

    expect(response.batchItemFailures).toHaveLength(10);
    expect(sqsMock.calls()).toHaveLength(1);
    expect(visibilityChanges().map((c) => c.ReceiptHandle)).toEqual(records.map((r) => r.receiptHandle));
    const delay = visibilityChanges()[0]?.VisibilityTimeout;
    expect(delay).toBeGreaterThan(0);
    expect(visibilityChanges().every((c) => c.QueueUrl === QUEUE_URL && c.VisibilityTimeout === delay)).toBe(
      true,
    );
  });

  it("GIVEN all 10 records of a batch are permanent failures WHEN dead-lettered THEN one SendMessageBatch carries them", async () => {
    const records = tenRecords();
    const handler = consumerWith(fail(new PermanentError("no")));

    const response = await handler({ Records: records }, lambdaContext());

    expect(response.batchItemFailures).toEqual([]);
    expect(sqsMock.calls()).toHaveLength(1);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.QueueUrl).toBe(DLQ_URL);
    expect(dlqSends().map((s) => s.MessageBody)).toEqual(records.map((r) => r.body));
  });

  it("GIVEN 25 dead letters in one invocation WHEN sent THEN they go in calls of 10, 10 and 5", async () => {
    const records = [...tenRecords(), ...tenRecords(), ...tenRecords().slice(0, 5)];
    const handler = consumerWith(fail(new PermanentError("no")));

    await handler({ Records: records }, lambdaContext());

    const sizes = sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries?.length);
    expect(sizes).toEqual([10, 10, 5]);
  });

  it("GIVEN SQS refuses one entry of a SendMessageBatch WHEN dead-lettering THEN only that record is reported, the others are acknowledged", async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
      Successful: input.Entries.filter((e) => e.Id !== "1").map((e) => ({
        Id: e.Id,
        MessageId: "x",
        MD5OfMessageBody: "",
      })),
      Failed: [{ Id: "1", SenderFault: false, Code: "InternalError", Message: "try again" }],
    }));
    const recorder = metricsRecorder();
    const records = tenRecords().slice(0, 3);
    const handler = consumerWith(fail(new PermanentError("no")), { metrics: recorder.metrics });

    const response = await handler({ Records: records }, lambdaContext());

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]?.messageId }]);
    expect(recorder.recorded.find((m) => m.name === "DeadLettered")?.value).toBe(2);
    expect(recorder.recorded.find((m) => m.name === "DeadLetterFailed")?.value).toBe(1);
  });

  it("GIVEN a SendMessageBatch answer that omits an entry WHEN dead-lettering THEN that record is not acknowledged", async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [{ Id: "0", MessageId: "x", MD5OfMessageBody: "" }], Failed: [] });
    const records = tenRecords().slice(0, 2);
    const handler = consumerWith(fail(new PermanentError("no")));

    const response = await handler({ Records: records }, lambdaContext());

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]?.messageId }]);
  });

  it("GIVEN SQS refuses one entry of a ChangeMessageVisibilityBatch WHEN retrying THEN every failed record is still reported", async () => {
    sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({
      Successful: [{ Id: "0" }],
      Failed: [{ Id: "1", SenderFault: true, Code: "ReceiptHandleIsInvalid", Message: "expired" }],
    });
    const records = tenRecords().slice(0, 2);
    const handler = consumerWith(fail(new Error("down")));

    const response = await handler({ Records: records }, lambdaContext());

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.map((r) => r.messageId));
  });
});
