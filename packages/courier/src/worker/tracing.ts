/**
 * A worker process's OpenTelemetry SDK: started when the environment names an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, the standard variables)
 * and `OTEL_SDK_DISABLED` is not "true". Loaded only then, so an untraced worker pays nothing.
 */
import type { Tracing } from "../otel/index.ts";

export function wantsTracing(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === "true") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export async function startWorkerTracing(
  env: NodeJS.ProcessEnv,
  consumer: string,
): Promise<Tracing | undefined> {
  if (!wantsTracing(env)) return undefined;
  const { startTracing } = await import("../otel/index.ts");
  return startTracing({ serviceName: env.OTEL_SERVICE_NAME ?? consumer, env });
}
