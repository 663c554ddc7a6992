/**
 * The console's guard. The server binds to loopback and answers only a Host naming it (no DNS
 * rebinding). Every API request carries the session token in a header, which a cross-site form,
 * image or script cannot add; a state change must also come from the page's own origin.
 *
 * No cookie: browsers send a cookie for 127.0.0.1 to every port of it, so any other local server
 * the browser visits would receive one. The page keeps the token in localStorage instead, which
 * is per origin, port included. The printed link holds a one-time code, not the token: opening it
 * hands the page the token once, so the link the browser's history keeps opens nothing later.
 * The page shell and its assets hold no secret and are served to anyone on loopback.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { TOKEN_HEADER } from "./api.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** What the shell may serve without the token: it holds no secret. */
const PUBLIC_PATHS = /^\/(?:$|assets\/|favicon\.ico$)/;

export function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** One-time codes for the printed link: each opens the console once. */
export class LaunchCodes {
  private readonly unspent = new Set<string>();

  issue(): string {
    const code = randomBytes(24).toString("base64url");
    this.unspent.add(code);
    return code;
  }

  /** True once per issued code. */
  redeem(given: string | undefined): boolean {
    if (given === undefined) return false;
    for (const code of this.unspent) {
      if (sameToken(given, code)) {
        this.unspent.delete(code);
        return true;
      }
    }
    return false;
  }
}

function deny(c: Context, status: 401 | 403, message: string) {
  return c.req.path.startsWith("/api/") ? c.json({ error: message }, status) : c.text(message, status);
}

export interface GuardOptions {
  readonly token: string;
  /** Host header values the server answers to, e.g. "127.0.0.1:7300" and "localhost:7300". */
  readonly allowedHosts: () => readonly string[];
}

export function guard(options: GuardOptions): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header("host") ?? "";
    if (!options.allowedHosts().includes(host)) {
      return deny(c, 403, `host "${host}" is not this console's loopback address`);
    }
    const publicShell = SAFE_METHODS.has(c.req.method) && PUBLIC_PATHS.test(c.req.path);
    if (publicShell) return next();
    const fromHeader = c.req.header(TOKEN_HEADER);
    if (!sameToken(fromHeader, options.token)) {
      return deny(
        c,
        401,
        `this console needs the ${TOKEN_HEADER} header; open the link \`courier console\` printed`,
      );
    }
    if (!SAFE_METHODS.has(c.req.method)) {
      const origin = c.req.header("origin");
      const sameOrigin =
        origin !== undefined ? origin === `http://${host}` : c.req.header("sec-fetch-site") === "same-origin";
      if (!sameOrigin) return deny(c, 403, "state-changing requests must come from the console's own page");
    }
    await next();
  };
}
