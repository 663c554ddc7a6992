/**
 * The bad-input corpus against the consumer runtime (`defineConsumer`, SQS mocked with
 * aws-sdk-client-mock). Every bad record must be dead-lettered at once (a retry cannot fix it) with
 * a `courier.failure` reason naming the problem, its body kept byte for byte, and the handler never
 * called with it. Failure modes covered: a poison record retried until maxReceiveCount; a reason
 * that does not say what is wrong; a throw that fails the whole batch (re-running the good records);
 * a bad record reaching business code; prototype pollution through a body.
 */

import { Logger } from "@aws-lambda-powertools/logger";
import { type SendMessageCommandInput, SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSRecord } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  type ConsumerMetrics,
  defineConsumer,
  FAILURE_ATTRIBUTE,
  FAILURE_MESSAGE_MAX_CHARS,
  type FailureReason,
} from "../helpers/example-consumer.ts";
import { confirmSqsBatches, sentMessages } from "../helpers/sqs-batch-mock.ts";
import { sqsRecord } from "../helpers/sqs-record.ts";
import { runtimeAcceptedOddities, runtimeCases, validEnvelope, validSignup } from "./inputs.ts";

const QUEUE_URL = "http://sqs.local/000000000000/verification-email";
const DLQ_URL = "http://sqs.local/000000000000/verification-email-dlq";
const sqs = new SQSClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
const sqsMock = mockClient(sqs);
const context = { getRemainingTimeInMillis: () => 25_000 } as unknown as Context;
const noMetrics = {
  addMetric: () => undefined,
  publishStoredMetrics: () => undefined,
} as unknown as ConsumerMetrics;

beforeEach(() => {
  sqsMock.reset();
  sqsMock.onAnyCommand().resolves({});
  confirmSqsBatches(sqsMock);
});

const record = (body: string): SQSRecord => sqsRecord(body);

function consumer() {
  const handled: string[] = [];
  const handler = defineConsumer({
    name: "verification-email",
    sqs,
    queueUrl: QUEUE_URL,
    dlqUrl: DLQ_URL,
    logger: new Logger({ serviceName: "corpus", logLevel: "SILENT" }),
    metrics: noMetrics,
    handle: (message) => {
      handled.push(message.data.accountId);
    },
  });
  return { handler, handled };
}

function dlqSends(): SendMessageCommandInput[] {
  return sentMessages(sqsMock);
}

function reasonOf(send: SendMessageCommandInput | undefined): FailureReason {
  return JSON.parse(send?.MessageAttributes?.[FAILURE_ATTRIBUTE]?.StringValue ?? "null") as FailureReason;
}

describe("GIVEN the consumer runtime and the bad-input corpus", () => {
  it.each(runtimeCases)(
    "WHEN a record holds $name THEN it is dead-lettered at once with a $errorClass reason naming it",
    async (c) => {
      const { handler, handled } = consumer();
      const bad = record(c.body);
      const response = await handler({ Records: [bad] }, context);

      // Settled (deleted from the source queue), not left to be retried.
      expect(response.batchItemFailures).toEqual([]);
      expect(handled).toEqual([]);
      const sends = dlqSends();
      expect(sends).toHaveLength(1);
      expect(sends[0]?.QueueUrl).toBe(DLQ_URL);
      expect(sends[0]?.MessageBody).toBe(c.body);
      const reason = reasonOf(sends[0]);
      expect(reason.errorClass).toBe(c.errorClass);
      expect(reason.kind).toBe("permanent");
      expect(reason.consumer).toBe("verification-email");
      expect(reason.messageId).toBe(bad.messageId);
      expect(reason.message.length).toBeLessThanOrEqual(FAILURE_MESSAGE_MAX_CHARS);
      for (const word of c.mentions) expect(reason.message).toContain(word);
    },
  );

  it.each(runtimeAcceptedOddities)(
    "WHEN a record holds $name THEN it is accepted on purpose and handled once",
    async ({ body }) => {
      const { handler, handled } = consumer();
      const response = await handler({ Records: [record(body)] }, context);
      expect(response.batchItemFailures).toEqual([]);
      expect(handled).toEqual([validSignup().accountId]);
      expect(dlqSends()).toEqual([]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it("WHEN one batch mixes every bad record of the corpus with good ones THEN the good ones are handled, every bad one is dead-lettered, and the batch reports no failure", async () => {
    const { handler, handled } = consumer();
    const good = (n: number) =>
      record(
        JSON.stringify(
          validEnvelope(validSignup({ accountId: `good-${n}` }), {
            eventId: `6f1c2a4e-8d3b-4c5a-9e7f-00000000000${n}`,
          }),
        ),
      );
    const bad = runtimeCases.map((c) => record(c.body));
    const records = [good(1), ...bad.slice(0, 20), good(2), ...bad.slice(20), good(3)];

    const response = await handler({ Records: records }, context);

    expect(response.batchItemFailures).toEqual([]);
    expect(handled.sort()).toEqual(["good-1", "good-2", "good-3"]);
    const sends = dlqSends();
    expect(sends).toHaveLength(bad.length);
    expect(sends.map((s) => reasonOf(s).messageId).sort()).toEqual(bad.map((r) => r.messageId).sort());
  });
});
