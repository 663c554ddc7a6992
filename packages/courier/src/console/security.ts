/**
 * The console's guard, in the manner of Jupyter's: the server binds to loopback, and every
 * request must carry the random token printed in the console's URL (query, then a SameSite=Strict
 * cookie set from it, or the header). A state-changing request must also come from the page's own
 * origin and carry the token in a header, which a cross-site form or image cannot add. The Host
 * header must name the loopback address, so a DNS-rebinding page cannot talk to it either.
 */
import { timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { TOKEN_COOKIE, TOKEN_HEADER } from "./api.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function deny(c: Context, status: 401 | 403, message: string) {
  return c.req.path.startsWith("/api/") ? c.json({ error: message }, status) : c.text(message, status);
}

/** Cookies ignore the port: one name per port keeps two consoles on one machine apart. */
function cookieName(host: string): string {
  return `${TOKEN_COOKIE}_${host.split(":").pop() ?? ""}`;
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
    const fromQuery = c.req.query("token");
    const fromHeader = c.req.header(TOKEN_HEADER);
    const authorised =
      sameToken(fromHeader, options.token) ||
      sameToken(fromQuery, options.token) ||
      sameToken(getCookie(c, cookieName(host)), options.token);
    if (!authorised) {
      return deny(c, 401, "this console needs the token from the URL that `courier console` printed");
    }
    if (!SAFE_METHODS.has(c.req.method)) {
      const origin = c.req.header("origin");
      const sameOrigin =
        origin !== undefined ? origin === `http://${host}` : c.req.header("sec-fetch-site") === "same-origin";
      if (!sameOrigin) return deny(c, 403, "state-changing requests must come from the console's own page");
      if (!sameToken(fromHeader, options.token)) {
        return deny(c, 403, `state-changing requests must carry the token in the ${TOKEN_HEADER} header`);
      }
    }
    if (fromQuery !== undefined && c.req.method === "GET" && !c.req.path.startsWith("/api/")) {
      // Trade the token in the address bar for a cookie, and drop it from the URL and history.
      setCookie(c, cookieName(host), options.token, { httpOnly: true, sameSite: "Strict", path: "/" });
      const url = new URL(c.req.url);
      url.searchParams.delete("token");
      return c.redirect(`${url.pathname}${url.search}`, 303);
    }
    await next();
  };
}
