/**
 * One span as `courier trace` reads it, whatever it came from: OTLP/JSON (the local receiver's
 * spans file) or an X-Ray segment. Types only, no Node.js: the console's page shares them.
 */
export type SpanKindName = "internal" | "server" | "client" | "producer" | "consumer";
export type AttributeValue = string | number | boolean | readonly (string | number | boolean)[];

export interface SpanRecord {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: SpanKindName;
  /** The resource's service.name. */
  readonly service?: string;
  /** ISO 8601 start time. */
  readonly start: string;
  readonly durationMs: number;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly status: "unset" | "ok" | "error";
  readonly statusMessage?: string;
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
}
