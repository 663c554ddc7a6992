/**
 * Cold start: each consumer's Lambda bundle, built with the esbuild options the stack deploys with
 * (`lambdaBundling` and `lambdaEsbuildOptions` from the package's cdk module: one definition), is
 * loaded in a fresh Node.js process with the function's environment from the synthesized template,
 * and timed from `import()` to the handler being ready, then through its first batch of one record.
 * Beside them, in the same run: an empty handler and a plain Powertools handler doing the same kind
 * of work (BatchProcessor, Logger, Metrics, Tracer with a captured SES client, the same zod schema).
 *
 * Rounds are paired and interleaved: every round runs each scenario once, in a rotated order, so a
 * burst of load on the shared machine touches all of them alike; the ratio is the median of each
 * round's ratio to the peer's time in that round. AWS calls go, over HTTP, to a stand-in endpoint
 * on loopback (bench/lib/fake-aws.ts) that answers each service's protocol, so the function's own
 * SDK (bundled, or the runtime's for the peer) does a real call's work; fetch (the webhook) is
 * answered in the child once the handler is ready.
 *
 * Run alone: npx tsx bench/cold-start.bench.ts [--rounds N] [--profile] [--profile-of NAME]
 * [--only NAME,NAME] [--assembly cdk.out] (COLD_START_ROUNDS=N). --profile also writes a --cpu-prof
 * profile of the slowest consumer's cold start (or --profile-of's) and prints its top functions by
 * self time, and the same time by package (the bundle's source map names each bundled function's).
 * --assembly times the bundles `cdk synth` wrote (the same files `courier work --bundles` runs);
 * --baseline-dir DIR adds an earlier build's bundles (a copy of node_modules/.cache/courier-cold-start)
 * to the same rounds, for a paired before/after of a change.
 */
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { SourceMap } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { App, type Stack } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { build } from "esbuild";
import { CourierStack } from "../cdk/stacks/courier-stack.ts";
import {
  type AwsSdkSource,
  lambdaBundling,
  lambdaEsbuildOptions,
  newestNodejsRuntime,
  OTEL_LAMBDA_ENVIRONMENT,
  type TracingMode,
} from "../packages/courier/src/cdk/bundled-function.ts";
import { bundledHandlerModules } from "../packages/courier/src/worker/bundles.ts";
import { startOtlpReceiver } from "../src/dev/otlp-receiver.ts";
import { courierTopology } from "../src/topology.ts";
import type { Benchmark, BenchResult, Row } from "./lib/benchmark.ts";
import { type FakeAws, startFakeAws } from "./lib/fake-aws.ts";
import { percentile, round } from "./lib/stats.ts";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
/** Inside the project, so the bundles' externals (@aws-sdk/*, sharp) resolve from its node_modules. */
const workDir = join(root, "node_modules", ".cache", "courier-cold-start");
const DEFAULT_ROUNDS = 15;

export interface Scenario {
  readonly name: string;
  readonly label: string;
  readonly entry: string;
  readonly nativeModules: readonly string[];
  readonly environment: Record<string, string>;
  readonly memoryMb: number;
  /** The topic whose message the first batch carries; none for the empty handler. */
  readonly topic?: string;
  /** The construct's `tracing` (courier's functions deploy with "otel" by default). @default "none" */
  readonly tracing?: TracingMode;
  /** Where the bundle's AWS SDK comes from (courier's functions deploy with "bundled"). @default "bundled" */
  readonly awsSdk?: AwsSdkSource;
}

export interface BuiltScenario extends Scenario {
  readonly bundle: string;
  readonly kib: number;
  readonly largest: string;
}

export interface ChildReport {
  readonly importMs: number;
  readonly firstBatchCpuMs: number;
  /** Warm batches after the first (COLD_START_WARM_BATCHES), each of the consumer's batch size. */
  readonly warm: ReadonlyArray<{
    readonly ms: number;
    readonly cpuMs: number;
    readonly awsCalls: number;
    /** Records the batch reported failed: a warm batch is meant to succeed. */
    readonly failures: number;
    /** The batch's AWS calls by command name. */
    readonly calls: string;
  }>;
  /** CPU time (user + system) of the import: steadier than wall time on a loaded machine. */
  readonly importCpuMs: number;
  /** KiB of external CommonJS files the import loaded besides the bundle (the runtime's SDK, sharp's JS). */
  readonly externalKib: number;
  readonly firstBatchMs: number;
  readonly failures: number;
  readonly awsCalls: string[];
}

