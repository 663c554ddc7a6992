/**
 * Cost per million: sign-ups and uploads through the whole local system (API server, outbox relay,
 * SNS fan-out, SQS, every consumer in its worker process), with every AWS request counted by kind
 * by a counting proxy in front of LocalStack, and each consumer's handler invocations and their
 * summed duration read from its event source. Prints requests per message per consumer and
 * dollars per million sign-ups and per million uploads at list prices (PRICES below).
 *
 * The run's size is a flag: the 2-core shared machine cannot push 10,000 sign-ups through three
 * consumers in reasonable time. npx tsx bench/cost.bench.ts --signups 10000 --uploads 1000
 * DynamoDB (idempotency) runs on dynalite outside the proxy and is not counted (see notes).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { type ConsumerName, consumerNames, consumers } from "../src/topology.ts";
import type { BenchContext, Benchmark, BenchResult, Row } from "./lib/benchmark.ts";

/**
 * us-east-1 list prices (USD) from the AWS pricing pages for each service, as known on 2026-03
 * (SQS's also seen in a March 2026 summary of the SQS pricing page); free tiers ignored.
 */
export const PRICES = {
  date: "2026-03",
  sqsPerMillionRequests: 0.4, // standard queue, per 64 KB chunk of a request
  snsPublishPerMillion: 0.5, // per 64 KB chunk; SNS-to-SQS deliveries are free
  lambdaPerMillionRequests: 0.2,
  // arm64 (Graviton): the functions deploy on it (BundledFunction's default architecture);
  // x86 is $0.0000166667, 25 % more per GB-s (bench/lambda-memory.bench.ts prints both).
  lambdaPerGbSecond: 0.0000133334,
  s3PutPer1000: 0.005,
  s3GetPer1000: 0.0004,
  sesPer1000Emails: 0.1,
  snsSmsUsPerMessage: 0.00581, // US transactional SMS, before carrier fees
} as const;

/** The consumers this workload drives: those of sign-ups and uploads (password resets and exports apart). */
const drivenConsumers = consumerNames.filter(
  (n) => consumers[n].topic === "account-signups" || consumers[n].topic === "image-uploads",
);

interface Counted {
  /** "service Action", e.g. "sqs ReceiveMessage". */
  readonly byKind: Map<string, number>;
  /** SQS requests by "queue Action"; empty receives as "queue ReceiveMessage(empty)". */
  readonly sqsByQueue: Map<string, number>;
  /**
   * SES SendEmail by recipient: requests, and those SES answered 200 (an email sent). A recipient
   * with two accepted sends got two emails; a request that failed sent none.
   */
  readonly sesByRecipient: Map<string, { requests: number; accepted: number }>;
}

