/**
 * What OpenTelemetry tracing costs per publish and per record, beside tracing off, in one run:
 * - off: no SDK registered, so courier's spans are the API's no-ops (what `tracing: "none"`, or
 *   an application that starts no SDK, pays);
 * - on: `startTracing` (the SDK courier's Lambda functions start) with an exporter that drops the
 *   spans: the cost of recording them (ids, attributes, links, the per-batch flush);
 * - on + OTLP: the same SDK exporting OTLP/HTTP JSON to a receiver on loopback in the background,
 *   as a worker process does;
 * - Lambda: `startLambdaTracing`, which also exports after every batch before the handler returns,
 *   as a function exports to the ADOT collector extension on localhost:4318 (the collector's own
 *   forwarding to X-Ray happens in its process, not in the handler's).
 * In-process: SNS is a stub answering at once, so the figures are courier's and the SDK's CPU,
 * which a real SNS round trip (tens of milliseconds) would hide. Scenarios are interleaved round by
 * round (the SDK is started and shut down between them) so machine load hits them alike; medians.
 *
 * Run alone: npx tsx bench/otel.bench.ts
 */
import { pathToFileURL } from "node:url";
import type { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { startLambdaTracing, startTracing, type Tracing } from "../packages/courier/src/otel/index.ts";
import type { NewAccountV1 } from "../src/app/contracts/index.ts";
import { startOtlpReceiver } from "../src/dev/otlp-receiver.ts";
import type { TopicName } from "../src/topology.ts";
import { defineConsumer } from "../test/helpers/example-consumer.ts";
import { createPublisher } from "../test/helpers/example-publisher.ts";
import { sqsRecord } from "../test/helpers/sqs-record.ts";
import type { BenchContext, Benchmark, BenchResult, Row } from "./lib/benchmark.ts";
import { loggerToNowhere, noMetrics } from "./lib/quiet-consumer.ts";
import { percentile, round } from "./lib/stats.ts";

const PUBLISHES_PER_ROUND = 1_000;
const RECORDS_PER_ROUND = 1_000;
const BATCH_SIZE = 10;
const ROUNDS = 12;
const WARMUP_ROUNDS = 2;

const signup: NewAccountV1 = {
  accountId: "acct-1",
  email: "ada@example.com",
  displayName: "Ada Lovelace",
  phone: "+14155550123",
  locale: "en-GB",
  createdAt: "2025-06-01T12:00:00.000Z",
};
const REQUEST_TRACE = {
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  correlationId: "req-7",
};

/** Drops every span: the recording cost without any export. */
class DiscardExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.spans += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}

type Mode = "off" | "on" | "otlp" | "lambda";
const MODES: readonly Mode[] = ["off", "on", "otlp", "lambda"];
const LABEL: Record<Mode, string> = {
  off: "tracing off (no SDK)",
  on: "SDK on, spans dropped",
  otlp: "SDK on, OTLP/HTTP JSON to loopback (worker: background export)",
  lambda: "startLambdaTracing: OTLP to loopback, flushed after every batch",
};

function stubSns(): SNSClient {
  return { send: async () => ({ MessageId: "m-1" }) } as unknown as SNSClient;
}

function records(): SQSEvent[] {
  const out: SQSEvent[] = [];
  for (let i = 0; i < RECORDS_PER_ROUND; i += BATCH_SIZE) {
    const Records: SQSRecord[] = [];
    for (let j = i; j < i + BATCH_SIZE; j++) {
      const body = JSON.stringify({
        eventId: crypto.randomUUID(),
        type: "NewAccount",
        version: 1,
        occurredAt: "2025-06-01T12:00:00.000Z",
        producer: "bench",
        trace: {
          traceparent: `00-4bf92f3577b34da6a3ce929d0e0e${String(j % 10_000).padStart(4, "0")}-00f067aa0ba902b7-01`,
          correlationId: `req-${j}`,
        },
        data: { ...signup, accountId: `acct-${j}` },
      });
      Records.push(sqsRecord(body, { messageId: `m-${j}`, receiptHandle: `r-${j}` }));
    }
    out.push({ Records });
  }
  return out;
}

