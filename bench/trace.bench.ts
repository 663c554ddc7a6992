/**
 * What a trace context costs (issue 11 item 4), beside the same work without one, in one run:
 * - publish: `publisher.publish` of a NewAccount without stamping (the baseline), stamping a new
 *   trace per publish, and stamping the caller's (an API request's) context;
 * - consume: the consumer runtime on untraced and traced records, with a handler that logs one
 *   line through `ctx.logger` (where the trace keys go), the log output discarded.
 * In-process, no network: SNS is a stub answering at once, so the figures are the publisher's and
 * runtime's own CPU, which a real SNS round trip (tens of milliseconds) would hide. Scenarios are
 * interleaved round by round so machine load hits them alike; figures are medians.
 *
 * Run alone: npx tsx bench/trace.bench.ts
 */
import { pathToFileURL } from "node:url";
import type { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { startTrace } from "../packages/courier/src/lib/trace/trace-context.ts";
import type { NewAccountV1 } from "../src/app/contracts/index.ts";
import type { TopicName } from "../src/topology.ts";
import { defineConsumer } from "../test/helpers/example-consumer.ts";
import { createPublisher, type Publisher } from "../test/helpers/example-publisher.ts";
import { sqsRecord } from "../test/helpers/sqs-record.ts";
import type { BenchContext, Benchmark, BenchResult, Row } from "./lib/benchmark.ts";
import { loggerToNowhere, noMetrics } from "./lib/quiet-consumer.ts";
import { percentile, round } from "./lib/stats.ts";

const PUBLISHES_PER_ROUND = 2_000;
const RECORDS_PER_ROUND = 2_000;
const BATCH_SIZE = 10;
const ROUNDS = 15;
const WARMUP_ROUNDS = 2;

const signup: NewAccountV1 = {
  accountId: "acct-1",
  email: "ada@example.com",
  displayName: "Ada Lovelace",
  phone: "+14155550123",
  locale: "en-GB",
  createdAt: "2025-06-01T12:00:00.000Z",
};

/** Answers every command at once and remembers the last body, to report its size. */
function stubSns(): { sns: SNSClient; lastBody: () => string } {
  let body = "";
  const sns = {
    send: async (command: { input: { Message?: string } }) => {
      body = command.input.Message ?? "";
      return { MessageId: "m-1" };
    },
  } as unknown as SNSClient;
  return { sns, lastBody: () => body };
}

function publisher(sns: SNSClient, stampTrace: boolean): Publisher {
  return createPublisher({
    sns,
    topicArns: { "account-signups": "arn:aws:sns:us-east-1:000000000000:account-signups" } as Record<
      TopicName,
      string
    >,
    producer: "bench",
    stampTrace,
    env: {},
  });
}

interface Scenario {
  readonly name: string;
  readonly kind: "publish" | "consume";
  /** One round: returns the milliseconds it took for `count` operations. */
  readonly round: () => Promise<number>;
  readonly bytes?: () => number;
}

function publishScenario(name: string, stampTrace: boolean, withCallerTrace: boolean): Scenario {
  const { sns, lastBody } = stubSns();
  const p = publisher(sns, stampTrace);
  const trace = startTrace({
    traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    env: {},
  });
  return {
    name,
    kind: "publish",
    round: async () => {
      const started = performance.now();
      for (let i = 0; i < PUBLISHES_PER_ROUND; i++) {
        await (withCallerTrace
          ? p.publish("account-signups", signup, { trace })
          : p.publish("account-signups", signup));
      }
      return performance.now() - started;
    },
    bytes: () => Buffer.byteLength(lastBody()),
  };
}

function body(i: number, traced: boolean): string {
  return JSON.stringify({
    eventId: crypto.randomUUID(),
    type: "NewAccount",
    version: 1,
    occurredAt: "2025-06-01T12:00:00.000Z",
    producer: "bench",
    ...(traced ? { trace: startTrace({ env: {} }) } : {}),
    data: { ...signup, accountId: `acct-${i}` },
  });
}

function events(traced: boolean): SQSEvent[] {
  const out: SQSEvent[] = [];
  for (let i = 0; i < RECORDS_PER_ROUND; i += BATCH_SIZE) {
    const Records: SQSRecord[] = [];
    for (let j = i; j < i + BATCH_SIZE; j++) {
      Records.push(sqsRecord(body(j, traced), { messageId: `m-${j}`, receiptHandle: `r-${j}` }));
    }
    out.push({ Records });
  }
  return out;
}

function consumeScenario(name: string, traced: boolean): Scenario {
  const handler = defineConsumer({
    name: "verification-email",
    sqs: new SQSClient({ region: "us-east-1" }),
    queueUrl: "http://sqs.local/q",
    dlqUrl: "http://sqs.local/dlq",
    // A logger that formats every line as on Lambda, written to nowhere.
    logger: loggerToNowhere(),
    metrics: noMetrics,
    handle: (message, ctx) => {
      ctx.logger.info("verification email sent", { accountId: message.data.accountId });
    },
  });
  const batches = events(traced);
  const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
  return {
    name,
    kind: "consume",
    round: async () => {
      const started = performance.now();
      for (const event of batches) await handler(event, context);
      return performance.now() - started;
    },
  };
}

export async function runTraceBench(log: (line: string) => void = () => {}): Promise<BenchResult> {
  const scenarios: Scenario[] = [
    publishScenario("publish, no trace (baseline)", false, false),
    publishScenario("publish, new trace per message", true, false),
    publishScenario("publish, the caller's trace", true, true),
    consumeScenario("consume + 1 log line, untraced message", false),
    consumeScenario("consume + 1 log line, traced message", true),
  ];
  const samples = new Map<string, number[]>(scenarios.map((s) => [s.name, []]));
  for (let r = 0; r < WARMUP_ROUNDS + ROUNDS; r++) {
    for (const scenario of scenarios) {
      const ms = await scenario.round();
      if (r >= WARMUP_ROUNDS) samples.get(scenario.name)?.push(ms);
    }
    log(`trace: round ${r + 1}/${WARMUP_ROUNDS + ROUNDS}`);
  }
  const perOp = (s: Scenario) => {
    const count = s.kind === "publish" ? PUBLISHES_PER_ROUND : RECORDS_PER_ROUND;
    return (percentile(samples.get(s.name) ?? [], 50) * 1000) / count;
  };
  const baseline = { publish: perOp(scenarios[0] as Scenario), consume: perOp(scenarios[3] as Scenario) };
  const rows: Row[] = scenarios.map((s) => {
    const us = perOp(s);
    return {
      scenario: s.name,
      "µs per message (median)": round(us, 2),
      "vs its untraced baseline": `${round(us / baseline[s.kind], 2)}×`,
      "added µs": round(us - baseline[s.kind], 2),
      "body bytes": s.bytes ? s.bytes() : "",
    };
  });
  return {
    rows,
    notes: [
      `${ROUNDS} rounds (after ${WARMUP_ROUNDS} warm-up) of ${PUBLISHES_PER_ROUND} publishes and ${RECORDS_PER_ROUND} records (batches of ${BATCH_SIZE}) each, interleaved; medians.`,
      "In-process, no network: SNS is a stub, so the publish figures are the publisher's CPU (validation, envelope, trace, size check), not an SNS round trip.",
      "The trace adds its bytes to the body (traceparent, correlation id: about 130 bytes) and no message attribute.",
    ],
  };
}

export const benchmark: Benchmark = {
  name: "trace",
  description: "Trace context: publisher and consumer cost with and without it, in-process",
  usesLocalStack: false,
  run: (context: BenchContext) => runTraceBench(context.log),
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await runTraceBench((line) => process.stderr.write(`${line}\n`));
  console.table(result.rows);
  for (const note of result.notes ?? []) console.log(note);
}
