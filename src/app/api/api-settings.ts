/**
 * The example API server's abuse settings from the environment, each with a safe default:
 * COURIER_API_LIMITS (edge-limits.ts), COURIER_API_*_TIMEOUT_MS and COURIER_API_MAX_CONNECTIONS
 * (server-hardening.ts), COURIER_API_TRUSTED_PROXY_HOPS, COURIER_API_MAX_CODE_FAILURES and
 * COURIER_API_MAX_RESET_FAILURES.
 */
import { z } from "zod";
import { DEFAULT_MAX_RESET_FAILURES } from "../accounts/password-resets.ts";
import { DEFAULT_MAX_CODE_FAILURES } from "../accounts/verification-attempts.ts";
import type { ApiServerDeps } from "./api-server.ts";
import { createEdgeLimiter, edgeLimitsFromEnv } from "./edge-limits.ts";
import { ServerSettingsError, serverTimeoutsFromEnv } from "./server-hardening.ts";

export type ApiAbuseSettings = Required<
  Pick<
    ApiServerDeps,
    "edgeLimiter" | "trustedProxyHops" | "maxCodeFailures" | "maxResetFailures" | "timeouts"
  >
>;

const schema = z.object({
  COURIER_API_TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  COURIER_API_MAX_CODE_FAILURES: z.coerce.number().int().min(1).max(100).default(DEFAULT_MAX_CODE_FAILURES),
  COURIER_API_MAX_RESET_FAILURES: z.coerce.number().int().min(1).max(100).default(DEFAULT_MAX_RESET_FAILURES),
});

export function apiAbuseSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ApiAbuseSettings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`);
    throw new ServerSettingsError(`invalid API server settings: ${problems.join("; ")}`);
  }
  return {
    edgeLimiter: createEdgeLimiter(edgeLimitsFromEnv(env)),
    timeouts: serverTimeoutsFromEnv(env),
    trustedProxyHops: parsed.data.COURIER_API_TRUSTED_PROXY_HOPS,
    maxCodeFailures: parsed.data.COURIER_API_MAX_CODE_FAILURES,
    maxResetFailures: parsed.data.COURIER_API_MAX_RESET_FAILURES,
  };
}
