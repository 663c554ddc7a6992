/**
 * `@courier-queue/courier/otel`: where spans go and which are kept. Failure modes covered: spans
 * sent somewhere other than the standard variables say (the collector extension never hears of
 * them); a second start replacing the first's provider (spans of the first lost); a sampler
 * setting ignored (X-Ray billed for every trace); a Lambda's spans without its service name.
 */
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SamplingDecision } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, it } from "vitest";
import { courierTracer, FLUSH_SPANS } from "../../packages/courier/src/lib/trace/spans.ts";
import {
  otlpTracesEndpoint,
  samplerFrom,
  startLambdaTracing,
  startTracing,
  type Tracing,
} from "../../packages/courier/src/otel/index.ts";
import { wantsTracing } from "../../packages/courier/src/worker/tracing.ts";

describe("the OTLP endpoint", () => {
  it("GIVEN no variables THEN spans go to the local collector's OTLP/HTTP port", () => {
    expect(otlpTracesEndpoint({})).toBe("http://localhost:4318/v1/traces");
  });
  it("GIVEN OTEL_EXPORTER_OTLP_ENDPOINT THEN /v1/traces is appended to it", () => {
    expect(otlpTracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4599/" })).toBe(
      "http://127.0.0.1:4599/v1/traces",
    );
  });
  it("GIVEN OTEL_EXPORTER_OTLP_TRACES_ENDPOINT THEN it is used as it is", () => {
    expect(
      otlpTracesEndpoint({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://x/t",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://y",
      }),
    ).toBe("http://x/t");
  });
});

describe("a worker process's tracing", () => {
  it("GIVEN no OTLP endpoint in the environment THEN the worker starts no SDK (an untraced worker pays nothing)", () => {
    expect(wantsTracing({})).toBe(false);
  });
  it("GIVEN an OTLP endpoint THEN it does, unless OTEL_SDK_DISABLED says not to", () => {
    expect(wantsTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toBe(true);
    expect(wantsTracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" })).toBe(
      true,
    );
    expect(wantsTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x", OTEL_SDK_DISABLED: "true" })).toBe(false);
  });
});

describe("the sampler", () => {
  const decide = (sampler: ReturnType<typeof samplerFrom>, traceId: string) =>
    sampler.shouldSample(ROOT_CONTEXT, traceId, "s", 0, {}, []).decision;

  it("GIVEN OTEL_TRACES_SAMPLER=always_off THEN nothing is recorded", () => {
    expect(
      decide(samplerFrom({ OTEL_TRACES_SAMPLER: "always_off" }), "4bf92f3577b34da6a3ce929d0e0e4736"),
    ).toBe(SamplingDecision.NOT_RECORD);
  });
  it("GIVEN a ratio of 0 THEN a new trace is not recorded, and a ratio of 1 records it", () => {
    expect(decide(samplerFrom({}, 0), "4bf92f3577b34da6a3ce929d0e0e4736")).toBe(SamplingDecision.NOT_RECORD);
    expect(decide(samplerFrom({}, 1), "4bf92f3577b34da6a3ce929d0e0e4736")).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
  });
  it("GIVEN a ratio outside 0..1 THEN it is refused", () => {
    expect(() => samplerFrom({}, 2)).toThrow(/within 0\.\.1/);
  });
});

describe("starting the SDK", () => {
  let started: Tracing | undefined;
  afterEach(async () => {
    await started?.shutdown();
    started = undefined;
  });

  it("GIVEN a started SDK WHEN started again THEN the first is kept and spans still reach its exporter", async () => {
    const exporter = new InMemorySpanExporter();
    const first = startTracing({ exporter, batch: false });
    started = first;
    const second = startTracing({ exporter: new InMemorySpanExporter() });
    expect(second).toBe(first);
    trace.getTracer("t").startSpan("kept").end();
    await first.flush();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(["kept"]);
  });

  it("GIVEN a Lambda's environment WHEN its tracing starts THEN spans carry its function name as service.name and its region", async () => {
    const exporter = new InMemorySpanExporter();
    started = startLambdaTracing({
      exporter,
      batch: false,
      env: { AWS_LAMBDA_FUNCTION_NAME: "acme-invoice", AWS_REGION: "eu-west-1" },
    });
    trace.getTracer("t").startSpan("one").end();
    const [span] = exporter.getFinishedSpans();
    expect(span?.resource.attributes).toMatchObject({
      "service.name": "acme-invoice",
      "cloud.platform": "aws_lambda",
      "cloud.region": "eu-west-1",
      "faas.name": "acme-invoice",
    });
  });

  it("GIVEN an SDK shut down WHEN another is started THEN courier's spans reach the new one (failure mode: a tracer cached from the first)", async () => {
    const first = new InMemorySpanExporter();
    started = startTracing({ exporter: first, batch: false });
    courierTracer().startSpan("before").end();
    // (an in-memory exporter forgets its spans when shut down)
    expect(first.getFinishedSpans().map((s) => s.name)).toEqual(["before"]);
    await started.shutdown();
    const second = new InMemorySpanExporter();
    started = startTracing({ exporter: second, batch: false });
    courierTracer().startSpan("after").end();
    expect(second.getFinishedSpans().map((s) => s.name)).toEqual(["after"]);
  });

  it("GIVEN a Lambda's SDK THEN spans are exported at the end of each batch; GIVEN a worker's THEN in the background (failure mode: a frozen function holding its spans, or a worker paying an export per batch)", async () => {
    const flushHook = () => (globalThis as Record<symbol, unknown>)[FLUSH_SPANS];
    started = startTracing({ exporter: new InMemorySpanExporter() });
    expect(flushHook()).toBeUndefined();
    await started.shutdown();
    started = startLambdaTracing({ exporter: new InMemorySpanExporter(), env: {} });
    expect(typeof flushHook()).toBe("function");
  });
});
