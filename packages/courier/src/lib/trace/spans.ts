/**
 * courier's spans, on the OpenTelemetry API only: without an SDK registered by the application
 * (`@courier-queue/courier/otel`'s `startTracing`, or any other) every call here is a no-op, and
 * the runtime checks `isRecording()` once per publish or batch so it then does no per-record work.
 */
import {
  type Context,
  context,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { describeThrown } from "../consumer/thrown.ts";
import { ATTR, TRACER_NAME } from "./semconv.ts";
import { formatTraceparent, parseTraceparent, type TraceContext } from "./trace-context.ts";

let cachedProvider: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

/**
 * courier's tracer: a proxy that follows whatever provider is registered, even a later one. Kept
 * per global provider: after `trace.disable()` (an SDK shut down) the API hands out a new proxy,
 * and a tracer of the old one would record nothing under an SDK registered later.
 */
export function courierTracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (provider !== cachedProvider || !cachedTracer) {
    cachedProvider = provider;
    cachedTracer = provider.getTracer(TRACER_NAME);
  }
  return cachedTracer;
}

/** The span context a W3C traceparent names (remote), or undefined for a missing or invalid one. */
export function spanContextOf(traceparent: string | undefined): SpanContext | undefined {
  const parsed = parseTraceparent(traceparent);
  if (!parsed) return undefined;
  return {
    traceId: parsed.traceId,
    spanId: parsed.parentId,
    traceFlags: parsed.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  };
}

/** A link to the context a message was produced in (the envelope's traceparent). */
export function producerLink(trace: TraceContext | undefined): Link | undefined {
  const spanContext = spanContextOf(trace?.traceparent);
  return spanContext ? { context: spanContext } : undefined;
}

/** The traceparent that names a span, or undefined when the span has no valid context (no SDK). */
export function traceparentOf(span: Span): string | undefined {
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return undefined;
  return formatTraceparent(
    spanContext.traceId,
    spanContext.spanId,
    (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED,
  );
}

/**
 * The parent of a producer span: the active span where the application has one (an instrumented
 * request), else the caller's trace context (an API request's traceparent, continued as a remote
 * parent), else none (a new trace).
 */
export function parentContextFor(given: TraceContext | undefined): Context {
  const active = context.active();
  if (isSpanContextValid(trace.getSpanContext(active) ?? { traceId: "", spanId: "", traceFlags: 0 })) {
    return active;
  }
  const remote = spanContextOf(given?.traceparent);
  return remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : active;
}

/** Marks a span failed with what was thrown (any value: describeThrown names it). */
export function recordFailure(span: Span, error: unknown): void {
  const thrown = describeThrown(error);
  span.setAttribute(ATTR.errorClass, thrown.errorClass);
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${thrown.errorClass}: ${thrown.message}` });
}

/**
 * Where `@courier-queue/courier/otel` leaves its provider's flush when spans must be exported before
 * a handler returns (Lambda freezes the function then). A registered symbol: two copies of the
 * package still meet.
 */
export const FLUSH_SPANS = Symbol.for("@courier-queue/courier.flush-spans");

/** Exports the spans ended so far, when an SDK started by `@courier-queue/courier/otel` asks for it (on Lambda). */
export async function flushSpans(): Promise<void> {
  const flush = (globalThis as { [FLUSH_SPANS]?: () => Promise<void> })[FLUSH_SPANS];
  if (!flush) return;
  try {
    await flush();
  } catch {
    // Tracing must never fail the work it observes.
  }
}
