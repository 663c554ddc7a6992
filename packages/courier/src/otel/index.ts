/**
 * `@courier-queue/courier/otel`: an OpenTelemetry SDK started the way courier's functions and
 * workers need it. The rest of the package instruments with `@opentelemetry/api` only and brings
 * no SDK; this entry is for an application (or a courier Lambda, where the construct's
 * `tracing: "otel"` injects `startLambdaTracing()` ahead of the handler) that wants one. It needs
 * the optional peer packages @opentelemetry/sdk-trace, @opentelemetry/core, @opentelemetry/resources,
 * @opentelemetry/context-async-hooks and @opentelemetry/exporter-trace-otlp-http.
 *
 * Spans go by OTLP/HTTP (JSON) to `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else
 * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else `http://localhost:4318/v1/traces`: on Lambda
 * the ADOT collector extension listens there and forwards to X-Ray; locally `npm start`'s receiver.
 */
import { type TracerProvider as ApiTracerProvider, context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { FLUSH_SPANS } from "../lib/trace/spans.ts";

export interface StartTracingOptions {
  /** `service.name` of every span. @default OTEL_SERVICE_NAME, else "courier" */
  readonly serviceName?: string;
  /** Resource attributes beside `service.name`. @default - none */
  readonly resourceAttributes?: Readonly<Record<string, string>>;
  /**
   * Where spans go, instead of OTLP/HTTP (tests pass an InMemorySpanExporter).
   * @default an OTLPTraceExporter (JSON over HTTP) to the endpoint described above
   */
  readonly exporter?: SpanExporter;
  /** The OTLP/HTTP traces URL. @default from the environment, see the module's description */
  readonly endpoint?: string;
  /**
   * Batch spans (BatchSpanProcessor) or export each as it ends (SimpleSpanProcessor).
   * @default true
   */
  readonly batch?: boolean;
  /** How long a span waits to be exported with others (BatchSpanProcessor). @default 1000 */
  readonly exportDelayMs?: number;
  /**
   * Export every span at the end of each batch the consumer runtime handles (and of each redrive
   * invocation), before the handler returns. Lambda freezes a function as soon as it returns, so
   * spans waiting for a later export would go out minutes late or never; a long-running worker has
   * no such need and exports in the background. @default false (startLambdaTracing: true)
   */
  readonly flushAfterEachBatch?: boolean;
  /**
   * Fraction of new traces recorded, 0..1; a trace continued from a caller follows the caller's
   * decision. @default OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, else 1 (all)
   */
  readonly sampleRatio?: number;
  /** Where the environment is read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** A started SDK. */
export interface Tracing {
  readonly provider: TracerProvider;
  /** Exports every ended span now. */
  flush(): Promise<void>;
  /** Flushes, then stops recording and unregisters the provider. */
  shutdown(): Promise<void>;
}

const STARTED = Symbol.for("@courier-queue/courier.otel-started");
type Registry = { [STARTED]?: Tracing; [FLUSH_SPANS]?: () => Promise<void> };

/** The OTLP/HTTP traces URL from the standard variables. */
export function otlpTracesEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (base) return `${base.replace(/\/+$/, "")}/v1/traces`;
  return "http://localhost:4318/v1/traces";
}

/** OTEL_TRACES_SAMPLER's standard values; an unknown one falls back to parent-based, always on. */
export function samplerFrom(env: NodeJS.ProcessEnv, ratio?: number): Sampler {
  if (ratio !== undefined) {
    if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`sampleRatio must be within 0..1, got ${ratio}`);
    return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
  const arg = Number(env.OTEL_TRACES_SAMPLER_ARG);
  const fraction = Number.isFinite(arg) && arg >= 0 && arg <= 1 ? arg : 1;
  switch (env.OTEL_TRACES_SAMPLER) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(fraction);
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(fraction) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * Registers an OpenTelemetry SDK globally (tracer provider, AsyncLocalStorage context, W3C trace
 * context propagation) so courier's spans, and the application's, are recorded and exported.
 * Call it once, before the work it should trace; a second call returns the first's SDK.
 */
export function startTracing(options: StartTracingOptions = {}): Tracing {
  const registry = globalThis as Registry;
  const started = registry[STARTED];
  if (started) return started;
  const env = options.env ?? process.env;
  const exporter =
    options.exporter ?? new OTLPTraceExporter({ url: options.endpoint ?? otlpTracesEndpoint(env) });
  const processor: SpanProcessor =
    options.batch === false
      ? new SimpleSpanProcessor({ exporter })
      : new BatchSpanProcessor({ exporter, scheduledDelayMillis: options.exportDelayMs ?? 1000 });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      "service.name": options.serviceName ?? env.OTEL_SERVICE_NAME ?? "courier",
      ...options.resourceAttributes,
    }),
    sampler: samplerFrom(env, options.sampleRatio),
    spanProcessors: [processor],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider as ApiTracerProvider);
  const tracing: Tracing = {
    provider,
    flush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      delete registry[STARTED];
      delete registry[FLUSH_SPANS];
    },
  };
  registry[STARTED] = tracing;
  if (options.flushAfterEachBatch) registry[FLUSH_SPANS] = tracing.flush;
  return tracing;
}

/**
 * `startTracing` for a Lambda function, as the construct's `tracing: "otel"` runs it before the
 * handler module loads: service.name the function's (OTEL_SERVICE_NAME, else its name), the
 * function's resource attributes, spans to the ADOT collector extension on localhost:4318, which
 * sends them to X-Ray, exported at the end of every batch (`flushAfterEachBatch`).
 */
export function startLambdaTracing(options: StartTracingOptions = {}): Tracing {
  const env = options.env ?? process.env;
  return startTracing({
    flushAfterEachBatch: true,
    ...options,
    serviceName: options.serviceName ?? env.OTEL_SERVICE_NAME ?? env.AWS_LAMBDA_FUNCTION_NAME ?? "courier",
    resourceAttributes: {
      "cloud.provider": "aws",
      "cloud.platform": "aws_lambda",
      ...(env.AWS_REGION ? { "cloud.region": env.AWS_REGION } : {}),
      ...(env.AWS_LAMBDA_FUNCTION_NAME ? { "faas.name": env.AWS_LAMBDA_FUNCTION_NAME } : {}),
      ...(env.AWS_LAMBDA_FUNCTION_VERSION ? { "faas.version": env.AWS_LAMBDA_FUNCTION_VERSION } : {}),
      ...options.resourceAttributes,
    },
  });
}
