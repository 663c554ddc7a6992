/**
 * Fair delivery per tenant on LocalStack, items 1 and 3: the tenant travels as MessageGroupId from
 * the publisher through SNS (standard topic) to the consumer's standard queue, and keeps travelling
 * through the runtime's DLQ copy, a selective redrive and a bulk redrive (StartMessageMoveTask);
 * the consumer runtime, run by the local event source on that queue, writes dwell time per tenant
 * as EMF (Powertools Metrics), the noisy tenant named and the quiet ones as "other"; `courier
 * status`'s reader finds the noisy tenant in CloudWatch.
 * Failure modes covered: a publisher that sends no group (the queue serves the flood first), an SNS
 * hop that drops it, a DLQ copy or redrive that drops it (a redriven message loses its tenant), a
 * redrive that sends a deduplication id to a standard queue (SQS refuses it, the redrive fails),
 * a manifest that does not tell workers the consumer's tenant, dwell time without a tenant
 * dimension or with one per quiet tenant (unbounded cardinality), and status not naming the noisy.
 * What LocalStack cannot show: the fair scheduling itself (it serves a standard queue in order;
 * see README "Fair delivery per tenant").
 */
import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { SNSClient } from "@aws-sdk/client-sns";
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import {
  consumerStatuses,
  noisyTenantsFromCloudWatch,
} from "../../packages/courier/src/deployment/consumer-status.ts";
import { deadLetterMessage } from "../../packages/courier/src/lib/consumer/dead-letter.ts";
import { createConsumerHandler } from "../../packages/courier/src/lib/consumer/define-consumer.ts";
import { redriveInBulk } from "../../packages/courier/src/lib/redrive/bulk.ts";
import { redriveSelectively } from "../../packages/courier/src/lib/redrive/selective.ts";
import { startEventSource } from "../../packages/courier/src/worker/event-source.ts";
import { ImageUploadedV1Contract } from "../../src/app/contracts/index.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { topicNames } from "../../src/topology.ts";
import { createPublisher, type Publisher } from "../helpers/example-publisher.ts";
import { consumerOf, topicOf } from "../helpers/example-stack.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const endpoint = inject("localstackEndpoint");
const clientConfig = { ...localClientConfig(), endpoint };
const sqs = new SQSClient(clientConfig);
let stack: TestStack | undefined;
let publisher: Publisher;

beforeAll(async () => {
  stack = await deployTestStack("tenant-group");
  const topology = stack.topology;
  publisher = createPublisher({
    sns: new SNSClient(clientConfig),
    topicArns: Object.fromEntries(topicNames.map((t) => [t, topicOf(topology, t).arn])),
    producer: "tenant-group-test",
  });
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
});

const upload = (uploadedBy: string) => ({
  imageId: `img-${randomUUID()}`,
  bucket: "uploads",
  key: "originals/x",
  contentType: "image/jpeg",
  byteSize: 10,
  uploadedBy,
  uploadedAt: new Date().toISOString(),
});

