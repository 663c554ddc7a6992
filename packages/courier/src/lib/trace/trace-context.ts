/**
 * The trace context a message carries from the request that caused it to every consumer of it:
 * a W3C `traceparent` (https://www.w3.org/TR/trace-context/), a correlation id a person can
 * search logs for, and, where X-Ray tracing is active, X-Ray's own trace header.
 *
 * New trace ids start with the epoch seconds, as X-Ray's do, so one id reads in both systems:
 * W3C `4efaaf4d1e8720b39541901950019ee5` is X-Ray `1-4efaaf4d-1e8720b39541901950019ee5`.
 * Parsing never throws: an incoming header that is not a valid traceparent starts a new trace.
 */
import { randomFillSync, randomUUID } from "node:crypto";
import * as z from "zod/mini";
import "../zod-locale.ts";

export interface TraceContext {
  /** W3C traceparent: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`. */
  readonly traceparent: string;
  /** Ties the request's log lines to every consumer's; chosen by the client or minted per request. */
  readonly correlationId: string;
  /** X-Ray's header (`Root=1-…;Parent=…;Sampled=1`) when the producer ran with tracing active. */
  readonly xrayTraceHeader?: string;
}

export interface ParsedTraceparent {
  readonly version: string;
  readonly traceId: string;
  readonly parentId: string;
  readonly flags: string;
  /** Bit 0 of the flags: the caller recorded this trace. */
  readonly sampled: boolean;
}

/** Lower-case hex only, as the specification requires; all-zero ids are invalid. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;
/** Printable, no spaces or quotes: safe in a header, a log line and a log query. */
const CORRELATION_ID = /^[A-Za-z0-9._:/+=@-]{1,128}$/;
/** X-Ray's header, as Lambda sets `_X_AMZN_TRACE_ID`: at most a few fields of `key=value`. */
const XRAY_HEADER = /^[A-Za-z0-9=;:._-]{1,256}$/;
const XRAY_ROOT = /(?:^|;)Root=1-([0-9a-f]{8})-([0-9a-f]{24})(?:;|$)/;
const XRAY_PARENT = /(?:^|;)Parent=([0-9a-f]{16})(?:;|$)/;
const XRAY_SAMPLED = /(?:^|;)Sampled=([01])(?:;|$)/;

/** A valid W3C traceparent, or undefined: a header of an unknown future version is read by its prefix. */
export function parseTraceparent(header: unknown): ParsedTraceparent | undefined {
  if (typeof header !== "string" || header.length > 512) return undefined;
  const match = TRACEPARENT.exec(header.trim());
  if (!match) return undefined;
  const [, version = "", traceId = "", parentId = "", flags = "", rest] = match;
  // Version ff is forbidden; version 00 has exactly four fields.
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(parentId)) return undefined;
  return { version, traceId, parentId, flags, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(traceId: string, parentId: string, sampled: boolean): string {
  return `00-${traceId}-${parentId}-${sampled ? "01" : "00"}`;
}

/**
 * Random bytes from a pool filled 4 KiB at a time, as Node's randomUUID does: a randomBytes call
 * per id cost a publish several microseconds (bench/trace.bench.ts).
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

function nonZeroHex(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > pool.length) {
      pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
      poolOffset = 0;
    }
    const hex = pool.toString("hex", poolOffset, poolOffset + bytes);
    poolOffset += bytes;
    if (!ALL_ZERO.test(hex)) return hex;
  }
}

/** A new trace id: 8 hex digits of epoch seconds then 24 random ones (X-Ray's shape). */
export function newTraceId(nowMs: number = Date.now()): string {
  const seconds = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, "0")
    .slice(-8);
  return `${seconds}${nonZeroHex(12)}`;
}

export function newSpanId(): string {
  return nonZeroHex(8);
}