/** Forwards every request to `target` and counts the signed ones by service and action. */
async function startCountingProxy(
  target: string,
): Promise<{ url: string; counted: Counted; close: () => Promise<void> }> {
  const counted: Counted = { byKind: new Map(), sqsByQueue: new Map(), sesByRecipient: new Map() };
  const to = new URL(target);
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const kind = kindOf(req, body);
      if (kind) bump(counted.byKind, kind.kind);
      const isReceive = kind?.kind === "sqs ReceiveMessage";
      const recipient =
        kind?.kind === "ses SendEmail"
          ? (new URLSearchParams(body.toString("utf8")).get("Destination.ToAddresses.member.1") ?? "")
          : undefined;
      if (recipient !== undefined) {
        const entry = counted.sesByRecipient.get(recipient) ?? { requests: 0, accepted: 0 };
        entry.requests += 1;
        counted.sesByRecipient.set(recipient, entry);
      }
      const upstream = httpRequest(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          const answered: Buffer[] = [];
          answer.on("data", (c: Buffer) => {
            if (isReceive) answered.push(c);
            res.write(c);
          });
          answer.on("end", () => {
            res.end();
            if (recipient !== undefined && answer.statusCode === 200) {
              const entry = counted.sesByRecipient.get(recipient);
              if (entry) entry.accepted += 1;
            }
            if (!kind?.queue) return;
            const action = kind.kind.split(" ")[1] ?? "";
            // An empty receive (a long poll that found nothing) is counted apart: idle cost, not per message.
            const empty =
              isReceive && !/"Messages"\s*:\s*\[\s*\{/.test(Buffer.concat(answered).toString("utf8"));
            bump(counted.sqsByQueue, `${kind.queue} ${action}${empty ? "(empty)" : ""}`);
          });
        },
      );
      upstream.on("error", () => res.destroy());
      upstream.end(body);
    });
  });
  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counted,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function kindOf(req: IncomingMessage, body: Buffer): { kind: string; queue?: string } | undefined {
  const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? "")?.[1];
  if (!service) return undefined; // unsigned: health checks, LocalStack's own endpoints
  const target = req.headers["x-amz-target"];
  if (typeof target === "string") {
    const action = target.split(".").at(-1) ?? target;
    let queue: string | undefined;
    if (service === "sqs") {
      try {
        queue = String((JSON.parse(body.toString("utf8")) as { QueueUrl?: string }).QueueUrl ?? "")
          .split("/")
          .at(-1);
      } catch {
        queue = undefined;
      }
    }
    return { kind: `${service} ${action}`, ...(queue ? { queue } : {}) };
  }
  if (service === "s3") return { kind: `s3 ${req.method}` };
  const action = new URLSearchParams(body.toString("utf8")).get("Action") ?? "unknown";
  return { kind: `${service} ${action}` };
}

async function smallJpeg(): Promise<Buffer> {
  const sharp = (await import("sharp")).default;
  return sharp({
    create: {
      width: 1600,
      height: 1200,
      channels: 3,
      background: "#000",
      noise: { type: "gaussian", mean: 128, sigma: 30 },
    },
  })
    .jpeg({ quality: 85 })
    .toBuffer();
}

async function inBatches<T>(items: readonly T[], concurrency: number, run: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await run(items[next++] as T);
    }),
  );
}

