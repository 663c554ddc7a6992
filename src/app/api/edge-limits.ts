/**
 * Rate limits at the edge of the example API: per client address and per target (the email address
 * or phone number a request would send to), per action. A request over either budget is answered
 * 429 with Retry-After before it costs anything downstream (an account row, an email, an SMS).
 *
 * The counting is rate-limiter-flexible's (fixed windows, in memory): a well-kept library that
 * works with a bare node:http server and has stores for Redis, DynamoDB and SQL when limits must be
 * shared by several API instances. One process keeps its own counts, and they start afresh after a
 * restart: these limits slow a flood; the attempt limits on codes (verification-attempts.ts) are
 * the ones that must persist. Actions are names, so a new route (password resets) adds its entry to
 * the settings and calls `take` with its own name.
 */
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { z } from "zod";
import { TooManyRequestsError } from "./http.ts";

export interface LimitRule {
  /** Requests allowed in a window. */
  readonly points: number;
  readonly durationSeconds: number;
}

export interface ActionLimits {
  /** Per client address (see client-address.ts for what an address is behind a proxy). */
  readonly perClient: LimitRule;
  /** Per target: the normalised email address or phone number the action would send to. */
  readonly perTarget: LimitRule;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

/**
 * Defaults sized for people, not scripts: a household or office behind one address signs up a few
 * accounts an hour, a person asks for a code again two or three times; one phone number or address
 * gets a handful of sign-ups a day at most.
 */
export const DEFAULT_EDGE_LIMITS = {
  signup: {
    perClient: { points: 20, durationSeconds: HOUR },
    perTarget: { points: 5, durationSeconds: DAY },
  },
  "code-resend": {
    perClient: { points: 20, durationSeconds: HOUR },
    perTarget: { points: 3, durationSeconds: HOUR },
  },
  "password-reset": {
    perClient: { points: 20, durationSeconds: HOUR },
    perTarget: { points: 3, durationSeconds: HOUR },
  },
  // An export reads every record of the account and may put megabytes in S3: a few a day per account.
  "account-export": {
    perClient: { points: 10, durationSeconds: HOUR },
    perTarget: { points: 3, durationSeconds: DAY },
  },
  // Uploads are writes like the others: per client, and per account for an upload filed under one.
  "image-upload": {
    perClient: { points: 120, durationSeconds: HOUR },
    perTarget: { points: 120, durationSeconds: HOUR },
  },
} as const satisfies Record<string, ActionLimits>;

export type EdgeAction = keyof typeof DEFAULT_EDGE_LIMITS;
export type EdgeLimitSettings = Record<EdgeAction, ActionLimits>;

/** 429: the client or the target spent its budget for this action. */
export class RateLimitedError extends TooManyRequestsError {
  constructor(
    retryAfterSeconds: number,
    readonly scope: "client" | "target",
    action: string,
  ) {
    super(retryAfterSeconds, "rate_limited", `too many ${action} requests for this ${scope}; retry later`, {
      scope,
    });
  }
}

export interface EdgeLimiter {
  /**
   * Counts one `action` against the client's budget, then each target's; throws RateLimitedError
   * (with the seconds until the spent budget refills) when one is spent.
   */
  take(
    action: EdgeAction,
    keys: { readonly client: string; readonly targets?: readonly string[] },
  ): Promise<void>;
  /** Seconds until `target` may `action` again; 0 when it may now. Counts nothing. */
  waitSeconds(action: EdgeAction, target: string): Promise<number>;
  /** Gives `target` its whole budget for `action` back (its owner proved it is them). */
  restore(action: EdgeAction, target: string): Promise<void>;
}

function retryAfter(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

export function createEdgeLimiter(settings: EdgeLimitSettings = DEFAULT_EDGE_LIMITS): EdgeLimiter {
  const limiter = (action: string, scope: string, rule: LimitRule): RateLimiterAbstract =>
    new RateLimiterMemory({
      keyPrefix: `${action}:${scope}`,
      points: rule.points,
      duration: rule.durationSeconds,
    });
  const limiters = Object.fromEntries(
    (Object.keys(settings) as EdgeAction[]).map((action) => [
      action,
      {
        client: limiter(action, "client", settings[action].perClient),
        target: limiter(action, "target", settings[action].perTarget),
      },
    ]),
  ) as Record<EdgeAction, { client: RateLimiterAbstract; target: RateLimiterAbstract }>;

  const consume = async (l: RateLimiterAbstract, key: string, scope: "client" | "target", action: string) => {
    try {
      await l.consume(key);
    } catch (rejection) {
      // rate-limiter-flexible rejects with a RateLimiterRes when the budget is spent, an Error otherwise.
      if (rejection instanceof RateLimiterRes)
        throw new RateLimitedError(retryAfter(rejection), scope, action);
      throw rejection;
    }
  };

  return {
    async take(action, keys) {
      const { client, target } = limiters[action];
      await consume(client, keys.client, "client", action);
      for (const key of keys.targets ?? []) await consume(target, key, "target", action);
    },
    async waitSeconds(action, key) {
      const { target } = limiters[action];
      const res = await target.get(key);
      if (!res || res.remainingPoints > 0) return 0;
      return retryAfter(res);
    },
    async restore(action, key) {
      await limiters[action].target.delete(key);
    },
  };
}

const ruleSchema = z
  .object({
    points: z.int().min(1).max(1_000_000),
    durationSeconds: z
      .int()
      .min(1)
      .max(30 * DAY),
  })
  .strict();
const actionOverrideSchema = z.object({ perClient: ruleSchema, perTarget: ruleSchema }).partial().strict();
const overridesSchema = z
  .object(
    Object.fromEntries(Object.keys(DEFAULT_EDGE_LIMITS).map((a) => [a, actionOverrideSchema])) as Record<
      EdgeAction,
      typeof actionOverrideSchema
    >,
  )
  .partial()
  .strict();

export const EDGE_LIMITS_ENV = "COURIER_API_LIMITS";

export class EdgeLimitsConfigError extends Error {
  override readonly name = "EdgeLimitsConfigError";
}

/**
 * The defaults with `COURIER_API_LIMITS` laid over them: JSON such as
 * `{"signup":{"perClient":{"points":100,"durationSeconds":3600}}}`; what it omits keeps its default.
 */
export function edgeLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): EdgeLimitSettings {
  const raw = env[EDGE_LIMITS_ENV];
  if (raw === undefined || raw.trim() === "") return DEFAULT_EDGE_LIMITS;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new EdgeLimitsConfigError(`${EDGE_LIMITS_ENV} is not JSON`);
  }
  const parsed = overridesSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new EdgeLimitsConfigError(`${EDGE_LIMITS_ENV} is invalid: ${problems.join("; ")}`);
  }
  const merged = { ...DEFAULT_EDGE_LIMITS } as Record<EdgeAction, ActionLimits>;
  for (const [action, override] of Object.entries(parsed.data) as Array<
    [EdgeAction, Partial<ActionLimits>]
  >) {
    merged[action] = { ...DEFAULT_EDGE_LIMITS[action], ...override };
  }
  return merged;
}
