/**
 * What a topic's archive costs per million messages, from measured work priced at list prices:
 * courier's archiver (an SQS subscription drained by a Lambda function that writes one gzipped JSON
 * Lines object per batch and hour) on a standard and a FIFO topic, beside the naive archiving
 * consumer (one S3 object per message) as the baseline, measured in the same run against
 * LocalStack's S3; and Data Firehose (SNS's Firehose subscription) priced only. LocalStack's
 * support for Firehose and for SNS FIFO's own ArchivePolicy is probed and reported.
 *
 * Run alone: npm run bench -- archive-cost --messages N   (default 2,000 messages per scenario)
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  SetTopicAttributesCommand,
  SNSClient,
} from "@aws-sdk/client-sns";
import type { SQSRecord } from "aws-lambda";
import { ARCHIVER_SETTINGS } from "../packages/courier/src/cdk/topic-archive.ts";
import { archiveRecords, listKeys } from "../packages/courier/src/lib/archive/archive-store.ts";
import { localClientConfig } from "../src/dev/local-aws-config.ts";
import { PRICES } from "./cost.bench.ts";
import { freshBucket, signupNotificationRecord } from "./lib/archive-fixtures.ts";
import type { BenchContext, Benchmark, BenchResult, Row } from "./lib/benchmark.ts";
import { round } from "./lib/stats.ts";

const DEFAULT_MESSAGES = 2_000;
/** Prices the archive adds beside PRICES (us-east-1 list prices, as of 2026-03). */
const ARCHIVE_PRICES = {
  sqsFifoPerMillionRequests: 0.5,
  lambdaArmPerGbSecond: 0.0000133334, // the construct's default architecture (arm64)
  s3StandardPerGbMonth: 0.023,
  firehosePerGbIngested: 0.029, // first 500 TB/month; each record billed in 5 KB increments
  firehoseRecordIncrementKb: 5,
} as const;
const MILLION = 1_000_000;
const RETENTION_MONTHS = 1; // the default 30 days

interface Measured {
  readonly puts: number;
  readonly bytes: number;
  readonly invocations: number;
  readonly handlerSeconds: number;
}

async function measureCourier(
  s3: S3Client,
  bucket: string,
  records: SQSRecord[],
  batch: number,
): Promise<Measured> {
  let handlerSeconds = 0;
  let invocations = 0;
  for (let i = 0; i < records.length; i += batch) {
    const started = performance.now();
    const response = await archiveRecords(records.slice(i, i + batch), {
      s3,
      bucket,
      topic: "account-signups",
    });
    handlerSeconds += (performance.now() - started) / 1000;
    invocations += 1;
    if (response.batchItemFailures.length > 0) throw new Error("the archiver failed records");
  }
  const keys = await listKeys(s3, bucket, "archive/account-signups/");
  return {
    puts: keys.length,
    bytes: keys.reduce((sum, k) => sum + k.size, 0),
    invocations,
    handlerSeconds,
  };
}

async function measureNaive(s3: S3Client, bucket: string, records: SQSRecord[]): Promise<Measured> {
  let handlerSeconds = 0;
  for (const record of records) {
    const started = performance.now();
    const notification = JSON.parse(record.body) as { MessageId: string; Timestamp: string };
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `archive/account-signups/${notification.Timestamp.slice(0, 13)}/${notification.MessageId}.json`,
        Body: record.body,
      }),
    );
    handlerSeconds += (performance.now() - started) / 1000;
  }
  const keys = await listKeys(s3, bucket, "archive/");
  return {
    puts: keys.length,
    bytes: keys.reduce((s, k) => s + k.size, 0),
    invocations: records.length,
    handlerSeconds,
  };
}

/**
 * Dollars per million messages. SQS: the event source's receives (up to 10 messages each) and
 * deletes (a DeleteMessageBatch per invocation, 10 entries each) per message; Lambda: invocations
 * and the measured handler time at 256 MB on arm64; S3: PUTs and a month's storage.
 */
function price(m: Measured, messages: number, sqsPerMillion: number): Record<string, number> {
  const scale = MILLION / messages;
  const perInvocation = messages / m.invocations;
  const sqsRequestsPerMessage = 0.1 + Math.ceil(perInvocation / 10) / perInvocation;
  const sqs = sqsRequestsPerMessage * sqsPerMillion;
  const lambdaRequests = (m.invocations * scale * PRICES.lambdaPerMillionRequests) / MILLION;
  const lambdaDuration =
    m.handlerSeconds * scale * (ARCHIVER_SETTINGS.memoryMb / 1024) * ARCHIVE_PRICES.lambdaArmPerGbSecond;
  const puts = (m.puts * scale * PRICES.s3PutPer1000) / 1000;
  const storage = ((m.bytes * scale) / 1024 ** 3) * ARCHIVE_PRICES.s3StandardPerGbMonth * RETENTION_MONTHS;
  return {
    sqs,
    lambda: lambdaRequests + lambdaDuration,
    puts,
    storage,
    total: sqs + lambdaRequests + lambdaDuration + puts + storage,
  };
}

