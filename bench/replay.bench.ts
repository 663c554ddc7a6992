/**
 * Replay throughput into one queue on LocalStack, beside `courier redrive`'s selective mover in the
 * same run: N sign-ups are archived (courier's archiver, batches of 100) and replayed into a fresh
 * standard queue and, as FIFO notifications in 50 message groups, into a fresh FIFO queue; the same N
 * dead-lettered messages are redriven from a fresh DLQ. Each replay's time includes finding and
 * reading the archive (list and GET), its checkpoint writes (one PUT per 10 messages) and the sends.
 *
 * Run alone: npm run bench -- replay --messages N   (default 1,000)
 */
import { randomUUID } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { archiveRecords } from "../packages/courier/src/lib/archive/archive-store.ts";
import { redriveSelectively, SELECTIVE_DEFAULTS } from "../packages/courier/src/lib/redrive/selective.ts";
import { replay } from "../packages/courier/src/lib/replay/replay.ts";
import { localClientConfig } from "../src/dev/local-aws-config.ts";
import { freshBucket, signupNotificationRecord } from "./lib/archive-fixtures.ts";
import type { BenchContext, Benchmark, BenchResult, Row } from "./lib/benchmark.ts";
import { forEachWithConcurrency } from "./lib/concurrency.ts";
import { round } from "./lib/stats.ts";

const DEFAULT_MESSAGES = 1_000;

async function visible(sqs: SQSClient, url: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

async function queue(sqs: SQSClient, name: string, fifo = false): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: fifo ? `${name}.fifo` : name,
      ...(fifo ? { Attributes: { FifoQueue: "true" } } : {}),
    }),
  );
  return QueueUrl ?? "";
}

async function archive(
  s3: S3Client,
  bucket: string,
  topic: string,
  messages: number,
  fifo: boolean,
): Promise<void> {
  const start = Date.now() - 30 * 60_000;
  const records = Array.from({ length: messages }, (_, n) =>
    signupNotificationRecord(n, {
      publishedAt: new Date(start + n),
      ...(fifo ? { groupId: `acc_${n % 50}`, sequenceNumber: String(10n ** 19n + BigInt(n)) } : {}),
    }),
  );
  for (let i = 0; i < records.length; i += 100) {
    await archiveRecords(records.slice(i, i + 100), { s3, bucket, topic });
  }
}

async function fillDlq(sqs: SQSClient, dlqUrl: string, count: number): Promise<void> {
  await forEachWithConcurrency(Math.ceil(count / 10), 5, async (b) => {
    const entries = Array.from({ length: Math.min(10, count - b * 10) }, (_, i) => {
      const notification = JSON.parse(signupNotificationRecord(b * 10 + i).body) as { Message: string };
      return {
        Id: `m${i}`,
        MessageBody: notification.Message,
        MessageAttributes: { type: { DataType: "String", StringValue: "NewAccount" } },
      };
    });
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: dlqUrl, Entries: entries }));
  });
}

export async function measureReplay(messages: number, log: (line: string) => void): Promise<BenchResult> {
  const sqs = new SQSClient(localClientConfig());
  const s3 = new S3Client(localClientConfig());
  const rows: Row[] = [];
  const created: string[] = [];
  let baseline = Number.NaN;
  const add = (scenario: string, seconds: number) => {
    const rate = messages / seconds;
    if (Number.isNaN(baseline)) baseline = rate;
    rows.push({
      scenario,
      messages,
      seconds: round(seconds, 2),
      "messages/s": round(rate, 0),
      "vs baseline": `${round(rate / baseline, 1)}×`,
    });
  };
  try {
    for (const concurrency of [1, SELECTIVE_DEFAULTS.concurrency]) {
      const id = randomUUID().slice(0, 8);
      const dlqUrl = await queue(sqs, `replay-bench-dlq-${id}`);
      const queueUrl = await queue(sqs, `replay-bench-src-${id}`);
      created.push(dlqUrl, queueUrl);
      await fillDlq(sqs, dlqUrl, messages);
      log(`  courier redrive, selective mover, ${concurrency} worker(s): ${messages} messages`);
      const started = performance.now();
      let lastMove = Number.NaN;
      const summary = await redriveSelectively({
        sqs,
        dlqUrl,
        queueUrl,
        concurrency,
        onProgress: (p) => {
          if (p.moved === messages && Number.isNaN(lastMove)) lastMove = performance.now();
        },
      });
      // Until the last message moved: its closing empty receives (2 × 1 s waits) are left out.
      const seconds = (lastMove - started) / 1000;
      if (summary.moved !== messages) throw new Error(`redrive moved ${summary.moved} of ${messages}`);
      add(
        `courier redrive (selective mover, ${concurrency} worker${concurrency > 1 ? "s" : ""}${concurrency === SELECTIVE_DEFAULTS.concurrency ? ", the default" : ""})${concurrency === 1 ? " (baseline)" : ""}`,
        seconds,
      );
    }
    const bucket = await freshBucket(s3, "replay-bench");
    for (const fifo of [false, true]) {
      const topic = fifo ? "password-resets" : "account-signups";
      await archive(s3, bucket, topic, messages, fifo);
      const queueUrl = await queue(
        sqs,
        `replay-bench-${fifo ? "fifo" : "std"}-${randomUUID().slice(0, 8)}`,
        fifo,
      );
      created.push(queueUrl);
      log(`  courier replay into a ${fifo ? "FIFO" : "standard"} queue: ${messages} messages`);
      const summary = await replay({
        s3,
        bucket,
        sqs,
        target: { consumer: "bench", topic, queueUrl, fifo },
        window: { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) },
      });
      const inQueue = await visible(sqs, queueUrl);
      if (summary.sent !== messages || inQueue !== messages) {
        throw new Error(`replay sent ${summary.sent}, the queue holds ${inQueue}; expected ${messages}`);
      }
      add(
        `courier replay into one ${fifo ? "FIFO queue (SNS notifications, 50 groups)" : "standard queue (raw)"}`,
        summary.seconds,
      );
    }
  } finally {
    for (const url of created)
      await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
  }
  return {
    rows,
    notes: [
      `${messages} sign-up messages per scenario on fresh queues; one run each, LocalStack on the same 2-core machine.`,
      "Redrive: from the start of redriveSelectively until its last message moved (receive 10, send 10, delete 10 per batch; its closing empty receives left out, as in bench/redrive.bench.ts). Replay: from the start of replay() to its return, including listing and reading the archive's objects, the erasure ledger, and a checkpoint PUT after each batch of 10 sends.",
      "Replay sends one batch at a time, in publish order (a FIFO group's order must hold); redrive's workers overlap their batches. --rate N caps replay below this.",
    ],
  };
}

/** Run by bench/run.ts (`npm run bench -- replay`). */
export const benchmark: Benchmark = {
  name: "replay",
  description:
    "Replay throughput into one queue (standard and FIFO) beside courier redrive's selective mover",
  run: (context: BenchContext) => measureReplay(context.messages ?? DEFAULT_MESSAGES, context.log),
};
export default benchmark;
