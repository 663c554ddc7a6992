/**
 * Redrive throughput on LocalStack: the usual hand-written script (receive one message, send it,
 * delete it, repeat) as the baseline, against the selective mover (batches of 10, send then
 * delete) and the bulk mode (SQS's message move task). Each scenario gets its own DLQ/source pair
 * with unique names, filled with the same N dead-lettered messages, and deleted afterwards.
 *
 * Run alone: npx tsx bench/redrive.bench.ts [N]   (or: npm run bench -- redrive --messages N)
 */
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { FAILURE_ATTRIBUTE } from "../packages/courier/src/lib/consumer/failure-attributes.ts";
import { redriveInBulk } from "../packages/courier/src/lib/redrive/bulk.ts";
import { redriveSelectively, SELECTIVE_DEFAULTS } from "../packages/courier/src/lib/redrive/selective.ts";
import { localClientConfig } from "../src/dev/local-aws-config.ts";
import type { BenchContext, Benchmark, BenchResult, Row } from "./lib/benchmark.ts";
import { forEachWithConcurrency } from "./lib/concurrency.ts";
import { round } from "./lib/stats.ts";

const DEFAULT_MESSAGES = 1_000;

interface Pair {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
}

interface Scenario {
  readonly name: string;
  /** Moves the DLQ back; resolves with the time (performance.now()) the last message was moved. */
  readonly run: (sqs: SQSClient, pair: Pair, messages: number) => Promise<number>;
}

function selective(name: string, concurrency: number): Scenario {
  return {
    name,
    run: async (sqs, pair, messages) => {
      let lastMove = Number.NaN;
      await redriveSelectively({
        sqs,
        dlqUrl: pair.dlqUrl,
        queueUrl: pair.queueUrl,
        concurrency,
        onProgress: (p) => {
          if (p.moved === messages && Number.isNaN(lastMove)) lastMove = performance.now();
        },
      });
      return lastMove;
    },
  };
}

const scenarios: Scenario[] = [
  {
    name: "hand-written loop: receive 1, send, delete (baseline)",
    run: async (sqs, pair) => {
      let lastMove = Number.NaN;
      let empty = 0;
      while (empty < 2) {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: pair.dlqUrl,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ["All"],
          }),
        );
        const message = received.Messages?.[0];
        if (!message) {
          empty += 1;
          continue;
        }
        empty = 0;
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: pair.queueUrl,
            MessageBody: message.Body ?? "",
            MessageAttributes: message.MessageAttributes ?? {},
          }),
        );
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: pair.dlqUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        lastMove = performance.now();
      }
      return lastMove;
    },
  },
  selective("selective mover, 1 worker (batches of 10, send then delete, lineage)", 1),
  selective(
    `selective mover, ${SELECTIVE_DEFAULTS.concurrency} workers (the default)`,
    SELECTIVE_DEFAULTS.concurrency,
  ),
  {
    name: "bulk: SQS StartMessageMoveTask",
    run: async (sqs, pair) => {
      await redriveInBulk({ sqs, dlqArn: pair.dlqArn, queueArn: pair.queueArn, pollIntervalMs: 100 });
      return performance.now();
    },
  },
];

async function createPair(sqs: SQSClient, label: string): Promise<Pair> {
  const name = `redrive-bench-${label}-${randomUUID().slice(0, 8)}`;
  const arnOf = async (url: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] })))
      .Attributes?.QueueArn ?? "";
  const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl ?? "";
  const dlqArn = await arnOf(dlqUrl);
  const queueUrl =
    (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }) },
        }),
      )
    ).QueueUrl ?? "";
  return { queueUrl, queueArn: await arnOf(queueUrl), dlqUrl, dlqArn };
}