function row(
  scenario: string,
  m: Measured,
  messages: number,
  dollars: Record<string, number>,
  baseline?: number,
): Row {
  return {
    scenario,
    messages,
    "S3 objects": m.puts,
    "bytes/message": round(m.bytes / messages, 0),
    "SQS $/M": round(dollars.sqs ?? 0, 3),
    "Lambda $/M": round(dollars.lambda ?? 0, 3),
    "S3 PUT $/M": round(dollars.puts ?? 0, 3),
    "storage $/M/month": round(dollars.storage ?? 0, 3),
    "total $/M": round(dollars.total ?? 0, 2),
    "vs baseline": baseline ? `${round((dollars.total ?? 0) / baseline, 2)}×` : "1×",
  };
}

async function probeLocalStack(endpoint: string): Promise<string[]> {
  const notes: string[] = [];
  try {
    const health = (await (await fetch(`${endpoint}/_localstack/health`)).json()) as {
      services?: Record<string, string>;
    };
    notes.push(
      `LocalStack's health, as the bench harness starts it, lists firehose as "${health.services?.firehose ?? "absent"}".`,
    );
  } catch (error) {
    notes.push(`LocalStack's health could not be read: ${String(error)}`);
  }
  const sns = new SNSClient(localClientConfig());
  const { TopicArn } = await sns.send(
    new CreateTopicCommand({ Name: `archive-probe-${Date.now()}.fifo`, Attributes: { FifoTopic: "true" } }),
  );
  try {
    await sns.send(
      new SetTopicAttributesCommand({
        TopicArn,
        AttributeName: "ArchivePolicy",
        AttributeValue: JSON.stringify({ MessageRetentionPeriod: "30" }),
      }),
    );
    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn }));
    notes.push(
      `SNS FIFO ArchivePolicy on LocalStack: SetTopicAttributes accepted; GetTopicAttributes returns ${Attributes?.ArchivePolicy ? `ArchivePolicy ${Attributes.ArchivePolicy}` : "no ArchivePolicy"} (a stored attribute is not an archive: replay needs ReplayPolicy on a subscription, which this probe does not exercise).`,
    );
  } catch (error) {
    notes.push(
      `SNS FIFO ArchivePolicy on LocalStack: refused (${(error as Error).name}: ${(error as Error).message}).`,
    );
  } finally {
    await sns.send(new DeleteTopicCommand({ TopicArn })).catch(() => undefined);
  }
  return notes;
}