/** Receives and deletes until `count` messages came or 30 s passed. */
async function drain(queueUrl: string, count: number): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + 30_000;
  while (got.length < count && Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    for (const m of Messages) {
      got.push(m);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return got;
}

const groupsByEvent = (messages: readonly Message[]) =>
  Object.fromEntries(
    messages.map((m) => [
      (JSON.parse(m.Body ?? "{}") as { eventId: string }).eventId,
      m.Attributes?.MessageGroupId,
    ]),
  );

describe("GIVEN the image-uploads topic with the uploading account as tenant, deployed to LocalStack", () => {
  it("WHEN the stack's manifest is read THEN the topic and the thumbnails consumer name the tenant field", () => {
    const topology = stack?.topology;
    expect(topology && topicOf(topology, "image-uploads").tenant).toBe("uploadedBy");
    expect(topology && consumerOf(topology, "thumbnails").tenant).toBe("uploadedBy");
    expect(topology && consumerOf(topology, "verification-email")).not.toHaveProperty("tenant");
  });

  it("WHEN two accounts' uploads are published THEN each arrives on the thumbnails queue with its account as MessageGroupId", async () => {
    const queueUrl = consumerOf(stack?.topology as never, "thumbnails").queueUrl;
    const a = await publisher.publish("image-uploads", upload("acct-a"));
    const b = await publisher.publish("image-uploads", upload("acct-b"));
    const received = await drain(queueUrl, 2);
    expect(groupsByEvent(received)).toEqual({ [a.eventId]: "acct-a", [b.eventId]: "acct-b" });
  });

  it("WHEN a tenant's message is dead-lettered by the runtime and redriven selectively THEN it is back on the queue with its tenant", async () => {
    const consumer = consumerOf(stack?.topology as never, "thumbnails");
    const published = await publisher.publish("image-uploads", upload("acct-dlq"));
    const [delivered] = await drain(consumer.queueUrl, 1);
    const record = {
      messageId: delivered?.MessageId,
      receiptHandle: delivered?.ReceiptHandle,
      body: delivered?.Body,
      attributes: delivered?.Attributes,
      messageAttributes: {},
    } as unknown as SQSRecord;
    const reason = {
      errorClass: "Error",
      message: "boom",
      consumer: "thumbnails",
      receiveCount: 5,
      failedAt: new Date().toISOString(),
      kind: "exhausted" as const,
      messageId: record.messageId,
    };
    await sqs.send(new SendMessageCommand(deadLetterMessage(record, reason, consumer.dlqUrl, [])));
    const summary = await redriveSelectively({ sqs, dlqUrl: consumer.dlqUrl, queueUrl: consumer.queueUrl });
    expect(summary).toMatchObject({ moved: 1, failed: 0 });
    expect(groupsByEvent(await drain(consumer.queueUrl, 1))).toEqual({ [published.eventId]: "acct-dlq" });
  });

  it("WHEN a tenant's message is redriven in bulk (StartMessageMoveTask) THEN it keeps its tenant", async () => {
    const consumer = consumerOf(stack?.topology as never, "thumbnails");
    const body = JSON.stringify({ eventId: randomUUID(), data: {} });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: consumer.dlqUrl, MessageBody: body, MessageGroupId: "acct-bulk" }),
    );
    await redriveInBulk({ sqs, dlqArn: consumer.dlqArn, queueArn: consumer.queueArn, pollIntervalMs: 200 });
    const [back] = await drain(consumer.queueUrl, 1);
    expect(back?.Body).toBe(body);
    expect(back?.Attributes?.MessageGroupId).toBe("acct-bulk");
  });
});

