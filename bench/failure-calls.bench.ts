/**
 * SQS requests the consumer runtime makes for a batch's failures: courier's batched calls
 * (ChangeMessageVisibilityBatch for retries, SendMessageBatch for dead letters) against the
 * per-record pattern (a ChangeMessageVisibility or SendMessage per failed record, what courier did
 * before and what a hand-written Powertools handler does), on the same batches in the same run.
 * Requests are counted by an SDK middleware that answers them in-process (every entry successful),
 * so the figures are request counts, not latencies; no network.
 *
 * Run alone: npx tsx bench/failure-calls.bench.ts
 */
import { pathToFileURL } from "node:url";
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Logger } from "@aws-lambda-powertools/logger";
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { consumers } from "../src/topology.ts";
import { defineConsumer, PermanentError } from "../test/helpers/example-consumer.ts";
import { sqsRecord } from "../test/helpers/sqs-record.ts";
import type { BenchContext, Benchmark, BenchResult } from "./lib/benchmark.ts";
import { noMetrics } from "./lib/quiet-consumer.ts";

const BATCH_SIZE = 10;
const BATCHES = 20;

/** An SQSClient whose requests are counted by command and answered in-process: every entry succeeds. */
function countingSqs(): { sqs: SQSClient; counts: Map<string, number>; total: () => number } {
  const sqs = new SQSClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
  const counts = new Map<string, number>();
  sqs.middlewareStack.add(
    (_next, context) => async (args) => {
      const name = (context as { commandName?: string }).commandName ?? "unknown";
      counts.set(name, (counts.get(name) ?? 0) + 1);
      const input = args.input as { Entries?: Array<{ Id?: string }> };
      const output = {
        Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: "m" })),
        Failed: [],
      };
      return { output: { ...output, $metadata: {} }, response: {} } as never;
    },
    { step: "initialize", name: "countAndAnswer" },
  );
  return { sqs, counts, total: () => [...counts.values()].reduce((a, b) => a + b, 0) };
}

const silent = new Logger({ logLevel: "SILENT" });
const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
const spec = consumers["verification-email"];

function body(i: number): string {
  return JSON.stringify({
    eventId: crypto.randomUUID(),
    type: "NewAccount",
    version: 1,
    occurredAt: "2025-06-01T12:00:00.000Z",
    producer: "api-server",
    data: {
      accountId: `acct-${i}`,
      email: `user${i}@example.com`,
      displayName: `User ${i}`,
      locale: "en-US",
      createdAt: "2025-06-01T12:00:00.000Z",
    },
  });
}

function events(receiveCount: number): SQSEvent[] {
  let n = 0;
  return Array.from({ length: BATCHES }, () => ({
    Records: Array.from({ length: BATCH_SIZE }, (): SQSRecord => {
      n += 1;
      return sqsRecord(body(n), {
        messageId: `m-${n}`,
        receiptHandle: `r-${n}`,
        receiveCount,
        messageAttributes: { type: { dataType: "String", stringValue: "NewAccount" } },
      });
    }),
  }));
}

/** The per-record pattern: Powertools batch, one SQS call per failed record. */
function perRecordHandler(sqs: SQSClient, failing: (i: number) => "ok" | "retry" | "dead-letter") {
  const processor = new BatchProcessor(EventType.SQS);
  let i = 0;
  return (event: SQSEvent) =>
    processPartialResponse(
      event,
      async (record: SQSRecord) => {
        const outcome = failing(i++);
        if (outcome === "ok") return;
        if (outcome === "dead-letter") {
          await sqs.send(new SendMessageCommand({ QueueUrl: "dlq", MessageBody: record.body }));
          return;
        }
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: "q",
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: 4,
          }),
        );
        throw new Error("retry");
      },
      processor,
      { context, throwOnFullBatchFailure: false },
    );
}

interface Scenario {
  readonly name: string;
  readonly receiveCount: number;
  /** Which records fail, by position in the run, and how. */
  readonly outcome: (i: number) => "ok" | "retry" | "dead-letter";
}

const scenarios: Scenario[] = [
  { name: "all 10 of a batch fail, retried", receiveCount: 1, outcome: () => "retry" },
  { name: "all 10 of a batch fail, dead-lettered", receiveCount: 1, outcome: () => "dead-letter" },
  { name: "3 of 10 fail, retried", receiveCount: 1, outcome: (i) => (i % 10 < 3 ? "retry" : "ok") },
  {
    name: "10 of 10 fail on the last receive (dead-lettered as exhausted)",
    receiveCount: spec.maxReceiveCount,
    outcome: () => "retry",
  },
];

export async function measureFailureCalls(): Promise<BenchResult> {
  const rows: BenchResult["rows"] = [];
  for (const scenario of scenarios) {
    const failedRecords = BATCHES * BATCH_SIZE * (scenario.name.startsWith("3 of 10") ? 0.3 : 1);

    const peer = countingSqs();
    const peerHandler = perRecordHandler(peer.sqs, (i) =>
      scenario.receiveCount >= spec.maxReceiveCount ? "dead-letter" : scenario.outcome(i),
    );
    for (const event of events(scenario.receiveCount)) await peerHandler(event);

    const courier = countingSqs();
    let i = 0;
    const handler = defineConsumer({
      name: "verification-email",
      sqs: courier.sqs,
      queueUrl: "q",
      dlqUrl: "dlq",
      logger: silent,
      metrics: noMetrics,
      handle: () => {
        const outcome = scenario.outcome(i++);
        if (outcome === "retry") throw new Error("downstream unavailable");
        if (outcome === "dead-letter") throw new PermanentError("rejected");
      },
    });
    for (const event of events(scenario.receiveCount)) await handler(event, context);

    const describe = (counts: Map<string, number>) =>
      [...counts].map(([name, n]) => `${name.replace("Command", "")} ${n}`).join(", ");
    rows.push({
      scenario: scenario.name,
      "failed records": failedRecords,
      "per-record calls: SQS requests (baseline)": peer.total(),
      "per failed record (baseline)": round2(peer.total() / failedRecords),
      "courier: SQS requests": courier.total(),
      "courier: per failed record": round2(courier.total() / failedRecords),
      "courier requests by kind": describe(courier.counts),
    });
  }
  return {
    rows,
    notes: [
      `${BATCHES} batches of ${BATCH_SIZE} NewAccount records per scenario; both handlers see the same records.`,
      "The baseline is a Powertools BatchProcessor handler that calls ChangeMessageVisibility or SendMessage per " +
        "failed record (courier's former pattern). courier batches a batch's failures: one " +
        "ChangeMessageVisibilityBatch per 10 retries, one SendMessageBatch per 10 dead letters (or fewer, by the 1 MiB payload limit).",
      "Requests are counted by an SDK middleware that answers them in-process with every entry successful; " +
        "per-entry refusals are covered by unit tests (test/unit/consumer-runtime.test.ts).",
    ],
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export const benchmark: Benchmark = {
  name: "failure-calls",
  description: "SQS requests per failed record: courier's batched failure calls vs one call per record",
  usesLocalStack: false,
  run: (_context: BenchContext) => measureFailureCalls(),
};
export default benchmark;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await measureFailureCalls();
  console.table(result.rows);
  for (const note of result.notes ?? []) console.log(`- ${note}`);
}
