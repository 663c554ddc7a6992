import { cpus, loadavg } from "node:os";
import type { BenchReport, Cell, Row, RunEnvironment } from "./benchmark.ts";

export type { RunEnvironment };

export function runEnvironment(endpoint: string, localstack: string): RunEnvironment {
  const cpu = cpus();
  return {
    node: process.version,
    cpus: `${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown"}`,
    loadAverage: Math.round((loadavg()[0] ?? 0) * 10) / 10,
    endpoint,
    localstack,
  };
}

function cell(value: Cell | undefined): string {
  if (value === undefined) return "";
  return String(value).replaceAll("|", "\\|");
}

export function markdownTable(rows: readonly Row[]): string {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const numeric = columns.map((c) => rows.every((r) => typeof r[c] === "number" || r[c] === undefined));
  const header = `| ${columns.join(" | ")} |`;
  const rule = `| ${numeric.map((n) => (n ? "---:" : "---")).join(" | ")} |`;
  const body = rows.map((row) => `| ${columns.map((c) => cell(row[c])).join(" | ")} |`);
  return [header, rule, ...body].join("\n");
}

function describeEnvironment(e: RunEnvironment): string {
  const load = e.loadAverage === undefined ? "" : `, load average ${e.loadAverage}`;
  return `Node ${e.node}, ${e.cpus}${load}, LocalStack ${e.localstack} at ${e.endpoint}.`;
}

/** One section per benchmark; each may come from a different run, so each names its own. */
export function markdownReport(reports: readonly BenchReport[]): string {
  const lines = [
    "# courier benchmarks",
    "",
    "Each table comes from one run, its rows (baseline first) measured in that same run: compare rows within a table.",
  ];
  for (const report of reports) {
    const when = `Run ${report.startedAt}, ${report.seconds} s.`;
    const where = report.environment ? ` ${describeEnvironment(report.environment)}` : "";
    lines.push("", `## ${report.name}`, "", `${report.description}.`, "", `${when}${where}`, "");
    if (report.error) {
      lines.push(`**failed:** ${report.error}`);
      continue;
    }
    lines.push(markdownTable(report.result?.rows ?? []));
    const notes = report.result?.notes ?? [];
    if (notes.length > 0) lines.push("", ...notes.map((note) => `- ${note}`));
  }
  return `${lines.join("\n")}\n`;
}