describe("GIVEN the consumer runtime on the thumbnails queue, under the local event source", () => {
  it("WHEN a noisy account's 40 uploads and a quiet account's 3 are processed THEN dwell time is written per tenant: the noisy one named, the quiet as 'other'", async () => {
    const consumer = consumerOf(stack?.topology as never, "thumbnails");
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: unknown, ...rest: unknown[]) => {
      const text = String(chunk);
      if (text.includes("TenantDwellTime")) {
        lines.push(text);
        return true;
      }
      return write(chunk as string, ...(rest as []));
    });
    const previous = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = "false";
    const handled: string[] = [];
    const source = await startEventSource({
      sqs,
      queueUrl: consumer.queueUrl,
      functionName: "thumbnails",
      batchSize: 5,
      maxBatchingWindowSeconds: 0,
      timeoutSeconds: 30,
      concurrency: 2,
      waitTimeSeconds: 1,
      fairTenants: true,
      handler: createConsumerHandler({
        spec: {
          name: "thumbnails",
          accepts: [ImageUploadedV1Contract],
          maxReceiveCount: 5,
          backoff: { baseSeconds: 1, maxSeconds: 2 },
          timeoutSeconds: 30,
          tenants: true,
        },
        sqs,
        queueUrl: consumer.queueUrl,
        dlqUrl: consumer.dlqUrl,
        logger: new Logger({ serviceName: "thumbnails", logLevel: "SILENT" }),
        metrics: { addMetric: () => undefined, publishStoredMetrics: () => undefined },
        // Powertools Metrics as the runtime makes it on Lambda (namespace and service as there).
        tenantMetrics: new Metrics({ namespace: "courier", serviceName: "thumbnails" }),
        handle: (message) => {
          handled.push(message.data.imageId);
        },
      }),
    });
    try {
      const noisy = await publisher.publishBatch(
        "image-uploads",
        Array.from({ length: 40 }, () => upload("acct-noisy")),
      );
      expect(noisy.every((r) => r.ok)).toBe(true);
      for (let i = 0; i < 3; i++) await publisher.publish("image-uploads", upload("acct-quiet"));
      const deadline = Date.now() + 60_000;
      while (handled.length < 43 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(handled).toHaveLength(43);
    } finally {
      await source.stop();
      spy.mockRestore();
      if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
      else process.env.POWERTOOLS_METRICS_DISABLED = previous;
    }
    const documents = lines
      .flatMap((l) => l.split("\n"))
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const valuesOf = (tenant: string) =>
      documents
        .filter((d) => d.tenant === tenant)
        .flatMap((d) => (Array.isArray(d.TenantDwellTime) ? d.TenantDwellTime : [d.TenantDwellTime]));
    for (const d of documents) {
      expect(d._aws.CloudWatchMetrics[0]).toMatchObject({
        Namespace: "courier",
        Dimensions: [["service", "tenant"]],
        Metrics: [{ Name: "TenantDwellTime", Unit: "Milliseconds" }],
      });
    }
    expect(new Set(documents.map((d) => d.tenant))).toEqual(new Set(["acct-noisy", "other"]));
    // The first 29 of the noisy account's are counted before it reaches 30 processed: as "other".
    expect(valuesOf("acct-noisy").length + valuesOf("other").length).toBe(43);
    expect(valuesOf("acct-noisy").length).toBeGreaterThanOrEqual(5);
    for (const ms of [...valuesOf("acct-noisy"), ...valuesOf("other")]) {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(60_000);
    }
  });

  it("WHEN CloudWatch holds the runtime's metric for a noisy tenant THEN status names it for thumbnails, not for other consumers", async () => {
    const cloudwatch = new CloudWatchClient(clientConfig);
    const stackName = stack?.topology.stackName ?? "";
    // What CloudWatch Logs extracts from the runtime's EMF lines (LocalStack does not extract EMF).
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: `courier-${stackName}`,
        MetricData: [
          {
            MetricName: "TenantDwellTime",
            Dimensions: [
              { Name: "service", Value: "thumbnails" },
              { Name: "tenant", Value: "acct-noisy" },
            ],
            Values: [1200, 1500, 9000],
            Counts: [10, 20, 10],
            Unit: "Milliseconds",
          },
          {
            MetricName: "TenantDwellTime",
            Dimensions: [
              { Name: "service", Value: "thumbnails" },
              { Name: "tenant", Value: "other" },
            ],
            Values: [80],
            Unit: "Milliseconds",
          },
        ],
      }),
    );
    const statuses = await consumerStatuses({
      sqs,
      topology: stack?.topology as never,
      consumers: ["thumbnails", "verification-email"],
      noisyTenants: noisyTenantsFromCloudWatch(cloudwatch, `courier-${stackName}`),
    });
    const thumbnails = statuses.find((s) => s.consumer === "thumbnails");
    expect(thumbnails?.tenants?.noisy?.map((t) => [t.tenant, t.processed])).toEqual([["acct-noisy", 40]]);
    expect(statuses.find((s) => s.consumer === "verification-email")).not.toHaveProperty("tenants");
  });
});
