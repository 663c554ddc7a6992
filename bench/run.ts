/**
 * Runs the benchmarks: `npm run bench` runs every `bench/*.bench.ts`, `npm run bench -- publish`
 * runs the named ones. Options: `--messages N` (or BENCH_MESSAGES) sets the messages per scenario.
 * Writes bench/results/latest.json and latest.md and prints the tables. Benchmarks report; they
 * never gate a test run.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { localEndpoint } from "../src/dev/local-aws-config.ts";
import type { BenchContext, Benchmark, BenchReport, RunEnvironment } from "./lib/benchmark.ts";
import { benchLocalStack } from "./lib/localstack.ts";
import { markdownReport, runEnvironment } from "./lib/report.ts";

const benchDir = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(benchDir, "results");
const log = (line: string) => process.stderr.write(`${line}\n`);

async function loadBenchmarks(): Promise<Benchmark[]> {
  const files = (await readdir(benchDir)).filter((f) => f.endsWith(".bench.ts")).sort();
  return Promise.all(
    files.map(async (file) => {
      const module = (await import(pathToFileURL(join(benchDir, file)).href)) as { benchmark?: Benchmark };
      if (!module.benchmark) throw new Error(`bench/${file} does not export "benchmark"`);
      return module.benchmark;
    }),
  );
}

async function previousReports(): Promise<BenchReport[]> {
  try {
    const text = await readFile(join(resultsDir, "latest.json"), "utf8");
    return (JSON.parse(text) as { reports?: BenchReport[] }).reports ?? [];
  } catch {
    return [];
  }
}

function positiveInteger(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${value}"`);
  return n;
}

/** Runs one benchmark; a failure becomes its report's `error` so the others still run. */
async function runOne(
  benchmark: Benchmark,
  context: BenchContext,
  environment: RunEnvironment,
): Promise<BenchReport> {
  log(`bench ${benchmark.name}: ${benchmark.description}`);
  const base = {
    name: benchmark.name,
    description: benchmark.description,
    startedAt: new Date().toISOString(),
    environment,
  };
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  try {
    const result = await benchmark.run(context);
    return { ...base, seconds: seconds(), result };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log(`bench ${benchmark.name} failed: ${reason}`);
    return { ...base, seconds: seconds(), error: reason };
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { messages: { type: "string" } },
  });
  const messages =
    positiveInteger("--messages", values.messages) ??
    positiveInteger("BENCH_MESSAGES", process.env.BENCH_MESSAGES);

  const all = await loadBenchmarks();
  const unknown = positionals.filter((name) => !all.some((b) => b.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown benchmark ${unknown.join(", ")}; known: ${all.map((b) => b.name).join(", ")}`);
  }
  const selected = positionals.length > 0 ? all.filter((b) => positionals.includes(b.name)) : all;

  const localstack = selected.some((b) => b.usesLocalStack !== false)
    ? await benchLocalStack(log)
    : undefined;
  const context: BenchContext = { endpoint: localstack?.endpoint ?? localEndpoint(), messages, log };
  const environment = runEnvironment(context.endpoint, localstack?.version ?? "not used");
  const reports: BenchReport[] = [];
  try {
    for (const benchmark of selected) reports.push(await runOne(benchmark, context, environment));
  } finally {
    await localstack?.release();
  }

  // Running some benchmarks keeps the others' last figures; each report carries its own start time.
  const kept = (await previousReports()).filter((old) => !reports.some((r) => r.name === old.name));
  const merged = [...kept, ...reports].sort((a, b) => a.name.localeCompare(b.name));
  const markdown = markdownReport(merged);
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, "latest.json"), `${JSON.stringify({ reports: merged }, null, 2)}\n`);
  await writeFile(join(resultsDir, "latest.md"), markdown);
  process.stdout.write(markdown);
  log("wrote bench/results/latest.json and bench/results/latest.md");
  if (reports.some((r) => r.error)) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
