/**
 * Where a message's journey is read on AWS: X-Ray (the ADOT collector sends courier's spans there;
 * `courier.event_id` and `courier.correlation_id` are annotations, so GetTraceSummaries filters on
 * them) and CloudWatch Logs Insights over the functions' log groups (the runtime's log lines carry
 * eventId and correlationId). Clients come from the caller, on the standard configuration chain.
 */
import {
  type CloudWatchLogsClient,
  GetQueryResultsCommand,
  type ResultField,
  StartQueryCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { GetFunctionConfigurationCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { BatchGetTracesCommand, GetTraceSummariesCommand, type XRayClient } from "@aws-sdk/client-xray";
import { ATTR, XRAY_ANNOTATED, xrayAnnotationKey } from "../../lib/trace/semconv.ts";
import type { LogLine } from "./journey.ts";
import type { AttributeValue, SpanKindName, SpanRecord } from "./span-types.ts";

/** X-Ray takes a bounded window per GetTraceSummaries call; longer look-backs are cut into these. */
export const XRAY_WINDOW_HOURS = 6;
/** BatchGetTraces takes at most 5 trace ids a call. */
const BATCH_GET_TRACES_MAX = 5;

/** The filter expression for an id that passed `parseCorrelationId` (no quotes can be in it). */
export function xrayFilterExpression(id: string): string {
  const eventKey = xrayAnnotationKey(ATTR.eventId);
  const correlationKey = xrayAnnotationKey(ATTR.correlationId);
  return `annotation.${eventKey} = "${id}" OR annotation.${correlationKey} = "${id}"`;
}

/** The ids of the traces whose spans name the id, newest window first, across the look-back. */
export async function findXrayTraceIds(
  xray: XRayClient,
  id: string,
  from: Date,
  to: Date,
  maxTraces = 50,
): Promise<string[]> {
  const ids = new Set<string>();
  const windowMs = XRAY_WINDOW_HOURS * 3_600_000;
  for (let end = to.getTime(); end > from.getTime() && ids.size < maxTraces; end -= windowMs) {
    const start = Math.max(from.getTime(), end - windowMs);
    let nextToken: string | undefined;
    do {
      const page = await xray.send(
        new GetTraceSummariesCommand({
          StartTime: new Date(start),
          EndTime: new Date(end),
          FilterExpression: xrayFilterExpression(id),
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const summary of page.TraceSummaries ?? []) if (summary.Id) ids.add(summary.Id);
      nextToken = page.NextToken;
    } while (nextToken && ids.size < maxTraces);
  }
  return [...ids].slice(0, maxTraces);
}

interface XraySegmentDocument {
  id?: string;
  trace_id?: string;
  parent_id?: string;
  name?: string;
  start_time?: number;
  end_time?: number;
  namespace?: string;
  origin?: string;
  error?: boolean;
  fault?: boolean;
  cause?: { exceptions?: Array<{ message?: string; type?: string }> };
  annotations?: Record<string, AttributeValue>;
  metadata?: Record<string, Record<string, unknown>>;
  links?: Array<{ trace_id?: string; id?: string }>;
  subsegments?: XraySegmentDocument[];
}

/** "1-5759e988-bd862e3fe1be46a994272793" → the W3C form, "5759e988bd862e3fe1be46a994272793". */
export function w3cTraceId(xrayTraceId: string | undefined): string {
  return (xrayTraceId ?? "").replace(/^1-/, "").replace(/-/g, "");
}

function attributeValueOf(value: unknown): AttributeValue | undefined {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.filter((v) => ["string", "number", "boolean"].includes(typeof v));
  return undefined;
}

/** The span's attributes: the exporter's metadata (every attribute) and annotations (the indexed ones). */
function attributesOfSegment(doc: XraySegmentDocument): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(doc.metadata?.default ?? {})) {
    const v = attributeValueOf(value);
    if (v !== undefined) attributes[key] = v;
  }
  for (const name of XRAY_ANNOTATED) {
    const value = doc.annotations?.[xrayAnnotationKey(name)];
    if (value !== undefined) attributes[name] = value;
  }
  return attributes;
}

function kindOf(doc: XraySegmentDocument, attributes: Record<string, AttributeValue>): SpanKindName {
  const operation = attributes[ATTR.operationName];
  if (operation === "publish" || operation === "redrive") return "producer";
  if (attributes[ATTR.operationType] === "process") return "consumer";
  if (doc.namespace === "aws" || doc.namespace === "remote" || attributes["rpc.system"] !== undefined)
    return "client";
  return doc.parent_id ? "internal" : "server";
}

/** Every segment and subsegment of X-Ray traces, as span records. */
export function spanRecordsFromXray(
  traces: ReadonlyArray<{ Id?: string; Segments?: Array<{ Document?: string }> }>,
): SpanRecord[] {
  const records: SpanRecord[] = [];
  const visit = (
    doc: XraySegmentDocument,
    traceId: string,
    parent: string | undefined,
    service: string | undefined,
  ) => {
    const attributes = attributesOfSegment(doc);
    const start = doc.start_time ?? 0;
    const end = doc.end_time ?? start;
    const failed = doc.error === true || doc.fault === true;
    const exception = doc.cause?.exceptions?.[0];
    const parentId = doc.parent_id ?? parent;
    records.push({
      traceId,
      spanId: doc.id ?? "",
      ...(parentId ? { parentSpanId: parentId } : {}),
      name: doc.name ?? "",
      kind: kindOf(doc, attributes),
      ...(service ? { service } : {}),
      start: new Date(start * 1000).toISOString(),
      durationMs: Math.max(0, (end - start) * 1000),
      attributes,
      status: failed ? "error" : "unset",
      ...(failed && exception
        ? { statusMessage: `${exception.type ?? "Error"}: ${exception.message ?? ""}` }
        : {}),
      links: (doc.links ?? []).map((l) => ({ traceId: w3cTraceId(l.trace_id), spanId: l.id ?? "" })),
    });
    for (const sub of doc.subsegments ?? []) visit(sub, traceId, doc.id, service);
  };
  for (const trace of traces) {
    for (const segment of trace.Segments ?? []) {
      let doc: XraySegmentDocument;
      try {
        doc = JSON.parse(segment.Document ?? "{}") as XraySegmentDocument;
      } catch {
        continue;
      }
      visit(doc, w3cTraceId(doc.trace_id ?? trace.Id), undefined, doc.name);
    }
  }
  return records;
}

/** The traces' segments, five ids a call. */
export async function readXrayTraces(xray: XRayClient, traceIds: readonly string[]): Promise<SpanRecord[]> {
  const traces: Array<{ Id?: string; Segments?: Array<{ Document?: string }> }> = [];
  for (let i = 0; i < traceIds.length; i += BATCH_GET_TRACES_MAX) {
    let nextToken: string | undefined;
    do {
      const page = await xray.send(
        new BatchGetTracesCommand({
          TraceIds: traceIds.slice(i, i + BATCH_GET_TRACES_MAX),
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      traces.push(...(page.Traces ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return spanRecordsFromXray(traces);
}

/** A function's log group: its logging configuration's, else Lambda's default name. */
export async function logGroupOf(lambda: LambdaClient, functionName: string): Promise<string> {
  try {
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    return config.LoggingConfig?.LogGroup ?? `/aws/lambda/${functionName}`;
  } catch {
    return `/aws/lambda/${functionName}`;
  }
}

/** The Logs Insights query for an id that passed `parseCorrelationId` (no quotes can be in it). */
export function logsInsightsQuery(id: string, limit = 200): string {
  return [
    "fields @timestamp, @log, level, message, eventId, correlationId",
    `| filter eventId = "${id}" or correlationId = "${id}"`,
    "| sort @timestamp asc",
    `| limit ${limit}`,
  ].join("\n");
}

export interface LogsQueryOptions {
  readonly logs: CloudWatchLogsClient;
  readonly logGroups: readonly string[];
  readonly id: string;
  readonly from: Date;
  readonly to: Date;
  /** Between polls of GetQueryResults. @default 1000 */
  readonly pollMs?: number;
  /** Gives up (and says so) after this long. @default 60000 */
  readonly timeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The log lines that name the id, through a Logs Insights query over the log groups. */
export async function queryLogLines(
  options: LogsQueryOptions,
): Promise<{ lines: LogLine[]; status: string }> {
  if (options.logGroups.length === 0) return { lines: [], status: "no log groups to search" };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = await options.logs.send(
    new StartQueryCommand({
      logGroupNames: [...options.logGroups],
      startTime: Math.floor(options.from.getTime() / 1000),
      endTime: Math.ceil(options.to.getTime() / 1000),
      queryString: logsInsightsQuery(options.id),
    }),
  );
  const queryId = started.queryId;
  if (!queryId) return { lines: [], status: "Logs Insights started no query" };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const result = await options.logs.send(new GetQueryResultsCommand({ queryId }));
    const status = result.status ?? "Unknown";
    if (status === "Complete") return { lines: (result.results ?? []).map(logLineOf), status };
    if (status === "Failed" || status === "Cancelled" || status === "Timeout") return { lines: [], status };
    if (Date.now() > deadline)
      return { lines: [], status: `still ${status} after ${options.timeoutMs ?? 60_000} ms` };
    await sleep(options.pollMs ?? 1000);
  }
}

function logLineOf(fields: ResultField[]): LogLine {
  const get = (name: string) => fields.find((f) => f.field === name)?.value;
  const timestamp = get("@timestamp");
  const group = get("@log") ?? "";
  return {
    // Logs Insights prints "2026-12-06 18:01:02.345" in UTC.
    at: timestamp ? new Date(`${timestamp.replace(" ", "T")}Z`).toISOString() : "",
    source: group.slice(group.lastIndexOf(":") + 1) || "logs",
    ...(get("level") ? { level: get("level") } : {}),
    message: get("message") ?? "",
    ...(get("eventId") ? { eventId: get("eventId") } : {}),
    ...(get("correlationId") ? { correlationId: get("correlationId") } : {}),
  };
}