export async function measureArchiveCost(
  context: Pick<BenchContext, "endpoint" | "log">,
  messages: number,
): Promise<BenchResult> {
  const s3 = new S3Client(localClientConfig());
  const records = Array.from({ length: messages }, (_, n) => signupNotificationRecord(n));
  const fifoRecords = Array.from({ length: messages }, (_, n) =>
    signupNotificationRecord(n, { groupId: `acc_${n % 50}`, sequenceNumber: String(10n ** 19n + BigInt(n)) }),
  );
  context.log(`  naive: one PutObject per message (${messages})`);
  const naive = await measureNaive(s3, await freshBucket(s3, "archive-naive"), records);
  context.log(`  courier archiver, standard topic: batches of ${ARCHIVER_SETTINGS.standard.batchSize}`);
  const standard = await measureCourier(
    s3,
    await freshBucket(s3, "archive-std"),
    records,
    ARCHIVER_SETTINGS.standard.batchSize,
  );
  context.log(`  courier archiver, FIFO topic: batches of ${ARCHIVER_SETTINGS.fifo.batchSize}`);
  const fifo = await measureCourier(
    s3,
    await freshBucket(s3, "archive-fifo"),
    fifoRecords,
    ARCHIVER_SETTINGS.fifo.batchSize,
  );

  const naiveDollars = price(naive, messages, PRICES.sqsPerMillionRequests);
  const baseline = naiveDollars.total ?? 1;
  const rows: Row[] = [
    row("naive consumer: one S3 object per message (baseline)", naive, messages, naiveDollars),
    row(
      `courier archiver, standard topic (batch ${ARCHIVER_SETTINGS.standard.batchSize}, gzip JSON Lines)`,
      standard,
      messages,
      price(standard, messages, PRICES.sqsPerMillionRequests),
      baseline,
    ),
    row(
      `courier archiver, FIFO topic (batch ${ARCHIVER_SETTINGS.fifo.batchSize})`,
      fifo,
      messages,
      price(fifo, messages, ARCHIVE_PRICES.sqsFifoPerMillionRequests),
      baseline,
    ),
  ];
  // Firehose: priced, not run. Each record is billed as at least 5 KB; its S3 objects are few
  // (buffered up to 128 MB or 900 s) and gzip-compressible like courier's.
  const averageNotificationBytes = records.reduce((s, r) => s + Buffer.byteLength(r.body), 0) / messages;
  const billedKb = Math.max(
    ARCHIVE_PRICES.firehoseRecordIncrementKb,
    Math.ceil(averageNotificationBytes / 1024 / 5) * 5,
  );
  const firehoseIngest = ((MILLION * billedKb) / 1024 ** 2) * ARCHIVE_PRICES.firehosePerGbIngested;
  const firehoseStorage =
    ((standard.bytes * (MILLION / messages)) / 1024 ** 3) * ARCHIVE_PRICES.s3StandardPerGbMonth;
  rows.push({
    scenario: "SNS → Data Firehose → S3 (priced only, not run)",
    messages: "-",
    "S3 objects": "-",
    "bytes/message": round(standard.bytes / messages, 0),
    "SQS $/M": 0,
    "Lambda $/M": 0,
    "S3 PUT $/M": "~0",
    "storage $/M/month": round(firehoseStorage, 3),
    "total $/M": round(firehoseIngest + firehoseStorage, 2),
    "vs baseline": `${round((firehoseIngest + firehoseStorage) / baseline, 2)}× + SNS's Firehose delivery charge`,
  });
  return {
    rows,
    notes: [
      `${messages} sign-up notifications (${round(averageNotificationBytes, 0)} bytes each on average: envelope, trace, four attributes) per scenario, archived into a fresh bucket on LocalStack's S3; objects and bytes are what the bucket then holds.`,
      `Prices: us-east-1 list prices (${PRICES.date}): SQS $${PRICES.sqsPerMillionRequests}/M requests (FIFO $${ARCHIVE_PRICES.sqsFifoPerMillionRequests}), Lambda $${PRICES.lambdaPerMillionRequests}/M invocations and $${ARCHIVE_PRICES.lambdaArmPerGbSecond}/GB-s (arm64, ${ARCHIVER_SETTINGS.memoryMb} MB), S3 PUT $${PRICES.s3PutPer1000}/1,000, storage $${ARCHIVE_PRICES.s3StandardPerGbMonth}/GB-month for the default 30 days, Firehose $${ARCHIVE_PRICES.firehosePerGbIngested}/GB in 5 KB increments. SNS-to-SQS delivery is free; the publish is paid by the producer either way.`,
      "SQS per message: the event source's receives (up to 10 messages each: 0.1) plus one DeleteMessageBatch per 10 records of an invocation. Lambda duration is the handler's measured time per batch here (a laptop against LocalStack, so an over-estimate of S3 latency in AWS, not counting cold starts). KMS: the queue's data key is reused for 5 minutes, so its calls do not scale with messages and are left out.",
      `Firehose: ${billedKb} KB billed per record (5 KB minimum) × 1 M = ${round((MILLION * billedKb) / 1024 ** 2, 1)} GB ingested; SNS also charges for deliveries to Firehose, not included. Not run: the harness starts LocalStack without firehose (its SERVICES list), and SNS FIFO topics deliver only to SQS queues, so FIFO topics would still need another mechanism.`,
      "SNS FIFO's own archive (ArchivePolicy, replay by ReplayPolicy to a subscription) covers FIFO topics only and replays to a subscription, which courier's FIFO consumers would then receive as duplicates of live traffic; courier's archiver runs the same for both kinds, on LocalStack too.",
    ],
  };
}

/** Run by bench/run.ts (`npm run bench -- archive-cost`). */
export const benchmark: Benchmark = {
  name: "archive-cost",
  description:
    "A topic archive's cost per million messages: courier's batching archiver vs one object per message, Firehose priced",
  run: async (context: BenchContext) => {
    const result = await measureArchiveCost(context, context.messages ?? DEFAULT_MESSAGES);
    return { ...result, notes: [...(result.notes ?? []), ...(await probeLocalStack(context.endpoint))] };
  },
};
export default benchmark;
