/**
 * Configuration of the example API's abuse defences. Failure modes covered: a typo in the limits
 * silently leaving the defaults (or no limit) in force; a forged X-Forwarded-For choosing the client's
 * identity; an IPv6 client rotating addresses within its own /64 to get fresh budgets.
 */
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { apiAbuseSettingsFromEnv } from "../../src/app/api/api-settings.ts";
import { clientAddress, clientKey } from "../../src/app/api/client-address.ts";
import {
  createEdgeLimiter,
  DEFAULT_EDGE_LIMITS,
  EdgeLimitsConfigError,
  edgeLimitsFromEnv,
  RateLimitedError,
} from "../../src/app/api/edge-limits.ts";
import { ServerSettingsError, serverTimeoutsFromEnv } from "../../src/app/api/server-hardening.ts";

const request = (remoteAddress: string, xff?: string) =>
  ({
    socket: { remoteAddress },
    headers: xff ? { "x-forwarded-for": xff } : {},
  }) as unknown as IncomingMessage;

describe("edge limit settings", () => {
  it("GIVEN no COURIER_API_LIMITS WHEN read THEN the defaults apply", () => {
    expect(edgeLimitsFromEnv({})).toEqual(DEFAULT_EDGE_LIMITS);
  });

  it("GIVEN an override of one rule WHEN read THEN only that rule changes", () => {
    const limits = edgeLimitsFromEnv({
      COURIER_API_LIMITS: JSON.stringify({ signup: { perClient: { points: 100, durationSeconds: 60 } } }),
    });
    expect(limits.signup.perClient).toEqual({ points: 100, durationSeconds: 60 });
    expect(limits.signup.perTarget).toEqual(DEFAULT_EDGE_LIMITS.signup.perTarget);
    expect(limits["code-resend"]).toEqual(DEFAULT_EDGE_LIMITS["code-resend"]);
  });

  it("GIVEN a misspelt action or a zero budget WHEN read THEN it fails naming the problem", () => {
    expect(() => edgeLimitsFromEnv({ COURIER_API_LIMITS: '{"sign-up":{}}' })).toThrow(EdgeLimitsConfigError);
    expect(() =>
      edgeLimitsFromEnv({ COURIER_API_LIMITS: '{"signup":{"perClient":{"points":0,"durationSeconds":60}}}' }),
    ).toThrow(/signup\.perClient\.points/);
    expect(() => edgeLimitsFromEnv({ COURIER_API_LIMITS: "{nope" })).toThrow(/not JSON/);
  });

  it("GIVEN headersTimeout over requestTimeout or a non-number WHEN read THEN it fails", () => {
    expect(() =>
      serverTimeoutsFromEnv({
        COURIER_API_HEADERS_TIMEOUT_MS: "60000",
        COURIER_API_REQUEST_TIMEOUT_MS: "1000",
      }),
    ).toThrow(ServerSettingsError);
    expect(() => serverTimeoutsFromEnv({ COURIER_API_KEEP_ALIVE_TIMEOUT_MS: "soon" })).toThrow(
      ServerSettingsError,
    );
    expect(() => apiAbuseSettingsFromEnv({ COURIER_API_TRUSTED_PROXY_HOPS: "-1" })).toThrow(
      ServerSettingsError,
    );
  });
});

describe("edge limiter", () => {
  it("GIVEN a spent per-target budget WHEN another client targets the same phone THEN it is refused for the target", async () => {
    const limiter = createEdgeLimiter({
      ...DEFAULT_EDGE_LIMITS,
      signup: {
        perClient: { points: 10, durationSeconds: 60 },
        perTarget: { points: 1, durationSeconds: 60 },
      },
    });
    await limiter.take("signup", { client: "a", targets: ["+14155550123"] });
    const refusal = await limiter.take("signup", { client: "b", targets: ["+14155550123"] }).catch((e) => e);
    expect(refusal).toBeInstanceOf(RateLimitedError);
    expect(refusal.scope).toBe("target");
    expect(refusal.retryAfterSeconds).toBeGreaterThan(0);
    expect(refusal.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(await limiter.waitSeconds("signup", "+14155550123")).toBeGreaterThan(0);
    expect(await limiter.waitSeconds("signup", "+14155550999")).toBe(0);
  });
});

describe("client address", () => {
  it("GIVEN no trusted proxy WHEN X-Forwarded-For is sent THEN the socket address is the client", () => {
    expect(clientAddress(request("10.0.0.5", "1.2.3.4"))).toBe("10.0.0.5");
  });

  it("GIVEN two trusted proxies WHEN the client forged entries THEN the second from the right is the client", () => {
    expect(clientAddress(request("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.9"), { trustedProxyHops: 2 })).toBe(
      "1.2.3.4",
    );
  });

  it("GIVEN a trusted proxy WHEN the header is missing or not an address THEN the socket address is used", () => {
    expect(clientAddress(request("10.0.0.5"), { trustedProxyHops: 1 })).toBe("10.0.0.5");
    expect(clientAddress(request("10.0.0.5", "not-an-ip"), { trustedProxyHops: 1 })).toBe("10.0.0.5");
  });

  it("GIVEN IPv6 addresses in one /64 WHEN keyed THEN they share a key; IPv4-mapped is plain IPv4", () => {
    expect(clientKey("2001:db8:1:2::1")).toBe(clientKey("2001:db8:1:2:ffff:0:0:9"));
    expect(clientKey("2001:db8:1:2::1")).not.toBe(clientKey("2001:db8:1:3::1"));
    expect(clientKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
  });
});