export async function measureCost(options: {
  endpoint: string;
  signups: number;
  uploads: number;
  log: (line: string) => void;
}): Promise<BenchResult> {
  const { signups, uploads, log } = options;
  const proxy = await startCountingProxy(options.endpoint);
  const dataDir = await mkdtemp(join(tmpdir(), "courier-cost-bench-"));
  const previousPort = process.env.COURIER_LOCALSTACK_PORT;
  // The local system reaches LocalStack through the proxy: its harness finds it answering there.
  process.env.COURIER_LOCALSTACK_PORT = new URL(proxy.url).port;
  // A benchmark is one client making many sign-ups: lift the API's per-client and per-target limits.
  const unlimited = { points: 1_000_000, durationSeconds: 3600 };
  process.env.COURIER_API_LIMITS = JSON.stringify({
    signup: { perClient: unlimited, perTarget: unlimited },
    "image-upload": { perClient: unlimited, perTarget: unlimited },
  });
  const { startLocalSystem } = await import("../src/dev/local-system.ts");
  const system = await startLocalSystem({
    stackName: "courier",
    apiPort: 0,
    dataDir,
    log,
    workerOutput: new Writable({ write: (_c, _e, done) => done() }),
    consumers: drivenConsumers,
  });
  try {
    // Requests made while deploying and starting are not the workload's.
    proxy.counted.byKind.clear();
    proxy.counted.sqsByQueue.clear();
    proxy.counted.sesByRecipient.clear();
    const started = performance.now();
    const withPhone = (i: number) => i % 2 === 0;
    await inBatches(
      Array.from({ length: signups }, (_, i) => i),
      8,
      async (i) => {
        const response = await fetch(`${system.apiUrl}/accounts`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            email: `cost-${i}-${Date.now()}@example.com`,
            displayName: `Cost ${i}`,
            ...(withPhone(i) ? { phone: `+1415${String(1_000_000 + i).slice(-7)}` } : {}),
          }),
        });
        if (response.status !== 201)
          throw new Error(`sign-up ${i}: HTTP ${response.status} ${await response.text()}`);
      },
    );
    const jpeg = await smallJpeg();
    await inBatches(
      Array.from({ length: uploads }, (_, i) => i),
      4,
      async (i) => {
        const response = await fetch(`${system.apiUrl}/images`, {
          method: "POST",
          headers: { "content-type": "image/jpeg" },
          body: new Uint8Array(jpeg),
        });
        if (response.status !== 202)
          throw new Error(`upload ${i}: HTTP ${response.status} ${await response.text()}`);
      },
    );
    const phones = Array.from({ length: signups }, (_, i) => i).filter(withPhone).length;
    const expected: Record<ConsumerName, number> = {
      "verification-email": signups,
      "verification-sms": phones,
      "team-notify": signups,
      thumbnails: uploads,
    } as Record<ConsumerName, number>;
    log(`cost: ${signups} sign-ups and ${uploads} uploads accepted; waiting for every consumer`);
    // Done when every consumer handled its messages and its queue is empty; a run whose records
    // sit in retry backoff (e.g. SMS refused downstream) ends after a minute without progress.
    let lastProgress = Date.now();
    let lastTotal = -1;
    let unfinished: string[] = [];
    for (;;) {
      const lines = await system.consumerLines();
      unfinished = lines
        .filter((l) => l.processed < (expected[l.consumer] ?? 0) || l.queueDepth > 0)
        .map(
          (l) =>
            `${l.consumer}: ${l.processed} of ${expected[l.consumer]} handled, ${l.queueDepth} in its queue`,
        );
      if (unfinished.length === 0) break;
      const total = lines.reduce((n, l) => n + l.processed + l.failed, 0);
      if (total !== lastTotal) {
        lastTotal = total;
        lastProgress = Date.now();
      } else if (Date.now() - lastProgress > 60_000) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const seconds = (performance.now() - started) / 1000;
    const counts = new Map(proxy.counted.byKind);
    const byQueue = new Map(proxy.counted.sqsByQueue);
    const states = new Map(system.workers.states.map((s) => [s.consumer, s.stats]));
    const result = report({
      signups,
      uploads,
      phones,
      seconds,
      counts,
      byQueue,
      states,
      topology: system.topology,
    });
    const ses = [...proxy.counted.sesByRecipient.values()];
    const sesRequests = ses.reduce((n, e) => n + e.requests, 0);
    const sesAccepted = ses.reduce((n, e) => n + e.accepted, 0);
    const twice = ses.filter((e) => e.accepted > 1).length;
    return {
      rows: result.rows,
      notes: [
        ...(result.notes ?? []),
        `SES SendEmail: ${sesRequests} requests to ${ses.length} recipients, ${sesAccepted} accepted (an email sent); ${twice} recipient(s) got more than one email (${((twice / Math.max(1, ses.length)) * 100).toFixed(2)} %).`,
        ...(unfinished.length > 0
          ? [`Unfinished when the run stopped (no progress for 60 s): ${unfinished.join("; ")}.`]
          : []),
      ],
    };
  } finally {
    await system.stop();
    await proxy.close();
    if (previousPort === undefined) delete process.env.COURIER_LOCALSTACK_PORT;
    else process.env.COURIER_LOCALSTACK_PORT = previousPort;
    await rm(dataDir, { recursive: true, force: true });
  }
}

