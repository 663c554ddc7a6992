/**
 * Lambda memory per consumer, from a duration-and-cost curve. Lambda gives a function CPU in
 * proportion to its memory (1,769 MB is one vCPU; below it a share of one), so a CPU-bound phase
 * that takes c ms of CPU on a full core takes about c × 1769 / M ms at M MB, and costs the same
 * GB-seconds at every size below one vCPU; what memory buys there is latency. Waiting on AWS (SES,
 * DynamoDB, S3) takes the same time at every size and so costs more per GB the larger the function.
 *
 * Measured here, per consumer, in fresh processes with each bundle built as the stack deploys it
 * (bench/cold-start.bench.ts's runner, AWS calls answered over HTTP by its protocol stand-in, spans by an
 * OTLP receiver): CPU time of the cold start
 * (import to handler ready), of the first batch of one record, and of warm batches of the
 * consumer's batch size (thumbnails renders a real 12-megapixel JPEG, 4000×3000, with sharp). The
 * curve at 128, 256, 512 and 1024 MB (and the consumer's configured size) is then computed from
 * those CPU times with Lambda's CPU share; AWS call latency is not included (it is not measured
 * here; `AWS calls/batch` says how many a batch makes, each adding its latency at every size).
 *
 * Priced at Lambda's arm64 rate, the architecture the functions deploy on: $0.0000133334 per GB-s
 * (x86: $0.0000166667) and $0.20 per million requests (us-east-1 list prices, 2026-03).
 *
 * Run alone: npx tsx bench/lambda-memory.bench.ts [--runs N] [--batches N] [--only a,b]
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { courierTopology } from "../src/topology.ts";
import {
  type BuiltScenario,
  buildConsumerScenarios,
  type ChildReport,
  runChild,
  startCollector,
} from "./cold-start.bench.ts";
import type { Benchmark, BenchResult, Row } from "./lib/benchmark.ts";
import { percentile, round } from "./lib/stats.ts";

/** Lambda arm64 (Graviton) compute price, us-east-1, USD per GB-second. */
export const ARM64_PER_GB_SECOND = 0.0000133334;
export const X86_PER_GB_SECOND = 0.0000166667;
export const PER_MILLION_REQUESTS = 0.2;
/** The memory at which a function has one full vCPU (AWS Lambda documentation). */
export const ONE_VCPU_MB = 1769;
const SIZES = [128, 256, 512, 1024];

/** Milliseconds at `memoryMb` for a phase that used `cpuMs` of one full core. */
export function durationAt(cpuMs: number, memoryMb: number): number {
  return cpuMs * Math.max(1, ONE_VCPU_MB / memoryMb);
}

/** USD per million records: compute of one batch of `records`, plus the invocation's request. */
export function costPerMillionRecords(batchMs: number, memoryMb: number, records: number): number {
  const perBatch = (batchMs / 1000) * (memoryMb / 1024) * ARM64_PER_GB_SECOND + PER_MILLION_REQUESTS / 1e6;
  return (perBatch / records) * 1e6;
}

async function testImage(dir: string): Promise<string> {
  const { default: sharp } = await import("sharp");
  const width = 4000;
  const height = 3000;
  // Gradients and noise, so it compresses like a photograph rather than a flat card.
  const pixels = Buffer.alloc(width * height * 3);
  let seed = 26;
  for (let i = 0; i < pixels.length; i += 3) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const p = i / 3;
    const x = p % width;
    const y = Math.floor(p / width);
    pixels[i] = (x * 255) / width + (seed % 32);
    pixels[i + 1] = (y * 255) / height + ((seed >> 8) % 32);
    pixels[i + 2] = 128 + ((seed >> 16) % 64);
  }
  const file = join(dir, "original.jpg");
  await writeFile(
    file,
    await sharp(pixels, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 85 })
      .toBuffer(),
  );
  return file;
}

