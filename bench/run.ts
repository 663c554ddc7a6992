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
import type { Benchmark, BenchReport } from "./lib/benchmark.ts";
import { requireLocalStack } from "./lib/localstack.ts";
import { markdownReport, runEnvironment } from "./lib/report.ts";

const benchDir = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(benchDir, "results");

async function loadBenchmarks(): Promise<Benchmark[]> {
  const files = (await readdir(benchDir)).filter((f) => f.endsWith(".bench.ts")).sort();
  const modules = await Promise.all(
    files.map(async (file) => {
      const module = (await import(pathToFileURL(join(benchDir, file)).href)) as { benchmark?: Benchmark };
      if (!module.benchmark) throw new Error(`bench/${file} does not export "benchmark"`);
      return module.benchmark;
    }),
  );
  return modules;
}

async function previousReports(): Promise<BenchReport[]> {
  try {
    const previous = JSON.parse(await readFile(join(resultsDir, "latest.json"), "utf8")) as {
      reports?: BenchReport[];
    };
    return previous.reports ?? [];
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

  const localstack = await requireLocalStack(["sns", "sqs"]);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const reports: BenchReport[] = [];
  for (const benchmark of selected) {
    log(`bench ${benchmark.name}: ${benchmark.description}`);
    const startedAt = new Date().toISOString();
    const started = performance.now();
    const seconds = () => Math.round((performance.now() - started) / 100) / 10;
    try {
      const result = await benchmark.run({ endpoint: localstack.endpoint, messages, log });
      reports.push({
        name: benchmark.name,
        description: benchmark.description,
        startedAt,
        seconds: seconds(),
        result,
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log(`bench ${benchmark.name} failed: ${reason}`);
      reports.push({
        name: benchmark.name,
        description: benchmark.description,
        startedAt,
        seconds: seconds(),
        error: reason,
      });
    }
  }

  // Running some benchmarks keeps the others' last figures; each report carries its own start time.
  const kept = (await previousReports()).filter((old) => !reports.some((r) => r.name === old.name));
  const merged = [...kept, ...reports].sort((a, b) => a.name.localeCompare(b.name));
  const environment = runEnvironment(localstack.endpoint, localstack.version);
  const markdown = markdownReport(merged, environment);
  await mkdir(resultsDir, { recursive: true });
  await writeFile(
    join(resultsDir, "latest.json"),
    `${JSON.stringify({ environment, reports: merged }, null, 2)}\n`,
  );
  await writeFile(join(resultsDir, "latest.md"), markdown);
  process.stdout.write(markdown);
  log(`wrote bench/results/latest.json and bench/results/latest.md`);
  if (reports.some((r) => r.error)) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
