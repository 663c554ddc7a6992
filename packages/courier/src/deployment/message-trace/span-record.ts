/**
 * One span as `courier trace` reads it, whatever it came from: OTLP/JSON (the local receiver's
 * spans file, one record a line) or an X-Ray segment (xray.ts).
 */
import { readFile } from "node:fs/promises";

import type { AttributeValue, SpanKindName, SpanRecord } from "./span-types.ts";

export type { AttributeValue, SpanKindName, SpanRecord };

const KINDS: readonly SpanKindName[] = ["internal", "internal", "server", "client", "producer", "consumer"];

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: OtlpKeyValue[];
  status?: { code?: number; message?: string };
  links?: Array<{ traceId?: string; spanId?: string }>;
}
interface OtlpTraces {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}

function scalar(value: OtlpAnyValue | undefined): string | number | boolean | undefined {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return undefined;
}

function attributeValue(value: OtlpAnyValue | undefined): AttributeValue | undefined {
  if (value?.arrayValue) {
    return (value.arrayValue.values ?? []).flatMap((v) => {
      const s = scalar(v);
      return s === undefined ? [] : [s];
    });
  }
  return scalar(value);
}

function attributesOf(list: readonly OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) {
    const v = attributeValue(value);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** OTLP/JSON ids are hex; some encoders send base64 (the protobuf JSON mapping): both are read. */
function hexId(id: string | undefined, bytes: number): string {
  if (!id) return "";
  if (new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(id)) return id.toLowerCase();
  const decoded = Buffer.from(id, "base64");
  return decoded.length === bytes ? decoded.toString("hex") : id;
}

function nanos(value: string | number | undefined): bigint {
  try {
    return BigInt(value ?? 0);
  } catch {
    return 0n;
  }
}

/** The spans of an OTLP/JSON ExportTraceServiceRequest (`POST /v1/traces`), flattened. */
export function spanRecordsFromOtlp(request: unknown): SpanRecord[] {
  const traces = (request ?? {}) as OtlpTraces;
  const records: SpanRecord[] = [];
  for (const resourceSpans of traces.resourceSpans ?? []) {
    const service = attributesOf(resourceSpans.resource?.attributes)["service.name"];
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        const start = nanos(span.startTimeUnixNano);
        const end = nanos(span.endTimeUnixNano);
        const parent = hexId(span.parentSpanId, 8);
        const code = span.status?.code ?? 0;
        records.push({
          traceId: hexId(span.traceId, 16),
          spanId: hexId(span.spanId, 8),
          ...(parent ? { parentSpanId: parent } : {}),
          name: span.name ?? "",
          kind: KINDS[span.kind ?? 1] ?? "internal",
          ...(typeof service === "string" ? { service } : {}),
          start: new Date(Number(start / 1_000_000n)).toISOString(),
          durationMs: Number(end > start ? end - start : 0n) / 1e6,
          attributes: attributesOf(span.attributes),
          status: code === 2 ? "error" : code === 1 ? "ok" : "unset",
          ...(span.status?.message ? { statusMessage: span.status.message } : {}),
          links: (span.links ?? []).map((l) => ({
            traceId: hexId(l.traceId, 16),
            spanId: hexId(l.spanId, 8),
          })),
        });
      }
    }
  }
  return records;
}

/** The spans in a JSON-lines file of SpanRecords; a missing file is no spans, a bad line is skipped. */
export async function readSpanFile(path: string): Promise<{ spans: SpanRecord[]; found: boolean }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { spans: [], found: false };
    throw error;
  }
  const spans: SpanRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as SpanRecord;
      if (typeof record.spanId === "string" && typeof record.name === "string") spans.push(record);
    } catch {
      // A line cut short by a crash mid-write: the rest of the file still reads.
    }
  }
  return { spans, found: true };
}