export async function lambdaMemory(options: {
  runs: number;
  batches: number;
  only?: readonly string[];
  log: (line: string) => void;
}): Promise<BenchResult> {
  const built = await buildConsumerScenarios(options.only);
  const dir = join(process.cwd(), "node_modules", ".cache", "courier-lambda-memory");
  await mkdir(dir, { recursive: true });
  const image = built.some((b) => b.name === "thumbnails") ? await testImage(dir) : "";
  // The bundles are traced as deployed: their spans need a receiver (cold-start.bench.ts says why).
  const collector = await startCollector(join(dir, "spans.jsonl"));
  const reports = new Map<string, ChildReport[]>();
  const batchSizeOf = (s: BuiltScenario) =>
    courierTopology.consumers[s.name as keyof typeof courierTopology.consumers]?.batchSize ?? 1;
  for (let r = 0; r < options.runs; r++) {
    for (const scenario of built) {
      const report = await runChild(scenario, [], {
        COLD_START_WARM_BATCHES: String(options.batches),
        COLD_START_BATCH_SIZE: String(batchSizeOf(scenario)),
        ...(image ? { COLD_START_IMAGE: image } : {}),
      });
      reports.set(scenario.name, [...(reports.get(scenario.name) ?? []), report]);
    }
    options.log(`lambda-memory: run ${r + 1}/${options.runs}`);
  }
  await collector.close();
  const median = (values: number[]) => percentile(values, 50);
  const rows: Row[] = [];
  for (const scenario of built) {
    const runs = reports.get(scenario.name) ?? [];
    const records = batchSizeOf(scenario);
    const coldCpu = median(runs.map((r) => r.importCpuMs + r.firstBatchCpuMs));
    const warm = runs.flatMap((r) => r.warm);
    const batchCpu = median(warm.map((w) => w.cpuMs));
    const calls = median(warm.map((w) => w.awsCalls));
    const sizes = [...new Set([...SIZES, scenario.memoryMb])].sort((a, b) => a - b);
    for (const memoryMb of sizes) {
      const batchMs = durationAt(batchCpu, memoryMb);
      rows.push({
        consumer: scenario.name,
        "memory MB": memoryMb === scenario.memoryMb ? `${memoryMb} (configured)` : memoryMb,
        "cold start ms (import + first batch)": round(durationAt(coldCpu, memoryMb), 0),
        "batch ms": round(batchMs, 1),
        "records/batch": records,
        "AWS calls/batch": calls,
        "$ per million records (arm64)": round(costPerMillionRecords(batchMs, memoryMb, records), 3),
        "$ per million (x86, same ms)": round(
          costPerMillionRecords(batchMs, memoryMb, records) * (X86_PER_GB_SECOND / ARM64_PER_GB_SECOND),
          3,
        ),
        "measured CPU ms: cold / warm batch": `${round(coldCpu, 1)} / ${round(batchCpu, 1)}`,
      });
    }
  }
  return {
    rows,
    notes: [
      `${options.runs} fresh processes per consumer, each: import, a first batch of one record, then ${options.batches} warm batches of the consumer's batch size (thumbnails: a 4000×3000 JPEG to both renditions). Medians of CPU time (user + system) on this machine's cores (${process.version}).`,
      `Durations at each size = CPU ms × max(1, ${ONE_VCPU_MB} / MB), Lambda's CPU share below one vCPU; AWS call latency excluded (each call adds the same at every size). Cost: GB-s at $${ARM64_PER_GB_SECOND} (arm64; x86 $${X86_PER_GB_SECOND}, 25 % more for the same duration) + $${PER_MILLION_REQUESTS}/M requests, per record at the consumer's batch size.`,
      "Reading it: below one vCPU the compute cost is flat (time × memory is constant), so a smaller size saves nothing on CPU-bound work and adds latency; each AWS call's wait costs in proportion to memory, so a call-bound consumer is cheapest small. Choose the smallest size whose cold start and batch latency are acceptable.",
    ],
  };
}

export const benchmark: Benchmark = {
  name: "lambda-memory",
  description:
    "each consumer's cold start and batch at 128-1024 MB from measured CPU time and Lambda's CPU share, priced at arm64",
  usesLocalStack: false,
  async run(context): Promise<BenchResult> {
    return lambdaMemory({ runs: context.messages ?? 3, batches: 3, log: context.log });
  },
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: { runs: { type: "string" }, batches: { type: "string" }, only: { type: "string" } },
  });
  const result = await lambdaMemory({
    runs: Number(values.runs ?? 3),
    batches: Number(values.batches ?? 3),
    ...(values.only ? { only: values.only.split(",") } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.table(result.rows);
  for (const note of result.notes ?? []) console.log(note);
}