/** N messages as the consumer runtime dead-letters them: envelope body, contract attributes, reason. */
async function fillDlq(sqs: SQSClient, dlqUrl: string, count: number): Promise<void> {
  const batches = Math.ceil(count / 10);
  await forEachWithConcurrency(batches, 5, async (b) => {
    const size = Math.min(10, count - b * 10);
    const entries = Array.from({ length: size }, (_, i) => {
      const n = b * 10 + i;
      const attributes: Record<string, MessageAttributeValue> = {
        type: { DataType: "String", StringValue: "NewAccount" },
        version: { DataType: "String", StringValue: "1" },
        hasPhone: { DataType: "String", StringValue: "false" },
        [FAILURE_ATTRIBUTE]: {
          DataType: "String",
          StringValue: JSON.stringify({
            errorClass: "TemplateMissingError",
            message: "template verification-email/en-US is missing",
            consumer: "verification-email",
            receiveCount: 1,
            failedAt: new Date().toISOString(),
            kind: "permanent",
            messageId: randomUUID(),
          }),
        },
      };
      const body = JSON.stringify({
        eventId: randomUUID(),
        type: "NewAccount",
        version: 1,
        occurredAt: new Date().toISOString(),
        producer: "redrive-bench",
        data: {
          accountId: `acct-${n}`,
          email: `user${n}@example.com`,
          displayName: `User ${n}`,
          locale: "en-US",
        },
      });
      return { Id: `m${i}`, MessageBody: body, MessageAttributes: attributes };
    });
    const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: dlqUrl, Entries: entries }));
    if ((result.Failed ?? []).length > 0)
      throw new Error(`filling the DLQ failed: ${JSON.stringify(result.Failed)}`);
  });
}

async function visible(sqs: SQSClient, url: string): Promise<number> {
  const result = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }),
  );
  return Number(result.Attributes?.ApproximateNumberOfMessages ?? 0);
}

export async function measureRedrive(
  messages: number,
  log: (line: string) => void = () => undefined,
): Promise<BenchResult> {
  const sqs = new SQSClient(localClientConfig());
  const rows: Row[] = [];
  let baselineRate = Number.NaN;
  for (const scenario of scenarios) {
    const pair = await createPair(sqs, scenario.name.split(/[^a-z]/)[0] ?? "s");
    try {
      await fillDlq(sqs, pair.dlqUrl, messages);
      log(`  ${scenario.name}: ${messages} messages in the DLQ`);
      const started = performance.now();
      const lastMove = await scenario.run(sqs, pair, messages);
      const seconds = (lastMove - started) / 1000;
      // Every scenario must have moved everything, or its rate means nothing.
      const [inSource, inDlq] = [await visible(sqs, pair.queueUrl), await visible(sqs, pair.dlqUrl)];
      if (inSource !== messages || inDlq !== 0) {
        throw new Error(
          `${scenario.name}: source holds ${inSource}, DLQ ${inDlq}; expected ${messages} and 0`,
        );
      }
      const rate = messages / seconds;
      if (Number.isNaN(baselineRate)) baselineRate = rate;
      rows.push({
        scenario: scenario.name,
        messages,
        seconds: round(seconds, 2),
        "messages/s": round(rate, 0),
        "vs baseline": `${round(rate / baselineRate, 1)}×`,
      });
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: pair.queueUrl })).catch(() => undefined);
      await sqs.send(new DeleteQueueCommand({ QueueUrl: pair.dlqUrl })).catch(() => undefined);
    }
  }
  return {
    rows,
    notes: [
      `${messages} dead-lettered NewAccount messages (envelope body, type/version/hasPhone and courier.failure attributes) per scenario, one run each, on fresh queues.`,
      "Each time runs from the start until the last message was moved (the loops' closing empty receives are left out); for the bulk mode until ListMessageMoveTasks reports COMPLETED, polled every 100 ms.",
      "LocalStack runs on the same machine as the benchmark, sharing its CPUs: the figures compare request counts (3 calls per message, against 3 per 10 for the selective mover, whose workers also overlap their calls), not network latency.",
      "LocalStack's move task moves messages inside the emulator with no API calls and no rate cap; on AWS a move task runs at most 500 messages/s.",
    ],
  };
}

/** Run by bench/run.ts (`npm run bench -- redrive`); `--messages N` sets the messages per scenario. */
export const benchmark: Benchmark = {
  name: "redrive",
  description:
    "Moving DLQ messages back: hand-written receive/send/delete loop vs selective mover vs bulk move task",
  run: (context: BenchContext) => measureRedrive(context.messages ?? DEFAULT_MESSAGES, context.log),
};
export default benchmark;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const messages = Number(process.argv[2] ?? DEFAULT_MESSAGES);
  const result = await measureRedrive(messages, console.error);
  console.table(result.rows);
  for (const note of result.notes ?? []) console.log(`- ${note}`);
}