// ---- the function environments, from the synthesized template ----

/** A stand-in for a value the template computes at deploy time (a Ref, a GetAtt, a Join). */
function placeholder(name: string): string {
  if (/QUEUE_URL$|_URL$/.test(name))
    return `https://sqs.us-east-1.amazonaws.com/123456789012/${name.toLowerCase()}`;
  if (/ARN$/.test(name))
    return `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name.toLowerCase()}-AbCdEf`;
  if (/TABLE/.test(name)) return "courier-bench-table";
  if (/BUCKET/.test(name)) return "courier-bench-bucket";
  return `courier-bench-${name.toLowerCase()}`;
}

/** Each consumer's tracing mode as the stack deploys it (filled by consumerEnvironments). */
const tracingModes = new Map<string, TracingMode>();

/** Each consumer's environment variables as the template sets them, deploy-time values stood in for. */
function consumerEnvironments(): Map<string, Record<string, string>> {
  process.env.CDK_VALIDATION = "false";
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  const stack = new CourierStack(app, "courier-cold-start", {
    settings: {
      mailFrom: "Courier <no-reply@courier.example.com>",
      verifyUrlBase: "https://app.courier.example.com/verify",
      teamWebhookUrl: "https://hooks.courier.example.com/services/T000/B000",
    },
  });
  const environments = new Map<string, Record<string, string>>();
  tracingModes.clear();
  for (const [name, consumerFunction] of Object.entries(stack.courier.consumerFunctions)) {
    const cfn = consumerFunction.function.node.defaultChild as lambda.CfnFunction;
    const resolved = (stack as Stack).resolve(cfn.environment) as { variables?: Record<string, unknown> };
    // Active tracing is the construct's "otel" mode: the OpenTelemetry SDK is bundled and started first.
    const tracing = (stack as Stack).resolve(cfn.tracingConfig) as { mode?: string } | undefined;
    tracingModes.set(name, tracing?.mode === "Active" ? "otel" : "none");
    const variables: Record<string, string> = {};
    for (const [key, value] of Object.entries(resolved.variables ?? {})) {
      variables[key] = typeof value === "string" ? value : placeholder(key);
    }
    environments.set(name, variables);
  }
  return environments;
}

// ---- bundles ----

async function bundleScenario(scenario: Scenario): Promise<BuiltScenario> {
  const options = lambdaEsbuildOptions(
    lambdaBundling({
      runtime: newestNodejsRuntime(),
      architecture: lambda.Architecture.ARM_64,
      nativeModules: scenario.nativeModules,
      tracing: scenario.tracing ?? "none",
      awsSdk: scenario.awsSdk ?? "bundled",
    }),
  );
  const { outputFileName, ...esbuildOptions } = options;
  const outdir = join(workDir, scenario.name);
  await rm(outdir, { recursive: true, force: true });
  const outfile = join(outdir, outputFileName);
  const result = await build({
    ...esbuildOptions,
    entryPoints: [scenario.entry],
    outfile,
    metafile: true,
    logLevel: "silent",
    // This repository resolves @courier-queue/courier to its sources (the exports map's
    // courier-source condition); installed from the tarball the same code comes from dist/.
    conditions: [...(esbuildOptions.conditions ?? []), "courier-source"],
  });
  const output = result.metafile.outputs[relative(process.cwd(), outfile)];
  const bytes = output?.bytes ?? 0;
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const name = match?.[1] ?? (input.includes("packages/courier/") ? "courier" : "app");
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  const largest = [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([name, b]) => `${name} ${round(b / 1024, 0)}`)
    .join(", ");
  return { ...scenario, bundle: outfile, kib: round(bytes / 1024, 0), largest };
}

/** A bundle a synthesized assembly holds, as deployed (its size only: no metafile). */
async function assembledScenario(scenario: Scenario, bundle: string): Promise<BuiltScenario> {
  const { size } = await stat(bundle);
  return { ...scenario, bundle, kib: round(size / 1024, 0), largest: "(from the assembly)" };
}

