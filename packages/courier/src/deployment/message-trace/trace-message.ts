/**
 * `traceMessage`: where a message is and what happened to it, by its eventId or by the correlation
 * id of the request that caused it. The CLI's `courier trace` and the console's "Find a message"
 * both call it. Locally it reads the spans `npm start`'s OTLP receiver wrote and the workers' log
 * lines; on AWS, X-Ray and CloudWatch Logs Insights through the clients it is given.
 */
import { readFile } from "node:fs/promises";
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import type { XRayClient } from "@aws-sdk/client-xray";
import { parseCorrelationId } from "../../lib/trace/trace-context.ts";
import type { DeployedTopology } from "../deployed-topology.ts";
import { findXrayTraceIds, logGroupOf, queryLogLines, readXrayTraces } from "./aws-sources.ts";
import { buildJourney, type LogLine, type MessageJourney } from "./journey.ts";
import { readSpanFile, type SpanRecord } from "./span-record.ts";

export type TraceSource =
  | {
      readonly kind: "local";
      /** JSON lines of span records (the local OTLP receiver's `.courier/spans.jsonl`). */
      readonly spansFile: string;
      /** JSON log lines (Powertools') of the workers. @default - none */
      readonly logFiles?: readonly string[];
    }
  | {
      readonly kind: "aws";
      readonly xray: XRayClient;
      /** For the log lines; without it they are not looked for (and the answer says so). */
      readonly logs?: CloudWatchLogsClient;
      /** Finds each function's log group. */
      readonly lambda?: LambdaClient;
      /** How far back to look. @default 24 */
      readonly lookbackHours?: number;
      /** Said in the answer ("X-Ray in eu-west-1"). */
      readonly where?: string;
    };

export interface TraceMessageOptions {
  /** An eventId, or the correlation id of the request that caused the message(s). */
  readonly id: string;
  readonly source: TraceSource;
  /** The stack, to name the consumers that should have had the message and their log groups. */
  readonly topology?: DeployedTopology;
  readonly now?: () => Date;
}

export class InvalidTraceQueryError extends Error {
  override readonly name = "InvalidTraceQueryError";
  constructor(id: string) {
    super(`"${id}" is not an eventId or a correlation id (1-128 of A-Z a-z 0-9 and . _ : / + = @ -)`);
  }
}

function consumersByTopic(topology: DeployedTopology | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const consumer of Object.values(topology?.consumers ?? {})) {
    out[consumer.topic] = [...(out[consumer.topic] ?? []), consumer.name];
  }
  return out;
}

/** Powertools JSON log lines that name an eventId or a correlation id; anything else is skipped. */
export function logLinesFromText(text: string, source: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const raw of text.split("\n")) {
    if (!raw.startsWith("{")) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      continue;
    }
    const eventId = typeof entry.eventId === "string" ? entry.eventId : undefined;
    const correlationId = typeof entry.correlationId === "string" ? entry.correlationId : undefined;
    if (!eventId && !correlationId) continue;
    lines.push({
      at: typeof entry.timestamp === "string" ? new Date(entry.timestamp).toISOString() : "",
      source: typeof entry.service === "string" ? entry.service : source,
      ...(typeof entry.level === "string" ? { level: entry.level } : {}),
      message: typeof entry.message === "string" ? entry.message : raw,
      ...(eventId ? { eventId } : {}),
      ...(correlationId ? { correlationId } : {}),
    });
  }
  return lines;
}

export async function traceMessage(options: TraceMessageOptions): Promise<MessageJourney> {
  const id = parseCorrelationId(options.id);
  if (!id) throw new InvalidTraceQueryError(options.id);
  const byTopic = consumersByTopic(options.topology);
  const source = options.source;
  if (source.kind === "local") {
    const { spans, found } = await readSpanFile(source.spansFile);
    const notes: string[] = [];
    if (!found)
      notes.push(`No spans file at ${source.spansFile}: is \`npm start\` (its OTLP receiver) running here?`);
    const logLines: LogLine[] = [];
    for (const file of source.logFiles ?? []) {
      try {
        logLines.push(...logLinesFromText(await readFile(file, "utf8"), file));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        notes.push(`No worker log file at ${file}.`);
      }
    }
    return buildJourney({
      query: id,
      spans,
      logLines,
      source: `the spans file ${source.spansFile}`,
      consumersByTopic: byTopic,
      notes,
    });
  }
  const now = (options.now ?? (() => new Date()))();
  const from = new Date(now.getTime() - (source.lookbackHours ?? 24) * 3_600_000);
  const traceIds = await findXrayTraceIds(source.xray, id, from, now);
  const spans: SpanRecord[] = traceIds.length > 0 ? await readXrayTraces(source.xray, traceIds) : [];
  const notes: string[] = [];
  let logLines: LogLine[] = [];
  if (!source.logs) {
    notes.push("Log lines were not looked for (no CloudWatch Logs client).");
  } else {
    const functions = [
      ...Object.values(options.topology?.consumers ?? {}).flatMap((c) =>
        c.functionName ? [c.functionName] : [],
      ),
      ...(options.topology?.manifest.redrive.functionName
        ? [options.topology.manifest.redrive.functionName]
        : []),
    ];
    const groups = source.lambda
      ? await Promise.all(functions.map((fn) => logGroupOf(source.lambda as LambdaClient, fn)))
      : functions.map((fn) => `/aws/lambda/${fn}`);
    const result = await queryLogLines({ logs: source.logs, logGroups: groups, id, from, to: now });
    logLines = result.lines;
    if (result.status !== "Complete")
      notes.push(`Log lines: the Logs Insights query ended ${result.status}.`);
  }
  return buildJourney({
    query: id,
    spans,
    logLines,
    source: `${source.where ?? "X-Ray"} (last ${source.lookbackHours ?? 24} h)`,
    consumersByTopic: byTopic,
    notes,
  });
}
