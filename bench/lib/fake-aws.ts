/**
 * A stand-in for the AWS endpoints a cold-start benchmark's functions call: an HTTP server on
 * loopback that answers each protocol the way the service does (JSON with X-Amz-Target, the query
 * protocol's XML, S3's REST), so the function's own SDK (bundled or the runtime's) serializes each
 * request, signs it, sends it and parses the answer, as on Lambda. It records each call by command
 * name. Why not replace the SDK client's `send` in the child: a bundled SDK is the function's own
 * copy, out of the benchmark's reach, and a stub would leave out the work a real call does.
 *
 * Answers: every call succeeds with an empty result, except what a function reads back (a secret's
 * value, an SES or SNS message id, SQS's MD5s of what was sent); S3 answers 404 to a read (the
 * thumbnails function then dead-letters its record) unless an original image is set for the run.
 */
import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeAws {
  readonly endpoint: string;
  /** The calls since the last take, by command name (GetSecretValueCommand, PutObjectCommand, ...). */
  takeCalls(): string[];
  /** The JPEG a GetObject of an `originals/` key streams (the memory bench's thumbnails run). */
  setImage(path: string | undefined): void;
  close(): Promise<void>;
}

const md5 = (text: string) => createHash("md5").update(text).digest("hex");

/** The JSON protocols' answers (SQS, DynamoDB, Secrets Manager): by operation. */
function jsonAnswer(operation: string, input: Record<string, unknown>): unknown {
  switch (operation) {
    case "GetSecretValue":
      return { SecretString: "k".repeat(64), Name: "bench", ARN: String(input.SecretId ?? "arn:bench") };
    case "SendMessage":
      return { MessageId: "bench-sqs", MD5OfMessageBody: md5(String(input.MessageBody ?? "")) };
    case "SendMessageBatch": {
      const entries = (input.Entries ?? []) as Array<{ Id: string; MessageBody: string }>;
      return {
        Successful: entries.map((e) => ({
          Id: e.Id,
          MessageId: `m-${e.Id}`,
          MD5OfMessageBody: md5(e.MessageBody),
        })),
        Failed: [],
      };
    }
    case "ListQueueTags":
      return { Tags: {} };
    default:
      return {};
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeAws(): Promise<FakeAws> {
  let calls: string[] = [];
  let image: string | undefined;

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const target = request.headers["x-amz-target"];
    if (typeof target === "string") {
      const operation = target.slice(target.lastIndexOf(".") + 1);
      calls.push(`${operation}Command`);
      const result = jsonAnswer(operation, body ? (JSON.parse(body) as Record<string, unknown>) : {});
      response.writeHead(200, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "bench" });
      response.end(JSON.stringify(result));
      return;
    }
    const action = new URLSearchParams(body).get("Action");
    if (request.method === "POST" && action) {
      // The query protocol (SES v1, SNS): <Action>Response/<Action>Result.
      calls.push(`${action}Command`);
      response.writeHead(200, { "content-type": "text/xml" });
      response.end(
        `<${action}Response><${action}Result><MessageId>bench-${action}</MessageId></${action}Result><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></${action}Response>`,
      );
      return;
    }
    // S3's REST protocol, path style (the endpoint is an IP address).
    const key = decodeURIComponent(
      new URL(request.url ?? "/", "http://x").pathname.split("/").slice(2).join("/"),
    );
    const command = { HEAD: "HeadObject", GET: "GetObject", PUT: "PutObject", DELETE: "DeleteObject" }[
      request.method ?? ""
    ];
    calls.push(`${command ?? request.method}Command`);
    if (request.method === "PUT" || request.method === "DELETE") {
      response.writeHead(request.method === "PUT" ? 200 : 204, { etag: '"bench"' });
      response.end();
      return;
    }
    if (image && key.startsWith("originals/")) {
      const size = statSync(image).size;
      response.writeHead(200, {
        "content-type": "image/jpeg",
        "content-length": size,
        etag: '"bench-original"',
      });
      if (request.method === "HEAD") response.end();
      else createReadStream(image).pipe(response);
      return;
    }
    response.writeHead(404, { "content-type": "application/xml" });
    response.end(
      request.method === "HEAD" ? undefined : "<Error><Code>NoSuchKey</Code><Message>bench</Message></Error>",
    );
  }

  const server = createServer((request, response) => {
    if (request.url === "/__bench/calls") {
      response.end(JSON.stringify(calls));
      calls = [];
      return;
    }
    answer(request, response).catch((error: unknown) => {
      response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  // A benchmark that forgets to close it still exits.
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    takeCalls() {
      const taken = calls;
      calls = [];
      return taken;
    },
    setImage(path) {
      image = path;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
