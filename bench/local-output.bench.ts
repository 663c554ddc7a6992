/**
 * What a person watching `npm start` or `courier work` reads per handled message: the runtime's raw
 * output (Powertools JSON log lines at INFO and an EMF blob per batch, as on Lambda; `--json-logs`)
 * against the readable mode (a line per outcome from the runtime's structured outcomes, log lines
 * from WARN, no EMF), on the same batches in the same run: lines and bytes written per message,
 * and CPU time per record. The mix is 90 % processed (each handler logs one INFO line, as courier's
 * handlers do), 8 % retried, 2 % dead-lettered. No network: SQS is answered in-process.
 *
 * Run alone: npx tsx bench/local-output.bench.ts
 */
import { pathToFileURL } from "node:url";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { onRecordOutcome } from "../packages/courier/src/lib/consumer/outcomes.ts";
import { formatOutcomeLine } from "../packages/courier/src/worker/outcome-line.ts";
import { defineConsumer, PermanentError } from "../test/helpers/example-consumer.ts";
import { sqsRecord } from "../test/helpers/sqs-record.ts";
import type { BenchContext, Benchmark, BenchResult } from "./lib/benchmark.ts";

const BATCH_SIZE = 10;
const DEFAULT_MESSAGES = 2_000;

function answeringSqs(): SQSClient {
  const sqs = new SQSClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
  sqs.middlewareStack.add(
    () => async (args) => {
      const input = args.input as { Entries?: Array<{ Id?: string }> };
      const output = {
        Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: "m" })),
        Failed: [],
      };
      return { output: { ...output, $metadata: {} }, response: {} } as never;
    },
    { step: "initialize", name: "answer" },
  );
  return sqs;
}

function events(messages: number): SQSEvent[] {
  const batches: SQSEvent[] = [];
  for (let start = 0; start < messages; start += BATCH_SIZE) {
    const records: SQSRecord[] = [];
    for (let i = start; i < Math.min(messages, start + BATCH_SIZE); i++) {
      const body = JSON.stringify({
        eventId: crypto.randomUUID(),
        type: "NewAccount",
        version: 1,
        occurredAt: "2025-06-01T12:00:00.000Z",
        producer: "bench",
        data: {
          accountId: `acct-${i}`,
          email: `user${i}@example.com`,
          displayName: `User ${i}`,
          locale: "en-US",
          createdAt: "2025-06-01T12:00:00.000Z",
        },
      });
      records.push(sqsRecord(body, { messageId: `m-${i}`, receiptHandle: `r-${i}` }));
    }
    batches.push({ Records: records });
  }
  return batches;
}

/** Captures what is written to stdout and stderr while `run` runs (Powertools writes through them). */
async function captured(run: () => Promise<void>): Promise<{ lines: number; bytes: number; cpuMs: number }> {
  let text = "";
  const originals = [process.stdout.write, process.stderr.write] as const;
  const sink = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    text += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = sink;
  process.stderr.write = sink;
  const cpu = process.cpuUsage();
  try {
    await run();
  } finally {
    [process.stdout.write, process.stderr.write] = originals;
  }
  const used = process.cpuUsage(cpu);
  return {
    lines: text.split("\n").filter((l) => l.length > 0).length,
    bytes: Buffer.byteLength(text),
    cpuMs: (used.user + used.system) / 1000,
  };
}

async function scenario(mode: "raw" | "readable", messages: number) {
  const logger = new Logger({
    serviceName: "verification-email",
    logLevel: mode === "raw" ? "INFO" : "WARN",
  });
  const metrics = new Metrics({ namespace: "courier", serviceName: "verification-email" });
  let n = 0;
  const handler = defineConsumer({
    name: "verification-email",
    sqs: answeringSqs(),
    queueUrl: "q",
    dlqUrl: "dlq",
    logger,
    metrics:
      mode === "raw"
        ? metrics
        : // what POWERTOOLS_METRICS_DISABLED gives the readable worker: no EMF
          ({ addMetric: () => undefined, publishStoredMetrics: () => undefined } as never),
    handle: (message, ctx) => {
      const i = n++;
      if (i % 50 === 7) throw new PermanentError("bad input");
      if (i % 25 === 3 || i % 25 === 13) throw new Error("webhook answered 503");
      ctx.logger.info("verification email sent", { to: message.data.email });
    },
  });
  const unsubscribe =
    mode === "readable"
      ? onRecordOutcome((outcome) =>
          process.stdout.write(`${formatOutcomeLine(outcome, { colour: false })}\n`),
        )
      : undefined;
  const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
  const batches = events(messages);
  try {
    return await captured(async () => {
      for (const event of batches) await handler(event, context);
    });
  } finally {
    unsubscribe?.();
  }
}

export const benchmark: Benchmark = {
  name: "local-output",
  description: "What a person reads per handled message: raw JSON logs + EMF (baseline) vs one readable line",
  usesLocalStack: false,
  async run(context: BenchContext): Promise<BenchResult> {
    const messages = context.messages ?? DEFAULT_MESSAGES;
    await scenario("raw", 200); // warm-up: module loading and JIT
    const raw = await scenario("raw", messages);
    const readable = await scenario("readable", messages);
    const row = (name: string, r: typeof raw) => ({
      scenario: name,
      "lines/message": Number((r.lines / messages).toFixed(2)),
      "bytes/message": Math.round(r.bytes / messages),
      "CPU µs/record": Math.round((r.cpuMs * 1000) / messages),
    });
    return {
      rows: [
        row("raw: Powertools JSON at INFO + EMF per batch (--json-logs, Lambda) (baseline)", raw),
        row("readable: one line per outcome, logs from WARN, no EMF (default locally)", readable),
      ],
      notes: [
        `${messages} messages in batches of ${BATCH_SIZE}: 90 % processed (one INFO line each), 8 % retried, 2 % dead-lettered; SQS answered in-process.`,
        "CPU time is the whole runtime's (decode, handler, SQS calls, output), on a shared two-core machine.",
      ],
    };
  },
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await benchmark.run({ endpoint: "", messages: undefined, log: console.error });
  console.table(result.rows);
}