/** A correlation id the caller chose, if it is one that is safe to log and echo; else undefined. */
export function parseCorrelationId(value: unknown): string | undefined {
  return typeof value === "string" && CORRELATION_ID.test(value) ? value : undefined;
}

/** X-Ray's header as Lambda sets it in `_X_AMZN_TRACE_ID`, if well formed. */
export function parseXrayTraceHeader(value: unknown): string | undefined {
  return typeof value === "string" && XRAY_HEADER.test(value) && XRAY_ROOT.test(value) ? value : undefined;
}

/** The W3C form of an X-Ray header (same trace id, its Parent as parent id), or undefined. */
export function traceparentFromXray(header: string): string | undefined {
  const root = XRAY_ROOT.exec(header);
  if (!root) return undefined;
  const traceId = `${root[1]}${root[2]}`;
  if (ALL_ZERO.test(traceId)) return undefined;
  const parentId = XRAY_PARENT.exec(header)?.[1] ?? newSpanId();
  return formatTraceparent(
    traceId,
    ALL_ZERO.test(parentId) ? newSpanId() : parentId,
    XRAY_SAMPLED.exec(header)?.[1] === "1",
  );
}

/** X-Ray's form of a W3C trace id, for finding the trace in the X-Ray console. */
export function xrayTraceIdOf(traceparent: string): string | undefined {
  const parsed = parseTraceparent(traceparent);
  return parsed ? `1-${parsed.traceId.slice(0, 8)}-${parsed.traceId.slice(8)}` : undefined;
}

export interface TraceStart {
  /** An incoming `traceparent` header; anything invalid (or a list of them) starts a new trace. */
  readonly traceparent?: unknown;
  /** An incoming correlation id; anything unsafe is replaced by a new one. */
  readonly correlationId?: unknown;
  /** Where `_X_AMZN_TRACE_ID` is read from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: () => number;
  readonly newCorrelationId?: () => string;
}

/**
 * The context for a unit of work (an API request, a publish without a caller's context): it
 * continues the caller's trace with a new span of its own, else continues the active X-Ray trace
 * (Lambda sets `_X_AMZN_TRACE_ID` per invocation when tracing is active), else starts a new trace.
 */
export function startTrace(start: TraceStart = {}): TraceContext {
  const env = start.env ?? process.env;
  const xrayTraceHeader = parseXrayTraceHeader(env._X_AMZN_TRACE_ID);
  const incoming = parseTraceparent(start.traceparent);
  let traceparent: string;
  if (incoming) traceparent = formatTraceparent(incoming.traceId, newSpanId(), incoming.sampled);
  else if (xrayTraceHeader) traceparent = traceparentFromXray(xrayTraceHeader) as string;
  else traceparent = formatTraceparent(newTraceId(start.now?.() ?? Date.now()), newSpanId(), false);
  return {
    traceparent,
    correlationId: parseCorrelationId(start.correlationId) ?? (start.newCorrelationId ?? randomUUID)(),
    ...(xrayTraceHeader ? { xrayTraceHeader } : {}),
  };
}

/**
 * The envelope's `trace` field as consumers read it. Lenient on purpose: a message whose trace is
 * missing or malformed (an older or foreign producer) is still processed, only without a trace.
 */
export const envelopeTraceSchema = z.catch(
  z.optional(
    z.object({
      traceparent: z.string().check(z.refine((value: string) => parseTraceparent(value) !== undefined)),
      correlationId: z.string().check(z.regex(CORRELATION_ID)),
      xrayTraceHeader: z.optional(z.string().check(z.regex(XRAY_HEADER))),
    }),
  ),
  undefined,
);

/** A caller-supplied context checked as the envelope schema will check it, so a bad one fails early. */
export function assertTraceContext(trace: TraceContext): void {
  if (envelopeTraceSchema.parse(trace) === undefined) {
    throw new TypeError(
      "trace context must be a valid W3C traceparent and a correlation id of 1-128 safe characters",
    );
  }
}
