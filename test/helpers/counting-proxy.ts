/**
 * An HTTP proxy that forwards every request to `upstream` and records which AWS operation it was
 * (X-Amz-Target for JSON protocols, Action= for query protocols). Tests point a profile's
 * endpoint_url at it to prove where a command's calls went.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface CountingProxy {
  readonly url: string;
  /** One entry per forwarded request: "AmazonSQS.GetQueueAttributes", "DescribeStacks", ... */
  readonly calls: string[];
  close(): Promise<void>;
}

function operationOf(headers: Record<string, unknown>, body: string): string {
  const target = headers["x-amz-target"];
  if (typeof target === "string") return target;
  const action = /(?:^|&)Action=([^&]+)/.exec(body)?.[1];
  return action ? decodeURIComponent(action) : "unknown";
}

export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const calls: string[] = [];
  const target = new URL(upstream);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      calls.push(operationOf(req.headers, body.toString("utf8")));
      const forward = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (upstreamRes) => {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
        },
      );
      forward.on("error", (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
