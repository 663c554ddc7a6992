import { cpus } from "node:os";
import type { BenchReport, Cell, Row } from "./benchmark.ts";

export interface RunEnvironment {
  readonly node: string;
  readonly cpus: string;
  readonly endpoint: string;
  readonly localstack: string;
}

export function runEnvironment(endpoint: string, localstack: string): RunEnvironment {
  const cpu = cpus();
  return {
    node: process.version,
    cpus: `${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown"}`,
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

export function markdownReport(reports: readonly BenchReport[], environment: RunEnvironment): string {
  const lines = [
    "# courier benchmarks",
    "",
    `Node ${environment.node}, ${environment.cpus}, LocalStack ${environment.localstack} at ${environment.endpoint}.`,
    "Figures are from one run on a shared machine: compare rows within a table, not across machines.",
  ];
  for (const report of reports) {
    lines.push(
      "",
      `## ${report.name}`,
      "",
      `${report.description} (${report.startedAt}, ${report.seconds} s)`,
      "",
    );
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