// ---- the first batch ----

function envelope(type: string, data: unknown): string {
  return JSON.stringify({
    eventId: randomUUID(),
    type,
    version: 1,
    occurredAt: new Date().toISOString(),
    producer: "cold-start-bench",
    data,
  });
}

const now = new Date().toISOString();
const messages: Record<string, () => string> = {
  "account-signups": () =>
    envelope("NewAccount", {
      accountId: "acct-1",
      email: "ada@example.com",
      displayName: "Ada Lovelace",
      phone: "+14155550123",
      locale: "en-US",
      createdAt: now,
    }),
  "image-uploads": () =>
    envelope("ImageUploaded", {
      imageId: "img-1",
      bucket: "courier-bench-bucket",
      key: "originals/img-1",
      contentType: "image/jpeg",
      byteSize: 1000,
      uploadedBy: "acct-1",
      uploadedAt: now,
    }),
  "password-resets": () =>
    envelope("PasswordResetRequested", { accountId: "acct-1", email: "ada@example.com", requestedAt: now }),
  "account-exports": () =>
    envelope("AccountExportRequested", {
      exportId: randomUUID(),
      accountId: "acct-1",
      requestedAt: now,
      account: { email: "ada@example.com", displayName: "Ada Lovelace", locale: "en-US", createdAt: now },
      items: [],
    }),
};

function sqsEvent(topic: string | undefined): unknown {
  const body = topic
    ? JSON.stringify({
        Type: "Notification",
        MessageId: randomUUID(),
        TopicArn: `arn:aws:sns:us-east-1:123456789012:${topic}`,
        Message: messages[topic]?.() ?? "{}",
        Timestamp: now,
        SequenceNumber: topic === "password-resets" ? "10000000000000000001" : undefined,
      })
    : "{}";
  const fifo = topic === "password-resets";
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: "bench-receipt",
        body,
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: String(Date.now()),
          SenderId: "bench",
          ApproximateFirstReceiveTimestamp: String(Date.now()),
          ...(fifo ? { MessageGroupId: "acct-1", MessageDeduplicationId: "d1", SequenceNumber: "1" } : {}),
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:bench${fifo ? ".fifo" : ""}`,
        awsRegion: "us-east-1",
      },
    ],
  };
}

// ---- the child: one fresh process per measurement ----

/** Runs in the child: times the import and the first batch, answers AWS calls and fetch in-process. */
const RUNNER = `
import { createRequire } from "node:module";
import { createReadStream, readFileSync, readdirSync, existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, "utf8"));
const c0 = process.cpuUsage();
const t0 = performance.now();
const mod = await import(pathToFileURL(bundle).href);
const handler = mod.handler;
if (typeof handler !== "function") throw new Error("no handler export");
const t1 = performance.now();
const c1 = process.cpuUsage(c0);
// The JavaScript the import loaded besides the bundle: the external CommonJS files (the runtime's
// SDK when it is not bundled, sharp's JavaScript), read from the CommonJS module cache.
const externalBytes = Object.keys(createRequire(import.meta.url).cache)
  .filter((file) => file.endsWith(".js") || file.endsWith(".cjs"))
  .reduce((sum, file) => sum + statSync(file).size, 0);
