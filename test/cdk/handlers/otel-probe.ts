// A handler for the OpenTelemetry bundle test: records whether the SDK was started before this
// module ran, and sends one span through courier's runtime flush, as a consumer's batch does.

import { SESClient } from "@aws-sdk/client-ses";
import { trace } from "@opentelemetry/api";

const startedFirst = Boolean(
  (globalThis as Record<symbol, unknown>)[Symbol.for("@courier-queue/courier.otel-started")],
);

export const handler = async () => {
  trace.getTracer("otel-probe").startSpan("probe span").end();
  const flush = (globalThis as Record<symbol, (() => Promise<void>) | undefined>)[
    Symbol.for("@courier-queue/courier.flush-spans")
  ];
  await flush?.();
  return { startedFirst, flushed: flush !== undefined, ses: typeof SESClient };
};
