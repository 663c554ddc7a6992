/**
 * A CLIENT span per AWS SDK v3 call (`SES.SendEmail`), on the OpenTelemetry API only: a consumer's
 * side effects show under the record that caused them. A middleware rather than
 * @opentelemetry/instrumentation-aws-sdk, which patches modules at load time and so must be set up
 * before the SDK is imported (hard in a bundle) and costs its load time on every cold start.
 */
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { ATTR } from "./semconv.ts";
import { courierTracer, recordFailure } from "./spans.ts";

/** What the middleware needs of an SDK v3 client, so no @smithy types leak into the API. */
interface MiddlewareClient {
  readonly middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { readonly clientName?: string; readonly commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: "initialize"; name: string; override?: boolean },
    ): void;
  };
}

const MIDDLEWARE_NAME = "courierOpenTelemetrySpan";

/**
 * The client, with a span for each call it makes (`rpc.system` aws-api, service, method, request
 * id, status). Without an OpenTelemetry SDK the middleware starts a no-op span and calls on.
 * @param consumer the consumer (or service) the calls belong to, as `courier.consumer`
 */
export function tracedClient<T>(consumer: string, client: T): T {
  const stack = (client as Partial<MiddlewareClient> | undefined)?.middlewareStack;
  if (!stack || typeof stack.add !== "function") return client;
  stack.add(
    (next, handlerContext) => async (args) => {
      const service = (handlerContext.clientName ?? "AWS").replace(/Client$/, "");
      const method = (handlerContext.commandName ?? "Call").replace(/Command$/, "");
      const span = courierTracer().startSpan(`${service}.${method}`, {
        kind: SpanKind.CLIENT,
        attributes: {
          "rpc.system": "aws-api",
          "rpc.service": service,
          "rpc.method": method,
          [ATTR.consumer]: consumer,
        },
      });
      if (!span.isRecording()) {
        span.end();
        return next(args);
      }
      try {
        const output = (await context.with(trace.setSpan(context.active(), span), () => next(args))) as {
          output?: { $metadata?: { requestId?: string; httpStatusCode?: number } };
        };
        const metadata = output?.output?.$metadata;
        if (metadata?.requestId) span.setAttribute("aws.request_id", metadata.requestId);
        if (metadata?.httpStatusCode) span.setAttribute("http.response.status_code", metadata.httpStatusCode);
        return output;
      } catch (error) {
        recordFailure(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
    { step: "initialize", name: MIDDLEWARE_NAME, override: true },
  );
  return client;
}

/**
 * `fetch` with a CLIENT span per request (`POST`, the host, the status): for side effects that are
 * HTTP calls (a webhook). The span names the host only, never the path or query: a webhook URL is
 * often a bearer secret. Without an OpenTelemetry SDK it calls `fetch` as it is.
 * @param consumer the consumer (or service) the calls belong to, as `courier.consumer`
 * @param fetchImpl @default globalThis.fetch, looked up at each call (a test or a runtime may replace it)
 */
export function tracedFetch(consumer: string, fetchImpl?: typeof fetch): typeof fetch {
  return async (input, init) => {
    const doFetch = fetchImpl ?? globalThis.fetch;
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    let host = "";
    try {
      host = new URL(input instanceof Request ? input.url : String(input)).host;
    } catch {
      // A relative or malformed URL: fetch itself says what is wrong with it.
    }
    const span = courierTracer().startSpan(method, {
      kind: SpanKind.CLIENT,
      attributes: {
        "http.request.method": method,
        ...(host ? { "server.address": host } : {}),
        [ATTR.consumer]: consumer,
      },
    });
    if (!span.isRecording()) {
      span.end();
      return doFetch(input, init);
    }
    try {
      const response = await context.with(trace.setSpan(context.active(), span), () => doFetch(input, init));
      span.setAttribute("http.response.status_code", response.status);
      if (response.status >= 400)
        span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${response.status}` });
      return response;
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  };
}
