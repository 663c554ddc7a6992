/**
 * The example API server's limits on connections, from configuration with safe defaults. Node's
 * own defaults leave a slow client a lot of room: headersTimeout 60 s and requestTimeout 300 s,
 * checked only every 30 s (connectionsCheckingInterval), so a client sending its headers a byte at
 * a time holds a socket for a minute or more, and a few thousand such clients hold them all.
 */
import type { Server, ServerOptions } from "node:http";
import { z } from "zod";

export interface ServerTimeouts {
  /** Time to receive a request's complete headers, from the first byte. */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request, body included (an upload must fit in it). */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  readonly keepAliveTimeoutMs: number;
  /** How often Node checks the two timeouts above: the slack on cutting a slow client. */
  readonly checkIntervalMs: number;
  /** Open connections at most; past it new ones are refused. */
  readonly maxConnections: number;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = {
  headersTimeoutMs: 10_000,
  // 20 MiB uploads at 1 MB/s take 20 s.
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  maxConnections: 1_000,
};

/** What `createServer` takes at construction (the checking interval cannot be changed later). */
export function hardenedServerOptions(timeouts: ServerTimeouts): ServerOptions {
  return {
    headersTimeout: timeouts.headersTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    connectionsCheckingInterval: timeouts.checkIntervalMs,
    // Node's default (16 KiB) stated: a larger header block is refused with 431.
    maxHeaderSize: 16 * 1024,
  };
}

export function applyConnectionLimits(server: Server, timeouts: ServerTimeouts): void {
  server.maxConnections = timeouts.maxConnections;
  // Bounds requests per keep-alive connection so one client cannot pipeline without end.
  server.maxRequestsPerSocket = 1_000;
}

const ms = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const timeoutsEnvSchema = z.object({
  COURIER_API_HEADERS_TIMEOUT_MS: ms(100, 120_000).optional(),
  COURIER_API_REQUEST_TIMEOUT_MS: ms(100, 3_600_000).optional(),
  COURIER_API_KEEP_ALIVE_TIMEOUT_MS: ms(100, 600_000).optional(),
  COURIER_API_MAX_CONNECTIONS: ms(1, 1_000_000).optional(),
});

export class ServerSettingsError extends Error {
  override readonly name = "ServerSettingsError";
}

/** The defaults with the COURIER_API_*_TIMEOUT_MS and COURIER_API_MAX_CONNECTIONS variables laid over them. */
export function serverTimeoutsFromEnv(env: NodeJS.ProcessEnv = process.env): ServerTimeouts {
  const parsed = timeoutsEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`);
    throw new ServerSettingsError(`invalid API server settings: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  const timeouts: ServerTimeouts = {
    ...DEFAULT_SERVER_TIMEOUTS,
    ...(e.COURIER_API_HEADERS_TIMEOUT_MS !== undefined
      ? { headersTimeoutMs: e.COURIER_API_HEADERS_TIMEOUT_MS }
      : {}),
    ...(e.COURIER_API_REQUEST_TIMEOUT_MS !== undefined
      ? { requestTimeoutMs: e.COURIER_API_REQUEST_TIMEOUT_MS }
      : {}),
    ...(e.COURIER_API_KEEP_ALIVE_TIMEOUT_MS !== undefined
      ? { keepAliveTimeoutMs: e.COURIER_API_KEEP_ALIVE_TIMEOUT_MS }
      : {}),
    ...(e.COURIER_API_MAX_CONNECTIONS !== undefined ? { maxConnections: e.COURIER_API_MAX_CONNECTIONS } : {}),
  };
  validateTimeouts(timeouts);
  return timeouts;
}

export function validateTimeouts(t: ServerTimeouts): void {
  // Node requires it; and headers that take longer than the whole request make no sense.
  if (t.headersTimeoutMs > t.requestTimeoutMs && t.requestTimeoutMs > 0) {
    throw new ServerSettingsError(
      `headersTimeoutMs (${t.headersTimeoutMs}) must not exceed requestTimeoutMs (${t.requestTimeoutMs})`,
    );
  }
}