// AWS calls go to the stand-in endpoint (bench/lib/fake-aws.ts, in the parent), which records
// them; the parent hands them over on request, over the IPC channel (no fetch or http loaded here).
let fetchCalls = [];
function takeCalls() {
  return new Promise((resolve) => {
    process.once("message", (message) => {
      const taken = [...message.calls, ...fetchCalls];
      fetchCalls = [];
      resolve(taken);
    });
    process.send({ type: "take-calls" });
  });
}
globalThis.fetch = async () => { fetchCalls.push("fetch"); return new Response("ok", { status: 200 }); };
const context = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:bench", memoryLimitInMB: "256",
  awsRequestId: "bench-request", logGroupName: "bench", logStreamName: "bench",
  getRemainingTimeInMillis: () => 30000, callbackWaitsForEmptyEventLoop: true,
  done() {}, fail() {}, succeed() {},
};
const c2 = process.cpuUsage();
const result = await handler(event, context);
const t2 = performance.now();
const c3 = process.cpuUsage(c2);
const firstBatchCalls = await takeCalls();
// Warm batches (the memory bench): full batches of fresh records, each a new event to the handler.
const warm = [];
const warmBatches = Number(process.env.COLD_START_WARM_BATCHES ?? 0);
const batchSize = Number(process.env.COLD_START_BATCH_SIZE ?? 1);
const { randomUUID } = await import("node:crypto");
const template = event.Records[0];
for (let b = 0; b < warmBatches; b++) {
  const records = Array.from({ length: batchSize }, () => ({
    ...template,
    messageId: randomUUID(),
    body: template.body
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, () => randomUUID())
      // The image's real size, which the renderer holds the stream to.
      .replace(/(byteSize\\\\?":)1000/, (_, key) => key + (process.env.COLD_START_IMAGE ? statSync(process.env.COLD_START_IMAGE).size : 1000)),
  }));
  const cw = process.cpuUsage();
  const tw = performance.now();
  const response = await handler({ Records: records }, { ...context, awsRequestId: randomUUID() });
  const used = process.cpuUsage(cw);
  const ms = performance.now() - tw;
  const calls = await takeCalls();
  warm.push({ ms, cpuMs: (used.user + used.system) / 1000, awsCalls: calls.length, failures: response?.batchItemFailures?.length ?? 0, calls: calls.join(" ") });
}
process.send({ externalKib: externalBytes / 1024, importCpuMs: (c1.user + c1.system) / 1000, importMs: t1 - t0, firstBatchMs: t2 - t1, firstBatchCpuMs: (c3.user + c3.system) / 1000, failures: result?.batchItemFailures?.length ?? 0, awsCalls: firstBatchCalls, warm }, () => {
  // The SDK's keep-alive sockets to the stand-in would hold the process open until they time out.
  process.exit(0);
});
`;

/** Stands in for the ADOT collector extension: an OTLP/HTTP receiver on loopback (startCollector). */
let collectorEndpoint = "http://127.0.0.1:9";

/**
 * Starts the OTLP receiver traced bundles export to. Without one, a traced function's flush at the
 * end of each batch retries a refused export for seconds: every run must start it.
 */
export async function startCollector(spansFile: string) {
  const collector = await startOtlpReceiver({ spansFile });
  collectorEndpoint = collector.endpoint;
  return collector;
}
/** Stands in for AWS (set by runChild when it first runs). */
let awsEndpoint = "http://127.0.0.1:9";
let fakeAws: Promise<FakeAws> | undefined;

function lambdaEnvironment(scenario: BuiltScenario): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "ASIABENCH",
    AWS_SECRET_ACCESS_KEY: "bench",
    AWS_SESSION_TOKEN: "bench",
    // The stand-in endpoint on loopback: nothing leaves the machine.
    AWS_ENDPOINT_URL: awsEndpoint,
    AWS_LAMBDA_FUNCTION_NAME: scenario.name,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(scenario.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${scenario.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: "bench",
    AWS_EXECUTION_ENV: `AWS_Lambda_${newestNodejsRuntime().name}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    LAMBDA_TASK_ROOT: dirname(scenario.bundle),
    // Active tracing: a sampled invocation; the X-Ray daemon address is a closed loopback port.
    _X_AMZN_TRACE_ID: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    AWS_XRAY_DAEMON_ADDRESS: "127.0.0.1:9",
    AWS_XRAY_CONTEXT_MISSING: "LOG_ERROR",
    ...scenario.environment,
    // The template's OTEL_EXPORTER_OTLP_ENDPOINT names the collector on localhost:4318; here it runs
    // in the bench's process on a free port, so the first batch's export is timed too.
    ...(scenario.tracing === "otel" ? { OTEL_EXPORTER_OTLP_ENDPOINT: collectorEndpoint } : {}),
  };
}

