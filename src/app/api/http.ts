/**
 * Small HTTP helpers for the example API server: JSON in and out, typed 4xx errors. An error's
 * message is written by the server and never quotes the request's body or a secret.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";

export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** 429 with the seconds after which the client may try again (sent as Retry-After). */
export class TooManyRequestsError extends HttpError {
  constructor(
    readonly retryAfterSeconds: number,
    code: string,
    message: string,
    details?: unknown,
  ) {
    super(429, code, message, details);
  }
}

export function validationError(error: z.core.$ZodError): HttpError {
  const fields = error.issues.map((issue) =>
    // Unknown keys are the client's own words: named neither in the path nor in the message.
    issue.code === "unrecognized_keys"
      ? { path: issue.path.join("."), message: `${issue.keys.length} unknown field(s)` }
      : { path: issue.path.join("."), message: issue.message },
  );
  return new HttpError(
    400,
    "invalid_request",
    `invalid request: ${fields.map((f) => f.path || "(body)").join(", ")}`,
    {
      fields,
    },
  );
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | number> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** How long a refused request's connection may go on sending before it is cut. */
export const LINGER_MS = 1_000;

/**
 * Answers with `Connection: close` and ends the connection once the answer is out, for a request
 * whose body was not read (refused as too large, of the wrong type, or before it was needed):
 * otherwise Node would read and discard the rest of the body, however long, to reuse the
 * connection. The rest is discarded for LINGER_MS only, so the client can still read the answer
 * (closing with unread data makes the kernel reset the connection, losing the answer), then cut.
 */
export function closeAfterResponse(req: IncomingMessage, res: ServerResponse): void {
  res.shouldKeepAlive = false;
  res.setHeader("connection", "close");
  // Taken now: Node detaches the socket once the answer is finished (or the body stream was destroyed).
  const socket = req.socket ?? res.socket;
  res.once("finish", () => {
    req.resume();
    if (!socket) return;
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}

/** A page for a browser; `nosniff` so a browser never reinterprets it. */
export function sendHtml(res: ServerResponse, page: { status: number; html: string }): void {
  res.writeHead(page.status, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(page.html),
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
  });
  res.end(page.html);
}

/**
 * Reads the whole body, refusing more than `limit` bytes with 413 rather than buffering it. The
 * count is of bytes received, so it holds for a chunked body of unknown length as for a declared one.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) throw new HttpError(413, "payload_too_large", `body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, "payload_too_large", `body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function readJson(req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("application/json")) {
    throw new HttpError(415, "unsupported_media_type", "send the body as application/json");
  }
  const body = await readBody(req, limit);
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "invalid_json", "the body is not valid JSON");
  }
}
