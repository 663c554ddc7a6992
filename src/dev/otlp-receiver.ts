/**
 * A local OTLP/HTTP trace receiver for `npm start`: the workers and the example API export their
 * spans here (OTLP/JSON, `POST /v1/traces`, as @opentelemetry/exporter-trace-otlp-http sends them),
 * and each span becomes one line of the spans file (`.courier/spans.jsonl`) that `courier trace
 * --local` and the console read. Dev-only: no collector or Jaeger needs to run on a laptop.
 * OTLP/protobuf is refused with 415 and a message naming OTEL_EXPORTER_OTLP_PROTOCOL=http/json.
 */
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import { gunzipSync } from "node:zlib";
import { type SpanRecord, spanRecordsFromOtlp } from "@courier-queue/courier/cli";

export interface OtlpReceiverOptions {
  /** The JSON-lines file spans are appended to. */
  readonly spansFile: string;
  /** @default 0: a free port */
  readonly port?: number;
  readonly onSpans?: (spans: readonly SpanRecord[]) => void;
}

export interface OtlpReceiver {
  /** The base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  readonly endpoint: string;
  readonly spansFile: string;
  /** Spans received since start. */
  readonly received: () => number;
  close(): Promise<void>;
}

/** OTLP/HTTP bodies are small batches; a megabyte-scale body is a mistake, not a trace. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw Object.assign(new Error("body too large"), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  return req.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body;
}

export async function startOtlpReceiver(options: OtlpReceiverOptions): Promise<OtlpReceiver> {
  mkdirSync(dirname(options.spansFile), { recursive: true });
  const file: WriteStream = createWriteStream(options.spansFile, { flags: "a" });
  let received = 0;
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "POST" || req.url?.split("?")[0] !== "/v1/traces") {
      req.resume();
      return reply(404, { message: "this receiver takes POST /v1/traces" });
    }
    const type = String(req.headers["content-type"] ?? "");
    if (!type.includes("json")) {
      req.resume();
      return reply(415, {
        message: "this receiver reads OTLP/JSON only: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json",
      });
    }
    readBody(req)
      .then(async (body) => {
        const spans = spanRecordsFromOtlp(JSON.parse(body.toString("utf8")));
        received += spans.length;
        // Answer once the lines are written: an exporter's success then means a reader of the file
        // (`courier trace`, the console, a test) finds them.
        if (spans.length > 0) {
          const lines = `${spans.map((s) => JSON.stringify(s)).join("\n")}\n`;
          await new Promise<void>((resolve, reject) =>
            file.write(lines, (error) => (error ? reject(error) : resolve())),
          );
        }
        options.onSpans?.(spans);
        // ExportTraceServiceResponse: all accepted.
        reply(200, {});
      })
      .catch((error: unknown) => {
        const status = (error as { status?: number }).status ?? 400;
        reply(status, { message: error instanceof Error ? error.message : String(error) });
      });
  });
  server.listen(options.port ?? 0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spansFile: options.spansFile,
    received: () => received,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => file.end(resolve));
    },
  };
}