export async function runChild(
  scenario: BuiltScenario,
  extraArgs: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<ChildReport> {
  const eventFile = join(workDir, `${scenario.name}.event.json`);
  fakeAws ??= startFakeAws();
  const aws = await fakeAws;
  awsEndpoint = aws.endpoint;
  aws.setImage(extraEnv.COLD_START_IMAGE);
  aws.takeCalls();
  return new Promise((resolve, reject) => {
    const child = fork(join(workDir, "runner.mjs"), [scenario.bundle, eventFile], {
      env: { ...lambdaEnvironment(scenario), ...extraEnv },
      execArgv: extraArgs,
      // COLD_START_CHILD_OUTPUT=1 shows the handlers' logs (stdout and stderr), for debugging a scenario.
      stdio: process.env.COLD_START_CHILD_OUTPUT
        ? ["ignore", "inherit", "inherit", "ipc"]
        : ["ignore", "ignore", "pipe", "ipc"],
    });
    let report: ChildReport | undefined;
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("message", (message: ChildReport | { type: "take-calls" }) => {
      if ("type" in message) child.send({ calls: aws.takeCalls() });
      else report = message;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (report) resolve(report);
      else reject(new Error(`${scenario.name}: child exited ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

// ---- the profile ----

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The functions with the most self time in a --cpu-prof profile, by file. */
async function profileTop(scenario: BuiltScenario, count = 12): Promise<string[]> {
  const dir = join(workDir, "profile");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await runChild(scenario, ["--cpu-prof", `--cpu-prof-dir=${dir}`, "--cpu-prof-interval=100"]);
  const file = (await readdir(dir)).find((f) => f.endsWith(".cpuprofile"));
  if (!file) return ["no profile written"];
  const profile = JSON.parse(await readFile(join(dir, file), "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // The bundle is minified: its source map names the package each of its functions came from.
  const map = new SourceMap(JSON.parse(await readFile(`${scenario.bundle}.map`, "utf8")));
  const origin = (frame: CpuProfileNode["callFrame"]): string => {
    const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string };
    // Relative to the map; the work directory sits inside node_modules, so resolve it first.
    const source = entry.originalSource ? resolve(dirname(scenario.bundle), entry.originalSource) : "";
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(
      source.replace(/^.*node_modules\/\.cache\//, ""),
    )?.[1];
    if (pkg) return `${pkg} (in the bundle)`;
    if (source.includes("packages/courier/")) return "courier (in the bundle)";
    return source ? "the function's own code (in the bundle)" : "the bundle (unmapped)";
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const where = (url: string) =>
    url.replace(/^.*node_modules\/\.cache\/courier-cold-start\//, "").replace(/^.*node_modules\//, "");
  /** The package (or the bundle) nearest the sampled frame on its stack: who asked for the work. */
  const owner = (id: number): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parentOf.get(cur)) {
      const url = byId.get(cur)?.callFrame.url ?? "";
      const frame = byId.get(cur)?.callFrame;
      if (frame && url.includes("/courier-cold-start/")) {
        const from = origin(frame);
        // The module's top level maps to no source: the work is its callee's, or the caller's.
        if (from !== "the bundle (unmapped)") return from;
        continue;
      }
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
      if (pkg) return `${pkg} (external, loaded from node_modules)`;
    }
    return "Node.js startup and loader";
  };
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    total += us;
    const key = `${frame.functionName || "(anonymous)"} ${frame.url ? `${where(frame.url)}:${frame.lineNumber + 1}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const by = owner(id);
    byOwner.set(by, (byOwner.get(by) ?? 0) + us);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, us]) => `${round(us / 1000, 1)} ms (${round((us / total) * 100, 0)} %) ${key}`);
  return [
    `profile of ${scenario.name}'s cold start (--cpu-prof, whole process, ${round(total / 1000, 0)} ms sampled), self time by function:`,
    ...top(byFunction, count),
    "the same samples by the code that asked for them (nearest package on the stack):",
    ...top(byOwner, 12),
  ];
}

// ---- the run ----

function median(values: number[]): number {
  return percentile(values, 50);
}

/** Each consumer's bundle as the stack builds it, with its environment and first-batch event. */
export async function buildConsumerScenarios(only?: readonly string[]): Promise<BuiltScenario[]> {
  await mkdir(workDir, { recursive: true });
  await writeFile(join(workDir, "runner.mjs"), RUNNER);
  const environments = consumerEnvironments();
  const built: BuiltScenario[] = [];
  for (const [name, consumer] of Object.entries(courierTopology.consumers)) {
    if (only && !only.includes(name)) continue;
    const scenario: Scenario = {
      name,
      label: name,
      entry: join(root, consumer.handlerEntry),
      nativeModules: consumer.needs?.nodeModules ?? [],
      environment: environments.get(name) ?? {},
      memoryMb: consumer.memoryMb,
      tracing: tracingModes.get(name) ?? "none",
      topic: consumer.topic,
    };
    built.push(await bundleScenario(scenario));
    await writeFile(join(workDir, `${name}.event.json`), JSON.stringify(sqsEvent(scenario.topic)));
  }
  return built;
}

export interface ColdStartOptions {
  readonly rounds: number;
  readonly profile: boolean;
  readonly log: (line: string) => void;
  /** Only these consumers (the empty handler and the peer always run). @default every consumer */
  readonly only?: readonly string[];
  /** Profile this consumer. @default the slowest */
  readonly profileOf?: string;
  /**
   * Time the consumers' bundles as a synthesized cloud assembly holds them (`cdk synth`'s cdk.out,
   * read as `courier work --bundles` reads it) instead of building them here. @default build here
   */
  readonly assembly?: string;
  /**
   * Also time the bundles an earlier build left in this directory (`<dir>/<consumer>/index.mjs`,
   * a copy of an earlier run's work directory), as "<consumer> (earlier build)" in the same rounds:
   * a before/after of a change, paired. @default none
   */
  readonly baselineDir?: string;
}

export async function coldStart(options: ColdStartOptions) {
  const { log } = options;
  await mkdir(workDir, { recursive: true });
  await writeFile(join(workDir, "runner.mjs"), RUNNER);
  const environments = consumerEnvironments();
  const scenarios: Scenario[] = [
    {
      name: "empty",
      label: "empty handler",
      entry: join(workDir, "empty-handler.ts"),
      nativeModules: [],
      environment: { NODE_OPTIONS: "--enable-source-maps" },
      memoryMb: 256,
    },
    {
      name: "powertools-peer",
      label:
        "Powertools peer: BatchProcessor + Logger + Metrics + Tracer + the NewAccount zod schema (baseline)",
      entry: join(root, "bench", "package-fixtures", "powertools-peer.ts"),
      nativeModules: [],
      environment: { NODE_OPTIONS: "--enable-source-maps", POWERTOOLS_SERVICE_NAME: "verification-email" },
      memoryMb: 256,
      topic: "account-signups",
      // As NodejsFunction bundles it by default (and as the issue measured it): the SDK from the runtime.
      awsSdk: "runtime",
    },
    {
      name: "courier-peer",
      label:
        "courier doing the peer's work: defineConsumer + SES + the NewAccount contract (no idempotency, no secret)",
      entry: join(root, "bench", "package-fixtures", "courier-peer.ts"),
      nativeModules: [],
      // Traced as the construct deploys a function by default (the peer traces with Tracer).
      tracing: "otel",
      environment: {
        ...OTEL_LAMBDA_ENVIRONMENT,
        NODE_OPTIONS: "--enable-source-maps",
        POWERTOOLS_SERVICE_NAME: "verification-email",
        COURIER_CONSUMER: "verification-email",
        COURIER_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/courier-peer",
        COURIER_DLQ_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/courier-peer-dlq",
      },
      memoryMb: 256,
      topic: "account-signups",
    },
  ];
  await writeFile(
    join(workDir, "empty-handler.ts"),
    "export const handler = async () => ({ batchItemFailures: [] });\n",
  );
  for (const [name, consumer] of Object.entries(courierTopology.consumers)) {
    if (options.only && !options.only.includes(name)) continue;
    scenarios.push({
      name,
      label: `${name} (tracing otel)`,
      entry: join(root, consumer.handlerEntry),
      nativeModules: consumer.needs?.nodeModules ?? [],
      environment: environments.get(name) ?? {},
      memoryMb: consumer.memoryMb,
      topic: consumer.topic,
      tracing: "otel",
    });
  }
  // The peer with courier's SDK bundling: what the lever is worth to a plain Powertools function.
  const plainPeer = scenarios.find((s) => s.name === "powertools-peer");
  if (plainPeer) {
    scenarios.splice(2, 0, {
      ...plainPeer,
      name: "powertools-peer-bundled-sdk",
      label: "Powertools peer, its SDK bundled as courier bundles it",
      awsSdk: "bundled",
    });
  }
  // The construct's tracing: "none" and awsSdk: "runtime" beside its defaults, for one consumer.
  const withoutTracing = scenarios.find((s) => s.name === "verification-email");
  if (withoutTracing) {
    scenarios.push({
      ...withoutTracing,
      name: "verification-email-runtime-sdk",
      label: "verification-email (tracing otel, awsSdk runtime)",
      awsSdk: "runtime",
    });
    const environment = Object.fromEntries(
      Object.entries(withoutTracing.environment).filter(([key]) => !key.startsWith("OTEL_")),
    );
    scenarios.push({
      ...withoutTracing,
      name: "verification-email-none",
      label: "verification-email (tracing none)",
      environment,
      tracing: "none",
    });
  }
  const collector = await startCollector(join(workDir, "spans.jsonl"));
  const assembled = options.assembly
    ? bundledHandlerModules({ assemblyDir: options.assembly, stackName: "courier" })
    : undefined;
  const built: BuiltScenario[] = [];
  for (const scenario of scenarios) {
    const bundle = assembled?.[scenario.name];
    built.push(bundle ? await assembledScenario(scenario, bundle) : await bundleScenario(scenario));
    await writeFile(join(workDir, `${scenario.name}.event.json`), JSON.stringify(sqsEvent(scenario.topic)));
  }
  if (options.baselineDir) {
    for (const scenario of built.filter(
      (b) => !["empty", "powertools-peer", "powertools-peer-bundled-sdk", "courier-peer"].includes(b.name),
    )) {
      const earlier = join(options.baselineDir, scenario.name, "index.mjs");
      const copy = join(workDir, `${scenario.name}.earlier`, "index.mjs");
      try {
        await mkdir(dirname(copy), { recursive: true });
        await writeFile(copy, await readFile(earlier));
        await writeFile(`${copy}.map`, await readFile(`${earlier}.map`)).catch(() => {});
        await writeFile(
          join(workDir, `${scenario.name}.earlier.event.json`),
          JSON.stringify(sqsEvent(scenario.topic)),
        );
      } catch {
        continue;
      }
      const { size } = await stat(copy);
      built.push({
        ...scenario,
        name: `${scenario.name}.earlier`,
        label: `${scenario.label} (earlier build)`,
        bundle: copy,
        kib: round(size / 1024, 0),
        largest: "",
      });
    }
  }
  log(`cold-start: ${built.length} bundles built; ${options.rounds} interleaved rounds`);

  const samples = new Map<string, ChildReport[]>(built.map((s) => [s.name, []]));
  // One unmeasured warm-up round: the first processes pay for the page cache.
  for (const scenario of built) await runChild(scenario);
  for (let r = 0; r < options.rounds; r++) {
    const order = built.map((_, i) => built[(i + r) % built.length] as BuiltScenario);
    for (const scenario of order) samples.get(scenario.name)?.push(await runChild(scenario));
    log(`cold-start: round ${r + 1}/${options.rounds}`);
  }
  const spansReceived = collector.received();
  await collector.close();

  const peer = samples.get("powertools-peer") ?? [];
  const rows: Row[] = built.map((scenario) => {
    const runs = samples.get(scenario.name) ?? [];
    const ratios = runs.map((run, i) => run.importMs / (peer[i]?.importMs ?? Number.NaN));
    const first = runs[0];
    return {
      function: scenario.label,
      "bundle KiB": scenario.kib,
      "JS loaded at import KiB (bundle + external)": round(scenario.kib + (first?.externalKib ?? 0), 0),
      "import ms (median)": round(median(runs.map((r) => r.importMs)), 1),
      "import ms (p90)": round(
        percentile(
          runs.map((r) => r.importMs),
          90,
        ),
        1,
      ),
      "import vs peer": round(median(ratios), 2),
      "import CPU ms (median)": round(median(runs.map((r) => r.importCpuMs)), 1),
      "import CPU vs peer": round(
        median(runs.map((run, i) => run.importCpuMs / (peer[i]?.importCpuMs ?? Number.NaN))),
        2,
      ),
      "import + first batch vs peer": round(
        median(
          runs.map(
            (run, i) =>
              (run.importMs + run.firstBatchMs) /
              ((peer[i]?.importMs ?? Number.NaN) + (peer[i]?.firstBatchMs ?? Number.NaN)),
          ),
        ),
        2,
      ),
      "first batch ms (median)": round(median(runs.map((r) => r.firstBatchMs)), 1),
      "first batch: failed / AWS calls": first
        ? `${first.failures} / ${first.awsCalls.length > 0 ? first.awsCalls.join(" ") : "none"}`
        : "",
      "largest in bundle (KiB)": scenario.largest,
    };
  });
  const notes = [
    `${options.rounds} rounds after one warm-up round; each round starts every scenario once in a fresh Node.js ${process.version} process, in a rotated order. "import vs peer" is the median of the per-round ratios.`,
    "Bundles: lambdaEsbuildOptions(lambdaBundling(...)) from packages/courier/src/cdk/bundled-function.ts, the options BundledFunction deploys (minified ESM, source maps, node26 target, the AWS SDK bundled from its ES modules but for the credential providers Lambda never reaches (awsSdk \"bundled\"), native modules external), with this repository's courier-source condition. The Powertools peer is bundled as NodejsFunction bundles by default: @aws-sdk/* external, loaded from the runtime's copy (here the project's node_modules, the same packages).",
    `OpenTelemetry (tracing "otel", the construct's default): the SDK starts ahead of the handler (esbuild inject) and exports the first batch's spans before the handler returns, to an OTLP/HTTP receiver on loopback standing in for the ADOT collector extension (${spansReceived} spans received over the run). The collector layer's own start (a Lambda extension, in its own process, before the function's init) is not measured here.`,
    "Environment: the function's variables from the synthesized template (NODE_OPTIONS=--enable-source-maps among them; deploy-time values stood in for), Lambda's own (function name, region, a sampled _X_AMZN_TRACE_ID), AWS_ENDPOINT_URL on a loopback stand-in that answers each service's protocol (each call serialized, signed, sent over HTTP and parsed by the function's SDK; no TLS); fetch answered in-process after the import. thumbnails' first batch finds no original (HeadObject 404) and dead-letters it.",
  ];
  if (options.profile) {
    const slowest = built
      .filter(
        (s) =>
          s.name !== "empty" &&
          !s.name.startsWith("powertools-peer") &&
          s.name !== "courier-peer" &&
          // The slowest consumer as deployed, not a variant of one built with other options.
          !s.name.endsWith("-runtime-sdk") &&
          !s.name.endsWith("-none") &&
          !s.name.endsWith(".earlier"),
      )
      .filter((s) => !options.profileOf || s.name === options.profileOf)
      .sort(
        (a, b) =>
          median((samples.get(b.name) ?? []).map((r) => r.importMs)) -
          median((samples.get(a.name) ?? []).map((r) => r.importMs)),
      )[0];
    if (slowest) notes.push(...(await profileTop(slowest)));
  }
  return { rows, notes };
}

export const benchmark: Benchmark = {
  name: "cold-start",
  description:
    "each consumer's Lambda bundle as the stack builds it: size, import to handler ready, first batch, beside an empty handler and a plain Powertools handler, in fresh processes",
  usesLocalStack: false,
  async run(context): Promise<BenchResult> {
    const rounds =
      Number(process.env.COLD_START_ROUNDS) || (context.messages ? context.messages : DEFAULT_ROUNDS);
    return coldStart({ rounds, profile: true, log: context.log });
  },
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string" },
      profile: { type: "boolean", default: false },
      "profile-of": { type: "string" },
      only: { type: "string" },
      assembly: { type: "string" },
      "baseline-dir": { type: "string" },
    },
  });
  const rounds = Number(values.rounds ?? process.env.COLD_START_ROUNDS) || DEFAULT_ROUNDS;
  const result = await coldStart({
    rounds,
    profile: values.profile ?? false,
    log: (line) => process.stderr.write(`${line}\n`),
    ...(values.only ? { only: values.only.split(",") } : {}),
    ...(values["profile-of"] ? { profileOf: values["profile-of"] } : {}),
    ...(values.assembly ? { assembly: values.assembly } : {}),
    ...(values["baseline-dir"] ? { baselineDir: values["baseline-dir"] } : {}),
  });
  console.table(result.rows);
  for (const note of result.notes) console.log(note);
}
