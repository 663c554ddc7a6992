/**
 * `npm start`'s OTLP receiver, fed by the real OTLP/HTTP exporter. Failure modes covered: spans
 * the exporter sends that never reach the spans file (or arrive with ids, links or attributes
 * garbled); a protobuf exporter silently dropping everything instead of being told what to set.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SpanKind, TraceFlags } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SpanRecord } from "../../packages/courier/src/cli/index.ts";
import { type OtlpReceiver, startOtlpReceiver } from "../../src/dev/otlp-receiver.ts";

const dir = mkdtempSync(join(tmpdir(), "courier-otlp-"));
let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver({ spansFile: join(dir, "spans.jsonl") });
});
afterAll(async () => {
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the local OTLP receiver", () => {
  it("GIVEN the OTLP/HTTP JSON exporter WHEN a span is exported THEN it is one line of the spans file with its ids, kind, attributes and links", async () => {
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ "service.name": "verification-email" }),
      spanProcessors: [
        new SimpleSpanProcessor({
          exporter: new OTLPTraceExporter({ url: `${receiver.endpoint}/v1/traces` }),
        }),
      ],
    });
    const producer = {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: TraceFlags.SAMPLED,
    };
    const span = provider.getTracer("t").startSpan("handle verification-email", {
      kind: SpanKind.CONSUMER,
      attributes: { "courier.event_id": "e-1", "courier.receive_count": 2 },
      links: [{ context: producer }],
    });
    span.end();
    await provider.forceFlush();
    await provider.shutdown();
    const lines = readFileSync(receiver.spansFile, "utf8").trim().split("\n");
    const record = JSON.parse(lines.at(-1) ?? "{}") as SpanRecord;
    expect(record).toMatchObject({
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      name: "handle verification-email",
      kind: "consumer",
      service: "verification-email",
      attributes: { "courier.event_id": "e-1", "courier.receive_count": 2 },
      links: [{ traceId: producer.traceId, spanId: producer.spanId }],
    });
    expect(receiver.received()).toBeGreaterThanOrEqual(1);
  });

  it("GIVEN an OTLP/protobuf body WHEN posted THEN it is refused with 415 naming the setting to use", async () => {
    const response = await fetch(`${receiver.endpoint}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf" },
      body: new Uint8Array([10, 0]),
    });
    expect(response.status).toBe(415);
    expect(await response.text()).toContain("OTEL_EXPORTER_OTLP_PROTOCOL=http/json");
  });
});