export async function runOtelBench(log: (line: string) => void = () => {}): Promise<BenchResult> {
  const receiver = await startOtlpReceiver({ spansFile: "/dev/null" });
  const publisher = createPublisher({
    sns: stubSns(),
    topicArns: { "account-signups": "arn:aws:sns:us-east-1:000000000000:account-signups" } as Record<
      TopicName,
      string
    >,
    producer: "bench",
    env: {},
  });
  const handler = defineConsumer({
    name: "verification-email",
    sqs: new SQSClient({ region: "us-east-1" }),
    queueUrl: "http://sqs.local/q",
    dlqUrl: "http://sqs.local/dlq",
    logger: loggerToNowhere(),
    metrics: noMetrics,
    handle: () => undefined,
  });
  const batches = records();
  const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
  const dropped = new DiscardExporter();

  const start = (mode: Mode): Tracing | undefined => {
    if (mode === "off") return undefined;
    if (mode === "lambda") return startLambdaTracing({ endpoint: `${receiver.endpoint}/v1/traces`, env: {} });
    return startTracing({
      serviceName: "bench",
      ...(mode === "on" ? { exporter: dropped } : { endpoint: `${receiver.endpoint}/v1/traces` }),
    });
  };
  const samples = new Map<string, number[]>();
  const add = (key: string, ms: number) => samples.set(key, [...(samples.get(key) ?? []), ms]);
  for (let r = 0; r < WARMUP_ROUNDS + ROUNDS; r++) {
    // A rotated order each round: no mode always runs first (a cold JIT) or last.
    const order = MODES.map((_, i) => MODES[(i + r) % MODES.length] as Mode);
    for (const mode of order) {
      const tracing = start(mode);
      let t = performance.now();
      for (let i = 0; i < PUBLISHES_PER_ROUND; i++) {
        await publisher.publish("account-signups", signup, { trace: REQUEST_TRACE });
      }
      const publishMs = performance.now() - t;
      t = performance.now();
      for (const event of batches) await handler(event, context);
      const consumeMs = performance.now() - t;
      await tracing?.shutdown();
      if (r >= WARMUP_ROUNDS) {
        add(`publish ${mode}`, publishMs);
        add(`consume ${mode}`, consumeMs);
      }
    }
    log(`otel: round ${r + 1}/${WARMUP_ROUNDS + ROUNDS}`);
  }
  const exported = receiver.received();
  await receiver.close();

  const perOp = (key: string, count: number) => (percentile(samples.get(key) ?? [], 50) * 1000) / count;
  const rows: Row[] = [];
  for (const [kind, count, unit] of [
    ["publish", PUBLISHES_PER_ROUND, "publish"],
    ["consume", RECORDS_PER_ROUND, "record"],
  ] as const) {
    const baseline = perOp(`${kind} off`, count);
    for (const mode of MODES) {
      const us = perOp(`${kind} ${mode}`, count);
      rows.push({
        scenario: `${kind}: ${LABEL[mode]}${mode === "off" ? " (baseline)" : ""}`,
        [`µs per ${unit} (median)`]: round(us, 2),
        "added µs": round(us - baseline, 2),
        "vs off": `${round(us / baseline, 2)}×`,
      });
    }
  }
  return {
    rows,
    notes: [
      `${ROUNDS} rounds (after ${WARMUP_ROUNDS} warm-up) of ${PUBLISHES_PER_ROUND} publishes and ${RECORDS_PER_ROUND} records (batches of ${BATCH_SIZE}, each record a processed NewAccount, the handler doing nothing), the modes interleaved in a rotated order; medians.`,
      "Spans per publish: 1 (PRODUCER). Per batch: 1 CONSUMER span with a link per record and 1 span per record; the Lambda mode exports them (an HTTP POST) before the batch returns.",
      `In-process: SNS is a stub. The OTLP modes exported ${exported} spans to a receiver on 127.0.0.1 (BatchSpanProcessor).`,
    ],
  };
}

export const benchmark: Benchmark = {
  name: "otel",
  description:
    "OpenTelemetry tracing: cost per publish and per record with the SDK on, beside no SDK, in-process",
  usesLocalStack: false,
  run: (context: BenchContext) => runOtelBench(context.log),
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await runOtelBench((line) => process.stderr.write(`${line}\n`));
  console.table(result.rows);
  for (const note of result.notes ?? []) console.log(note);
}