function report(run: {
  signups: number;
  uploads: number;
  phones: number;
  seconds: number;
  counts: Map<string, number>;
  byQueue: Map<string, number>;
  states: Map<string, { batches: number; handlerMs: number; succeeded: number } | undefined>;
  topology: { consumers: Readonly<Record<string, { queueUrl: string } | undefined>> };
}): BenchResult {
  const c = (kind: string) => run.counts.get(kind) ?? 0;
  const rows: Row[] = [];
  let lambdaDollars = { signup: 0, upload: 0 };
  let sqsRequests = { signup: 0, upload: 0 };
  for (const name of drivenConsumers) {
    const queueName = run.topology.consumers[name]?.queueUrl.split("/").at(-1) ?? name;
    const messages =
      name === "thumbnails" ? run.uploads : name === "verification-sms" ? run.phones : run.signups;
    const onQueue = (action: string) => run.byQueue.get(`${queueName} ${action}`) ?? 0;
    // What the consumer's own traffic costs: receives that brought messages, deletes, visibility
    // changes; the bench's own GetQueueAttributes polling is left out, idle long polls shown apart.
    const sqs =
      onQueue("ReceiveMessage") +
      onQueue("DeleteMessageBatch") +
      onQueue("DeleteMessage") +
      onQueue("ChangeMessageVisibilityBatch") +
      onQueue("ChangeMessageVisibility");
    const emptyReceives = onQueue("ReceiveMessage(empty)");
    const stats = run.states.get(name);
    const invocations = stats?.batches ?? 0;
    const gbSeconds = ((stats?.handlerMs ?? 0) / 1000) * (consumers[name].memoryMb / 1024);
    const dollars =
      (invocations / 1e6) * PRICES.lambdaPerMillionRequests + gbSeconds * PRICES.lambdaPerGbSecond;
    const side = name === "thumbnails" ? "upload" : "signup";
    lambdaDollars = { ...lambdaDollars, [side]: lambdaDollars[side] + dollars };
    sqsRequests = { ...sqsRequests, [side]: sqsRequests[side] + sqs };
    rows.push({
      consumer: name,
      messages,
      "SQS requests (its queue)": sqs,
      "SQS requests / message": messages ? round(sqs / messages, 3) : "n/a",
      "empty receives (idle polls)": emptyReceives,
      "Lambda invocations": invocations,
      "records / invocation": invocations ? round(messages / invocations, 1) : "n/a",
      "handler ms / invocation": invocations ? round((stats?.handlerMs ?? 0) / invocations, 1) : "n/a",
      "memory MB": consumers[name].memoryMb,
    });
  }
  const perMillion = (dollars: number, count: number) => (count ? round((dollars / count) * 1e6, 2) : "n/a");
  const signupParts: Array<[string, number]> = [
    ["SQS", (sqsRequests.signup / 1e6) * PRICES.sqsPerMillionRequests],
    ["SNS publish (NewAccount)", (run.signups / 1e6) * PRICES.snsPublishPerMillion],
    ["SES", (c("ses SendEmail") / 1000) * PRICES.sesPer1000Emails],
    ["SMS (half the sign-ups)", run.phones * PRICES.snsSmsUsPerMessage],
    ["Lambda", lambdaDollars.signup],
  ];
  const uploadParts: Array<[string, number]> = [
    ["SQS", (sqsRequests.upload / 1e6) * PRICES.sqsPerMillionRequests],
    ["SNS publish (ImageUploaded)", (run.uploads / 1e6) * PRICES.snsPublishPerMillion],
    [
      "S3",
      (c("s3 PUT") / 1000) * PRICES.s3PutPer1000 +
        ((c("s3 GET") + c("s3 HEAD")) / 1000) * PRICES.s3GetPer1000,
    ],
    ["Lambda", lambdaDollars.upload],
  ];
  const costLine = (parts: Array<[string, number]>, count: number) =>
    parts.map(([what, dollars]) => `${what} $${perMillion(dollars, count)}`).join(", ");
  const signupDollars = signupParts.reduce((n, [, d]) => n + d, 0);
  const uploadDollars = uploadParts.reduce((n, [, d]) => n + d, 0);
  const kinds = [...run.counts]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  rows.push({
    consumer: "dollars per million sign-ups (SQS, SNS, SES, SMS, Lambda)",
    messages: run.signups,
    "SQS requests (its queue)": sqsRequests.signup,
    "SQS requests / message": `$${perMillion(signupDollars, run.signups)}`,
    "empty receives (idle polls)": "",
    "Lambda invocations": "",
    "records / invocation": "",
    "handler ms / invocation": "",
    "memory MB": "",
  });
  rows.push({
    consumer: "dollars per million uploads (SQS, SNS, S3, Lambda)",
    messages: run.uploads,
    "SQS requests (its queue)": sqsRequests.upload,
    "SQS requests / message": `$${perMillion(uploadDollars, run.uploads)}`,
    "empty receives (idle polls)": "",
    "Lambda invocations": "",
    "records / invocation": "",
    "handler ms / invocation": "",
    "memory MB": "",
  });
  return {
    rows,
    notes: [
      `${run.signups} sign-ups (half with a phone) and ${run.uploads} uploads (1600×1200 JPEG) through the API, ` +
        `every consumer running; ${round(run.seconds, 1)} s from the first request until every queue was drained.`,
      `Every request counted by kind: ${kinds} (GetQueueAttributes: the benchmark's own progress polling).`,
      `Per million sign-ups: ${costLine(signupParts, run.signups)}. Per million uploads: ${costLine(uploadParts, run.uploads)}.`,
      "Lambda duration here is LocalStack's on a shared 2-core machine (each SES, SNS, S3 call goes to an " +
        "emulator on the same cores), far slower than AWS: read the Lambda dollars as an upper bound.",
      "SQS requests per message: receives that brought messages, deletes and visibility changes on the " +
        "consumer's queue (at steady load every poll brings messages); the idle long polls are shown apart.",
      "Lambda: invocations and summed handler time from each worker's event source (deletes excluded, as " +
        "Lambda's poller deletes outside the function), billed at the consumer's memory from the topology.",
      `Prices: us-east-1 list prices as of ${PRICES.date}: SQS $${PRICES.sqsPerMillionRequests}/M requests, SNS publish ` +
        `$${PRICES.snsPublishPerMillion}/M, Lambda $${PRICES.lambdaPerMillionRequests}/M requests + $${PRICES.lambdaPerGbSecond}/GB-s, ` +
        `S3 PUT $${PRICES.s3PutPer1000}/1k, GET $${PRICES.s3GetPer1000}/1k, SES $${PRICES.sesPer1000Emails}/1k emails, ` +
        `US SMS $${PRICES.snsSmsUsPerMessage}/message; free tiers ignored.`,
      "Not counted: DynamoDB (idempotency records on dynalite, outside the proxy: on AWS about one write and " +
        "one update per handled message), Secrets Manager after the first read, CloudWatch Logs ingestion.",
    ],
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export const benchmark: Benchmark = {
  name: "cost",
  description:
    "Requests per message per consumer and dollars per million sign-ups and uploads, counted on the local system",
  run: (context: BenchContext) =>
    measureCost({
      endpoint: context.endpoint,
      signups: context.messages ?? 500,
      uploads: Math.max(1, Math.round((context.messages ?? 500) / 10)),
      log: context.log,
    }),
};
export default benchmark;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { signups: { type: "string" }, uploads: { type: "string" } } });
  const { ensureLocalStack } = await import("../src/dev/localstack.ts");
  const localstack = await ensureLocalStack({ log: (l) => process.stderr.write(`${l}\n`) });
  const result = await measureCost({
    endpoint: localstack.endpoint,
    signups: Number(values.signups ?? 500),
    uploads: Number(values.uploads ?? 50),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.table(result.rows);
  for (const note of result.notes ?? []) console.log(`- ${note}`);
  process.exit(0);
}
