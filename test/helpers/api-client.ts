/**
 * A small HTTP client for the example API's abuse tests: node:http, so a request can leave from a
 * chosen loopback address (127.0.0.2 is another client to the server) and set any header.
 */
import { request } from "node:http";

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: { error?: string; message?: string; details?: Record<string, unknown> } & Record<
    string,
    unknown
  >;
}

export interface ApiRequest {
  readonly method?: string;
  readonly body?: unknown;
  /** Loopback address the request leaves from. @default 127.0.0.1 */
  readonly from?: string;
  readonly headers?: Record<string, string>;
}

export function call(base: string, path: string, options: ApiRequest = {}): Promise<ApiAnswer> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? (body ? "POST" : "GET"),
        localAddress: options.from ?? "127.0.0.1",
        agent: false,
        headers: {
          ...(body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: ApiAnswer["json"] = {};
          try {
            json = JSON.parse(text) as ApiAnswer["json"];
          } catch {
            // Not JSON: the text says what it was.
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
